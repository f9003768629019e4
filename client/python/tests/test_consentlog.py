"""verify_consents on logs built here, event by event, as a server writes them (leaf = the event's encoding).

An honest history verifies; each way an operator could tamper with consent is
caught, naming the event, the member and why. No server needed.
"""

from __future__ import annotations

import unittest

from parley.consent import (
    AcceptanceStatement,
    AmendmentPart,
    ConsentSigner,
    KeyRegistrationStatement,
    KeyRevocationStatement,
    SignOffStatement,
    VoteStatement,
    amendment_digest,
    sha256_hex,
)
from parley.consentlog import MerkleRange, verify_consents
from parley.v1 import event_pb2
from parley.v1 import negotiation_pb2 as pb
from parley.v1 import negotiation_service_pb2 as api

NEG = "negotiations/3f0e2a9c-5b7d-4e1f-a2c3-9d8e7f6a5b4c"
POINT = "6f1c2b1e-2d3a-4c5b-8e9f-0a1b2c3d4e5f"
OTHER_POINT = "0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a"
AMENDMENT = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
DOC = "d" * 64
TEXT = "e" * 64


class LogBuilder:
    """A log being written: EventRecords with their leaves, and the tree to name checkpoints."""

    def __init__(self, negotiation: str = NEG):
        self.negotiation = negotiation
        self.records = []
        self.tree = MerkleRange()

    def append(self, actor: str, member: str = "", **payload) -> event_pb2.Event:
        e = event_pb2.Event(negotiation=self.negotiation, sequence=len(self.records) + 1, actor=actor, member=member, **payload)
        leaf = e.SerializeToString()
        self.records.append(api.EventRecord(sequence=e.sequence, leaf=leaf, event=e))
        self.tree.add_leaf(leaf)
        return e

    def checkpoint(self):
        return pb.CheckpointRef(tree_size=self.tree.size, root_hash=self.tree.root())

    def consent(self, signer, build):
        cp = self.checkpoint()
        s = build(dict(checkpoint_size=cp.tree_size, checkpoint_root=cp.root_hash.hex()))
        return pb.Consent(key_id=signer.key_id, checkpoint=cp, signature=signer.sign(s))

    def register_key(self, actor, signer, replacing=None, member=""):
        s = KeyRegistrationStatement(self.negotiation, member or actor, actor, signer.key_id, replacing.key_id if replacing else "")
        return self.append(actor, member, key_registered=event_pb2.KeyRegistered(
            key_id=signer.key_id, public_key=signer.public_key, replaces=s.replaces, signature=signer.sign(s),
            replaces_signature=replacing.sign(s) if replacing else b"",
        ))

    def sign_off(self, actor, signer, point=POINT, revision=1):
        kw = {}
        if signer:
            kw["consent"] = self.consent(signer, lambda cp: SignOffStatement(self.negotiation, actor, actor, point, revision, TEXT, **cp))
        return self.append(actor, point_signed_off=event_pb2.PointSignedOff(point_id=point, revision=revision, text_sha256=TEXT, **kw))

    def accept(self, actor, signer, member=""):
        kw = {}
        if signer:
            kw["consent"] = self.consent(signer, lambda cp: AcceptanceStatement(self.negotiation, member or actor, actor, DOC, **cp))
        return self.append(actor, member, document_accepted=event_pb2.DocumentAccepted(document_sha256=DOC, **kw))

    def vote(self, actor, signer, choice, reason):
        digest = amendment_digest([AmendmentPart("REPLACE", POINT, 1, "New text.")])
        name = pb.VoteChoice.Name(choice).replace("VOTE_CHOICE_", "")
        consent = self.consent(signer, lambda cp: VoteStatement(self.negotiation, actor, actor, AMENDMENT, digest, name, sha256_hex(reason), **cp))
        return self.append(actor, vote_cast=event_pb2.VoteCast(amendment_id=AMENDMENT, choice=choice, reason=reason, consent=consent))


KEYS = {name: ConsentSigner.from_seed(bytes([n]) * 32) for name, n in (("ukraine", 1), ("russia", 2), ("operator", 9))}


def honest(negotiation: str = NEG) -> LogBuilder:
    log = LogBuilder(negotiation)
    log.append("admin", negotiation_created=event_pb2.NegotiationCreated(title="Plan"))
    log.append("admin", point_added=event_pb2.PointAdded(point_id=POINT, text="Old text.", text_sha256=TEXT))
    log.sign_off("russia", None)  # 3: before any requirement
    log.register_key("ukraine", KEYS["ukraine"])
    log.register_key("russia", KEYS["russia"])
    log.append("admin", signatures_required=event_pb2.SignaturesRequired())  # 6
    log.append("ukraine", amendment_proposed=event_pb2.AmendmentProposed(
        amendment_id=AMENDMENT, kind=pb.AMENDMENT_KIND_REPLACE, point_id=POINT, base_revision=1, text="New text."))
    log.vote("russia", KEYS["russia"], pb.VOTE_CHOICE_REJECT, "Not now.")  # 8
    log.sign_off("ukraine", KEYS["ukraine"])  # 9
    log.accept("ukraine", KEYS["ukraine"])  # 10
    log.accept("russia", KEYS["russia"])  # 11
    return log


def failures(log_or_records):
    records = log_or_records.records if isinstance(log_or_records, LogBuilder) else log_or_records
    return [(f.sequence, f.member, f.reason) for f in verify_consents(records).failures]


