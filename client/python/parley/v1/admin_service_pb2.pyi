from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

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
    __slots__ = ["negotiation", "participant", "request_id"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    participant: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., participant: _Optional[str] = ...) -> None: ...

class IssueTokenResponse(_message.Message):
    __slots__ = ["token", "token_sha256"]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_SHA256_FIELD_NUMBER: _ClassVar[int]
    token: str
    token_sha256: str
    def __init__(self, token: _Optional[str] = ..., token_sha256: _Optional[str] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ["negotiation", "participant", "request_id"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    participant: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., participant: _Optional[str] = ...) -> None: ...

class RevokeTokenResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RotateTokenRequest(_message.Message):
    __slots__ = ["negotiation", "participant", "request_id"]
    NEGOTIATION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    negotiation: str
    participant: str
    request_id: str
    def __init__(self, request_id: _Optional[str] = ..., negotiation: _Optional[str] = ..., participant: _Optional[str] = ...) -> None: ...

class RotateTokenResponse(_message.Message):
    __slots__ = ["token", "token_sha256"]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_SHA256_FIELD_NUMBER: _ClassVar[int]
    token: str
    token_sha256: str
    def __init__(self, token: _Optional[str] = ..., token_sha256: _Optional[str] = ...) -> None: ...
