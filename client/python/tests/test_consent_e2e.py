"""Signed consent end to end against the real parleyd.

A negotiation that requires signatures from its creation: each delegation
registers an Ed25519 key and signs its votes, sign-offs and acceptance
through a ConsentSession; the log then verifies with every consent signed.
Bad signatures are refused with a stable reason and leave the log unchanged.
"""

from __future__ import annotations

import unittest

import grpc

from parley import Client, ConsentSession, ConsentSigner, error_reason, verify_log_consents
from parley.v1 import admin_service_pb2 as admin_pb
from parley.v1 import negotiation_pb2 as pb
from parley.v1 import negotiation_service_pb2 as api

from tests.parleyd import Parleyd

DELEGATIONS = ("ukraine", "russia")


class SignedConsentEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Parleyd()
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def connect(self, token: str) -> Client:
        c = Client(self.server.address, token)
        self.addCleanup(c.close)
        return c

    def refused(self, reader: Client, name: str, call, code: grpc.StatusCode, reason: str) -> None:
        """Asserts that call() is refused with code and reason, and that the log did not grow."""
        before = reader.negotiation.GetNegotiation(api.GetNegotiationRequest(name=name)).negotiation.last_sequence
        with self.assertRaises(grpc.RpcError) as cm:
            call()
        self.assertEqual((cm.exception.code(), error_reason(cm.exception)), (code, reason), cm.exception.details())
        after = reader.negotiation.GetNegotiation(api.GetNegotiationRequest(name=name)).negotiation.last_sequence
        self.assertEqual(after, before, f"the refused {reason} call left the log as it was")

    def test_concluded_with_every_consent_signed(self):
        admin = self.connect(self.server.admin_token)
        created = admin.negotiation.CreateNegotiation(
            api.CreateNegotiationRequest(
                title="Signed plan",
                participants=[pb.Participant(id=d, display_name=d, role=pb.ROLE_DELEGATION) for d in DELEGATIONS]
                + [pb.Participant(id="mediator", display_name="Mediator", role=pb.ROLE_MEDIATOR)],
                decision_rule=pb.DecisionRule(method=pb.DECISION_METHOD_CONSENSUS),
                numbered_text="1. A ceasefire takes effect.\n2. Prisoners are exchanged.",
                require_signatures=True,
            )
        ).negotiation
        name = created.name
        self.assertTrue(created.signatures_required)
        clients = {}
        for pid in DELEGATIONS + ("mediator",):
            clients[pid] = self.connect(admin.admin.IssueToken(admin_pb.IssueTokenRequest(negotiation=name, participant=pid)).token)

        sessions = {}
        for pid in DELEGATIONS:
            sessions[pid] = ConsentSession(clients[pid], ConsentSigner.generate())
            self.assertEqual(sessions[pid].register_key().signing_key.key_id, sessions[pid].signer.key_id)
        keys = admin.negotiation.GetNegotiation(api.GetNegotiationRequest(name=name)).negotiation.signing_keys
        self.assertEqual([(k.participant, k.key_id) for k in keys], [(p, sessions[p].signer.key_id) for p in DELEGATIONS])

        doc = clients["ukraine"].document(name)
        amendment = clients["ukraine"].negotiation.ProposeAmendment(
            api.ProposeAmendmentRequest(
                negotiation=name, kind=pb.AMENDMENT_KIND_REPLACE, point=doc.points[1].name,
                base_revision=doc.points[1].revision, text="All prisoners are exchanged, all for all.",
            )
        ).amendment

        # Refusals, each leaving the log unchanged.
        russia = clients["russia"].negotiation
        self.refused(admin, name, lambda: russia.CastVote(api.CastVoteRequest(amendment=amendment.name, choice=pb.VOTE_CHOICE_APPROVE)),
                     grpc.StatusCode.FAILED_PRECONDITION, "SIGNATURE_REQUIRED")
        approve = sessions["russia"].vote_consent(amendment.name, pb.VOTE_CHOICE_APPROVE)
        self.refused(admin, name, lambda: russia.CastVote(api.CastVoteRequest(amendment=amendment.name, choice=pb.VOTE_CHOICE_REJECT, reason="No.", consent=approve)),
                     grpc.StatusCode.INVALID_ARGUMENT, "SIGNATURE_INVALID")
        self.refused(admin, name, lambda: clients["ukraine"].negotiation.CastVote(api.CastVoteRequest(amendment=amendment.name, choice=pb.VOTE_CHOICE_APPROVE, consent=approve)),
                     grpc.StatusCode.PERMISSION_DENIED, "KEY_OF_OTHER_MEMBER")
        short = pb.Consent(key_id=approve.key_id, checkpoint=approve.checkpoint, signature=approve.signature[:10])
        self.refused(admin, name, lambda: russia.CastVote(api.CastVoteRequest(amendment=amendment.name, choice=pb.VOTE_CHOICE_APPROVE, consent=short)),
                     grpc.StatusCode.INVALID_ARGUMENT, "SIGNATURE_MALFORMED")
        self.refused(admin, name, lambda: russia.RegisterKey(api.RegisterKeyRequest(negotiation=name, public_key=b"\x01" * 31, signature=b"\x00" * 64)),
                     grpc.StatusCode.INVALID_ARGUMENT, "KEY_MALFORMED")
        unknown = pb.Consent(key_id=ConsentSigner.generate().key_id, checkpoint=approve.checkpoint, signature=approve.signature)
        self.refused(admin, name, lambda: russia.CastVote(api.CastVoteRequest(amendment=amendment.name, choice=pb.VOTE_CHOICE_APPROVE, consent=unknown)),
                     grpc.StatusCode.FAILED_PRECONDITION, "KEY_UNKNOWN")

        # Signed votes; voting closes; the mediator applies.
        # Ukraine's reason has white space around it, which the server trims: the session signs what is recorded.
        sessions["ukraine"].cast_vote(amendment.name, pb.VOTE_CHOICE_APPROVE, "  All for all.\n")
        # Russia asks for the lean reply: its vote and the state its vote left, not the amendment.
        lean = sessions["russia"].cast_vote(amendment.name, pb.VOTE_CHOICE_APPROVE, vote_only=True)
        self.assertFalse(lean.HasField("amendment"))
        self.assertEqual(lean.vote.participant, "russia")
        self.assertEqual(lean.amendment_state, pb.AMENDMENT_STATE_PASSED)
        clients["mediator"].negotiation.ApplyAmendment(api.ApplyAmendmentRequest(amendment=amendment.name))

        # Ukraine rotates its key; a consent by the rotated-out key is refused.
        old = sessions["ukraine"].signer
        sessions["ukraine"].signer = ConsentSigner.generate()
        sessions["ukraine"].register_key(replacing=old)
        current = clients["ukraine"].document(name)
        p1 = current.points[0]
        by_old = ConsentSession(clients["ukraine"], old).sign_off_consent(p1.name, p1.revision, p1.text_sha256)
        self.refused(admin, name, lambda: clients["ukraine"].negotiation.SignOffPoint(api.SignOffPointRequest(point=p1.name, revision=p1.revision, text_sha256=p1.text_sha256, consent=by_old)),
                     grpc.StatusCode.FAILED_PRECONDITION, "KEY_REVOKED")

        # Russia revokes its key and registers a new first key.
        revoked = sessions["russia"].signer
        sessions["russia"].revoke_key()
        by_revoked = sessions["russia"].sign_off_consent(p1.name, p1.revision, p1.text_sha256)
        self.refused(admin, name, lambda: russia.SignOffPoint(api.SignOffPointRequest(point=p1.name, revision=p1.revision, text_sha256=p1.text_sha256, consent=by_revoked)),
                     grpc.StatusCode.FAILED_PRECONDITION, "KEY_REVOKED")
        sessions["russia"].signer = ConsentSigner.generate()
        sessions["russia"].register_key()

        # Sign-offs: Ukraine one by one, Russia in one batch; signed acceptances conclude it.
        for p in current.points:
            sessions["ukraine"].sign_off_point(p.name, p.revision, p.text_sha256)
        batch = sessions["russia"].sign_off_points([(p.name, p.revision, p.text_sha256) for p in current.points])
        self.assertEqual(batch.signed_off_count, 2)
        state = None
        for pid in DELEGATIONS:
            state = sessions[pid].accept_document(current.sha256).negotiation.state
        self.assertEqual(state, pb.NEGOTIATION_STATE_CONCLUDED)

        report = verify_log_consents(admin, name)
        self.assertEqual(report.failures, [])
        self.assertEqual(report.required_from, 1)
        self.assertEqual(
            [f"{c.statement} {c.member} {c.status}" for c in report.checks],
            ["vote ukraine signed", "vote russia signed", "sign-off ukraine signed", "sign-off ukraine signed",
             "sign-off russia signed", "sign-off russia signed", "acceptance ukraine signed", "acceptance russia signed"],
        )
        self.assertEqual([c.key_id for c in report.checks if c.statement == "vote" and c.member == "russia"], [revoked.key_id])
        self.assertEqual(report.keys["ukraine/ukraine"].key_id, sessions["ukraine"].signer.key_id)


if __name__ == "__main__":
    unittest.main()
