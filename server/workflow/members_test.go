package workflow_test

import (
	"slices"
	"testing"

	"github.com/parley-negotiation/parley/server/workflow"
)

// Members of the fixture's delegations: ukraine gets a head and a legal
// adviser by withMembers; russia gets one member with no head.
const (
	ukraineHead  = ukraine + "/head"
	ukraineLegal = ukraine + "/legal"
	russiaAide   = russia + "/aide"
)

// withMembers adds the fixture's members through the administrator.
func withMembers(f *fixture) {
	f.t.Helper()
	f.do(admin, workflow.AddMember{Participant: ukraine, Member: "head", DisplayName: "Head of delegation", Head: true})
	f.do(admin, workflow.AddMember{Participant: ukraine, Member: "legal", DisplayName: "Legal adviser"})
	f.do(admin, workflow.AddMember{Participant: russia, Member: "aide"})
}

// onMembers prepares the members, then builds the command under test.
func onMembers(actor string, cmd func(f *fixture) workflow.Command) func(*fixture) (string, workflow.Command) {
	return func(f *fixture) (string, workflow.Command) {
		withMembers(f)
		return actor, cmd(f)
	}
}

func constant(c workflow.Command) func(*fixture) workflow.Command {
	return func(*fixture) workflow.Command { return c }
}

