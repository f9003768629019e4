"""Signed consent (docs/audit.md, "Signed consent").

The canonical statement a member signs for a vote, a sign-off, an acceptance
or a change of its key; the DSSE pre-authentication encoding around it; and
Ed25519 signing and checking with the ``cryptography`` package. The private
key stays with the caller: ``ConsentSigner`` takes it and only ever returns
signatures and the public key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Iterable, List, Tuple, Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

#: The DSSE payload type of every consent statement.
CONSENT_PAYLOAD_TYPE = "application/vnd.parley.consent.v1"

_HASH = re.compile(r"[0-9a-f]{64}")
_CHOICES = ("APPROVE", "REJECT", "ABSTAIN")
_KINDS = ("REPLACE", "INSERT", "DELETE")


class ConsentEncodingError(ValueError):
    """A statement that cannot be encoded: a value with a line break, a bad hash or number."""


def sha256_hex(data: Union[bytes, str]) -> str:
    """Lowercase hex SHA-256 of bytes, or of a string's UTF-8 bytes."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


# Unicode's White_Space characters: what Go's strings.TrimSpace removes (str.strip
# removes a few more, such as U+001C..U+001F).
_SPACE = "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def trim_reason(reason: str) -> str:
    """A vote's reason as the server records it, trimmed exactly as Go's strings.TrimSpace: sign (and send) this one."""
    return reason.strip(_SPACE)


def key_id(public_key: bytes) -> str:
    """The key id of a raw 32-byte Ed25519 public key: lowercase hex SHA-256 of it."""
    if len(public_key) != 32:
        raise ConsentEncodingError(f"an Ed25519 public key has 32 bytes, not {len(public_key)}")
    return sha256_hex(public_key)


def pae(payload_type: str, body: Union[bytes, str]) -> bytes:
    """DSSE v1's pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body."""
    t = payload_type.encode("utf-8")
    b = body.encode("utf-8") if isinstance(body, str) else body
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(b), b)


