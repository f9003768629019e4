from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

AMENDMENT_KIND_DELETE: AmendmentKind
AMENDMENT_KIND_INSERT: AmendmentKind
AMENDMENT_KIND_REPLACE: AmendmentKind
AMENDMENT_KIND_UNSPECIFIED: AmendmentKind
AMENDMENT_STATE_APPLIED: AmendmentState
AMENDMENT_STATE_FAILED: AmendmentState
AMENDMENT_STATE_OPEN: AmendmentState
AMENDMENT_STATE_PASSED: AmendmentState
AMENDMENT_STATE_REJECTED: AmendmentState
AMENDMENT_STATE_STALE: AmendmentState
AMENDMENT_STATE_UNSPECIFIED: AmendmentState
AMENDMENT_STATE_WITHDRAWN: AmendmentState
DECISION_METHOD_CONSENSUS: DecisionMethod
DECISION_METHOD_MAJORITY: DecisionMethod
DECISION_METHOD_QUALIFIED: DecisionMethod
DECISION_METHOD_UNANIMITY: DecisionMethod
DECISION_METHOD_UNSPECIFIED: DecisionMethod
DESCRIPTOR: _descriptor.FileDescriptor
NEGOTIATION_STATE_ABANDONED: NegotiationState
NEGOTIATION_STATE_CONCLUDED: NegotiationState
NEGOTIATION_STATE_OPEN: NegotiationState
NEGOTIATION_STATE_SUSPENDED: NegotiationState
NEGOTIATION_STATE_UNSPECIFIED: NegotiationState
POINT_STATUS_AGREED: PointStatus
POINT_STATUS_DELETED: PointStatus
POINT_STATUS_PENDING: PointStatus
POINT_STATUS_UNSPECIFIED: PointStatus
ROLE_DELEGATION: Role
ROLE_MEDIATOR: Role
ROLE_OBSERVER: Role
ROLE_UNSPECIFIED: Role
VOTE_CHOICE_ABSTAIN: VoteChoice
VOTE_CHOICE_APPROVE: VoteChoice
VOTE_CHOICE_REJECT: VoteChoice
VOTE_CHOICE_UNSPECIFIED: VoteChoice

class Acceptance(_message.Message):
    __slots__ = ["accept_time", "checkpoint", "current", "document_sha256", "member", "participant", "sequence"]
    ACCEPT_TIME_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    accept_time: _timestamp_pb2.Timestamp
    checkpoint: CheckpointRef
    current: bool
    document_sha256: str
    member: str
    participant: str
    sequence: int
    def __init__(self, participant: _Optional[str] = ..., document_sha256: _Optional[str] = ..., accept_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ..., current: bool = ..., checkpoint: _Optional[_Union[CheckpointRef, _Mapping]] = ..., member: _Optional[str] = ...) -> None: ...

