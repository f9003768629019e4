from parley.v1 import negotiation_pb2 as _negotiation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

CLUSTER_ROLE_CANDIDATE: ClusterRole
CLUSTER_ROLE_FOLLOWER: ClusterRole
CLUSTER_ROLE_LEADER: ClusterRole
CLUSTER_ROLE_SHUTDOWN: ClusterRole
CLUSTER_ROLE_UNSPECIFIED: ClusterRole
DESCRIPTOR: _descriptor.FileDescriptor

class AddMemberRequest(_message.Message):
    __slots__ = ["display_name", "head", "member", "negotiation", "participant", "request_id"]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    head: bool
    member: str
    negotiation: str
    participant: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., participant: _Optional[str] = ..., member: _Optional[str] = ..., display_name: _Optional[str] = ..., head: bool = ...) -> None: ...

class AddMemberResponse(_message.Message):
    __slots__ = ["participant"]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    participant: _negotiation_pb2.Participant
    def __init__(self, participant: _Optional[_Union[_negotiation_pb2.Participant, _Mapping]] = ...) -> None: ...

class AddNodeRequest(_message.Message):
    __slots__ = ["address", "node_id"]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    address: str
    node_id: str
    def __init__(self, node_id: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class AddNodeResponse(_message.Message):
    __slots__ = ["nodes"]
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[ClusterNode]
    def __init__(self, nodes: _Optional[_Iterable[_Union[ClusterNode, _Mapping]]] = ...) -> None: ...

class BackupRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class BackupResponse(_message.Message):
    __slots__ = ["data", "sha256", "size_bytes"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    sha256: str
    size_bytes: int
    def __init__(self, data: _Optional[bytes] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class ClusterNode(_message.Message):
    __slots__ = ["address", "id"]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    address: str
    id: str
    def __init__(self, id: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class ClusterStatusRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ClusterStatusResponse(_message.Message):
    __slots__ = ["applied_index", "commit_index", "lag_entries", "last_contact_ms", "leader_address", "leader_id", "node_id", "nodes", "role", "term"]
    APPLIED_INDEX_FIELD_NUMBER: _ClassVar[int]
    COMMIT_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAG_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    LAST_CONTACT_MS_FIELD_NUMBER: _ClassVar[int]
    LEADER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LEADER_ID_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    applied_index: int
    commit_index: int
    lag_entries: int
    last_contact_ms: int
    leader_address: str
    leader_id: str
    node_id: str
    nodes: _containers.RepeatedCompositeFieldContainer[ClusterNode]
    role: ClusterRole
    term: int
    def __init__(self, node_id: _Optional[str] = ..., role: _Optional[_Union[ClusterRole, str]] = ..., leader_id: _Optional[str] = ..., leader_address: _Optional[str] = ..., term: _Optional[int] = ..., commit_index: _Optional[int] = ..., applied_index: _Optional[int] = ..., lag_entries: _Optional[int] = ..., last_contact_ms: _Optional[int] = ..., nodes: _Optional[_Iterable[_Union[ClusterNode, _Mapping]]] = ...) -> None: ...

class IssueTokenRequest(_message.Message):
    __slots__ = ["member", "negotiation", "participant", "request_id"]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    member: str
    negotiation: str
    participant: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., participant: _Optional[str] = ..., member: _Optional[str] = ...) -> None: ...

class IssueTokenResponse(_message.Message):
    __slots__ = ["token", "token_sha256"]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_SHA256_FIELD_NUMBER: _ClassVar[int]
    token: str
    token_sha256: str
    def __init__(self, token: _Optional[str] = ..., token_sha256: _Optional[str] = ...) -> None: ...

class RemoveMemberRequest(_message.Message):
    __slots__ = ["member", "negotiation", "participant", "request_id"]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    member: str
    negotiation: str
    participant: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., participant: _Optional[str] = ..., member: _Optional[str] = ...) -> None: ...

class RemoveMemberResponse(_message.Message):
    __slots__ = ["participant"]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    participant: _negotiation_pb2.Participant
    def __init__(self, participant: _Optional[_Union[_negotiation_pb2.Participant, _Mapping]] = ...) -> None: ...

class RemoveNodeRequest(_message.Message):
    __slots__ = ["node_id"]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...

class RemoveNodeResponse(_message.Message):
    __slots__ = ["nodes"]
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[ClusterNode]
    def __init__(self, nodes: _Optional[_Iterable[_Union[ClusterNode, _Mapping]]] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ["member", "negotiation", "participant", "request_id"]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    member: str
    negotiation: str
    participant: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., participant: _Optional[str] = ..., member: _Optional[str] = ...) -> None: ...

class RevokeTokenResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RotateTokenRequest(_message.Message):
    __slots__ = ["member", "negotiation", "participant", "request_id"]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    member: str
    negotiation: str
    participant: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., participant: _Optional[str] = ..., member: _Optional[str] = ...) -> None: ...

class RotateTokenResponse(_message.Message):
    __slots__ = ["token", "token_sha256"]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_SHA256_FIELD_NUMBER: _ClassVar[int]
    token: str
    token_sha256: str
    def __init__(self, token: _Optional[str] = ..., token_sha256: _Optional[str] = ...) -> None: ...

class ClusterRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