// The refusals of members, acceptance withdrawal and batches. They join the
// table of refusals (and so its census of reasons) here, to keep this work in
// one file.
var memberRefusals = []refusal{
	// AddMember.
	{name: "delegation adds a member", code: workflow.EPERMISSION, reason: "ADMIN_ONLY",
		run: func(*fixture) (string, workflow.Command) {
			return ukraine, workflow.AddMember{Participant: ukraine, Member: "x"}
		}},
	{name: "non-head member adds a member", code: workflow.EPERMISSION, reason: "ADMIN_ONLY",
		run: onMembers(ukraineLegal, constant(workflow.AddMember{Participant: ukraine, Member: "x"}))},
	{name: "head adds a head", code: workflow.EPERMISSION, reason: "ADMIN_ONLY",
		run: onMembers(ukraineHead, constant(workflow.AddMember{Participant: ukraine, Member: "x", Head: true}))},
	{name: "head adds a member to another participant", code: workflow.EPERMISSION, reason: "NOT_YOUR_PARTICIPANT",
		run: onMembers(ukraineHead, constant(workflow.AddMember{Participant: russia, Member: "x"}))},
	{name: "member for a stranger", code: workflow.ENOTFOUND, reason: "PARTICIPANT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.AddMember{Participant: stranger, Member: "x"}
		}},
	{name: "member id in capitals", code: workflow.EINVALID, reason: "MEMBER_ID_INVALID",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.AddMember{Participant: ukraine, Member: "Olena"}
		}},
	{name: "member id with a slash", code: workflow.EINVALID, reason: "MEMBER_ID_INVALID",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.AddMember{Participant: ukraine, Member: "a/b"}
		}},
	{name: "member id reserved for the admin", code: workflow.EINVALID, reason: "MEMBER_ID_INVALID",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.AddMember{Participant: ukraine, Member: admin}
		}},
	{name: "member id of the participant", code: workflow.EINVALID, reason: "MEMBER_ID_INVALID",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.AddMember{Participant: ukraine, Member: ukraine}
		}},
	{name: "duplicate member id", code: workflow.EALREADYEXISTS, reason: "MEMBER_EXISTS",
		run: onMembers(admin, constant(workflow.AddMember{Participant: ukraine, Member: "legal"}))},
	{name: "member display name on two lines", code: workflow.EINVALID, reason: "DISPLAY_NAME_INVALID",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.AddMember{Participant: ukraine, Member: "x", DisplayName: "a\nb"}
		}},
	{name: "one member too many", code: workflow.ERESOURCEEXHAUSTED, reason: "TOO_MANY_MEMBERS",
		run: func(f *fixture) (string, workflow.Command) {
			for i := range workflow.MaxMembers {
				f.do(admin, workflow.AddMember{Participant: ukraine, Member: "m" + itoa(i)})
			}
			return admin, workflow.AddMember{Participant: ukraine, Member: "one-more"}
		}},

	// RemoveMember.
	{name: "remove the default member", code: workflow.EINVALID, reason: "DEFAULT_MEMBER",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.RemoveMember{Participant: ukraine, Member: ukraine}
		}},
	{name: "remove an unknown member", code: workflow.ENOTFOUND, reason: "MEMBER_NOT_FOUND",
		run: onMembers(admin, constant(workflow.RemoveMember{Participant: ukraine, Member: "nobody"}))},
	{name: "head removes a head", code: workflow.EPERMISSION, reason: "ADMIN_ONLY",
		run: onMembers(ukraineHead, constant(workflow.RemoveMember{Participant: ukraine, Member: "head"}))},

	// Credentials of members.
	{name: "token for an unknown member", code: workflow.ENOTFOUND, reason: "MEMBER_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.IssueCredential{Participant: ukraine, Member: "nobody", TokenHash: goodHash}
		}},
	{name: "token for a removed member", code: workflow.ENOTFOUND, reason: "MEMBER_NOT_FOUND",
		run: func(f *fixture) (string, workflow.Command) {
			withMembers(f)
			f.do(admin, workflow.RemoveMember{Participant: ukraine, Member: "legal"})
			return admin, workflow.IssueCredential{Participant: ukraine, Member: "legal", TokenHash: goodHash}
		}},
	{name: "head issues the default member's token", code: workflow.EPERMISSION, reason: "ADMIN_ONLY",
		run: onMembers(ukraineHead, constant(workflow.IssueCredential{Participant: ukraine, TokenHash: goodHash}))},
	{name: "head revokes a token of another participant", code: workflow.EPERMISSION, reason: "NOT_YOUR_PARTICIPANT",
		run: onMembers(ukraineHead, constant(workflow.RevokeCredential{Participant: russia, Member: "aide"}))},
	{name: "member issues a token", code: workflow.EPERMISSION, reason: "ADMIN_ONLY",
		run: onMembers(russiaAide, constant(workflow.IssueCredential{Participant: russia, Member: "aide", TokenHash: goodHash, Rotate: true}))},

	// Acting as a member.
	{name: "removed member votes", code: workflow.EPERMISSION, reason: "MEMBER_NOT_FOUND",
		run: func(f *fixture) (string, workflow.Command) {
			withMembers(f)
			id := f.propose(russia, workflow.KindReplace, "p1", "A new text.")
			f.do(admin, workflow.RemoveMember{Participant: ukraine, Member: "legal"})
			return ukraineLegal, vote(workflow.ChoiceApprove, "")(id)
		}},
	{name: "unknown member proposes", code: workflow.EPERMISSION, reason: "MEMBER_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) { return ukraine + "/ghost", replaceP1() }},
	{name: "member of a delegation closes voting", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: func(f *fixture) (string, workflow.Command) {
			withMembers(f)
			return ukraineHead, closeVoting(f.propose(russia, workflow.KindReplace, "p1", "A new text."))
		}},
	{name: "non-head signs off where a head exists", code: workflow.EPERMISSION, reason: "MEMBER_NOT_ALLOWED",
		run: onMembers(ukraineLegal, func(f *fixture) workflow.Command { return f.signOffCmd("p1") })},
	{name: "non-head signs off a batch where a head exists", code: workflow.EPERMISSION, reason: "MEMBER_NOT_ALLOWED",
		run: onMembers(ukraineLegal, func(f *fixture) workflow.Command { return f.signOffAllCmd() })},
	{name: "non-head revokes a sign-off where a head exists", code: workflow.EPERMISSION, reason: "MEMBER_NOT_ALLOWED",
		run: func(f *fixture) (string, workflow.Command) {
			withMembers(f)
			f.do(ukraineHead, f.signOffCmd("p1"))
			return ukraineLegal, workflow.RevokeSignOff{PointID: "p1"}
		}},
	{name: "non-head accepts where a head exists", code: workflow.EPERMISSION, reason: "MEMBER_NOT_ALLOWED",
		run: func(f *fixture) (string, workflow.Command) {
			withMembers(f)
			f.signAll()
			return ukraineLegal, workflow.AcceptDocument{DocumentHash: f.n.DocumentHash()}
		}},

	// WithdrawAcceptance.
	{name: "withdraw without an acceptance", code: workflow.EFAILEDPRECONDITION, reason: "NOT_ACCEPTED",
		run: func(*fixture) (string, workflow.Command) { return ukraine, workflow.WithdrawAcceptance{} }},
	{name: "mediator withdraws an acceptance", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: func(*fixture) (string, workflow.Command) { return mediator, workflow.WithdrawAcceptance{} }},
	{name: "withdraw after the conclusion", code: workflow.EFAILEDPRECONDITION, reason: "NEGOTIATION_CONCLUDED",
		run: func(f *fixture) (string, workflow.Command) {
			f.conclude()
			return ukraine, workflow.WithdrawAcceptance{}
		}},
	{name: "non-head withdraws where a head exists", code: workflow.EPERMISSION, reason: "MEMBER_NOT_ALLOWED",
		run: func(f *fixture) (string, workflow.Command) {
			withMembers(f)
			f.signAll()
			f.accept(ukraineHead)
			return ukraineLegal, workflow.WithdrawAcceptance{}
		}},

	// SignOffPoints.
	{name: "empty batch", code: workflow.EINVALID, reason: "BATCH_SIZE_INVALID",
		run: func(*fixture) (string, workflow.Command) { return ukraine, workflow.SignOffPoints{} }},
	{name: "batch with a point twice", code: workflow.EINVALID, reason: "BATCH_DUPLICATE_POINT",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.signOffAllCmd()
			c.Items = append(c.Items, c.Items[0])
			return ukraine, c
		}},
	{name: "batch with one stale item", code: workflow.EABORTED, reason: "STALE_REVISION",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.signOffAllCmd()
			f.amend(workflow.KindReplace, "p3", "A changed third point.")
			return ukraine, c
		}},
	{name: "batch with one wrong hash", code: workflow.EABORTED, reason: "TEXT_HASH_MISMATCH",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.signOffAllCmd()
			c.Items[1].TextHash = goodHash
			return ukraine, c
		}},
	{name: "batch with an unknown point", code: workflow.ENOTFOUND, reason: "POINT_NOT_FOUND",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.signOffAllCmd()
			c.Items[2].PointID = "nope"
			return ukraine, c
		}},
	{name: "batch by a mediator", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: func(f *fixture) (string, workflow.Command) { return mediator, f.signOffAllCmd() }},

	// RevokeSignOffs.
	{name: "empty revoke batch", code: workflow.EINVALID, reason: "BATCH_SIZE_INVALID",
		run: func(*fixture) (string, workflow.Command) { return ukraine, workflow.RevokeSignOffs{} }},
	{name: "revoke batch with a point twice", code: workflow.EINVALID, reason: "BATCH_DUPLICATE_POINT",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, f.signOffAllCmd())
			return ukraine, workflow.RevokeSignOffs{PointIDs: []string{"p1", "p2", "p1"}}
		}},
	{name: "revoke batch with one point not signed off", code: workflow.EFAILEDPRECONDITION, reason: "NOT_SIGNED_OFF",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, f.signOffCmd("p1"))
			return ukraine, workflow.RevokeSignOffs{PointIDs: []string{"p1", "p2"}}
		}},
}