class Amendment(_message.Message):
    __slots__ = ["base_revision", "by_mediator", "comment_count", "counter_to", "create_time", "decision_rule_version", "kind", "name", "not_voted", "point", "point_number", "proposer", "rationale", "rejection_reason", "result_point", "sequence", "staled_by", "state", "tally", "text", "update_time", "votes", "voting_deadline", "voting_time_left"]
    BASE_REVISION_FIELD_NUMBER: _ClassVar[int]
    BY_MEDIATOR_FIELD_NUMBER: _ClassVar[int]
    COMMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    COUNTER_TO_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DECISION_RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOT_VOTED_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    POINT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PROPOSER_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    RESULT_POINT_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STALED_BY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TALLY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VOTES_FIELD_NUMBER: _ClassVar[int]
    VOTING_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    VOTING_TIME_LEFT_FIELD_NUMBER: _ClassVar[int]
    base_revision: int
    by_mediator: bool
    comment_count: int
    counter_to: str
    create_time: _timestamp_pb2.Timestamp
    decision_rule_version: int
    kind: AmendmentKind
    name: str
    not_voted: _containers.RepeatedScalarFieldContainer[str]
    point: str
    point_number: int
    proposer: str
    rationale: str
    rejection_reason: str
    result_point: str
    sequence: int
    staled_by: str
    state: AmendmentState
    tally: Tally
    text: str
    update_time: _timestamp_pb2.Timestamp
    votes: _containers.RepeatedCompositeFieldContainer[Vote]
    voting_deadline: _timestamp_pb2.Timestamp
    voting_time_left: _duration_pb2.Duration
    def __init__(self, name: _Optional[str] = ..., proposer: _Optional[str] = ..., kind: _Optional[_Union[AmendmentKind, str]] = ..., point: _Optional[str] = ..., base_revision: _Optional[int] = ..., text: _Optional[str] = ..., rationale: _Optional[str] = ..., state: _Optional[_Union[AmendmentState, str]] = ..., votes: _Optional[_Iterable[_Union[Vote, _Mapping]]] = ..., tally: _Optional[_Union[Tally, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ..., result_point: _Optional[str] = ..., rejection_reason: _Optional[str] = ..., staled_by: _Optional[str] = ..., point_number: _Optional[int] = ..., voting_deadline: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., not_voted: _Optional[_Iterable[str]] = ..., decision_rule_version: _Optional[int] = ..., voting_time_left: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., by_mediator: bool = ..., counter_to: _Optional[str] = ..., comment_count: _Optional[int] = ...) -> None: ...

class CheckpointRef(_message.Message):
    __slots__ = ["root_hash", "tree_size"]
    ROOT_HASH_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    root_hash: bytes
    tree_size: int
    def __init__(self, tree_size: _Optional[int] = ..., root_hash: _Optional[bytes] = ...) -> None: ...

class Comment(_message.Message):
    __slots__ = ["amendment", "author", "create_time", "name", "parent", "point", "retract_time", "retracted", "sequence", "text"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    RETRACTED_FIELD_NUMBER: _ClassVar[int]
    RETRACT_TIME_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    amendment: str
    author: str
    create_time: _timestamp_pb2.Timestamp
    name: str
    parent: str
    point: str
    retract_time: _timestamp_pb2.Timestamp
    retracted: bool
    sequence: int
    text: str
    def __init__(self, name: _Optional[str] = ..., author: _Optional[str] = ..., point: _Optional[str] = ..., amendment: _Optional[str] = ..., parent: _Optional[str] = ..., text: _Optional[str] = ..., retracted: bool = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., retract_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...

class Consent(_message.Message):
    __slots__ = ["checkpoint", "key_id", "signature"]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    checkpoint: CheckpointRef
    key_id: str
    signature: bytes
    def __init__(self, key_id: _Optional[str] = ..., checkpoint: _Optional[_Union[CheckpointRef, _Mapping]] = ..., signature: _Optional[bytes] = ...) -> None: ...

class DecisionRule(_message.Message):
    __slots__ = ["method", "quorum", "threshold_basis_points"]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    QUORUM_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    method: DecisionMethod
    quorum: int
    threshold_basis_points: int
    def __init__(self, method: _Optional[_Union[DecisionMethod, str]] = ..., quorum: _Optional[int] = ..., threshold_basis_points: _Optional[int] = ...) -> None: ...

class DecisionRuleVersion(_message.Message):
    __slots__ = ["decision_rule", "sequence", "version", "weights"]
    class WeightsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    DECISION_RULE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    decision_rule: DecisionRule
    sequence: int
    version: int
    weights: _containers.ScalarMap[str, int]
    def __init__(self, version: _Optional[int] = ..., decision_rule: _Optional[_Union[DecisionRule, _Mapping]] = ..., weights: _Optional[_Mapping[str, int]] = ..., sequence: _Optional[int] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ["display_name", "has_credential", "head", "id", "signing_key"]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    HAS_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEY_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    has_credential: bool
    head: bool
    id: str
    signing_key: SigningKey
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., head: bool = ..., has_credential: bool = ..., signing_key: _Optional[_Union[SigningKey, _Mapping]] = ...) -> None: ...

class Negotiation(_message.Message):
    __slots__ = ["acceptances", "agreed_point_count", "comment_count", "conclude_time", "create_time", "decision_rule", "decision_rule_versions", "default_voting_duration", "document_sha256", "last_sequence", "max_voting_duration", "mediators_may_change", "name", "observers_may_comment", "participants", "pending_amendment_count", "point_count", "removed_participants", "signatures_required", "signatures_required_sequence", "signing_keys", "state", "title"]
    ACCEPTANCES_FIELD_NUMBER: _ClassVar[int]
    AGREED_POINT_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONCLUDE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DECISION_RULE_FIELD_NUMBER: _ClassVar[int]
    DECISION_RULE_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VOTING_DURATION_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    MAX_VOTING_DURATION_FIELD_NUMBER: _ClassVar[int]
    MEDIATORS_MAY_CHANGE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OBSERVERS_MAY_COMMENT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    PENDING_AMENDMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    POINT_COUNT_FIELD_NUMBER: _ClassVar[int]
    REMOVED_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_REQUIRED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEYS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    acceptances: _containers.RepeatedCompositeFieldContainer[Acceptance]
    agreed_point_count: int
    comment_count: int
    conclude_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    decision_rule: DecisionRule
    decision_rule_versions: _containers.RepeatedCompositeFieldContainer[DecisionRuleVersion]
    default_voting_duration: _duration_pb2.Duration
    document_sha256: str
    last_sequence: int
    max_voting_duration: _duration_pb2.Duration
    mediators_may_change: bool
    name: str
    observers_may_comment: bool
    participants: _containers.RepeatedCompositeFieldContainer[Participant]
    pending_amendment_count: int
    point_count: int
    removed_participants: _containers.RepeatedCompositeFieldContainer[Participant]
    signatures_required: bool
    signatures_required_sequence: int
    signing_keys: _containers.RepeatedCompositeFieldContainer[SigningKey]
    state: NegotiationState
    title: str
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., state: _Optional[_Union[NegotiationState, str]] = ..., participants: _Optional[_Iterable[_Union[Participant, _Mapping]]] = ..., decision_rule: _Optional[_Union[DecisionRule, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., conclude_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., document_sha256: _Optional[str] = ..., last_sequence: _Optional[int] = ..., point_count: _Optional[int] = ..., agreed_point_count: _Optional[int] = ..., pending_amendment_count: _Optional[int] = ..., acceptances: _Optional[_Iterable[_Union[Acceptance, _Mapping]]] = ..., observers_may_comment: bool = ..., comment_count: _Optional[int] = ..., removed_participants: _Optional[_Iterable[_Union[Participant, _Mapping]]] = ..., decision_rule_versions: _Optional[_Iterable[_Union[DecisionRuleVersion, _Mapping]]] = ..., mediators_may_change: bool = ..., default_voting_duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., max_voting_duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., signatures_required: bool = ..., signatures_required_sequence: _Optional[int] = ..., signing_keys: _Optional[_Iterable[_Union[SigningKey, _Mapping]]] = ...) -> None: ...

class Participant(_message.Message):
    __slots__ = ["display_name", "has_credential", "id", "members", "role", "signing_key", "weight"]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    HAS_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEY_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    has_credential: bool
    id: str
    members: _containers.RepeatedCompositeFieldContainer[Member]
    role: Role
    signing_key: SigningKey
    weight: int
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., weight: _Optional[int] = ..., has_credential: bool = ..., members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., signing_key: _Optional[_Union[SigningKey, _Mapping]] = ...) -> None: ...

class Point(_message.Message):
    __slots__ = ["alternatives", "comment_count", "delete_time", "id", "name", "number", "pending_amendment_count", "revision", "revisions", "sign_offs", "stale_sign_offs", "status", "text", "text_sha256"]
    ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    COMMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    DELETE_TIME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    PENDING_AMENDMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    REVISIONS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SIGN_OFFS_FIELD_NUMBER: _ClassVar[int]
    STALE_SIGN_OFFS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TEXT_SHA256_FIELD_NUMBER: _ClassVar[int]
    alternatives: _containers.RepeatedCompositeFieldContainer[PointAlternative]
    comment_count: int
    delete_time: _timestamp_pb2.Timestamp
    id: str
    name: str
    number: int
    pending_amendment_count: int
    revision: int
    revisions: _containers.RepeatedCompositeFieldContainer[PointRevision]
    sign_offs: _containers.RepeatedCompositeFieldContainer[SignOff]
    stale_sign_offs: _containers.RepeatedCompositeFieldContainer[SignOff]
    status: PointStatus
    text: str
    text_sha256: str
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., number: _Optional[int] = ..., text: _Optional[str] = ..., revision: _Optional[int] = ..., text_sha256: _Optional[str] = ..., status: _Optional[_Union[PointStatus, str]] = ..., sign_offs: _Optional[_Iterable[_Union[SignOff, _Mapping]]] = ..., stale_sign_offs: _Optional[_Iterable[_Union[SignOff, _Mapping]]] = ..., revisions: _Optional[_Iterable[_Union[PointRevision, _Mapping]]] = ..., pending_amendment_count: _Optional[int] = ..., delete_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., alternatives: _Optional[_Iterable[_Union[PointAlternative, _Mapping]]] = ..., comment_count: _Optional[int] = ...) -> None: ...

class PointAlternative(_message.Message):
    __slots__ = ["amendment", "by_mediator", "counter_to", "kind", "proposer", "state", "text"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    BY_MEDIATOR_FIELD_NUMBER: _ClassVar[int]
    COUNTER_TO_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PROPOSER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    amendment: str
    by_mediator: bool
    counter_to: str
    kind: AmendmentKind
    proposer: str
    state: AmendmentState
    text: str
    def __init__(self, amendment: _Optional[str] = ..., kind: _Optional[_Union[AmendmentKind, str]] = ..., text: _Optional[str] = ..., proposer: _Optional[str] = ..., by_mediator: bool = ..., state: _Optional[_Union[AmendmentState, str]] = ..., counter_to: _Optional[str] = ...) -> None: ...

class PointRevision(_message.Message):
    __slots__ = ["amendment", "create_time", "revision", "sequence", "text", "text_sha256"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TEXT_SHA256_FIELD_NUMBER: _ClassVar[int]
    amendment: str
    create_time: _timestamp_pb2.Timestamp
    revision: int
    sequence: int
    text: str
    text_sha256: str
    def __init__(self, revision: _Optional[int] = ..., text: _Optional[str] = ..., text_sha256: _Optional[str] = ..., amendment: _Optional[str] = ..., sequence: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SignOff(_message.Message):
    __slots__ = ["checkpoint", "member", "participant", "revision", "sequence", "sign_time", "text_sha256"]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SIGN_TIME_FIELD_NUMBER: _ClassVar[int]
    TEXT_SHA256_FIELD_NUMBER: _ClassVar[int]
    checkpoint: CheckpointRef
    member: str
    participant: str
    revision: int
    sequence: int
    sign_time: _timestamp_pb2.Timestamp
    text_sha256: str
    def __init__(self, participant: _Optional[str] = ..., revision: _Optional[int] = ..., text_sha256: _Optional[str] = ..., sign_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ..., checkpoint: _Optional[_Union[CheckpointRef, _Mapping]] = ..., member: _Optional[str] = ...) -> None: ...

class SigningKey(_message.Message):
    __slots__ = ["end_sequence", "key_id", "member", "participant", "public_key", "sequence"]
    END_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    end_sequence: int
    key_id: str
    member: str
    participant: str
    public_key: bytes
    sequence: int
    def __init__(self, key_id: _Optional[str] = ..., public_key: _Optional[bytes] = ..., sequence: _Optional[int] = ..., participant: _Optional[str] = ..., member: _Optional[str] = ..., end_sequence: _Optional[int] = ...) -> None: ...

class Tally(_message.Message):
    __slots__ = ["abstain", "approve", "approving_weight", "closed_by_deadline", "closed_by_mediator", "not_voted", "passed", "quorum_met", "reject", "total_weight"]
    ABSTAIN_FIELD_NUMBER: _ClassVar[int]
    APPROVE_FIELD_NUMBER: _ClassVar[int]
    APPROVING_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_BY_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    CLOSED_BY_MEDIATOR_FIELD_NUMBER: _ClassVar[int]
    NOT_VOTED_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    QUORUM_MET_FIELD_NUMBER: _ClassVar[int]
    REJECT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    abstain: int
    approve: int
    approving_weight: int
    closed_by_deadline: bool
    closed_by_mediator: bool
    not_voted: int
    passed: bool
    quorum_met: bool
    reject: int
    total_weight: int
    def __init__(self, approve: _Optional[int] = ..., reject: _Optional[int] = ..., abstain: _Optional[int] = ..., not_voted: _Optional[int] = ..., approving_weight: _Optional[int] = ..., total_weight: _Optional[int] = ..., quorum_met: bool = ..., passed: bool = ..., closed_by_mediator: bool = ..., closed_by_deadline: bool = ...) -> None: ...

class Vote(_message.Message):
    __slots__ = ["cast_time", "choice", "member", "participant", "reason", "sequence"]
    CAST_TIME_FIELD_NUMBER: _ClassVar[int]
    CHOICE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    cast_time: _timestamp_pb2.Timestamp
    choice: VoteChoice
    member: str
    participant: str
    reason: str
    sequence: int
    def __init__(self, participant: _Optional[str] = ..., choice: _Optional[_Union[VoteChoice, str]] = ..., reason: _Optional[str] = ..., cast_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ..., member: _Optional[str] = ...) -> None: ...

class NegotiationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class DecisionMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class PointStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class AmendmentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class AmendmentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class VoteChoice(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
