from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from parley.v1 import event_pb2 as _event_pb2
from parley.v1 import negotiation_pb2 as _negotiation_pb2
from parley.v1 import redline_pb2 as _redline_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AbandonNegotiationRequest(_message.Message):
    __slots__ = ["negotiation", "reason", "request_id"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    reason: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AbandonNegotiationResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class AcceptDocumentRequest(_message.Message):
    __slots__ = ["checkpoint", "consent", "document_sha256", "negotiation", "request_id"]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    checkpoint: str
    consent: _negotiation_pb2.Consent
    document_sha256: str
    negotiation: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., document_sha256: _Optional[str] = ..., checkpoint: _Optional[str] = ..., consent: _Optional[_Union[_negotiation_pb2.Consent, _Mapping]] = ...) -> None: ...

class AcceptDocumentResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class AddParticipantRequest(_message.Message):
    __slots__ = ["negotiation", "participant", "request_id"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    participant: _negotiation_pb2.Participant
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., participant: _Optional[_Union[_negotiation_pb2.Participant, _Mapping]] = ...) -> None: ...

class AddParticipantResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class ApplyAmendmentRequest(_message.Message):
    __slots__ = ["amendment", "request_id"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    amendment: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., amendment: _Optional[str] = ...) -> None: ...

class ApplyAmendmentResponse(_message.Message):
    __slots__ = ["amendment", "point", "points", "staled_amendments"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    STALED_AMENDMENTS_FIELD_NUMBER: _ClassVar[int]
    amendment: _negotiation_pb2.Amendment
    point: _negotiation_pb2.Point
    points: _containers.RepeatedCompositeFieldContainer[_negotiation_pb2.Point]
    staled_amendments: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, amendment: _Optional[_Union[_negotiation_pb2.Amendment, _Mapping]] = ..., point: _Optional[_Union[_negotiation_pb2.Point, _Mapping]] = ..., staled_amendments: _Optional[_Iterable[str]] = ..., points: _Optional[_Iterable[_Union[_negotiation_pb2.Point, _Mapping]]] = ...) -> None: ...

