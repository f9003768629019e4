"""Errors: every Parley error is a gRPC status with a google.rpc.ErrorInfo.

The ErrorInfo's ``reason`` is a stable UPPER_SNAKE word (domain ``parley.v1``),
e.g. ``VOTING_CLOSED``. gRPC carries the full google.rpc.Status in the
``grpc-status-details-bin`` trailer; these helpers decode it.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import grpc

try:  # googleapis-common-protos, when installed, owns the google.rpc modules
    from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-not-found]
except ImportError:  # otherwise use the copy generated for this package
    from parley._googleapis.google.rpc import error_details_pb2, status_pb2

ERROR_DOMAIN = "parley.v1"
"""The domain of every ErrorInfo Parley returns."""

_DETAILS_KEY = "grpc-status-details-bin"


@dataclasses.dataclass(frozen=True)
class ParleyError:
    """What a failed call tells: its gRPC code, Parley's reason, the message."""

    code: grpc.StatusCode
    """The gRPC status code, e.g. ``grpc.StatusCode.FAILED_PRECONDITION``."""
    reason: str
    """The stable reason, e.g. ``"VOTING_CLOSED"``; ``""`` when there is none."""
    domain: str
    """The ErrorInfo's domain: ``"parley.v1"`` for Parley's own errors."""
    message: str
    """The server's message."""
    metadata: dict
    """The ErrorInfo's metadata map: details of the refusal, e.g. a
    ``REBASE_CONFLICT``'s ``conflicts``, ``currentRevision``, ``conflict1Words``,
    ``conflict1Base``, ``conflict1Yours``, ``conflict1Theirs``; empty if none."""

    @property
    def code_name(self) -> str:
        """The code's name, e.g. ``"FAILED_PRECONDITION"``."""
        return self.code.name


def status_of(err: grpc.RpcError) -> Optional["status_pb2.Status"]:
    """The google.rpc.Status a failed call carried, or None."""
    trailers = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == _DETAILS_KEY:
            st = status_pb2.Status()
            st.ParseFromString(value)
            return st
    return None


def parley_error(err: BaseException) -> ParleyError:
    """Reads the code, reason and message of an exception a call raised.

    Any exception works: one that is not a grpc.RpcError is reported as
    UNKNOWN without a reason.
    """
    reason = getattr(err, "reason", None)
    if not isinstance(err, grpc.RpcError) and isinstance(getattr(err, "code", None), grpc.StatusCode) and isinstance(reason, str):
        # Raised by this package's own checks (DocumentHashError): a code and
        # a reason like the server's.
        return ParleyError(err.code, reason, ERROR_DOMAIN, str(err), {})
    if not isinstance(err, grpc.RpcError) or not hasattr(err, "code"):
        return ParleyError(grpc.StatusCode.UNKNOWN, "", "", str(err), {})
    code = err.code()
    message = err.details() or ""
    st = status_of(err)
    if st is not None:
        for detail in st.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                return ParleyError(code, info.reason, info.domain, message, dict(info.metadata))
    return ParleyError(code, "", "", message, {})


def error_reason(err: BaseException) -> str:
    """The stable reason of an error (e.g. ``"VOTING_CLOSED"``), or ``""``."""
    return parley_error(err).reason


def is_parley_error(err: BaseException, code: grpc.StatusCode, reason: Optional[str] = None) -> bool:
    """Whether an error has the given code and, if given, reason."""
    e = parley_error(err)
    return e.code == code and (reason is None or e.reason == reason)
