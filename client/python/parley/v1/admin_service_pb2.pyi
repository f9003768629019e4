from parley.v1 import negotiation_pb2 as _negotiation_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

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
