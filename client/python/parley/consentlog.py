"""Checking a log's signed consent, and signing through a connection.

``verify_consents`` folds a log from its first event: it keeps each member's
current key and whether signatures are required, and checks every key
registration, revocation, vote, sign-off and acceptance against the key
current for its member at that point of the log, with the checkpoint a
consent names recomputed from the leaves (docs/audit.md, "Signed consent").

``ConsentSession`` signs for one member: it reads the log itself, so that a
signature names a checkpoint this client computed from the leaves, and
builds each statement from the log's own events, as a verifier rebuilds it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

from parley.consent import (
    AcceptanceStatement,
    AmendmentPart,
    ConsentEncodingError,
    ConsentSigner,
    KeyRegistrationStatement,
    KeyRevocationStatement,
    SignOffStatement,
    VoteStatement,
    amendment_digest,
    key_id,
    sha256_hex,
    trim_reason,
    verify_consent,
)
from parley.v1 import event_pb2
from parley.v1 import negotiation_pb2 as pb
from parley.v1 import negotiation_service_pb2 as api

_KIND_NAMES = {pb.AMENDMENT_KIND_REPLACE: "REPLACE", pb.AMENDMENT_KIND_INSERT: "INSERT", pb.AMENDMENT_KIND_DELETE: "DELETE"}
_CHOICE_NAMES = {pb.VOTE_CHOICE_APPROVE: "APPROVE", pb.VOTE_CHOICE_REJECT: "REJECT", pb.VOTE_CHOICE_ABSTAIN: "ABSTAIN"}


@dataclass(frozen=True)
class ConsentFailure:
    """The evidence of one failure: which event, whose, and why (a reason of docs/audit.md)."""

    sequence: int
    member: str
    participant: str
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"event {self.sequence} (member {self.member or '-'} of {self.participant or '-'}): {self.reason}: {self.detail}"


@dataclass
class ConsentCheck:
    """One vote, sign-off or acceptance and what its check found: "signed", "unsigned" (none required) or "failed"."""

    sequence: int
    statement: str
    member: str
    participant: str
    subject: str  # amendment id, "<point id>@<revision>", or the document hash
    status: str = "failed"
    key_id: str = ""


@dataclass(frozen=True)
class SigningKeyState:
    """A registered key: whose, since which event."""

    key_id: str
    public_key: bytes
    participant: str
    member: str
    sequence: int


@dataclass
class ConsentReport:
    """Every consent of the log, the failures, when signatures became required, and the keys current at the end."""

    checks: List[ConsentCheck] = field(default_factory=list)
    failures: List[ConsentFailure] = field(default_factory=list)
    required_from: int = 0
    #: Each member's current key at the end of the log, by "<participant>/<member>".
    keys: Dict[str, SigningKeyState] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


class ConsentLogError(Exception):
    """A log whose signed consent does not verify; ``failures`` holds the evidence."""

    def __init__(self, failures: List[ConsentFailure]):
        self.failures = failures
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        super().__init__(f"signed consent does not verify: {failures[0]}{more}")


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


class MerkleRange:
    """The RFC 6962 tree of a growing log, kept as its perfect subtrees: O(log n) memory, the root at any time."""

    def __init__(self) -> None:
        self._stack: List[Tuple[int, bytes]] = []
        self.size = 0

    def add_leaf(self, leaf: bytes) -> None:
        self.add_hash(leaf_hash(leaf))

    def add_hash(self, h: bytes) -> None:
        size = 1
        while self._stack and self._stack[-1][0] == size:
            left = self._stack.pop()[1]
            h = hashlib.sha256(b"\x01" + left + h).digest()
            size *= 2
        self._stack.append((size, h))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return hashlib.sha256(b"").digest()
        h = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            h = hashlib.sha256(b"\x01" + left + h).digest()
        return h


def logged_events(records: Iterable["api.EventRecord"]) -> Iterable[Tuple[int, bytes, "event_pb2.Event"]]:
    """(sequence, leaf, event decoded from the leaf) for each record: the leaf's bytes, not the server's second copy."""
    for rec in records:
        yield rec.sequence, rec.leaf, event_pb2.Event.FromString(rec.leaf)


def member_key(participant: str, member: str) -> str:
    """The key of a member in the verifier's maps: "<participant>/<member>" (member ids are unique within a participant only)."""
    return f"{participant}/{member}"