class VerifyConsentsTest(unittest.TestCase):
    def test_ok(self):
        report = verify_consents(honest().records)
        self.assertEqual(report.failures, [])
        self.assertEqual(report.required_from, 6)
        self.assertEqual(
            [(c.sequence, c.statement, c.member, c.status) for c in report.checks],
            [(3, "sign-off", "russia", "unsigned"), (8, "vote", "russia", "signed"), (9, "sign-off", "ukraine", "signed"),
             (10, "acceptance", "ukraine", "signed"), (11, "acceptance", "russia", "signed")],
        )
        self.assertEqual(report.keys["ukraine/ukraine"].key_id, KEYS["ukraine"].key_id)

    def test_forged_acceptance(self):
        log = honest()
        log.accept("russia", None)
        log.accept("ukraine", KEYS["operator"])
        self.assertEqual(failures(log), [(12, "russia", "CONSENT_UNSIGNED"), (13, "ukraine", "CONSENT_KEY_NOT_CURRENT")])

    def test_replayed_signature(self):
        for seq, field, change in (
            (9, "point_signed_off", lambda v: setattr(v, "revision", 2)),
            (9, "point_signed_off", lambda v: setattr(v, "point_id", OTHER_POINT)),
            (8, "vote_cast", lambda v: setattr(v, "choice", pb.VOTE_CHOICE_APPROVE)),
        ):
            with self.subTest(seq=seq):
                log = honest()
                copy = event_pb2.Event.FromString(log.records[seq - 1].leaf)
                change(getattr(copy, field))
                log.append(copy.actor, **{field: getattr(copy, field)})
                self.assertEqual(failures(log), [(12, copy.actor, "CONSENT_BAD_SIGNATURE")])

    def test_rewritten_middle_breaks_later_checkpoints(self):
        log = honest()
        e = event_pb2.Event.FromString(log.records[8].leaf)
        e.point_signed_off.revision = 2
        log.records[8] = api.EventRecord(sequence=9, leaf=e.SerializeToString(), event=e)
        self.assertEqual(
            [(s, r) for s, _, r in failures(log)],
            [(9, "CONSENT_BAD_SIGNATURE"), (10, "CONSENT_CHECKPOINT_UNKNOWN"), (11, "CONSENT_CHECKPOINT_UNKNOWN")],
        )

    def test_sign_off_moved_to_another_negotiation(self):
        other = honest("negotiations/0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a")
        log = honest()
        moved = event_pb2.Event.FromString(other.records[8].leaf)
        log.append("ukraine", point_signed_off=moved.point_signed_off)
        got = failures(log)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0][:2], (12, "ukraine"))
        self.assertIn(got[0][2], ("CONSENT_BAD_SIGNATURE", "CONSENT_CHECKPOINT_UNKNOWN"))

    def test_key_registered_for_someone_else(self):
        log = honest()
        forged = LogBuilder().register_key("russia", KEYS["operator"])  # a valid proof, for russia
        log.append("ukraine", key_registered=forged.key_registered)  # 12: recorded as ukraine's
        log.register_key("russia", KEYS["operator"])  # 13: russia has a key; no rotation signature
        log.accept("russia", KEYS["operator"])  # 14
        self.assertEqual(failures(log), [
            (12, "ukraine", "KEY_REGISTRATION_INVALID"),
            (13, "russia", "KEY_REGISTRATION_INVALID"),
            (14, "russia", "CONSENT_KEY_NOT_CURRENT"),
        ])

    def test_rotation_and_revocation(self):
        log = honest()
        nxt = ConsentSigner.from_seed(b"\x03" * 32)
        log.register_key("ukraine", nxt, KEYS["ukraine"])  # 12
        log.accept("ukraine", KEYS["ukraine"])  # 13: rotated out
        log.accept("ukraine", nxt)  # 14
        s = KeyRevocationStatement(NEG, "ukraine", "ukraine", nxt.key_id)
        log.append("ukraine", key_revoked=event_pb2.KeyRevoked(participant="ukraine", member="ukraine", key_id=nxt.key_id, signature=nxt.sign(s)))
        log.accept("ukraine", nxt)  # 16: revoked
        log.register_key("ukraine", KEYS["ukraine"])  # 17: a key registered before
        self.assertEqual(
            [(s, r) for s, _, r in failures(log)],
            [(13, "CONSENT_KEY_NOT_CURRENT"), (16, "CONSENT_KEY_NOT_CURRENT"), (17, "KEY_REGISTRATION_INVALID")],
        )

    def test_checkpoint_never_had(self):
        log = honest()
        e = event_pb2.Event.FromString(log.records[10].leaf)
        e.document_accepted.consent.checkpoint.root_hash = bytes(32)
        log.records[10] = api.EventRecord(sequence=11, leaf=e.SerializeToString(), event=e)
        self.assertEqual(failures(log), [(11, "russia", "CONSENT_CHECKPOINT_UNKNOWN")])

    def test_members_of_the_same_id_in_two_delegations(self):
        log = honest()
        a, b = ConsentSigner.from_seed(b"\x04" * 32), ConsentSigner.from_seed(b"\x05" * 32)
        log.register_key("ukraine", a, member="legal-1")
        log.register_key("russia", b, member="legal-1")
        log.accept("ukraine", a, "legal-1")
        log.accept("russia", b, "legal-1")
        log.accept("russia", a, "legal-1")  # Ukraine's legal-1 key, on Russia's legal-1
        report = verify_consents(log.records)
        self.assertEqual([(f.sequence, f.participant, f.member, f.reason) for f in report.failures],
                         [(16, "russia", "legal-1", "CONSENT_KEY_NOT_CURRENT")])
        self.assertEqual(report.keys["russia/legal-1"].key_id, b.key_id)


if __name__ == "__main__":
    unittest.main()
