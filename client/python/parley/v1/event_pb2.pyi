from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from parley.v1 import negotiation_pb2 as _negotiation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AcceptanceWithdrawn(_message.Message):
    __slots__ = ["document_sha256"]
    DOCUMENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    document_sha256: str
    def __init__(self, document_sha256: _Optional[str] = ...) -> None: ...

class AmendmentApplied(_message.Message):
    __slots__ = ["amendment_id", "point_id", "revision", "text_sha256"]
    AMENDMENT_ID_FIELD_NUMBER: _ClassVar[int]
    POINT_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TEXT_SHA256_FIELD_NUMBER: _ClassVar[int]
    amendment_id: str
    point_id: str
    revision: int
    text_sha256: str
    def __init__(self, amendment_id: _Optional[str] = ..., point_id: _Optional[str] = ..., revision: _Optional[int] = ..., text_sha256: _Optional[str] = ...) -> None: ...

class AmendmentProposed(_message.Message):
    __slots__ = ["amendment_id", "base_revision", "counter_to", "kind", "point_id", "rationale", "text", "voting_deadline"]
    AMENDMENT_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_REVISION_FIELD_NUMBER: _ClassVar[int]
    COUNTER_TO_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    POINT_ID_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VOTING_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    amendment_id: str
    base_revision: int
    counter_to: str
    kind: _negotiation_pb2.AmendmentKind
    point_id: str
    rationale: str
    text: str
    voting_deadline: _timestamp_pb2.Timestamp
    def __init__(self, amendment_id: _Optional[str] = ..., kind: _Optional[_Union[_negotiation_pb2.AmendmentKind, str]] = ..., point_id: _Optional[str] = ..., base_revision: _Optional[int] = ..., text: _Optional[str] = ..., rationale: _Optional[str] = ..., voting_deadline: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., counter_to: _Optional[str] = ...) -> None: ...