def _member(e) -> str:
    return e.member or e.actor


def _short(kid: str) -> str:
    return kid[:12]


def verify_consents(
    records: Iterable["api.EventRecord"], own_keys: Optional[Mapping[str, Iterable[str]]] = None
) -> ConsentReport:
    """Checks the signed consent of a whole log given from its first event (EventRecords, e.g. Client.events).

    ``own_keys`` maps "<participant>/<member>" to the key ids that member holds, when the verifier knows them
    (its own): a key registered in its name that is not among them fails as KEY_REGISTRATION_FOREIGN.
    Never raises for a bad log: the report lists the failures (see assert_consents).
    """
    own = {who: set(ids) for who, ids in (own_keys or {}).items()}
    events = list(logged_events(records))
    report = ConsentReport()

    def fail(e, reason: str, detail: str) -> None:
        report.failures.append(ConsentFailure(e.sequence, _member(e), e.actor, reason, detail))

    # First pass: the roots at every size the log had (one pass, kept only where a consent names one).
    wanted = set()
    for i, (seq, _, e) in enumerate(events):
        if seq != i + 1 or e.sequence != seq:
            fail(e, "LOG_MALFORMED", f"event {i + 1} of the log carries sequence {seq}/{e.sequence}")
            return report
        c = _consent_of(e)
        if c is not None and c.HasField("checkpoint") and 1 <= c.checkpoint.tree_size < seq:
            wanted.add(c.checkpoint.tree_size)
    roots: Dict[int, str] = {}
    tree = MerkleRange()
    for _, leaf, _ in events:
        tree.add_leaf(leaf)
        if tree.size in wanted:
            roots[tree.size] = tree.root().hex()

    current: Dict[str, SigningKeyState] = {}
    registered: Dict[str, SigningKeyState] = {}
    amendments: Dict[str, List[AmendmentPart]] = {}
    for _, _, e in events:
        case = e.WhichOneof("payload")
        subject = dict(negotiation=e.negotiation, member=_member(e), participant=e.actor)
        if case == "negotiation_created":
            if e.negotiation_created.require_signatures:
                report.required_from = e.sequence
        elif case == "signatures_required":
            if not report.required_from:
                report.required_from = e.sequence
        elif case == "amendment_proposed":
            v = e.amendment_proposed
            # A package deal's parts are what is consented to; a single change is its own one part.
            changes = list(v.parts) or [v]
            amendments[v.amendment_id] = [AmendmentPart(_KIND_NAMES.get(c.kind, f"KIND_{c.kind}"), c.point_id, c.base_revision, c.text) for c in changes]
        elif case == "key_registered":
            v = e.key_registered
            who = member_key(subject["participant"], subject["member"])
            problem = _check_registration(subject, v, current.get(who), registered)
            if problem:
                fail(e, "KEY_REGISTRATION_INVALID", problem)
                continue
            if who in own and v.key_id not in own[who]:
                fail(e, "KEY_REGISTRATION_FOREIGN",
                     f"key {_short(v.key_id)} was registered for member {subject['member']} of {subject['participant']}, who never held it: someone else registered it")
                continue
            key = SigningKeyState(v.key_id, v.public_key, subject["participant"], subject["member"], e.sequence)
            current[who] = key
            registered[v.key_id] = key
        elif case == "key_revoked":
            v = e.key_revoked
            member = v.member or v.participant
            key = current.get(member_key(v.participant, member))
            if key is None or key.key_id != v.key_id:
                fail(e, "KEY_REVOCATION_INVALID", f"key {_short(v.key_id)} is not the current key of member {member} of {v.participant}")
                continue
            if e.actor != "admin":
                if subject["member"] != member or subject["participant"] != v.participant:
                    fail(e, "KEY_REVOCATION_INVALID", f"member {subject['member']} of {subject['participant']} revoked the key of member {member} of {v.participant}")
                    continue
                s = KeyRevocationStatement(e.negotiation, member, v.participant, v.key_id)
                if not verify_consent(key.public_key, s, v.signature):
                    fail(e, "KEY_REVOCATION_INVALID", "the revocation is not signed by the key it revokes")
                    continue
            del current[member_key(v.participant, member)]
        elif case in ("vote_cast", "point_signed_off", "document_accepted"):
            report.checks.append(_check_consent(e, case, subject, amendments, current, registered, roots, report.required_from, fail))
    report.keys = dict(current)
    return report