class CastVoteRequest(_message.Message):
    __slots__ = ["amendment", "choice", "consent", "reason", "request_id", "vote_only"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    CHOICE_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VOTE_ONLY_FIELD_NUMBER: _ClassVar[int]
    amendment: str
    choice: _negotiation_pb2.VoteChoice
    consent: _negotiation_pb2.Consent
    reason: str
    request_id: str
    vote_only: bool
    def __init__(self, request_id: _Optional[str] = ..., amendment: _Optional[str] = ..., choice: _Optional[_Union[_negotiation_pb2.VoteChoice, str]] = ..., reason: _Optional[str] = ..., consent: _Optional[_Union[_negotiation_pb2.Consent, _Mapping]] = ..., vote_only: bool = ...) -> None: ...

class CastVoteResponse(_message.Message):
    __slots__ = ["amendment", "amendment_state", "vote"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    AMENDMENT_STATE_FIELD_NUMBER: _ClassVar[int]
    VOTE_FIELD_NUMBER: _ClassVar[int]
    amendment: _negotiation_pb2.Amendment
    amendment_state: _negotiation_pb2.AmendmentState
    vote: _negotiation_pb2.Vote
    def __init__(self, amendment: _Optional[_Union[_negotiation_pb2.Amendment, _Mapping]] = ..., vote: _Optional[_Union[_negotiation_pb2.Vote, _Mapping]] = ..., amendment_state: _Optional[_Union[_negotiation_pb2.AmendmentState, str]] = ...) -> None: ...

class CloseVotingRequest(_message.Message):
    __slots__ = ["amendment", "request_id"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    amendment: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., amendment: _Optional[str] = ...) -> None: ...

class CloseVotingResponse(_message.Message):
    __slots__ = ["amendment"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    amendment: _negotiation_pb2.Amendment
    def __init__(self, amendment: _Optional[_Union[_negotiation_pb2.Amendment, _Mapping]] = ...) -> None: ...

class CreateNegotiationRequest(_message.Message):
    __slots__ = ["decision_rule", "default_voting_duration", "max_voting_duration", "mediators_may_change", "numbered_text", "observers_may_comment", "participants", "points", "request_id", "require_signatures", "title"]
    DECISION_RULE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VOTING_DURATION_FIELD_NUMBER: _ClassVar[int]
    MAX_VOTING_DURATION_FIELD_NUMBER: _ClassVar[int]
    MEDIATORS_MAY_CHANGE_FIELD_NUMBER: _ClassVar[int]
    NUMBERED_TEXT_FIELD_NUMBER: _ClassVar[int]
    OBSERVERS_MAY_COMMENT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    decision_rule: _negotiation_pb2.DecisionRule
    default_voting_duration: _duration_pb2.Duration
    max_voting_duration: _duration_pb2.Duration
    mediators_may_change: bool
    numbered_text: str
    observers_may_comment: bool
    participants: _containers.RepeatedCompositeFieldContainer[_negotiation_pb2.Participant]
    points: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    require_signatures: bool
    title: str
    def __init__(self, request_id: _Optional[str] = ..., title: _Optional[str] = ..., participants: _Optional[_Iterable[_Union[_negotiation_pb2.Participant, _Mapping]]] = ..., decision_rule: _Optional[_Union[_negotiation_pb2.DecisionRule, _Mapping]] = ..., points: _Optional[_Iterable[str]] = ..., numbered_text: _Optional[str] = ..., mediators_may_change: bool = ..., default_voting_duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., max_voting_duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., observers_may_comment: bool = ..., require_signatures: bool = ...) -> None: ...

class CreateNegotiationResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class EventRecord(_message.Message):
    __slots__ = ["event", "leaf", "sequence"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    LEAF_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    leaf: bytes
    sequence: int
    def __init__(self, sequence: _Optional[int] = ..., leaf: _Optional[bytes] = ..., event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ...) -> None: ...

class GetAmendmentRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetAmendmentResponse(_message.Message):
    __slots__ = ["amendment"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    amendment: _negotiation_pb2.Amendment
    def __init__(self, amendment: _Optional[_Union[_negotiation_pb2.Amendment, _Mapping]] = ...) -> None: ...

class GetCallerRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetCallerResponse(_message.Message):
    __slots__ = ["admin", "member", "negotiation", "participant"]
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    admin: bool
    member: _negotiation_pb2.Member
    negotiation: str
    participant: _negotiation_pb2.Participant
    def __init__(self, admin: bool = ..., negotiation: _Optional[str] = ..., participant: _Optional[_Union[_negotiation_pb2.Participant, _Mapping]] = ..., member: _Optional[_Union[_negotiation_pb2.Member, _Mapping]] = ...) -> None: ...

class GetDocumentRequest(_message.Message):
    __slots__ = ["negotiation", "omit_alternatives", "page_size", "page_token"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    OMIT_ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    omit_alternatives: bool
    page_size: int
    page_token: str
    def __init__(self, negotiation: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., omit_alternatives: bool = ...) -> None: ...

class GetDocumentResponse(_message.Message):
    __slots__ = ["document_sha256", "negotiation", "next_page_token", "points"]
    DOCUMENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    document_sha256: str
    negotiation: _negotiation_pb2.Negotiation
    next_page_token: str
    points: _containers.RepeatedCompositeFieldContainer[_negotiation_pb2.Point]
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ..., points: _Optional[_Iterable[_Union[_negotiation_pb2.Point, _Mapping]]] = ..., document_sha256: _Optional[str] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetNegotiationRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetNegotiationResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class GetPointRequest(_message.Message):
    __slots__ = ["name", "page_size", "page_token"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    page_size: int
    page_token: str
    def __init__(self, name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetPointResponse(_message.Message):
    __slots__ = ["next_page_token", "point"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    point: _negotiation_pb2.Point
    def __init__(self, point: _Optional[_Union[_negotiation_pb2.Point, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetRedlineRequest(_message.Message):
    __slots__ = ["amendment", "document", "page_size", "page_token", "proposal", "revisions"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    REVISIONS_FIELD_NUMBER: _ClassVar[int]
    amendment: str
    document: str
    page_size: int
    page_token: str
    proposal: RedlineProposal
    revisions: RedlineRevisions
    def __init__(self, revisions: _Optional[_Union[RedlineRevisions, _Mapping]] = ..., amendment: _Optional[str] = ..., proposal: _Optional[_Union[RedlineProposal, _Mapping]] = ..., document: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetRedlineResponse(_message.Message):
    __slots__ = ["changes", "next_page_token"]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[_redline_pb2.RedlineChange]
    next_page_token: str
    def __init__(self, changes: _Optional[_Iterable[_Union[_redline_pb2.RedlineChange, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListAmendmentsRequest(_message.Message):
    __slots__ = ["negotiation", "page_size", "page_token", "point", "states"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    page_size: int
    page_token: str
    point: str
    states: _containers.RepeatedScalarFieldContainer[_negotiation_pb2.AmendmentState]
    def __init__(self, negotiation: _Optional[str] = ..., point: _Optional[str] = ..., states: _Optional[_Iterable[_Union[_negotiation_pb2.AmendmentState, str]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAmendmentsResponse(_message.Message):
    __slots__ = ["amendments", "next_page_token"]
    AMENDMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    amendments: _containers.RepeatedCompositeFieldContainer[_negotiation_pb2.Amendment]
    next_page_token: str
    def __init__(self, amendments: _Optional[_Iterable[_Union[_negotiation_pb2.Amendment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListCommentsRequest(_message.Message):
    __slots__ = ["amendment", "negotiation", "page_size", "page_token", "point"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    amendment: str
    negotiation: str
    page_size: int
    page_token: str
    point: str
    def __init__(self, negotiation: _Optional[str] = ..., point: _Optional[str] = ..., amendment: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCommentsResponse(_message.Message):
    __slots__ = ["comments", "next_page_token"]
    COMMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    comments: _containers.RepeatedCompositeFieldContainer[_negotiation_pb2.Comment]
    next_page_token: str
    def __init__(self, comments: _Optional[_Iterable[_Union[_negotiation_pb2.Comment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ["after_sequence", "negotiation", "page_size", "page_token"]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    negotiation: str
    page_size: int
    page_token: str
    def __init__(self, negotiation: _Optional[str] = ..., after_sequence: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ["events", "next_page_token"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[EventRecord]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[EventRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListNegotiationsRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListNegotiationsResponse(_message.Message):
    __slots__ = ["negotiations", "next_page_token"]
    NEGOTIATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    negotiations: _containers.RepeatedCompositeFieldContainer[_negotiation_pb2.Negotiation]
    next_page_token: str
    def __init__(self, negotiations: _Optional[_Iterable[_Union[_negotiation_pb2.Negotiation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PostCommentRequest(_message.Message):
    __slots__ = ["amendment", "negotiation", "parent", "point", "request_id", "text"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    amendment: str
    negotiation: str
    parent: str
    point: str
    request_id: str
    text: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., point: _Optional[str] = ..., amendment: _Optional[str] = ..., parent: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class PostCommentResponse(_message.Message):
    __slots__ = ["comment"]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    comment: _negotiation_pb2.Comment
    def __init__(self, comment: _Optional[_Union[_negotiation_pb2.Comment, _Mapping]] = ...) -> None: ...

class ProposeAmendmentRequest(_message.Message):
    __slots__ = ["base_revision", "counter_to", "kind", "negotiation", "parts", "point", "rationale", "rebase_of", "request_id", "text", "voting_deadline"]
    BASE_REVISION_FIELD_NUMBER: _ClassVar[int]
    COUNTER_TO_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    REBASE_OF_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VOTING_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    base_revision: int
    counter_to: str
    kind: _negotiation_pb2.AmendmentKind
    negotiation: str
    parts: _containers.RepeatedCompositeFieldContainer[_negotiation_pb2.AmendmentPart]
    point: str
    rationale: str
    rebase_of: str
    request_id: str
    text: str
    voting_deadline: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., kind: _Optional[_Union[_negotiation_pb2.AmendmentKind, str]] = ..., point: _Optional[str] = ..., base_revision: _Optional[int] = ..., text: _Optional[str] = ..., rationale: _Optional[str] = ..., voting_deadline: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., counter_to: _Optional[str] = ..., rebase_of: _Optional[str] = ..., parts: _Optional[_Iterable[_Union[_negotiation_pb2.AmendmentPart, _Mapping]]] = ...) -> None: ...

class ProposeAmendmentResponse(_message.Message):
    __slots__ = ["amendment"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    amendment: _negotiation_pb2.Amendment
    def __init__(self, amendment: _Optional[_Union[_negotiation_pb2.Amendment, _Mapping]] = ...) -> None: ...

class RedlineProposal(_message.Message):
    __slots__ = ["base_revision", "kind", "negotiation", "point", "text"]
    BASE_REVISION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    base_revision: int
    kind: _negotiation_pb2.AmendmentKind
    negotiation: str
    point: str
    text: str
    def __init__(self, negotiation: _Optional[str] = ..., kind: _Optional[_Union[_negotiation_pb2.AmendmentKind, str]] = ..., point: _Optional[str] = ..., base_revision: _Optional[int] = ..., text: _Optional[str] = ...) -> None: ...

class RedlineRevisions(_message.Message):
    __slots__ = ["from_revision", "point", "to_revision"]
    FROM_REVISION_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    TO_REVISION_FIELD_NUMBER: _ClassVar[int]
    from_revision: int
    point: str
    to_revision: int
    def __init__(self, point: _Optional[str] = ..., from_revision: _Optional[int] = ..., to_revision: _Optional[int] = ...) -> None: ...

class RegisterKeyRequest(_message.Message):
    __slots__ = ["negotiation", "public_key", "replaces", "replaces_signature", "request_id", "signature"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    REPLACES_FIELD_NUMBER: _ClassVar[int]
    REPLACES_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    public_key: bytes
    replaces: str
    replaces_signature: bytes
    request_id: str
    signature: bytes
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., public_key: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., replaces: _Optional[str] = ..., replaces_signature: _Optional[bytes] = ...) -> None: ...

class RegisterKeyResponse(_message.Message):
    __slots__ = ["signing_key"]
    SIGNING_KEY_FIELD_NUMBER: _ClassVar[int]
    signing_key: _negotiation_pb2.SigningKey
    def __init__(self, signing_key: _Optional[_Union[_negotiation_pb2.SigningKey, _Mapping]] = ...) -> None: ...

class RejectAmendmentRequest(_message.Message):
    __slots__ = ["amendment", "reason", "request_id"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    amendment: str
    reason: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., amendment: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RejectAmendmentResponse(_message.Message):
    __slots__ = ["amendment"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    amendment: _negotiation_pb2.Amendment
    def __init__(self, amendment: _Optional[_Union[_negotiation_pb2.Amendment, _Mapping]] = ...) -> None: ...

class RemoveParticipantRequest(_message.Message):
    __slots__ = ["negotiation", "participant", "request_id"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    participant: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., participant: _Optional[str] = ...) -> None: ...

class RemoveParticipantResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class RenameNegotiationRequest(_message.Message):
    __slots__ = ["negotiation", "request_id", "title"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    request_id: str
    title: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class RenameNegotiationResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class RequireSignaturesRequest(_message.Message):
    __slots__ = ["negotiation", "request_id"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ...) -> None: ...

class RequireSignaturesResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class ResumeNegotiationRequest(_message.Message):
    __slots__ = ["negotiation", "request_id"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ...) -> None: ...

class ResumeNegotiationResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class RetractCommentRequest(_message.Message):
    __slots__ = ["name", "request_id"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RetractCommentResponse(_message.Message):
    __slots__ = ["comment"]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    comment: _negotiation_pb2.Comment
    def __init__(self, comment: _Optional[_Union[_negotiation_pb2.Comment, _Mapping]] = ...) -> None: ...

class RevokeKeyRequest(_message.Message):
    __slots__ = ["key_id", "member", "negotiation", "participant", "request_id", "signature"]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    member: str
    negotiation: str
    participant: str
    request_id: str
    signature: bytes
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., key_id: _Optional[str] = ..., signature: _Optional[bytes] = ..., participant: _Optional[str] = ..., member: _Optional[str] = ...) -> None: ...

class RevokeKeyResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RevokeSignOffRequest(_message.Message):
    __slots__ = ["point", "request_id"]
    POINT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    point: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., point: _Optional[str] = ...) -> None: ...

class RevokeSignOffResponse(_message.Message):
    __slots__ = ["point"]
    POINT_FIELD_NUMBER: _ClassVar[int]
    point: _negotiation_pb2.Point
    def __init__(self, point: _Optional[_Union[_negotiation_pb2.Point, _Mapping]] = ...) -> None: ...

class RevokeSignOffsRequest(_message.Message):
    __slots__ = ["negotiation", "points", "request_id"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    points: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., points: _Optional[_Iterable[str]] = ...) -> None: ...

class RevokeSignOffsResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class SetDecisionRuleRequest(_message.Message):
    __slots__ = ["decision_rule", "negotiation", "request_id", "weights"]
    class WeightsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    DECISION_RULE_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    decision_rule: _negotiation_pb2.DecisionRule
    negotiation: str
    request_id: str
    weights: _containers.ScalarMap[str, int]
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., decision_rule: _Optional[_Union[_negotiation_pb2.DecisionRule, _Mapping]] = ..., weights: _Optional[_Mapping[str, int]] = ...) -> None: ...

class SetDecisionRuleResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class SetVotingDeadlineRequest(_message.Message):
    __slots__ = ["amendment", "request_id", "voting_deadline"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VOTING_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    amendment: str
    request_id: str
    voting_deadline: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., amendment: _Optional[str] = ..., voting_deadline: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SetVotingDeadlineResponse(_message.Message):
    __slots__ = ["amendment"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    amendment: _negotiation_pb2.Amendment
    def __init__(self, amendment: _Optional[_Union[_negotiation_pb2.Amendment, _Mapping]] = ...) -> None: ...

class SignOffPointRequest(_message.Message):
    __slots__ = ["checkpoint", "consent", "point", "request_id", "revision", "text_sha256"]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TEXT_SHA256_FIELD_NUMBER: _ClassVar[int]
    checkpoint: str
    consent: _negotiation_pb2.Consent
    point: str
    request_id: str
    revision: int
    text_sha256: str
    def __init__(self, request_id: _Optional[str] = ..., point: _Optional[str] = ..., revision: _Optional[int] = ..., text_sha256: _Optional[str] = ..., checkpoint: _Optional[str] = ..., consent: _Optional[_Union[_negotiation_pb2.Consent, _Mapping]] = ...) -> None: ...

class SignOffPointResponse(_message.Message):
    __slots__ = ["point"]
    POINT_FIELD_NUMBER: _ClassVar[int]
    point: _negotiation_pb2.Point
    def __init__(self, point: _Optional[_Union[_negotiation_pb2.Point, _Mapping]] = ...) -> None: ...

class SignOffPointsItem(_message.Message):
    __slots__ = ["consent", "point", "revision", "text_sha256"]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TEXT_SHA256_FIELD_NUMBER: _ClassVar[int]
    consent: _negotiation_pb2.Consent
    point: str
    revision: int
    text_sha256: str
    def __init__(self, point: _Optional[str] = ..., revision: _Optional[int] = ..., text_sha256: _Optional[str] = ..., consent: _Optional[_Union[_negotiation_pb2.Consent, _Mapping]] = ...) -> None: ...

class SignOffPointsRequest(_message.Message):
    __slots__ = ["checkpoint", "items", "negotiation", "request_id"]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    checkpoint: str
    items: _containers.RepeatedCompositeFieldContainer[SignOffPointsItem]
    negotiation: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., items: _Optional[_Iterable[_Union[SignOffPointsItem, _Mapping]]] = ..., checkpoint: _Optional[str] = ...) -> None: ...

class SignOffPointsResponse(_message.Message):
    __slots__ = ["negotiation", "signed_off_count"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    SIGNED_OFF_COUNT_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    signed_off_count: int
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ..., signed_off_count: _Optional[int] = ...) -> None: ...

class SuspendNegotiationRequest(_message.Message):
    __slots__ = ["negotiation", "reason", "request_id"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    reason: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SuspendNegotiationResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ["after_sequence", "negotiation"]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    negotiation: str
    def __init__(self, negotiation: _Optional[str] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: EventRecord
    def __init__(self, event: _Optional[_Union[EventRecord, _Mapping]] = ...) -> None: ...

class WithdrawAcceptanceRequest(_message.Message):
    __slots__ = ["negotiation", "request_id"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ...) -> None: ...

class WithdrawAcceptanceResponse(_message.Message):
    __slots__ = ["negotiation"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    negotiation: _negotiation_pb2.Negotiation
    def __init__(self, negotiation: _Optional[_Union[_negotiation_pb2.Negotiation, _Mapping]] = ...) -> None: ...

class WithdrawAmendmentRequest(_message.Message):
    __slots__ = ["name", "request_id"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class WithdrawAmendmentResponse(_message.Message):
    __slots__ = ["amendment"]
    AMENDMENT_FIELD_NUMBER: _ClassVar[int]
    amendment: _negotiation_pb2.Amendment
    def __init__(self, amendment: _Optional[_Union[_negotiation_pb2.Amendment, _Mapping]] = ...) -> None: ...
