from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
REDLINE_CHANGE_KIND_ADDED: RedlineChangeKind
REDLINE_CHANGE_KIND_CHANGED: RedlineChangeKind
REDLINE_CHANGE_KIND_DELETED: RedlineChangeKind
REDLINE_CHANGE_KIND_UNCHANGED: RedlineChangeKind
REDLINE_CHANGE_KIND_UNSPECIFIED: RedlineChangeKind
REDLINE_OPERATION_DELETE: RedlineOperation
REDLINE_OPERATION_EQUAL: RedlineOperation
REDLINE_OPERATION_INSERT: RedlineOperation
REDLINE_OPERATION_UNSPECIFIED: RedlineOperation

class RedlineChange(_message.Message):
    __slots__ = ["from_revision", "kind", "number", "original_number", "point", "segments", "to_revision"]
    FROM_REVISION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    TO_REVISION_FIELD_NUMBER: _ClassVar[int]
    from_revision: int
    kind: RedlineChangeKind
    number: int
    original_number: int
    point: str
    segments: _containers.RepeatedCompositeFieldContainer[RedlineSegment]
    to_revision: int
    def __init__(self, kind: _Optional[_Union[RedlineChangeKind, str]] = ..., point: _Optional[str] = ..., number: _Optional[int] = ..., original_number: _Optional[int] = ..., from_revision: _Optional[int] = ..., to_revision: _Optional[int] = ..., segments: _Optional[_Iterable[_Union[RedlineSegment, _Mapping]]] = ...) -> None: ...

class RedlineSegment(_message.Message):
    __slots__ = ["operation", "text"]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    operation: RedlineOperation
    text: str
    def __init__(self, operation: _Optional[_Union[RedlineOperation, str]] = ..., text: _Optional[str] = ...) -> None: ...

class RedlineChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class RedlineOperation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