class AmendmentRejected(_message.Message):
    __slots__ = ["amendment_id", "reason"]
    AMENDMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    amendment_id: str
    reason: str
    def __init__(self, amendment_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AmendmentStaled(_message.Message):
    __slots__ = ["amendment_id", "cause_amendment_id"]
    AMENDMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CAUSE_AMENDMENT_ID_FIELD_NUMBER: _ClassVar[int]
    amendment_id: str
    cause_amendment_id: str
    def __init__(self, amendment_id: _Optional[str] = ..., cause_amendment_id: _Optional[str] = ...) -> None: ...

class AmendmentWithdrawn(_message.Message):
    __slots__ = ["amendment_id"]
    AMENDMENT_ID_FIELD_NUMBER: _ClassVar[int]
    amendment_id: str
    def __init__(self, amendment_id: _Optional[str] = ...) -> None: ...

class CheckpointKeyRotated(_message.Message):
    __slots__ = ["previous_verifier_key", "verifier_key"]
    PREVIOUS_VERIFIER_KEY_FIELD_NUMBER: _ClassVar[int]
    VERIFIER_KEY_FIELD_NUMBER: _ClassVar[int]
    previous_verifier_key: str
    verifier_key: str
    def __init__(self, verifier_key: _Optional[str] = ..., previous_verifier_key: _Optional[str] = ...) -> None: ...

class CommentPosted(_message.Message):
    __slots__ = ["amendment_id", "comment_id", "parent_id", "point_id", "text"]
    AMENDMENT_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    POINT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    amendment_id: str
    comment_id: str
    parent_id: str
    point_id: str
    text: str
    def __init__(self, comment_id: _Optional[str] = ..., point_id: _Optional[str] = ..., amendment_id: _Optional[str] = ..., parent_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class CommentRetracted(_message.Message):
    __slots__ = ["comment_id"]
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    comment_id: str
    def __init__(self, comment_id: _Optional[str] = ...) -> None: ...

class CredentialIssued(_message.Message):
    __slots__ = ["member", "participant", "rotated", "token_sha256"]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    ROTATED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_SHA256_FIELD_NUMBER: _ClassVar[int]
    member: str
    participant: str
    rotated: bool
    token_sha256: str
    def __init__(self, participant: _Optional[str] = ..., token_sha256: _Optional[str] = ..., rotated: bool = ..., member: _Optional[str] = ...) -> None: ...

class CredentialRevoked(_message.Message):
    __slots__ = ["member", "participant"]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    member: str
    participant: str
    def __init__(self, participant: _Optional[str] = ..., member: _Optional[str] = ...) -> None: ...

class DecisionRuleChanged(_message.Message):
    __slots__ = ["decision_rule", "weights"]
    class WeightsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    DECISION_RULE_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    decision_rule: _negotiation_pb2.DecisionRule
    weights: _containers.ScalarMap[str, int]
    def __init__(self, decision_rule: _Optional[_Union[_negotiation_pb2.DecisionRule, _Mapping]] = ..., weights: _Optional[_Mapping[str, int]] = ...) -> None: ...

class DocumentAccepted(_message.Message):
    __slots__ = ["checkpoint", "consent", "document_sha256"]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    checkpoint: _negotiation_pb2.CheckpointRef
    consent: _negotiation_pb2.Consent
    document_sha256: str
    def __init__(self, document_sha256: _Optional[str] = ..., checkpoint: _Optional[_Union[_negotiation_pb2.CheckpointRef, _Mapping]] = ..., consent: _Optional[_Union[_negotiation_pb2.Consent, _Mapping]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ["acceptance_withdrawn", "actor", "amendment_applied", "amendment_proposed", "amendment_rejected", "amendment_staled", "amendment_withdrawn", "checkpoint_key_rotated", "comment_posted", "comment_retracted", "credential_issued", "credential_revoked", "decision_rule_changed", "document_accepted", "key_registered", "key_revoked", "member", "member_added", "member_removed", "negotiation", "negotiation_abandoned", "negotiation_concluded", "negotiation_created", "negotiation_renamed", "negotiation_resumed", "negotiation_suspended", "participant_added", "participant_removed", "point_added", "point_signed_off", "request_id", "sequence", "sign_off_revoked", "signatures_required", "time", "vote_cast", "voting_closed", "voting_deadline_set"]
    ACCEPTANCE_WITHDRAWN_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    AMENDMENT_APPLIED_FIELD_NUMBER: _ClassVar[int]
    AMENDMENT_PROPOSED_FIELD_NUMBER: _ClassVar[int]
    AMENDMENT_REJECTED_FIELD_NUMBER: _ClassVar[int]
    AMENDMENT_STALED_FIELD_NUMBER: _ClassVar[int]
    AMENDMENT_WITHDRAWN_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_KEY_ROTATED_FIELD_NUMBER: _ClassVar[int]
    COMMENT_POSTED_FIELD_NUMBER: _ClassVar[int]
    COMMENT_RETRACTED_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ISSUED_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_REVOKED_FIELD_NUMBER: _ClassVar[int]
    DECISION_RULE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    KEY_REGISTERED_FIELD_NUMBER: _ClassVar[int]
    KEY_REVOKED_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ADDED_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    MEMBER_REMOVED_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_ABANDONED_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_CONCLUDED_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_CREATED_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_RENAMED_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_RESUMED_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_SUSPENDED_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_ADDED_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_REMOVED_FIELD_NUMBER: _ClassVar[int]
    POINT_ADDED_FIELD_NUMBER: _ClassVar[int]
    POINT_SIGNED_OFF_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    SIGN_OFF_REVOKED_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    VOTE_CAST_FIELD_NUMBER: _ClassVar[int]
    VOTING_CLOSED_FIELD_NUMBER: _ClassVar[int]
    VOTING_DEADLINE_SET_FIELD_NUMBER: _ClassVar[int]
    acceptance_withdrawn: AcceptanceWithdrawn
    actor: str
    amendment_applied: AmendmentApplied
    amendment_proposed: AmendmentProposed
    amendment_rejected: AmendmentRejected
    amendment_staled: AmendmentStaled
    amendment_withdrawn: AmendmentWithdrawn
    checkpoint_key_rotated: CheckpointKeyRotated
    comment_posted: CommentPosted
    comment_retracted: CommentRetracted
    credential_issued: CredentialIssued
    credential_revoked: CredentialRevoked
    decision_rule_changed: DecisionRuleChanged
    document_accepted: DocumentAccepted
    key_registered: KeyRegistered
    key_revoked: KeyRevoked
    member: str
    member_added: MemberAdded
    member_removed: MemberRemoved
    negotiation: str
    negotiation_abandoned: NegotiationAbandoned
    negotiation_concluded: NegotiationConcluded
    negotiation_created: NegotiationCreated
    negotiation_renamed: NegotiationRenamed
    negotiation_resumed: NegotiationResumed
    negotiation_suspended: NegotiationSuspended
    participant_added: ParticipantAdded
    participant_removed: ParticipantRemoved
    point_added: PointAdded
    point_signed_off: PointSignedOff
    request_id: str
    sequence: int
    sign_off_revoked: SignOffRevoked
    signatures_required: SignaturesRequired
    time: _timestamp_pb2.Timestamp
    vote_cast: VoteCast
    voting_closed: VotingClosed
    voting_deadline_set: VotingDeadlineSet
    def __init__(self, negotiation: _Optional[str] = ..., sequence: _Optional[int] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., request_id: _Optional[str] = ..., member: _Optional[str] = ..., negotiation_created: _Optional[_Union[NegotiationCreated, _Mapping]] = ..., point_added: _Optional[_Union[PointAdded, _Mapping]] = ..., amendment_proposed: _Optional[_Union[AmendmentProposed, _Mapping]] = ..., vote_cast: _Optional[_Union[VoteCast, _Mapping]] = ..., voting_closed: _Optional[_Union[VotingClosed, _Mapping]] = ..., amendment_applied: _Optional[_Union[AmendmentApplied, _Mapping]] = ..., amendment_rejected: _Optional[_Union[AmendmentRejected, _Mapping]] = ..., amendment_withdrawn: _Optional[_Union[AmendmentWithdrawn, _Mapping]] = ..., amendment_staled: _Optional[_Union[AmendmentStaled, _Mapping]] = ..., point_signed_off: _Optional[_Union[PointSignedOff, _Mapping]] = ..., sign_off_revoked: _Optional[_Union[SignOffRevoked, _Mapping]] = ..., document_accepted: _Optional[_Union[DocumentAccepted, _Mapping]] = ..., negotiation_concluded: _Optional[_Union[NegotiationConcluded, _Mapping]] = ..., credential_issued: _Optional[_Union[CredentialIssued, _Mapping]] = ..., credential_revoked: _Optional[_Union[CredentialRevoked, _Mapping]] = ..., checkpoint_key_rotated: _Optional[_Union[CheckpointKeyRotated, _Mapping]] = ..., participant_added: _Optional[_Union[ParticipantAdded, _Mapping]] = ..., participant_removed: _Optional[_Union[ParticipantRemoved, _Mapping]] = ..., negotiation_renamed: _Optional[_Union[NegotiationRenamed, _Mapping]] = ..., decision_rule_changed: _Optional[_Union[DecisionRuleChanged, _Mapping]] = ..., negotiation_suspended: _Optional[_Union[NegotiationSuspended, _Mapping]] = ..., negotiation_resumed: _Optional[_Union[NegotiationResumed, _Mapping]] = ..., negotiation_abandoned: _Optional[_Union[NegotiationAbandoned, _Mapping]] = ..., voting_deadline_set: _Optional[_Union[VotingDeadlineSet, _Mapping]] = ..., member_added: _Optional[_Union[MemberAdded, _Mapping]] = ..., member_removed: _Optional[_Union[MemberRemoved, _Mapping]] = ..., acceptance_withdrawn: _Optional[_Union[AcceptanceWithdrawn, _Mapping]] = ..., comment_posted: _Optional[_Union[CommentPosted, _Mapping]] = ..., comment_retracted: _Optional[_Union[CommentRetracted, _Mapping]] = ..., key_registered: _Optional[_Union[KeyRegistered, _Mapping]] = ..., key_revoked: _Optional[_Union[KeyRevoked, _Mapping]] = ..., signatures_required: _Optional[_Union[SignaturesRequired, _Mapping]] = ...) -> None: ...

class KeyRegistered(_message.Message):
    __slots__ = ["key_id", "public_key", "replaces", "replaces_signature", "signature"]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    REPLACES_FIELD_NUMBER: _ClassVar[int]
    REPLACES_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    public_key: bytes
    replaces: str
    replaces_signature: bytes
    signature: bytes
    def __init__(self, key_id: _Optional[str] = ..., public_key: _Optional[bytes] = ..., replaces: _Optional[str] = ..., signature: _Optional[bytes] = ..., replaces_signature: _Optional[bytes] = ...) -> None: ...

class KeyRevoked(_message.Message):
    __slots__ = ["key_id", "member", "participant", "signature"]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    member: str
    participant: str
    signature: bytes
    def __init__(self, participant: _Optional[str] = ..., member: _Optional[str] = ..., key_id: _Optional[str] = ..., signature: _Optional[bytes] = ...) -> None: ...

class MemberAdded(_message.Message):
    __slots__ = ["display_name", "head", "member", "participant"]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    head: bool
    member: str
    participant: str
    def __init__(self, participant: _Optional[str] = ..., member: _Optional[str] = ..., display_name: _Optional[str] = ..., head: bool = ...) -> None: ...

class MemberRemoved(_message.Message):
    __slots__ = ["member", "participant"]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    member: str
    participant: str
    def __init__(self, participant: _Optional[str] = ..., member: _Optional[str] = ...) -> None: ...

class NegotiationAbandoned(_message.Message):
    __slots__ = ["reason"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class NegotiationConcluded(_message.Message):
    __slots__ = ["document_sha256"]
    DOCUMENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    document_sha256: str
    def __init__(self, document_sha256: _Optional[str] = ...) -> None: ...

class NegotiationCreated(_message.Message):
    __slots__ = ["decision_rule", "default_voting_duration", "max_voting_duration", "mediators_may_change", "observers_may_comment", "participants", "require_signatures", "title"]
    DECISION_RULE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VOTING_DURATION_FIELD_NUMBER: _ClassVar[int]
    MAX_VOTING_DURATION_FIELD_NUMBER: _ClassVar[int]
    MEDIATORS_MAY_CHANGE_FIELD_NUMBER: _ClassVar[int]
    OBSERVERS_MAY_COMMENT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    decision_rule: _negotiation_pb2.DecisionRule
    default_voting_duration: _duration_pb2.Duration
    max_voting_duration: _duration_pb2.Duration
    mediators_may_change: bool
    observers_may_comment: bool
    participants: _containers.RepeatedCompositeFieldContainer[_negotiation_pb2.Participant]
    require_signatures: bool
    title: str
    def __init__(self, title: _Optional[str] = ..., participants: _Optional[_Iterable[_Union[_negotiation_pb2.Participant, _Mapping]]] = ..., decision_rule: _Optional[_Union[_negotiation_pb2.DecisionRule, _Mapping]] = ..., mediators_may_change: bool = ..., default_voting_duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., max_voting_duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., observers_may_comment: bool = ..., require_signatures: bool = ...) -> None: ...

class NegotiationRenamed(_message.Message):
    __slots__ = ["title"]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    title: str
    def __init__(self, title: _Optional[str] = ...) -> None: ...

class NegotiationResumed(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class NegotiationSuspended(_message.Message):
    __slots__ = ["reason"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class ParticipantAdded(_message.Message):
    __slots__ = ["participant"]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    participant: _negotiation_pb2.Participant
    def __init__(self, participant: _Optional[_Union[_negotiation_pb2.Participant, _Mapping]] = ...) -> None: ...

class ParticipantRemoved(_message.Message):
    __slots__ = ["participant"]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    participant: str
    def __init__(self, participant: _Optional[str] = ...) -> None: ...

class PointAdded(_message.Message):
    __slots__ = ["point_id", "text", "text_sha256"]
    POINT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TEXT_SHA256_FIELD_NUMBER: _ClassVar[int]
    point_id: str
    text: str
    text_sha256: str
    def __init__(self, point_id: _Optional[str] = ..., text: _Optional[str] = ..., text_sha256: _Optional[str] = ...) -> None: ...

class PointSignedOff(_message.Message):
    __slots__ = ["checkpoint", "consent", "point_id", "revision", "text_sha256"]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    POINT_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TEXT_SHA256_FIELD_NUMBER: _ClassVar[int]
    checkpoint: _negotiation_pb2.CheckpointRef
    consent: _negotiation_pb2.Consent
    point_id: str
    revision: int
    text_sha256: str
    def __init__(self, point_id: _Optional[str] = ..., revision: _Optional[int] = ..., text_sha256: _Optional[str] = ..., checkpoint: _Optional[_Union[_negotiation_pb2.CheckpointRef, _Mapping]] = ..., consent: _Optional[_Union[_negotiation_pb2.Consent, _Mapping]] = ...) -> None: ...

class SignOffRevoked(_message.Message):
    __slots__ = ["point_id", "revision"]
    POINT_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    point_id: str
    revision: int
    def __init__(self, point_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class SignaturesRequired(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class VoteCast(_message.Message):
    __slots__ = ["amendment_id", "choice", "consent", "reason"]
    AMENDMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHOICE_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    amendment_id: str
    choice: _negotiation_pb2.VoteChoice
    consent: _negotiation_pb2.Consent
    reason: str
    def __init__(self, amendment_id: _Optional[str] = ..., choice: _Optional[_Union[_negotiation_pb2.VoteChoice, str]] = ..., reason: _Optional[str] = ..., consent: _Optional[_Union[_negotiation_pb2.Consent, _Mapping]] = ...) -> None: ...

class VotingClosed(_message.Message):
    __slots__ = ["amendment_id", "tally"]
    AMENDMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TALLY_FIELD_NUMBER: _ClassVar[int]
    amendment_id: str
    tally: _negotiation_pb2.Tally
    def __init__(self, amendment_id: _Optional[str] = ..., tally: _Optional[_Union[_negotiation_pb2.Tally, _Mapping]] = ...) -> None: ...

class VotingDeadlineSet(_message.Message):
    __slots__ = ["amendment_id", "voting_deadline"]
    AMENDMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VOTING_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    amendment_id: str
    voting_deadline: _timestamp_pb2.Timestamp
    def __init__(self, amendment_id: _Optional[str] = ..., voting_deadline: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