def assert_consents(
    records: Iterable["api.EventRecord"], own_keys: Optional[Mapping[str, Iterable[str]]] = None
) -> ConsentReport:
    """verify_consents, raising ConsentLogError with the evidence if anything fails."""
    report = verify_consents(records, own_keys)
    if report.failures:
        raise ConsentLogError(report.failures)
    return report


def _consent_of(e) -> Optional["pb.Consent"]:
    case = e.WhichOneof("payload")
    if case in ("vote_cast", "point_signed_off", "document_accepted"):
        msg = getattr(e, case)
        return msg.consent if msg.HasField("consent") else None
    return None


def _check_registration(subject, v, cur: Optional[SigningKeyState], registered: Dict[str, SigningKeyState]) -> str:
    try:
        kid = key_id(v.public_key)
    except ConsentEncodingError as err:
        return str(err)
    if kid != v.key_id:
        return f"the key id {_short(v.key_id)} is not the hash of the public key ({_short(kid)})"
    prior = registered.get(v.key_id)
    if prior is not None:
        return f"key {_short(v.key_id)} was registered before, at event {prior.sequence} for member {prior.member}"
    s = KeyRegistrationStatement(**subject, key=v.key_id, replaces=v.replaces)
    if not verify_consent(v.public_key, s, v.signature):
        return f"the proof of possession does not verify for member {subject['member']} of {subject['participant']}"
    if not v.replaces:
        if cur is not None:
            return f"member {subject['member']} already has key {_short(cur.key_id)}: a new key must rotate it"
        return ""
    if cur is None or cur.key_id != v.replaces:
        return f"the key it replaces, {_short(v.replaces)}, is not the member's current key"
    if not verify_consent(cur.public_key, s, v.replaces_signature):
        return "the rotation is not signed by the key it replaces"
    return ""


def _check_consent(e, case, subject, amendments, current, registered, roots, required_from, fail) -> ConsentCheck:
    v = getattr(e, case)
    kind = {"vote_cast": "vote", "point_signed_off": "sign-off", "document_accepted": "acceptance"}[case]
    target = (
        v.amendment_id if case == "vote_cast" else f"{v.point_id}@{v.revision}" if case == "point_signed_off" else v.document_sha256
    )
    check = ConsentCheck(e.sequence, kind, subject["member"], subject["participant"], target)
    if not v.HasField("consent"):
        if required_from and e.sequence > required_from:
            fail(e, "CONSENT_UNSIGNED", f"the {kind} is not signed, though signatures are required since event {required_from}")
        else:
            check.status = "unsigned"
        return check
    c = v.consent
    check.key_id = c.key_id
    # A signed vote names its amendment by the log's own proposal; first, as the Go verifier does.
    parts = amendments.get(v.amendment_id) if case == "vote_cast" else None
    if case == "vote_cast" and parts is None:
        fail(e, "CONSENT_BAD_SIGNATURE", f"a signed vote on amendment {v.amendment_id}, which this log never proposed")
        return check
    key = current.get(member_key(subject["participant"], subject["member"]))
    if key is None or key.key_id != c.key_id:
        other = registered.get(c.key_id)
        if other is None:
            why = f"key {_short(c.key_id)} was never registered in this log"
        elif other.member != subject["member"] or other.participant != subject["participant"]:
            why = f"key {_short(c.key_id)} is the key of member {other.member} of {other.participant}"
        else:
            why = f"key {_short(c.key_id)} was revoked or rotated out before this event"
        fail(e, "CONSENT_KEY_NOT_CURRENT", why)
        return check
    size = c.checkpoint.tree_size if c.HasField("checkpoint") else 0
    root = c.checkpoint.root_hash.hex()
    if size < 1 or size >= e.sequence or roots.get(size) != root:
        fail(e, "CONSENT_CHECKPOINT_UNKNOWN", f"the checkpoint it names (size {size}, root {_short(root)}) is not this log before the event")
        return check
    cp = dict(checkpoint_size=size, checkpoint_root=root)
    try:
        if case == "vote_cast":
            s = VoteStatement(
                **subject, **cp, amendment=v.amendment_id, amendment_sha256=amendment_digest(parts),
                choice=_CHOICE_NAMES.get(v.choice, f"CHOICE_{v.choice}"), reason_sha256=sha256_hex(v.reason),
            )
        elif case == "point_signed_off":
            s = SignOffStatement(**subject, **cp, point=v.point_id, revision=v.revision, text_sha256=v.text_sha256)
        else:
            s = AcceptanceStatement(**subject, **cp, document_sha256=v.document_sha256)
        if not verify_consent(key.public_key, s, c.signature):
            fail(e, "CONSENT_BAD_SIGNATURE", f"the signature by key {_short(c.key_id)} does not verify over this {kind}")
            return check
    except ConsentEncodingError as err:
        fail(e, "CONSENT_BAD_SIGNATURE", f"the {kind} cannot be encoded: {err}")
        return check
    check.status = "signed"
    return check


