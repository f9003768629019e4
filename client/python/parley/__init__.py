"""Parley's Python client.

The code generated from proto/ lives in ``parley.v1`` (``negotiation_pb2``,
``event_pb2``, ``negotiation_service_pb2`` and ``admin_service_pb2`` with their
``*_pb2_grpc`` stubs). This package adds a thin layer: ``Client`` (bearer
token, request ids on mutations), ``EventWatch`` (a watch that resumes after
a disconnect), paging helpers (``Client.document`` with ``point_by_number``,
``Client.amendments``, ``Client.events``, ``Client.negotiations``) and error
helpers that read the stable reason of an error.

Signed consent: ``parley.consent`` (the statement, DSSE PAE, Ed25519 with a
key given as a seed or a ``cryptography`` key) and ``parley.consentlog``
(``verify_consents`` checks a log's signatures; ``ConsentSession`` signs
votes, sign-offs and acceptances for one member).
"""

from parley.client import RESUMABLE_CODES, WATCH_TOO_SLOW, Client, EventWatch, WatchOrderError, new_request_id
from parley.consent import ConsentEncodingError, ConsentSigner, consent_body, consent_message, verify_consent
from parley.consentlog import (
    ConsentFailure,
    ConsentLogError,
    ConsentReport,
    ConsentSession,
    assert_consents,
    verify_consents,
    verify_log_consents,
)
from parley.errors import ERROR_DOMAIN, ParleyError, error_reason, is_parley_error, parley_error
from parley.paging import (
    DOCUMENT_READS,
    Document,
    DocumentHashError,
    document_text,
    list_amendments,
    list_events,
    list_negotiations,
    read_document,
)

__all__ = [
    "Client",
    "EventWatch",
    "WatchOrderError",
    "RESUMABLE_CODES",
    "WATCH_TOO_SLOW",
    "new_request_id",
    "ERROR_DOMAIN",
    "ParleyError",
    "parley_error",
    "error_reason",
    "is_parley_error",
    "Document",
    "DocumentHashError",
    "DOCUMENT_READS",
    "document_text",
    "read_document",
    "list_negotiations",
    "list_amendments",
    "list_events",
    "ConsentSigner",
    "ConsentEncodingError",
    "consent_body",
    "consent_message",
    "verify_consent",
    "ConsentSession",
    "ConsentReport",
    "ConsentFailure",
    "ConsentLogError",
    "verify_consents",
    "assert_consents",
    "verify_log_consents",
]
