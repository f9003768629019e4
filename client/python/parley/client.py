"""The connection: a gRPC channel with the bearer token and request ids.

``Client`` wraps a channel with one interceptor that sends
``authorization: Bearer <token>`` on every call and fills an empty
``request_id`` of every mutating request with a new UUID. Its ``negotiation``
and ``admin`` attributes are the generated stubs, unchanged: the API is the
one in proto/, called as ``client.negotiation.CastVote(CastVoteRequest(...))``.
``Client.watch_events`` follows the audit log and resumes after a disconnect;
``Client.document``, ``negotiations``, ``amendments`` and ``events`` read
whole collections page after page (see parley.paging).
"""

from __future__ import annotations

import collections
import random
import threading
import uuid
from typing import Callable, Iterator, Optional, Sequence, Tuple

import grpc

from parley import paging
from parley.errors import error_reason
from parley.v1 import admin_service_pb2_grpc, audit_service_pb2_grpc, negotiation_service_pb2, negotiation_service_pb2_grpc

__all__ = ["Client", "EventWatch", "WatchOrderError", "RESUMABLE_CODES", "WATCH_TOO_SLOW", "new_request_id"]

#: The reason, with RESOURCE_EXHAUSTED, of a server that cut off a watch
#: stream its client read too slowly: the watch resumes at once from the last
#: event it yielded.
WATCH_TOO_SLOW = "WATCH_TOO_SLOW"

#: Codes after which a watch reconnects. The others (INVALID_ARGUMENT,
#: NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED...) would fail again the same
#: way and are raised. CANCELLED counts only when the watch itself was not
#: cancelled (a reset connection can surface as CANCELLED).
RESUMABLE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)

_DEFAULT_OPTIONS = (
    # Large documents and event pages: the server allows big replies.
    ("grpc.max_receive_message_length", 256 << 20),
)


def new_request_id() -> str:
    """A new request id: a random UUID."""
    return str(uuid.uuid4())


class _CallDetails(
    collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
    grpc.ClientCallDetails,
):
    pass


class _ParleyInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Sends the bearer token; fills empty request ids of mutating requests."""

    def __init__(self, token: str, request_ids: bool):
        self._authorization = ("authorization", "Bearer " + token)
        self._request_ids = request_ids

    def _details(self, d: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = [m for m in (d.metadata or ()) if m[0] != "authorization"]
        metadata.append(self._authorization)
        return _CallDetails(
            d.method,
            d.timeout,
            metadata,
            d.credentials,
            getattr(d, "wait_for_ready", None),
            getattr(d, "compression", None),
        )

    def intercept_unary_unary(self, continuation, client_call_details, request):
        # Every mutating request of Parley has a request_id field, and only
        # those do. The id is written into the request itself, so sending the
        # same request object again is a safe retry.
        if self._request_ids and "request_id" in request.DESCRIPTOR.fields_by_name and not request.request_id:
            request.request_id = new_request_id()
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)


def _target(address: str) -> Tuple[str, bool]:
    """The gRPC target of an address, and whether it asks for TLS."""
    if address.startswith("https://"):
        return address[len("https://") :].rstrip("/"), True
    if address.startswith("http://"):
        return address[len("http://") :].rstrip("/"), False
    return address, False


class Client:
    """A connection to a Parley server with one participant's token.

    ``address`` is ``"host:port"`` (plaintext, for loopback),
    ``"http://host:port"`` or ``"https://host:port"`` (TLS with the system's
    roots, or ``credentials``). Nothing is sent before the first call::

        with Client("127.0.0.1:50051", token) as c:
            doc = c.negotiation.GetDocument(GetDocumentRequest(negotiation=name))
    """

    def __init__(
        self,
        address: str,
        token: str,
        *,
        credentials: Optional[grpc.ChannelCredentials] = None,
        options: Sequence[Tuple[str, object]] = (),
        request_ids: bool = True,
        interceptors: Sequence[object] = (),
    ):
        target, tls = _target(address)
        opts = list(_DEFAULT_OPTIONS) + list(options)
        if credentials is None and tls:
            credentials = grpc.ssl_channel_credentials()
        if credentials is not None:
            self._raw_channel = grpc.secure_channel(target, credentials, options=opts)
        else:
            self._raw_channel = grpc.insecure_channel(target, options=opts)
        #: The channel with the token and request-id interceptor (and yours).
        self.channel = grpc.intercept_channel(self._raw_channel, _ParleyInterceptor(token, request_ids), *interceptors)
        #: NegotiationService: the document, amendments, votes, sign-offs, log.
        self.negotiation = negotiation_service_pb2_grpc.NegotiationServiceStub(self.channel)
        #: AdminService: participants' tokens (administrator only).
        self.admin = admin_service_pb2_grpc.AdminServiceStub(self.channel)
        #: AuditService: signed checkpoints and Merkle proofs of the audit log.
        self.audit = audit_service_pb2_grpc.AuditServiceStub(self.channel)

    def watch_events(
        self,
        negotiation: str,
        after_sequence: int = 0,
        *,
        initial_backoff: float = 0.1,
        max_backoff: float = 5.0,
        max_retries: Optional[int] = None,
        on_reconnect: Optional[Callable[[Optional[grpc.RpcError], int, int], None]] = None,
    ) -> "EventWatch":
        """Follows a negotiation's log: see EventWatch."""
        return EventWatch(
            self.negotiation,
            negotiation,
            after_sequence,
            initial_backoff=initial_backoff,
            max_backoff=max_backoff,
            max_retries=max_retries,
            on_reconnect=on_reconnect,
        )

    def document(self, negotiation: str, *, page_size: int = 0, **call_options) -> paging.Document:
        """The whole document, one version of it, hash checked: see paging.read_document.

        ``doc.point_by_number(6)`` then finds a point by its number.
        """
        return paging.read_document(self.negotiation, negotiation, page_size=page_size, **call_options)

    def negotiations(self, *, page_size: int = 500, **call_options):
        """Every negotiation the caller may read, page after page (an iterator)."""
        return paging.list_negotiations(self.negotiation, page_size=page_size, **call_options)

    def amendments(self, negotiation: str, *, point: str = "", states: Sequence[int] = (), page_size: int = 1000, **call_options):
        """The amendments of a negotiation, filtered by point and states, page after page (an iterator)."""
        return paging.list_amendments(
            self.negotiation, negotiation, point=point, states=states, page_size=page_size, **call_options
        )

    def comments(self, negotiation: str, *, point: str = "", amendment: str = "", page_size: int = 1000, **call_options):
        """The discussion of a negotiation, or of one point or amendment, page after page (an iterator)."""
        return paging.list_comments(
            self.negotiation, negotiation, point=point, amendment=amendment, page_size=page_size, **call_options
        )

    def events(self, negotiation: str, after_sequence: int = 0, *, page_size: int = 1000, **call_options):
        """The log after ``after_sequence`` up to its current end, page after page (an iterator)."""
        return paging.list_events(self.negotiation, negotiation, after_sequence, page_size=page_size, **call_options)

    def close(self) -> None:
        """Closes the channel; calls still running are cancelled."""
        self._raw_channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class WatchOrderError(Exception):
    """The watch received an event out of order: the server broke its promise."""

    def __init__(self, expected: int, got: int):
        super().__init__(f"watch: expected event {expected}, got {got}")
        self.expected = expected
        self.got = got


