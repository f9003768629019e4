"""Whole collections, as the Go client reads them.

``read_document`` reads the document across all its pages (one version of it,
its hash checked) and returns a ``Document`` with ``point_by_number``;
``list_negotiations``, ``list_amendments`` and ``list_events`` yield items
page after page, so that a caller never handles a page token. ``Client`` has
them as methods: ``client.document(name)``, ``client.amendments(name)``...
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Iterable, Iterator, List, Optional, Sequence

import grpc

from parley.errors import error_reason
from parley.v1 import negotiation_pb2, negotiation_service_pb2, negotiation_service_pb2_grpc

__all__ = [
    "DOCUMENT_READS",
    "Document",
    "DocumentHashError",
    "document_text",
    "read_document",
    "list_negotiations",
    "list_amendments",
    "list_events",
]

#: How often read_document starts again when the document changes under it.
DOCUMENT_READS = 4


class DocumentHashError(Exception):
    """The document's text does not hash to the hash the server sent with it.

    ``parley_error`` reports it as DATA_LOSS with reason ``DOCUMENT_HASH``, as
    the Go and TypeScript clients do.
    """

    code = grpc.StatusCode.DATA_LOSS
    reason = "DOCUMENT_HASH"


def document_text(points: Iterable["negotiation_pb2.Point"]) -> str:
    """The consolidated text: for each point, its number, ". ", its text, "\\n"."""
    return "".join(f"{p.number}. {p.text}\n" for p in points)


@dataclasses.dataclass(frozen=True)
class Document:
    """The document as one read saw it."""

    negotiation: "negotiation_pb2.Negotiation"
    """The negotiation, with its state and counts, as of the first page."""
    points: Sequence["negotiation_pb2.Point"]
    """Every point, in document order, numbered 1, 2, 3..."""
    sha256: str
    """Lowercase hex SHA-256 of ``text()``: the hash AcceptDocument takes."""

    def text(self) -> str:
        """The consolidated text, whose SHA-256 is ``sha256``."""
        return document_text(self.points)

    def point_by_number(self, number: int) -> Optional["negotiation_pb2.Point"]:
        """The point with a display number (1-based), or None."""
        if isinstance(number, int) and 1 <= number <= len(self.points):
            return self.points[number - 1]
        return None

    def point_by_name(self, name: str) -> Optional["negotiation_pb2.Point"]:
        """The point with a resource name, or None."""
        return next((p for p in self.points if p.name == name), None)

    def verify(self) -> None:
        """Checks the numbering 1, 2, 3... and that the text hashes to ``sha256``.

        So accepting ``sha256`` accepts the text read. Raises DocumentHashError.
        """
        for i, p in enumerate(self.points, start=1):
            if p.number != i:
                raise DocumentHashError(f"the document's point {i} carries the number {p.number}")
        got = hashlib.sha256(self.text().encode("utf-8")).hexdigest()
        if got != self.sha256:
            raise DocumentHashError(f"the document's text hashes to {got}, not to the {self.sha256} the server sent with it")


def read_document(
    stub: negotiation_service_pb2_grpc.NegotiationServiceStub,
    negotiation: str,
    *,
    page_size: int = 0,
    **call_options,
) -> Document:
    """Reads a negotiation's whole document, page after page, and checks its hash.

    If the document changes between two pages (the server refuses the next
    page with ABORTED / DOCUMENT_CHANGED), it reads again from the start, up
    to DOCUMENT_READS times, so the points are always one version of the
    document. ``call_options`` (``timeout=``, ``metadata=``...) go to every
    page's call.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            first = None
            points: List[negotiation_pb2.Point] = []
            page_token = ""
            while True:
                res = stub.GetDocument(
                    negotiation_service_pb2.GetDocumentRequest(
                        negotiation=negotiation, page_size=page_size, page_token=page_token
                    ),
                    **call_options,
                )
                if first is None:
                    first = res
                points.extend(res.points)
                page_token = res.next_page_token
                if not page_token:
                    break
            doc = Document(first.negotiation, points, first.document_sha256)
            doc.verify()
            return doc
        except grpc.RpcError as err:
            if attempt < DOCUMENT_READS and error_reason(err) == "DOCUMENT_CHANGED":
                continue
            raise


def list_negotiations(
    stub: negotiation_service_pb2_grpc.NegotiationServiceStub, *, page_size: int = 500, **call_options
) -> Iterator["negotiation_pb2.Negotiation"]:
    """Every negotiation the caller may read, page after page."""
    page_token = ""
    while True:
        res = stub.ListNegotiations(
            negotiation_service_pb2.ListNegotiationsRequest(page_size=page_size, page_token=page_token), **call_options
        )
        yield from res.negotiations
        page_token = res.next_page_token
        if not page_token:
            return


def list_amendments(
    stub: negotiation_service_pb2_grpc.NegotiationServiceStub,
    negotiation: str,
    *,
    point: str = "",
    states: Sequence[int] = (),
    page_size: int = 1000,
    **call_options,
) -> Iterator["negotiation_pb2.Amendment"]:
    """The amendments of a negotiation, in the order they were proposed, page after page.

    ``point`` (a resource name, e.g. from ``point_by_number``) and ``states``
    (``negotiation_pb2.AMENDMENT_STATE_*``) filter them.
    """
    page_token = ""
    while True:
        res = stub.ListAmendments(
            negotiation_service_pb2.ListAmendmentsRequest(
                negotiation=negotiation, point=point, states=list(states), page_size=page_size, page_token=page_token
            ),
            **call_options,
        )
        yield from res.amendments
        page_token = res.next_page_token
        if not page_token:
            return


def list_comments(
    stub: negotiation_service_pb2_grpc.NegotiationServiceStub,
    negotiation: str,
    *,
    point: str = "",
    amendment: str = "",
    page_size: int = 1000,
    **call_options,
) -> Iterator["negotiation_pb2.Comment"]:
    """The comments of a negotiation, in the order they were posted, page after page.

    ``point`` or ``amendment`` (a resource name) keeps only the discussion of
    that point or amendment, replies included.
    """
    page_token = ""
    while True:
        res = stub.ListComments(
            negotiation_service_pb2.ListCommentsRequest(
                negotiation=negotiation, point=point, amendment=amendment, page_size=page_size, page_token=page_token
            ),
            **call_options,
        )
        yield from res.comments
        if not res.next_page_token:
            return
        page_token = res.next_page_token


def list_events(
    stub: negotiation_service_pb2_grpc.NegotiationServiceStub,
    negotiation: str,
    after_sequence: int = 0,
    *,
    page_size: int = 1000,
    **call_options,
) -> Iterator["negotiation_service_pb2.EventRecord"]:
    """The events of a log after ``after_sequence`` (0 for all), page after page.

    It stops at the end of the log as it is when the last page is read; a
    watch follows it further. Each page starts after the last event yielded,
    and each event must be the next sequence, or it raises WatchOrderError.
    """
    from parley.client import WatchOrderError  # parley.client imports this module

    last = int(after_sequence)
    while True:
        res = stub.ListEvents(
            negotiation_service_pb2.ListEventsRequest(negotiation=negotiation, after_sequence=last, page_size=page_size),
            **call_options,
        )
        for record in res.events:
            if record.sequence != last + 1:
                raise WatchOrderError(last + 1, record.sequence)
            last = record.sequence
            yield record
        if not res.next_page_token or not res.events:
            return