func init() { refusals = append(refusals, memberRefusals...) }

func itoa(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }

// signOffAllCmd signs off every point of the document at its current revision.
func (f *fixture) signOffAllCmd() workflow.SignOffPoints {
	var c workflow.SignOffPoints
	for _, id := range f.n.Order {
		cur := f.n.Points[id].Current()
		c.Items = append(c.Items, workflow.SignOffItem{PointID: id, Revision: cur.Revision, TextHash: cur.TextHash})
	}
	return c
}

func TestMembers(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		withMembers(f)
		p, _ := f.n.Participant(ukraine)
		if got := len(p.Members); got != 2 || !p.Members[0].Head || p.Members[1].Head || p.Members[1].DisplayName != "Legal adviser" {
			t.Fatalf("ukraine's members = %+v", p.Members)
		}
		if r, _ := f.n.Participant(russia); r.Members[0].DisplayName != "aide" {
			t.Errorf("a member without a display name is shown as %q, want its id", r.Members[0].DisplayName)
		}
	})
	t.Run("EventsNameTheMember", func(t *testing.T) {
		f := newFixture(t)
		withMembers(f)
		events := f.do(ukraineLegal, replaceP1())
		if e := events[0]; e.Actor != ukraine || e.Member != "legal" {
			t.Errorf("actor %q member %q, want ukraine legal", e.Actor, e.Member)
		}
		events = f.do(ukraine, workflow.ProposeAmendment{AmendmentID: "am-2", Kind: workflow.KindReplace, PointID: "p2", BaseRevision: 1, Text: "Other."})
		if e := events[0]; e.Member != ukraine {
			t.Errorf("the default member is recorded as %q, want the participant's id", e.Member)
		}
		events = f.do(admin, workflow.IssueCredential{Participant: ukraine, Member: "legal", TokenHash: goodHash})
		if e := events[0]; e.Member != "" || e.Payload.(workflow.CredentialIssued).Member != "legal" {
			t.Errorf("admin event: member %q, payload %+v", e.Member, e.Payload)
		}
	})
	t.Run("SecondMemberReplacesTheVote", func(t *testing.T) {
		f := newFixture(t)
		withMembers(f)
		id := f.propose(russia, workflow.KindReplace, "p1", "A new text.")
		f.do(ukraineLegal, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		// The same choice by another member is recorded: the log says who.
		events := f.do(ukraineHead, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
		if len(events) != 1 {
			t.Fatalf("%d events", len(events))
		}
		a := f.amendment(id)
		if len(a.Votes) != 1 || a.Votes[ukraine].Member != "head" {
			t.Errorf("votes = %+v, want ukraine's one vote by head", a.Votes)
		}
		f.noop(ukraineHead, workflow.CastVote{AmendmentID: id, Choice: workflow.ChoiceApprove})
	})
	t.Run("HeadRestrictsCommitments", func(t *testing.T) {
		f := newFixture(t)
		withMembers(f)
		f.do(ukraineHead, f.signOffCmd("p1"))
		f.do(ukraine, f.signOffCmd("p2"))    // the default member keeps its rights
		f.do(russiaAide, f.signOffCmd("p1")) // russia has no head: any member
		if s := f.n.Points["p1"].SignOffs[ukraine]; s.Member != "head" {
			t.Errorf("sign-off by %q", s.Member)
		}
	})
	t.Run("HeadManagesMembers", func(t *testing.T) {
		f := newFixture(t)
		withMembers(f)
		f.do(ukraineHead, workflow.AddMember{Participant: ukraine, Member: "press"})
		f.do(ukraineHead, workflow.IssueCredential{Participant: ukraine, Member: "press", TokenHash: goodHash})
		f.do(ukraineHead, workflow.IssueCredential{Participant: ukraine, Member: "press", TokenHash: workflow.HashText("x"), Rotate: true})
		f.do(ukraineHead, workflow.RevokeCredential{Participant: ukraine, Member: "press"})
		f.do(ukraineHead, workflow.RemoveMember{Participant: ukraine, Member: "press"})
		if _, ok := f.n.Credentials[workflow.MemberKey(ukraine, "press")]; ok {
			t.Error("a revoked member keeps its credential")
		}
	})
	t.Run("RemoveDropsTheCredential", func(t *testing.T) {
		f := newFixture(t)
		withMembers(f)
		f.do(admin, workflow.IssueCredential{Participant: ukraine, Member: "legal", TokenHash: goodHash})
		f.do(admin, workflow.IssueCredential{Participant: ukraine, TokenHash: workflow.HashText("default")})
		if got := f.n.Credentials["ukraine/legal"]; got != goodHash {
			t.Fatalf("credentials = %v", f.n.Credentials)
		}
		f.do(admin, workflow.RemoveMember{Participant: ukraine, Member: "legal"})
		if _, ok := f.n.Credentials["ukraine/legal"]; ok || len(f.n.Credentials) != 1 {
			t.Errorf("credentials after removal = %v", f.n.Credentials)
		}
		// The id is free again: a new member may take it.
		f.do(admin, workflow.AddMember{Participant: ukraine, Member: "legal"})
	})
}

func TestWithdrawAcceptance(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		f.signAll()
		f.accept(ukraine)
		events := f.do(ukraine, workflow.WithdrawAcceptance{})
		if got := payloads(events); !slices.Equal(got, []string{"workflow.AcceptanceWithdrawn"}) {
			t.Fatalf("events = %v", got)
		}
		if _, ok := f.n.Acceptances[ukraine]; ok {
			t.Fatal("the acceptance is still there")
		}
		// Withdrawn, it no longer counts: the others accepting does not conclude.
		for _, d := range []string{russia, unitedStates, europe} {
			f.accept(d)
		}
		if f.n.State != workflow.NegotiationStateOpen {
			t.Fatalf("state %s without ukraine's acceptance", f.n.State)
		}
		f.accept(ukraine)
		if f.n.State != workflow.NegotiationStateConcluded {
			t.Fatalf("state %s after accepting again", f.n.State)
		}
	})
}