class EventWatch:
    """An iterator over a negotiation's events that survives disconnects.

    It yields every ``EventRecord`` after ``after_sequence`` in order, then new
    ones as they are committed. When the stream breaks with a code in
    RESUMABLE_CODES it calls WatchEvents again after the last sequence it
    yielded (with jittered exponential backoff), so the caller sees each event
    once and without gaps; after a cut-off for reading too slowly
    (RESOURCE_EXHAUSTED, WATCH_TOO_SLOW) it calls again at once, and
    ``on_reconnect`` gets attempt 0. Other errors are raised. ``max_retries`` bounds the
    reconnections in a row without an event (default: no bound).

    ``cancel()`` may be called from any thread: the iteration then ends without
    an error. ``with`` cancels on exit::

        with client.watch_events(name) as watch:
            for rec in watch:
                print(rec.sequence, rec.event.WhichOneof("payload"))
    """

    def __init__(
        self,
        stub: negotiation_service_pb2_grpc.NegotiationServiceStub,
        negotiation: str,
        after_sequence: int = 0,
        *,
        initial_backoff: float = 0.1,
        max_backoff: float = 5.0,
        max_retries: Optional[int] = None,
        on_reconnect: Optional[Callable[[Optional[grpc.RpcError], int, int], None]] = None,
    ):
        self._stub = stub
        self._negotiation = negotiation
        #: The sequence of the last event yielded; a new watch may resume here.
        self.last_sequence = int(after_sequence)
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._max_retries = max_retries
        self._on_reconnect = on_reconnect
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._call = None
        self._events = self._run()

    def __iter__(self) -> "EventWatch":
        return self

    def __next__(self) -> "negotiation_service_pb2.EventRecord":
        return next(self._events)

    def cancel(self) -> None:
        """Stops the watch; safe from any thread."""
        self._cancelled.set()
        with self._lock:
            call = self._call
        if call is not None:
            call.cancel()

    def __enter__(self) -> "EventWatch":
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()
        self._events.close()

    def _run(self) -> Iterator["negotiation_service_pb2.EventRecord"]:
        failures = 0
        while not self._cancelled.is_set():
            request = negotiation_service_pb2.WatchEventsRequest(
                negotiation=self._negotiation, after_sequence=self.last_sequence
            )
            call = self._stub.WatchEvents(request)
            with self._lock:
                self._call = call
            if self._cancelled.is_set():
                call.cancel()
            error: Optional[grpc.RpcError] = None
            try:
                for response in call:
                    record = response.event
                    if record.sequence != self.last_sequence + 1:
                        raise WatchOrderError(self.last_sequence + 1, record.sequence)
                    self.last_sequence = record.sequence
                    failures = 0
                    yield record
                # The server ends a watch only when it shuts down: treat a
                # clean end like a disconnect.
            except grpc.RpcError as e:
                if self._cancelled.is_set():
                    return
                if e.code() not in RESUMABLE_CODES:
                    raise
                error = e
            finally:
                call.cancel()
                with self._lock:
                    self._call = None
            if self._cancelled.is_set():
                return
            if failures == 0 and error is not None and error_reason(error) == WATCH_TOO_SLOW:
                # Cut off after events this watch took, because it read them
                # too slowly: resume at once, as the server asks. A second
                # cut-off before any event goes through the backoff below.
                failures = 1
                if self._on_reconnect is not None:
                    self._on_reconnect(error, self.last_sequence, 0)
                continue
            if self._max_retries is not None and failures >= self._max_retries:
                if error is not None:
                    raise error
                raise ConnectionError("the watch stream ended and max_retries reconnections failed")
            failures += 1
            if self._on_reconnect is not None:
                self._on_reconnect(error, self.last_sequence, failures)
            pause = min(self._max_backoff, self._initial_backoff * 2 ** (failures - 1))
            if self._cancelled.wait(pause * (0.5 + random.random() / 2)):
                return