def _id_of(name: str) -> str:
    return name.rsplit("/", 1)[-1]


class ConsentSession:
    """A member signing in its negotiation: a Client with the member's token, and its key.

    Every signing call first reads the log to its end, so the checkpoint signed
    is the one this client just computed from the leaves.
    """

    def __init__(self, client, signer: ConsentSigner):
        caller = client.negotiation.GetCaller(api.GetCallerRequest())
        if caller.admin or not caller.HasField("participant"):
            raise ValueError("signing consent needs a participant's token, not the administrator's")
        self.client = client
        self.signer = signer
        #: The negotiation's resource name.
        self.negotiation: str = caller.negotiation
        #: The caller's participant id.
        self.participant: str = caller.participant.id
        #: The caller's member id (the participant id for its default member).
        self.member: str = caller.member.id or caller.participant.id
        self._tree = MerkleRange()
        self._amendments: Dict[str, List[AmendmentPart]] = {}

    def sync(self) -> "pb.CheckpointRef":
        """Reads the events after those already folded in; returns the checkpoint of the log read."""
        for rec in self.client.events(self.negotiation, self._tree.size):
            if rec.sequence != self._tree.size + 1:
                raise ValueError(f"the log skipped from event {self._tree.size} to {rec.sequence}")
            self._tree.add_leaf(rec.leaf)
            e = event_pb2.Event.FromString(rec.leaf)
            if e.WhichOneof("payload") == "amendment_proposed":
                v = e.amendment_proposed
                changes = list(v.parts) or [v]  # a package deal's parts, or the one change
                self._amendments[v.amendment_id] = [AmendmentPart(_KIND_NAMES.get(c.kind, ""), c.point_id, c.base_revision, c.text) for c in changes]
        return pb.CheckpointRef(tree_size=self._tree.size, root_hash=self._tree.root())

    def _subject(self):
        return dict(negotiation=self.negotiation, member=self.member, participant=self.participant)

    def _consent(self, cp: "pb.CheckpointRef", statement) -> "pb.Consent":
        return pb.Consent(key_id=self.signer.key_id, checkpoint=cp, signature=self.signer.sign(statement))

    def vote_consent(self, amendment: str, choice: int, reason: str = "") -> "pb.Consent":
        """The Consent of a vote on an amendment (its resource name), as CastVoteRequest.consent."""
        cp = self.sync()
        aid = _id_of(amendment)
        parts = self._amendments.get(aid)
        if parts is None:
            raise ValueError(f"amendment {amendment} is not in the log read")
        return self._consent(cp, VoteStatement(
            **self._subject(), checkpoint_size=cp.tree_size, checkpoint_root=cp.root_hash.hex(), amendment=aid,
            amendment_sha256=amendment_digest(parts), choice=_CHOICE_NAMES[choice], reason_sha256=sha256_hex(trim_reason(reason)),
        ))

    def sign_off_consent(self, point: str, revision: int, text_sha256: str, cp: Optional["pb.CheckpointRef"] = None) -> "pb.Consent":
        """The Consent of a sign-off of a point (its resource name) at a revision."""
        cp = cp or self.sync()
        return self._consent(cp, SignOffStatement(
            **self._subject(), checkpoint_size=cp.tree_size, checkpoint_root=cp.root_hash.hex(),
            point=_id_of(point), revision=revision, text_sha256=text_sha256,
        ))

    def acceptance_consent(self, document_sha256: str) -> "pb.Consent":
        """The Consent of the acceptance of the document whose text hashes to document_sha256."""
        cp = self.sync()
        return self._consent(cp, AcceptanceStatement(
            **self._subject(), checkpoint_size=cp.tree_size, checkpoint_root=cp.root_hash.hex(), document_sha256=document_sha256,
        ))

    def cast_vote(self, amendment: str, choice: int, reason: str = "", *, vote_only: bool = False, **call_options) -> "api.CastVoteResponse":
        """Casts a signed vote (the reason trimmed as the server records it).

        With vote_only the reply carries the vote as recorded and the
        amendment's state instead of the whole amendment."""
        reason = trim_reason(reason)
        consent = self.vote_consent(amendment, choice, reason)
        return self.client.negotiation.CastVote(
            api.CastVoteRequest(amendment=amendment, choice=choice, reason=reason, consent=consent, vote_only=vote_only), **call_options
        )

    def sign_off_point(self, point: str, revision: int, text_sha256: str, **call_options) -> "api.SignOffPointResponse":
        """Signs off a point at a revision, signed."""
        consent = self.sign_off_consent(point, revision, text_sha256)
        return self.client.negotiation.SignOffPoint(
            api.SignOffPointRequest(point=point, revision=revision, text_sha256=text_sha256, consent=consent), **call_options
        )

    def sign_off_points(self, items: Iterable[Tuple[str, int, str]], **call_options) -> "api.SignOffPointsResponse":
        """Signs off several (point, revision, text_sha256) at once, one signature each over the same checkpoint."""
        cp = self.sync()
        req = api.SignOffPointsRequest(negotiation=self.negotiation)
        for point, revision, text_sha256 in items:
            req.items.add(point=point, revision=revision, text_sha256=text_sha256, consent=self.sign_off_consent(point, revision, text_sha256, cp))
        return self.client.negotiation.SignOffPoints(req, **call_options)

    def accept_document(self, document_sha256: str, **call_options) -> "api.AcceptDocumentResponse":
        """Accepts the document whose text hashes to document_sha256, signed."""
        consent = self.acceptance_consent(document_sha256)
        return self.client.negotiation.AcceptDocument(
            api.AcceptDocumentRequest(negotiation=self.negotiation, document_sha256=document_sha256, consent=consent), **call_options
        )

    def register_key(self, replacing: Optional[ConsentSigner] = None, **call_options) -> "api.RegisterKeyResponse":
        """Registers the session's key with its proof of possession; to rotate, pass the current key as ``replacing``."""
        replaces = replacing.key_id if replacing else ""
        s = KeyRegistrationStatement(**self._subject(), key=self.signer.key_id, replaces=replaces)
        return self.client.negotiation.RegisterKey(
            api.RegisterKeyRequest(
                negotiation=self.negotiation,
                public_key=self.signer.public_key,
                signature=self.signer.sign(s),
                replaces=replaces,
                replaces_signature=replacing.sign(s) if replacing else b"",
            ),
            **call_options,
        )

    def revoke_key(self, **call_options) -> "api.RevokeKeyResponse":
        """Revokes the session's key (the caller's current key), signed by it."""
        s = KeyRevocationStatement(**self._subject(), key=self.signer.key_id)
        return self.client.negotiation.RevokeKey(
            api.RevokeKeyRequest(negotiation=self.negotiation, key_id=self.signer.key_id, signature=self.signer.sign(s)),
            **call_options,
        )


def verify_log_consents(client, negotiation: str, own_keys: Optional[Mapping[str, Iterable[str]]] = None) -> ConsentReport:
    """Reads a negotiation's whole log through a Client and checks its signed consent."""
    return verify_consents(client.events(negotiation), own_keys)
