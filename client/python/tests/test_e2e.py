"""End to end against the real parleyd.

Three delegations, a mediator and an observer play a short negotiation
through the Python client while the observer watches the log from its start.
Halfway through, the server is killed and restarted, and the watch has to
resume on its own.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import unittest

import grpc

from parley import WATCH_TOO_SLOW, Client, Document, DocumentHashError, error_reason, is_parley_error, parley_error
from parley.v1 import admin_service_pb2 as admin_pb
from parley.v1 import audit_service_pb2 as audit_pb
from parley.v1 import negotiation_pb2 as pb
from parley.v1 import negotiation_service_pb2 as api

from tests.parleyd import Parleyd

DELEGATIONS = ("ukraine", "russia", "europe")
TEXT = "\n".join(
    [
        "1. A ceasefire takes effect along the current line of contact.",
        "2. All prisoners of war are exchanged.",
        "— civilian detainees are returned as well.",
        "3. Elections are held within 100 days.",
    ]
)


def merkle_tree_hash(leaves):
    """RFC 6962 MTH, written from docs/audit.md with nothing but hashlib."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + merkle_tree_hash(leaves[:k]) + merkle_tree_hash(leaves[k:])).digest()


class ApplyAfterFirstPage(grpc.UnaryUnaryClientInterceptor):
    """Counts GetDocument calls, and runs ``apply`` once the first page is served."""

    def __init__(self, apply):
        self.calls = 0
        self._apply = apply
        self.applied = None

    def intercept_unary_unary(self, continuation, client_call_details, request):
        if not client_call_details.method.endswith("/GetDocument"):
            return continuation(client_call_details, request)
        self.calls += 1
        outcome = continuation(client_call_details, request)
        if self.calls == 1:
            outcome.result()  # the first page is served before the document changes
            self.applied = self._apply()
        return outcome