func TestSignOffPoints(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		events := f.do(ukraine, f.signOffAllCmd())
		if len(events) != 3 {
			t.Fatalf("%d events, want 3", len(events))
		}
		for _, id := range f.n.Order {
			cur := f.n.Points[id].Current()
			if s := f.n.Points[id].SignOffs[ukraine]; s.Revision != cur.Revision || s.TextHash != cur.TextHash {
				t.Errorf("point %s: sign-off %+v", id, s)
			}
		}
		// Signed off already: nothing to record.
		f.noop(ukraine, f.signOffAllCmd())
	})
	t.Run("ConcludesWhenLast", func(t *testing.T) {
		f := newFixture(t)
		for _, d := range []string{russia, unitedStates, europe} {
			f.do(d, f.signOffAllCmd())
		}
		f.do(ukraine, f.signOffCmd("p2"))
		events := f.do(ukraine, f.signOffAllCmd())
		if got := payloads(events); !slices.Equal(got, []string{"workflow.PointSignedOff", "workflow.PointSignedOff"}) {
			t.Fatalf("events = %v", got)
		}
		if f.n.AgreedPoints() != 3 {
			t.Errorf("%d points agreed", f.n.AgreedPoints())
		}
	})
	t.Run("ErrNamesTheItem", func(t *testing.T) {
		f := newFixture(t)
		c := f.signOffAllCmd()
		c.Items[1].Revision = 9
		_, err := workflow.Decide(f.n, f.meta(ukraine), c)
		if got := workflow.ErrorMessage(err); len(got) < 7 || got[:7] != "item 2:" {
			t.Errorf("message %q does not name item 2", got)
		}
	})
}

func TestRevokeSignOffs(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		f.do(ukraine, f.signOffAllCmd())
		events := f.do(ukraine, workflow.RevokeSignOffs{PointIDs: []string{"p3", "p1"}})
		if len(events) != 2 {
			t.Fatalf("%d events", len(events))
		}
		if _, ok := f.n.Points["p1"].SignOffs[ukraine]; ok {
			t.Error("p1 still signed off")
		}
		if _, ok := f.n.Points["p2"].SignOffs[ukraine]; !ok {
			t.Error("p2 lost its sign-off")
		}
	})
}