def _text(name: str, value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ConsentEncodingError(f"the {name} holds a line break")
    if value != value.rstrip():
        raise ConsentEncodingError(f"the {name} ends with a space")
    return value


def _hash(name: str, value: str) -> str:
    if not _HASH.fullmatch(value):
        raise ConsentEncodingError(f"the {name} is not a lowercase hex SHA-256: {value!r}")
    return value


def _count(name: str, value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConsentEncodingError(f"the {name} is not a whole number >= 0: {value!r}")
    return str(value)


@dataclass(frozen=True)
class VoteStatement:
    """A vote: the amendment, the digest of what it changes, the choice and the reason's hash."""

    negotiation: str
    member: str
    participant: str
    amendment: str
    amendment_sha256: str
    choice: str  # APPROVE, REJECT or ABSTAIN
    reason_sha256: str
    checkpoint_size: int
    checkpoint_root: str
    statement = "vote"


@dataclass(frozen=True)
class SignOffStatement:
    """A sign-off of one revision of a point, by the hash of its text."""

    negotiation: str
    member: str
    participant: str
    point: str
    revision: int
    text_sha256: str
    checkpoint_size: int
    checkpoint_root: str
    statement = "sign-off"


@dataclass(frozen=True)
class AcceptanceStatement:
    """The acceptance of the whole document, by its hash."""

    negotiation: str
    member: str
    participant: str
    document_sha256: str
    checkpoint_size: int
    checkpoint_root: str
    statement = "acceptance"


@dataclass(frozen=True)
class KeyRegistrationStatement:
    """The registration of a key (proof of possession); ``replaces`` is the key id rotated out, or ""."""

    negotiation: str
    member: str
    participant: str
    key: str
    replaces: str = ""
    statement = "key-registration"


@dataclass(frozen=True)
class KeyRevocationStatement:
    """The revocation of a key."""

    negotiation: str
    member: str
    participant: str
    key: str
    statement = "key-revocation"


ConsentStatement = Union[
    VoteStatement, SignOffStatement, AcceptanceStatement, KeyRegistrationStatement, KeyRevocationStatement
]


def consent_body(s: ConsentStatement) -> str:
    """The statement's body: "name: value" lines, each ended by LF, in the order docs/audit.md fixes."""
    lines: List[Tuple[str, str]] = [
        ("parley-consent", "v1"),
        ("statement", s.statement),
        ("negotiation", _text("negotiation", s.negotiation)),
        ("member", _text("member", s.member)),
        ("participant", _text("participant", s.participant)),
    ]
    if isinstance(s, VoteStatement):
        if s.choice not in _CHOICES:
            raise ConsentEncodingError(f"the choice is not APPROVE, REJECT or ABSTAIN: {s.choice!r}")
        lines += [
            ("amendment", _text("amendment", s.amendment)),
            ("amendment-sha256", _hash("amendment-sha256", s.amendment_sha256)),
            ("choice", s.choice),
            ("reason-sha256", _hash("reason-sha256", s.reason_sha256)),
        ]
    elif isinstance(s, SignOffStatement):
        lines += [
            ("point", _text("point", s.point)),
            ("revision", _count("revision", s.revision)),
            ("text-sha256", _hash("text-sha256", s.text_sha256)),
        ]
    elif isinstance(s, AcceptanceStatement):
        lines.append(("document-sha256", _hash("document-sha256", s.document_sha256)))
    elif isinstance(s, KeyRegistrationStatement):
        lines += [("key", _hash("key", s.key)), ("replaces", _hash("replaces", s.replaces) if s.replaces else "")]
    elif isinstance(s, KeyRevocationStatement):
        lines.append(("key", _hash("key", s.key)))
    else:
        raise ConsentEncodingError(f"unknown statement {s!r}")
    if isinstance(s, (VoteStatement, SignOffStatement, AcceptanceStatement)):
        lines += [
            ("checkpoint-size", _count("checkpoint-size", s.checkpoint_size)),
            ("checkpoint-root", _hash("checkpoint-root", s.checkpoint_root)),
        ]
    return "".join(f"{k}: {v}\n" for k, v in lines)


def consent_message(s: ConsentStatement) -> bytes:
    """The bytes a member signs for a statement: PAE(CONSENT_PAYLOAD_TYPE, body)."""
    return pae(CONSENT_PAYLOAD_TYPE, consent_body(s))


@dataclass(frozen=True)
class AmendmentPart:
    """One part of an amendment as the digest covers it; for INSERT, ``point_id`` is the anchor."""

    kind: str  # REPLACE, INSERT or DELETE
    point_id: str
    base_revision: int
    text: str


def amendment_digest(parts: Iterable[AmendmentPart]) -> str:
    """Hex SHA-256 over one line per part: "<KIND> <point id> <base revision> <sha256 of the text>\\n"."""
    lines = []
    for p in parts:
        if p.kind not in _KINDS:
            raise ConsentEncodingError(f"the part's kind is not REPLACE, INSERT or DELETE: {p.kind!r}")
        text_hash = sha256_hex("" if p.kind == "DELETE" else p.text)
        lines.append(f"{p.kind} {_text('point id', p.point_id)} {_count('base revision', p.base_revision)} {text_hash}\n")
    return sha256_hex("".join(lines))


class ConsentSigner:
    """A member's Ed25519 signing key. Build it from a 32-byte seed or a ``cryptography`` private key."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._key = private_key
        #: The raw 32-byte public key, as RegisterKey takes it.
        self.public_key: bytes = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        #: Lowercase hex SHA-256 of the public key.
        self.key_id: str = key_id(self.public_key)

    @classmethod
    def from_seed(cls, seed: bytes) -> "ConsentSigner":
        """A signer for a raw 32-byte Ed25519 seed (RFC 8032's private key)."""
        if len(seed) != 32:
            raise ConsentEncodingError(f"an Ed25519 seed has 32 bytes, not {len(seed)}")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def generate(cls) -> "ConsentSigner":
        """A new random key."""
        return cls(Ed25519PrivateKey.generate())

    def sign(self, s: ConsentStatement) -> bytes:
        """The 64-byte Ed25519 signature over PAE(CONSENT_PAYLOAD_TYPE, body of s)."""
        return self._key.sign(consent_message(s))

    def sign_bytes(self, message: bytes) -> bytes:
        """The Ed25519 signature of arbitrary bytes (for tests against RFC 8032's vectors)."""
        return self._key.sign(message)

    def __repr__(self) -> str:  # never the private key
        return f"ConsentSigner(key_id={self.key_id!r})"


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether signature is a valid Ed25519 signature of message by the raw public key. False on malformed input."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def verify_consent(public_key: bytes, s: ConsentStatement, signature: bytes) -> bool:
    """Whether signature is the signature of the statement by the raw public key."""
    return verify_ed25519(public_key, consent_message(s), signature)