class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Parleyd()
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def connect(self, token: str, **kwargs) -> Client:
        c = Client(self.server.address, token, **kwargs)
        self.addCleanup(c.close)
        return c

    def test_short_negotiation_watched_from_the_start(self):
        admin = self.connect(self.server.admin_token)

        # The administrator creates the negotiation and issues the tokens.
        created = admin.negotiation.CreateNegotiation(
            api.CreateNegotiationRequest(
                title="Three-point plan",
                participants=[pb.Participant(id=d, display_name=d, role=pb.ROLE_DELEGATION) for d in DELEGATIONS]
                + [
                    pb.Participant(id="mediator", display_name="Mediator", role=pb.ROLE_MEDIATOR),
                    pb.Participant(id="press", display_name="Press", role=pb.ROLE_OBSERVER),
                ],
                decision_rule=pb.DecisionRule(method=pb.DECISION_METHOD_CONSENSUS),
                numbered_text=TEXT,
            )
        ).negotiation
        name = created.name
        clients, tokens = {}, {}
        for pid in DELEGATIONS + ("mediator", "press"):
            res = admin.admin.IssueToken(admin_pb.IssueTokenRequest(negotiation=name, participant=pid))
            tokens[pid] = res.token
            clients[pid] = self.connect(res.token)
        self.assertIn(name, [n.name for n in admin.negotiations(page_size=1)])
        self.assertEqual(clients["ukraine"].negotiation.GetCaller(api.GetCallerRequest()).participant.id, "ukraine")

        # The observer watches from sequence 0 until the negotiation concludes.
        seen, reconnects, failure = [], [], []
        watch = clients["press"].watch_events(
            name,
            initial_backoff=0.05,
            max_backoff=0.5,
            on_reconnect=lambda err, after, n: reconnects.append((err.code() if err else None, after)),
        )
        self.addCleanup(watch.cancel)

        def follow():
            try:
                for rec in watch:
                    seen.append(rec)
                    if rec.event.WhichOneof("payload") == "negotiation_concluded":
                        return
            except Exception as e:  # reported by the main thread
                failure.append(e)

        watcher = threading.Thread(target=follow, daemon=True)
        watcher.start()

        # The whole document, one point a page, its hash checked; points by number.
        doc = clients["ukraine"].document(name, page_size=1)
        self.assertEqual(len(doc.points), 3)
        target = doc.point_by_number(2)
        self.assertEqual(target.text, "All prisoners of war are exchanged.\n— civilian detainees are returned as well.")
        self.assertEqual(doc.point_by_name(target.name), target)
        self.assertIsNone(doc.point_by_number(4))
        self.assertIsNone(doc.point_by_number(0))
        self.assertTrue(doc.text().startswith("1. A ceasefire takes effect"))

        # Ukraine proposes to replace point 2; no request_id given: the client adds one.
        amendment = clients["ukraine"].negotiation.ProposeAmendment(
            api.ProposeAmendmentRequest(
                negotiation=name,
                kind=pb.AMENDMENT_KIND_REPLACE,
                point=target.name,
                base_revision=target.revision,
                text="All prisoners of war and civilian detainees are exchanged, all for all.",
                rationale="One sentence for both groups.",
            )
        ).amendment
        self.assertEqual(amendment.state, pb.AMENDMENT_STATE_OPEN)

        # Russia questions the amendment and Ukraine replies: the reply joins
        # the amendment's thread; the observer reads the discussion.
        question = clients["russia"].negotiation.PostComment(
            api.PostCommentRequest(negotiation=name, amendment=amendment.name, text="Does this cover civilians held abroad?")
        ).comment
        reply = clients["ukraine"].negotiation.PostComment(
            api.PostCommentRequest(negotiation=name, parent=question.name, text="Yes.")
        ).comment
        self.assertEqual(reply.amendment, amendment.name)
        self.assertEqual(reply.parent, question.name)
        discussion = list(clients["press"].comments(name, amendment=amendment.name, page_size=1))
        self.assertEqual(
            [(c.author, c.text) for c in discussion],
            [("russia", "Does this cover civilians held abroad?"), ("ukraine", "Yes.")],
        )

        # Every delegation votes APPROVE; the last vote closes voting. The same
        # request sent twice is a safe retry: same reply, no new event.
        for pid in DELEGATIONS:
            vote = api.CastVoteRequest(amendment=amendment.name, choice=pb.VOTE_CHOICE_APPROVE)
            first = clients[pid].negotiation.CastVote(vote)
            self.assertNotEqual(vote.request_id, "", "the client fills request_id into the request")
            if pid == "ukraine":
                again = clients[pid].negotiation.CastVote(vote)
                self.assertEqual(again, first)
        passed = clients["mediator"].negotiation.GetAmendment(api.GetAmendmentRequest(name=amendment.name)).amendment
        self.assertEqual(passed.state, pb.AMENDMENT_STATE_PASSED)
        self.assertEqual(passed.tally.approve, 3)
        passed_list = list(clients["mediator"].amendments(name, states=[pb.AMENDMENT_STATE_PASSED], page_size=1))
        self.assertEqual([a.name for a in passed_list], [amendment.name])
        self.assertEqual(list(clients["mediator"].amendments(name, point=doc.point_by_number(1).name)), [])

        # A vote after voting closed: FAILED_PRECONDITION / VOTING_CLOSED.
        with self.assertRaises(grpc.RpcError) as cm:
            clients["russia"].negotiation.CastVote(
                api.CastVoteRequest(amendment=amendment.name, choice=pb.VOTE_CHOICE_ABSTAIN)
            )
        err = parley_error(cm.exception)
        self.assertEqual(err.code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(err.code_name, "FAILED_PRECONDITION")
        self.assertEqual(err.reason, "VOTING_CLOSED")
        self.assertEqual(err.domain, "parley.v1")
        self.assertTrue(is_parley_error(cm.exception, grpc.StatusCode.FAILED_PRECONDITION, "VOTING_CLOSED"))
        # An observer may not vote: PERMISSION_DENIED with a reason.
        with self.assertRaises(grpc.RpcError) as cm:
            clients["press"].negotiation.CastVote(
                api.CastVoteRequest(amendment=amendment.name, choice=pb.VOTE_CHOICE_APPROVE)
            )
        self.assertEqual(cm.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertNotEqual(error_reason(cm.exception), "")

        # Once the watcher has seen everything so far, the server crashes and
        # comes back on the same port; the watch has to resume.
        last = clients["press"].negotiation.GetNegotiation(api.GetNegotiationRequest(name=name)).negotiation.last_sequence
        deadline = time.monotonic() + 10
        while len(seen) < last and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(len(seen), last)
        self.server.kill()
        self.server.start()

        # The mediator applies the amendment (waiting for the channel to
        # reconnect) while the observer reads the document one point a page:
        # the document changes between two pages, the server refuses the
        # stale page token (ABORTED / DOCUMENT_CHANGED), and document() reads
        # again from the start rather than mix two versions.
        pager = ApplyAfterFirstPage(
            lambda: clients["mediator"].negotiation.ApplyAmendment(
                api.ApplyAmendmentRequest(amendment=amendment.name), wait_for_ready=True, timeout=30
            )
        )
        reader = self.connect(tokens["press"], interceptors=[pager])
        current = reader.document(name, page_size=1, wait_for_ready=True, timeout=30)
        applied = pager.applied
        self.assertEqual(applied.amendment.state, pb.AMENDMENT_STATE_APPLIED)
        self.assertEqual(applied.point.revision, 2)
        self.assertEqual(pager.calls, 5, "one page, one refused page, then the three pages again")
        self.assertEqual(current.point_by_number(2).revision, 2)
        self.assertEqual(current.point_by_number(2).text, "All prisoners of war and civilian detainees are exchanged, all for all.")

        # Every delegation signs off every point at its current revision and
        # hash; Europe signs off all of them in one call and one commit.
        for pid in DELEGATIONS:
            if pid == "europe":
                batch = clients[pid].negotiation.SignOffPoints(
                    api.SignOffPointsRequest(
                        negotiation=name,
                        items=[
                            api.SignOffPointsItem(point=p.name, revision=p.revision, text_sha256=p.text_sha256)
                            for p in current.points
                        ],
                    ),
                    wait_for_ready=True,
                    timeout=30,
                )
                self.assertEqual(batch.signed_off_count, 3)
                continue
            for p in current.points:
                clients[pid].negotiation.SignOffPoint(
                    api.SignOffPointRequest(point=p.name, revision=p.revision, text_sha256=p.text_sha256),
                    wait_for_ready=True,
                    timeout=30,
                )
        agreed = clients["mediator"].document(name)
        self.assertTrue(all(p.status == pb.POINT_STATUS_AGREED for p in agreed.points))
        # A text that does not hash to the hash sent with it is refused.
        with self.assertRaises(DocumentHashError) as cm:
            Document(agreed.negotiation, agreed.points, "0" * 64).verify()
        self.assertTrue(is_parley_error(cm.exception, grpc.StatusCode.DATA_LOSS, "DOCUMENT_HASH"))

        # Every delegation accepts the whole text; the last acceptance concludes.
        state = None
        for pid in DELEGATIONS:
            res = clients[pid].negotiation.AcceptDocument(
                api.AcceptDocumentRequest(negotiation=name, document_sha256=agreed.sha256)
            )
            state = res.negotiation.state
        self.assertEqual(state, pb.NEGOTIATION_STATE_CONCLUDED)

        watcher.join(timeout=30)
        self.assertFalse(watcher.is_alive(), "the watch did not reach the conclusion")
        self.assertEqual(failure, [])
        self.assertGreaterEqual(len(reconnects), 1, "the watch reconnected after the crash")
        self.assertEqual(reconnects[0][1], last, "it resumed after the last event it had seen")

        # The watcher saw the whole log, in order, without gaps: the same as ListEvents.
        listed = list(clients["press"].events(name, page_size=7))
        self.assertEqual([r.sequence for r in seen], list(range(1, len(listed) + 1)))
        self.assertEqual([r.sequence for r in seen], [r.sequence for r in listed])
        self.assertEqual([r.leaf for r in seen], [r.leaf for r in listed])
        # 1 created + 3 points + 5 credentials + 1 proposal + 2 comments + 3 votes
        # + 1 close + 1 applied + 9 sign-offs + 3 acceptances + 1 concluded.
        self.assertEqual(len(listed), 30)
        # Every mutation carried a request id.
        for rec in listed:
            self.assertNotEqual(rec.event.request_id, "", f"event {rec.sequence}")
        # From a sequence on: the rest of the log.
        tail = [r.sequence for r in clients["press"].events(name, after_sequence=22, page_size=3)]
        self.assertEqual(tail, list(range(23, 31)))

        # The signed checkpoint's root is the Merkle tree hash of the leaves
        # as served: a party in Python checks the log with hashlib alone.
        cp = clients["press"].audit.GetCheckpoint(audit_pb.GetCheckpointRequest(negotiation=name))
        origin, size, root = cp.checkpoint.split("\n")[:3]
        self.assertEqual(origin, name)
        self.assertEqual(int(size), len(listed))
        self.assertEqual(base64.b64decode(root), merkle_tree_hash([r.leaf for r in listed]))
        self.assertEqual(cp.root_hash, base64.b64decode(root))

    def test_package_deal_voted_once_and_applied_by_one_event(self):
        admin = self.connect(self.server.admin_token)
        name = admin.negotiation.CreateNegotiation(
            api.CreateNegotiationRequest(
                title="A trade",
                participants=[pb.Participant(id=d, role=pb.ROLE_DELEGATION) for d in DELEGATIONS]
                + [pb.Participant(id="mediator", role=pb.ROLE_MEDIATOR)],
                decision_rule=pb.DecisionRule(method=pb.DECISION_METHOD_CONSENSUS),
                numbered_text=TEXT,
            )
        ).negotiation.name
        clients = {
            pid: self.connect(admin.admin.IssueToken(admin_pb.IssueTokenRequest(negotiation=name, participant=pid)).token)
            for pid in DELEGATIONS + ("mediator",)
        }
        doc = clients["ukraine"].document(name)
        one, two, three = (doc.point_by_number(n) for n in (1, 2, 3))

        # One amendment of three parts: a trade across the text.
        pkg = clients["ukraine"].negotiation.ProposeAmendment(
            api.ProposeAmendmentRequest(
                negotiation=name,
                rationale="A trade.",
                parts=[
                    pb.AmendmentPart(kind=pb.AMENDMENT_KIND_REPLACE, point=one.name, base_revision=one.revision, text="A ceasefire takes effect at once."),
                    pb.AmendmentPart(kind=pb.AMENDMENT_KIND_DELETE, point=three.name, base_revision=three.revision),
                    pb.AmendmentPart(kind=pb.AMENDMENT_KIND_INSERT, point=two.name, text="Elections are held within a year."),
                ],
            )
        ).amendment
        self.assertEqual(len(pkg.parts), 3)
        self.assertEqual(pkg.kind, pb.AMENDMENT_KIND_UNSPECIFIED)
        redline = clients["russia"].negotiation.GetRedline(api.GetRedlineRequest(amendment=pkg.name))
        self.assertEqual(len(redline.changes), 3)

        # Two parts on one point change nothing.
        before = len(list(clients["ukraine"].events(name)))
        with self.assertRaises(grpc.RpcError) as cm:
            clients["russia"].negotiation.ProposeAmendment(
                api.ProposeAmendmentRequest(
                    negotiation=name,
                    parts=[
                        pb.AmendmentPart(kind=pb.AMENDMENT_KIND_DELETE, point=three.name, base_revision=1),
                        pb.AmendmentPart(kind=pb.AMENDMENT_KIND_REPLACE, point=three.name, base_revision=1, text="Elections."),
                    ],
                )
            )
        self.assertEqual(parley_error(cm.exception).reason, "PACKAGE_DUPLICATE_POINT")
        self.assertEqual(len(list(clients["ukraine"].events(name))), before)

        for d in DELEGATIONS:
            clients[d].negotiation.CastVote(api.CastVoteRequest(amendment=pkg.name, choice=pb.VOTE_CHOICE_APPROVE))
        applied = clients["mediator"].negotiation.ApplyAmendment(api.ApplyAmendmentRequest(amendment=pkg.name))
        self.assertEqual(applied.amendment.state, pb.AMENDMENT_STATE_APPLIED)
        self.assertEqual(len(applied.points), 3)
        listed = list(clients["ukraine"].events(name))
        last = listed[-1].event
        self.assertEqual(last.WhichOneof("payload"), "amendment_applied", "one event applies the whole package")
        # The leaf is the event as stored, and the log with the package in it
        # still hashes to the signed checkpoint's root.
        self.assertEqual(type(last).FromString(listed[-1].leaf), last)
        cp = clients["ukraine"].audit.GetCheckpoint(audit_pb.GetCheckpointRequest(negotiation=name))
        self.assertEqual(cp.root_hash, merkle_tree_hash([r.leaf for r in listed]))
        self.assertEqual([p.point_id for p in last.amendment_applied.parts], [p.id for p in applied.points])
        self.assertEqual(
            clients["ukraine"].document(name).text(),
            "1. A ceasefire takes effect at once.\n2. All prisoners of war are exchanged.\n"
            "— civilian detainees are returned as well.\n3. Elections are held within a year.\n",
        )

    def test_suspended_negotiation_refuses_votes_until_resumed(self):
        admin = self.connect(self.server.admin_token)
        name = admin.negotiation.CreateNegotiation(
            api.CreateNegotiationRequest(
                title="Paused plan",
                participants=[
                    pb.Participant(id="ukraine", role=pb.ROLE_DELEGATION),
                    pb.Participant(id="mediator", role=pb.ROLE_MEDIATOR),
                ],
                decision_rule=pb.DecisionRule(method=pb.DECISION_METHOD_CONSENSUS),
                numbered_text=TEXT,
            )
        ).negotiation.name
        ukraine = self.connect(admin.admin.IssueToken(admin_pb.IssueTokenRequest(negotiation=name, participant="ukraine")).token)
        suspended = admin.negotiation.SuspendNegotiation(api.SuspendNegotiationRequest(negotiation=name, reason="Consultations"))
        self.assertEqual(suspended.negotiation.state, pb.NEGOTIATION_STATE_SUSPENDED)
        with self.assertRaises(grpc.RpcError) as cm:
            ukraine.negotiation.ProposeAmendment(
                api.ProposeAmendmentRequest(negotiation=name, kind=pb.AMENDMENT_KIND_INSERT, text="A new point.")
            )
        err = parley_error(cm.exception)
        self.assertEqual(err.code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(err.reason, "NEGOTIATION_SUSPENDED")
        resumed = admin.negotiation.ResumeNegotiation(api.ResumeNegotiationRequest(negotiation=name))
        self.assertEqual(resumed.negotiation.state, pb.NEGOTIATION_STATE_OPEN)
        ukraine.negotiation.ProposeAmendment(
            api.ProposeAmendmentRequest(negotiation=name, kind=pb.AMENDMENT_KIND_INSERT, text="A new point.")
        )

    def test_wrong_token_is_unauthenticated(self):
        stranger = self.connect("prl_not-a-token")
        with self.assertRaises(grpc.RpcError) as cm:
            stranger.negotiation.GetCaller(api.GetCallerRequest())
        err = parley_error(cm.exception)
        self.assertEqual(err.code, grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(err.reason, "TOKEN_INVALID")


class WatchCutOff(unittest.TestCase):
    """A server that cuts a watch stream off as soon as gRPC leaves one event
    waiting for it (--watch-backlog 1B --watch-stall 0) makes the watch go
    through several streams: it resumes after each cut-off and yields every
    event once, in order."""

    def setUp(self):
        self.server = Parleyd("--rate-limit", "0", "--watch-backlog", "1B", "--watch-stall", "0")
        self.server.start()
        self.addCleanup(self.server.close)

    def connect(self, token: str, **kwargs) -> Client:
        c = Client(self.server.address, token, **kwargs)
        self.addCleanup(c.close)
        return c

    def test_watch_cut_off_as_too_slow_resumes(self):
        admin = self.connect(self.server.admin_token)
        name = admin.negotiation.CreateNegotiation(
            api.CreateNegotiationRequest(
                title="Long log",
                participants=[
                    pb.Participant(id="ukraine", display_name="Ukraine", role=pb.ROLE_DELEGATION),
                    pb.Participant(id="mediator", display_name="Mediator", role=pb.ROLE_MEDIATOR),
                    pb.Participant(id="press", display_name="Press", role=pb.ROLE_OBSERVER),
                ],
                decision_rule=pb.DecisionRule(method=pb.DECISION_METHOD_CONSENSUS),
                numbered_text=TEXT,
            )
        ).negotiation.name
        tokens = {
            pid: admin.admin.IssueToken(admin_pb.IssueTokenRequest(negotiation=name, participant=pid)).token
            for pid in ("ukraine", "press")
        }
        # The watcher's channel keeps HTTP/2's initial window (no BDP probing, which
        # would grow it to megabytes): what it does not read stays in the server.
        ukraine = self.connect(tokens["ukraine"])
        press = self.connect(tokens["press"], options=[("grpc.http2.bdp_probe", 0)])
        point = ukraine.negotiation.GetDocument(api.GetDocumentRequest(negotiation=name)).points[0]
        # Some 5 MB of events: more than the client's transport buffers while
        # it pauses, so the server's Send waits and the stream is cut off.
        for i in range(150):
            ukraine.negotiation.ProposeAmendment(
                api.ProposeAmendmentRequest(
                    negotiation=name,
                    kind=pb.AMENDMENT_KIND_REPLACE,
                    point=point.name,
                    base_revision=point.revision,
                    text=f"Text {i}. " + "z" * 16000,
                )
            )
        last = admin.negotiation.GetNegotiation(api.GetNegotiationRequest(name=name)).negotiation.last_sequence

        cut_offs = []

        def on_reconnect(err, after, attempt):
            if err is not None and error_reason(err) == WATCH_TOO_SLOW:
                cut_offs.append(after)

        seen = 0
        with press.watch_events(name, on_reconnect=on_reconnect) as watch:
            for rec in watch:
                self.assertEqual(rec.sequence, seen + 1, "events in order, without gap or repeat")
                seen = rec.sequence
                if seen == 1:
                    time.sleep(0.5)  # a reader that stops for a while
                if seen == last:
                    break
        self.assertEqual(seen, last)
        self.assertGreaterEqual(len(cut_offs), 1, "the server cut the watch off")
        self.assertIn("stopped reading", self.server.log())


if __name__ == "__main__":
    unittest.main()
