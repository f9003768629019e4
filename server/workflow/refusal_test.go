package workflow_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parley-negotiation/parley/server/workflow"
)

// refusal is a command that Decide must refuse. run prepares the fixture
// through commands that succeed, then returns the command under test.
type refusal struct {
	name     string
	code     string
	reason   string
	opts     []option
	nilState bool // decide on no negotiation at all
	run      func(f *fixture) (actor string, cmd workflow.Command)
}

// errName turns a reason into the WTF-Dial subtest name: ErrVotingClosed.
func errName(reason string) string {
	var b strings.Builder
	b.WriteString("Err")
	for _, w := range strings.Split(reason, "_") {
		b.WriteString(w[:1] + strings.ToLower(w[1:]))
	}
	return b.String()
}

// Builders of valid commands, which each refusal breaks in one way.

func replaceP1() workflow.ProposeAmendment {
	return workflow.ProposeAmendment{AmendmentID: "am-new", Kind: workflow.KindReplace, PointID: "p1", BaseRevision: 1, Text: "A new text.", Rationale: "Clearer."}
}

func proposeWith(mod func(c *workflow.ProposeAmendment)) func(*fixture) (string, workflow.Command) {
	return func(*fixture) (string, workflow.Command) {
		c := replaceP1()
		mod(&c)
		return ukraine, c
	}
}

// onOpenAmendment runs cmd by actor on a fresh OPEN amendment of ukraine's.
func onOpenAmendment(actor string, cmd func(id string) workflow.Command) func(*fixture) (string, workflow.Command) {
	return func(f *fixture) (string, workflow.Command) {
		return actor, cmd(f.propose(ukraine, workflow.KindReplace, "p1", "A new text."))
	}
}

// onPassedAmendment runs cmd by actor on a fresh PASSED amendment of ukraine's.
func onPassedAmendment(actor string, cmd func(id string) workflow.Command) func(*fixture) (string, workflow.Command) {
	return func(f *fixture) (string, workflow.Command) {
		id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
		f.pass(id)
		return actor, cmd(id)
	}
}

func vote(choice workflow.VoteChoice, reason string) func(id string) workflow.Command {
	return func(id string) workflow.Command {
		return workflow.CastVote{AmendmentID: id, Choice: choice, Reason: reason}
	}
}

func closeVoting(id string) workflow.Command { return workflow.CloseVoting{AmendmentID: id} }
func withdraw(id string) workflow.Command    { return workflow.WithdrawAmendment{AmendmentID: id} }
func applyAs(newPoint string) func(id string) workflow.Command {
	return func(id string) workflow.Command {
		return workflow.ApplyAmendment{AmendmentID: id, NewPointID: newPoint}
	}
}
func rejectBecause(reason string) func(id string) workflow.Command {
	return func(id string) workflow.Command { return workflow.RejectAmendment{AmendmentID: id, Reason: reason} }
}

// deleteP1 applies a DELETE of point p1.
func deleteP1(f *fixture) { f.amend(workflow.KindDelete, "p1", "") }

// failedAmendment returns an amendment whose vote failed: the mediator
// closed it before anybody voted.
func failedAmendment(f *fixture) string {
	id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
	f.do(mediator, workflow.CloseVoting{AmendmentID: id})
	return id
}

func createWith(mod func(c *workflow.CreateNegotiation)) func(*fixture) (string, workflow.Command) {
	return func(*fixture) (string, workflow.Command) {
		c := validCreate()
		mod(&c)
		return admin, c
	}
}

var goodHash = workflow.HashText("some text")

// bogusCommand satisfies workflow.Command by embedding one, yet is none of the
// types Decide knows.
type bogusCommand struct{ workflow.CloseVoting }

var refusals = []refusal{
	// The negotiation itself.
	{name: "create on an existing negotiation", code: workflow.EALREADYEXISTS, reason: "NEGOTIATION_EXISTS",
		run: func(*fixture) (string, workflow.Command) { return admin, validCreate() }},
	{name: "vote without a negotiation", code: workflow.ENOTFOUND, reason: "NEGOTIATION_NOT_FOUND", nilState: true,
		run: func(*fixture) (string, workflow.Command) {
			return ukraine, workflow.CastVote{AmendmentID: "am-1", Choice: workflow.ChoiceApprove}
		}},
	{name: "credential without a negotiation", code: workflow.ENOTFOUND, reason: "NEGOTIATION_NOT_FOUND", nilState: true,
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.IssueCredential{Participant: ukraine, TokenHash: goodHash}
		}},
	{name: "nil command", code: workflow.EINTERNAL, reason: "UNKNOWN_COMMAND",
		run: func(*fixture) (string, workflow.Command) { return mediator, nil }},
	{name: "command of a foreign type", code: workflow.EINTERNAL, reason: "UNKNOWN_COMMAND",
		run: func(*fixture) (string, workflow.Command) { return mediator, bogusCommand{} }},

	// Creation.
	{name: "by a participant", code: workflow.EPERMISSION, reason: "ADMIN_ONLY", nilState: true,
		run: func(*fixture) (string, workflow.Command) { return ukraine, validCreate() }},
	{name: "by a stranger", code: workflow.EPERMISSION, reason: "ADMIN_ONLY", nilState: true,
		run: func(*fixture) (string, workflow.Command) { return stranger, validCreate() }},
	{name: "no id", code: workflow.EINVALID, reason: "NEGOTIATION_ID_REQUIRED", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.NegotiationID = "" })},
	{name: "empty title", code: workflow.EINVALID, reason: "TITLE_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Title = "" })},
	{name: "blank title", code: workflow.EINVALID, reason: "TITLE_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Title = " \t " })},
	{name: "title one byte too long", code: workflow.EINVALID, reason: "TITLE_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Title = strings.Repeat("t", workflow.MaxTitleBytes+1) })},
	{name: "title on two lines", code: workflow.EINVALID, reason: "TITLE_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Title = "Peace\nplan" })},
	{name: "title with a tab", code: workflow.EINVALID, reason: "TITLE_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Title = "Peace\tplan" })},
	{name: "title with a control character", code: workflow.EINVALID, reason: "TITLE_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Title = "Peace\x00plan" })},
	{name: "title not UTF-8", code: workflow.EINVALID, reason: "TITLE_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Title = "Peace \xff plan" })},
	{name: "no participant", code: workflow.EINVALID, reason: "PARTICIPANTS_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants = nil })},
	{name: "too many participants", code: workflow.EINVALID, reason: "PARTICIPANTS_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants = manyParticipants(workflow.MaxParticipants + 1) })},
	{name: "participant id in capitals", code: workflow.EINVALID, reason: "PARTICIPANT_ID_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[0].ID = "Ukraine" })},
	{name: "participant id starting with a digit", code: workflow.EINVALID, reason: "PARTICIPANT_ID_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[0].ID = "4ukraine" })},
	{name: "participant id empty", code: workflow.EINVALID, reason: "PARTICIPANT_ID_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[0].ID = "" })},
	{name: "participant id with a space", code: workflow.EINVALID, reason: "PARTICIPANT_ID_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[0].ID = "united states" })},
	{name: "participant id one byte too long", code: workflow.EINVALID, reason: "PARTICIPANT_ID_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) {
			c.Participants[0].ID = "u" + strings.Repeat("k", workflow.MaxParticipantID)
		})},
	{name: "participant id reserved for the admin", code: workflow.EINVALID, reason: "PARTICIPANT_ID_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[4].ID = workflow.AdminActor })},
	{name: "participant listed twice", code: workflow.EINVALID, reason: "PARTICIPANT_DUPLICATE", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[1].ID = ukraine })},
	{name: "participant without a role", code: workflow.EINVALID, reason: "ROLE_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[5].Role = 0 })},
	{name: "participant with an unknown role", code: workflow.EINVALID, reason: "ROLE_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[5].Role = workflow.RoleObserver + 1 })},
	{name: "negative weight", code: workflow.EINVALID, reason: "WEIGHT_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[0].Weight = -1 })},
	{name: "weight above the limit", code: workflow.EINVALID, reason: "WEIGHT_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[0].Weight = workflow.MaxWeight + 1 })},
	{name: "mediator with a weight", code: workflow.EINVALID, reason: "WEIGHT_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[4].Weight = 1 })},
	{name: "display name one byte too long", code: workflow.EINVALID, reason: "DISPLAY_NAME_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) {
			c.Participants[0].DisplayName = strings.Repeat("U", workflow.MaxDisplayNameBytes+1)
		})},
	{name: "display name on two lines", code: workflow.EINVALID, reason: "DISPLAY_NAME_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[0].DisplayName = "Ukr\naine" })},
	{name: "display name with DEL", code: workflow.EINVALID, reason: "DISPLAY_NAME_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants[0].DisplayName = "Ukraine\x7f" })},
	{name: "only a mediator and an observer", code: workflow.EINVALID, reason: "NO_DELEGATION", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants = c.Participants[4:] })},
	{name: "no mediator", code: workflow.EINVALID, reason: "NO_MEDIATOR", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Participants = c.Participants[:4] })},
	{name: "no decision method", code: workflow.EINVALID, reason: "DECISION_RULE_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Rule.Method = 0 })},
	{name: "unknown decision method", code: workflow.EINVALID, reason: "DECISION_RULE_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Rule.Method = workflow.MethodQualified + 1 })},
	{name: "negative quorum", code: workflow.EINVALID, reason: "QUORUM_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Rule.Quorum = -1 })},
	{name: "quorum above the delegations", code: workflow.EINVALID, reason: "QUORUM_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Rule.Quorum = int32(len(delegations)) + 1 })},
	{name: "qualified without threshold", code: workflow.EINVALID, reason: "THRESHOLD_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Rule = workflow.DecisionRule{Method: workflow.MethodQualified} })},
	{name: "qualified above 100 percent", code: workflow.EINVALID, reason: "THRESHOLD_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) {
			c.Rule = workflow.DecisionRule{Method: workflow.MethodQualified, ThresholdBasisPoints: 10001}
		})},
	{name: "threshold on consensus", code: workflow.EINVALID, reason: "THRESHOLD_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Rule.ThresholdBasisPoints = 5000 })},
	{name: "no point", code: workflow.EINVALID, reason: "POINTS_REQUIRED", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Points = nil })},
	{name: "one point too many", code: workflow.EINVALID, reason: "TOO_MANY_POINTS", nilState: true,
		run: createWith(withManyPoints(workflow.MaxPoints + 1))},
	{name: "point without id", code: workflow.EINVALID, reason: "POINT_ID_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Points[1].ID = "" })},
	{name: "point id repeated", code: workflow.EINVALID, reason: "POINT_ID_INVALID", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Points[2].ID = "p1" })},
	{name: "blank point", code: workflow.EINVALID, reason: "TEXT_EMPTY", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Points[1].Text = " \r\n \n" })},
	{name: "point not UTF-8", code: workflow.EINVALID, reason: "TEXT_NOT_UTF8", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Points[1].Text = "Kyiv \xc3" })},
	{name: "point too long", code: workflow.EINVALID, reason: "TEXT_TOO_LONG", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) {
			c.Points[1].Text = strings.Repeat("x", workflow.MaxPointTextBytes+1)
		})},
	{name: "point with a control character", code: workflow.EINVALID, reason: "TEXT_CONTROL_CHARACTER", nilState: true,
		run: createWith(func(c *workflow.CreateNegotiation) { c.Points[1].Text = "form\ffeed" })},

	// Who may act. The full matrix is TestRoles; these pin each reason.
	{name: "admin proposes", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: func(*fixture) (string, workflow.Command) { return admin, replaceP1() }},
	{name: "observer proposes", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: func(*fixture) (string, workflow.Command) { return observer, replaceP1() }},
	{name: "mediator votes", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: onOpenAmendment(mediator, vote(workflow.ChoiceApprove, ""))},
	{name: "delegation closes voting", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: onOpenAmendment(russia, closeVoting)},
	{name: "stranger votes", code: workflow.EPERMISSION, reason: "NOT_A_MEMBER",
		run: onOpenAmendment(stranger, vote(workflow.ChoiceApprove, ""))},
	{name: "stranger signs off", code: workflow.EPERMISSION, reason: "NOT_A_MEMBER",
		run: func(f *fixture) (string, workflow.Command) { return stranger, f.signOffCmd("p1") }},
	{name: "delegation withdraws another's amendment", code: workflow.EPERMISSION, reason: "NOT_PROPOSER",
		run: onOpenAmendment(russia, withdraw)},
	{name: "delegation issues a credential", code: workflow.EPERMISSION, reason: "ADMIN_ONLY",
		run: func(*fixture) (string, workflow.Command) {
			return ukraine, workflow.IssueCredential{Participant: ukraine, TokenHash: goodHash}
		}},
	{name: "mediator revokes a credential", code: workflow.EPERMISSION, reason: "ADMIN_ONLY",
		run: func(*fixture) (string, workflow.Command) {
			return mediator, workflow.RevokeCredential{Participant: ukraine}
		}},

	// After conclusion. TestConcluded covers every command.
	{name: "vote after conclusion", code: workflow.EFAILEDPRECONDITION, reason: "NEGOTIATION_CONCLUDED",
		run: func(f *fixture) (string, workflow.Command) {
			f.conclude()
			return ukraine, replaceP1()
		}},

	// ProposeAmendment.
	{name: "blank text", code: workflow.EINVALID, reason: "TEXT_EMPTY",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Text = " \n\t\n " })},
	{name: "insert without text", code: workflow.EINVALID, reason: "TEXT_EMPTY",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Kind, c.BaseRevision, c.Text = workflow.KindInsert, 0, "" })},
	{name: "text not UTF-8", code: workflow.EINVALID, reason: "TEXT_NOT_UTF8",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Text = "caf\xe9" })},
	{name: "text too long", code: workflow.EINVALID, reason: "TEXT_TOO_LONG",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Text = strings.Repeat("a", workflow.MaxPointTextBytes+1) })},
	{name: "text with a bell", code: workflow.EINVALID, reason: "TEXT_CONTROL_CHARACTER",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Text = "ring\x07" })},
	{name: "delete with text", code: workflow.EINVALID, reason: "TEXT_NOT_ALLOWED",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Kind = workflow.KindDelete })},
	{name: "no kind", code: workflow.EINVALID, reason: "KIND_INVALID",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Kind = 0 })},
	{name: "unknown kind", code: workflow.EINVALID, reason: "KIND_INVALID",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Kind = workflow.KindDelete + 1 })},
	{name: "rationale one byte too long", code: workflow.EINVALID, reason: "RATIONALE_TOO_LONG",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Rationale = strings.Repeat("r", workflow.MaxRationaleBytes+1) })},
	{name: "rationale not UTF-8", code: workflow.EINVALID, reason: "TEXT_NOT_UTF8",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Rationale = "\xff" })},
	{name: "rationale with an escape", code: workflow.EINVALID, reason: "TEXT_CONTROL_CHARACTER",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Rationale = "\x1b[31mred" })},
	{name: "no amendment id", code: workflow.EINVALID, reason: "AMENDMENT_ID_REQUIRED",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.AmendmentID = "" })},
	{name: "amendment id taken", code: workflow.EALREADYEXISTS, reason: "AMENDMENT_EXISTS",
		run: func(f *fixture) (string, workflow.Command) {
			c := replaceP1()
			c.AmendmentID = f.propose(russia, workflow.KindDelete, "p3", "")
			return ukraine, c
		}},
	{name: "insert with a base revision", code: workflow.EINVALID, reason: "BASE_REVISION_INVALID",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Kind = workflow.KindInsert })},
	{name: "insert after an unknown point", code: workflow.ENOTFOUND, reason: "POINT_NOT_FOUND",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Kind, c.BaseRevision, c.PointID = workflow.KindInsert, 0, "nope" })},
	{name: "insert after a deleted point", code: workflow.EFAILEDPRECONDITION, reason: "POINT_DELETED",
		run: func(f *fixture) (string, workflow.Command) {
			deleteP1(f)
			return russia, workflow.ProposeAmendment{AmendmentID: "am-new", Kind: workflow.KindInsert, PointID: "p1", Text: "New."}
		}},
	{name: "insert into a full document", code: workflow.ERESOURCEEXHAUSTED, reason: "TOO_MANY_POINTS",
		opts: []option{withManyPoints(workflow.MaxPoints)},
		run: func(f *fixture) (string, workflow.Command) {
			f.noFold = true
			return ukraine, workflow.ProposeAmendment{AmendmentID: "am-new", Kind: workflow.KindInsert, Text: "One more."}
		}},
	{name: "replace without point", code: workflow.EINVALID, reason: "POINT_REQUIRED",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.PointID = "" })},
	{name: "delete without point", code: workflow.EINVALID, reason: "POINT_REQUIRED",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Kind, c.Text, c.PointID = workflow.KindDelete, "", "" })},
	{name: "replace at revision 0", code: workflow.EINVALID, reason: "BASE_REVISION_INVALID",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.BaseRevision = 0 })},
	{name: "delete at a negative revision", code: workflow.EINVALID, reason: "BASE_REVISION_INVALID",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Kind, c.Text, c.BaseRevision = workflow.KindDelete, "", -1 })},
	{name: "replace an unknown point", code: workflow.ENOTFOUND, reason: "POINT_NOT_FOUND",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.PointID = "nope" })},
	{name: "replace a deleted point", code: workflow.EFAILEDPRECONDITION, reason: "POINT_DELETED",
		run: func(f *fixture) (string, workflow.Command) {
			deleteP1(f)
			return russia, replaceP1()
		}},
	{name: "delete a deleted point", code: workflow.EFAILEDPRECONDITION, reason: "POINT_DELETED",
		run: func(f *fixture) (string, workflow.Command) {
			deleteP1(f)
			return russia, workflow.ProposeAmendment{AmendmentID: "am-new", Kind: workflow.KindDelete, PointID: "p1", BaseRevision: 1}
		}},
	{name: "replace at a revision from the future", code: workflow.EINVALID, reason: "REVISION_UNKNOWN",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.BaseRevision = 2 })},
	{name: "replace at the revision before the last change", code: workflow.EABORTED, reason: "STALE_REVISION",
		run: func(f *fixture) (string, workflow.Command) {
			f.amend(workflow.KindReplace, "p1", "Changed.")
			return russia, replaceP1()
		}},
	{name: "delete at an old revision", code: workflow.EABORTED, reason: "STALE_REVISION",
		run: func(f *fixture) (string, workflow.Command) {
			f.amend(workflow.KindReplace, "p1", "Changed.")
			return russia, workflow.ProposeAmendment{AmendmentID: "am-new", Kind: workflow.KindDelete, PointID: "p1", BaseRevision: 1}
		}},
	{name: "replace with the same text", code: workflow.EINVALID, reason: "TEXT_UNCHANGED",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.Text = text1 })},
	{name: "replace with the same text typed on another system", code: workflow.EINVALID, reason: "TEXT_UNCHANGED",
		run: proposeWith(func(c *workflow.ProposeAmendment) {
			c.PointID = "p2"
			c.Text = "\r\n" + strings.ReplaceAll(text2, "\n", "  \r\n") + "\r\n\r\n"
		})},
	{name: "delete the last point", code: workflow.EFAILEDPRECONDITION, reason: "LAST_POINT",
		opts: []option{withTexts("The only point.")},
		run:  proposeWith(func(c *workflow.ProposeAmendment) { c.Kind, c.Text = workflow.KindDelete, "" })},

	// CastVote.
	{name: "no choice", code: workflow.EINVALID, reason: "CHOICE_INVALID",
		run: onOpenAmendment(russia, vote(0, ""))},
	{name: "unknown choice", code: workflow.EINVALID, reason: "CHOICE_INVALID",
		run: onOpenAmendment(russia, vote(workflow.ChoiceAbstain+1, ""))},
	{name: "reason one byte too long", code: workflow.EINVALID, reason: "REASON_TOO_LONG",
		run: onOpenAmendment(russia, vote(workflow.ChoiceReject, strings.Repeat("n", workflow.MaxReasonBytes+1)))},
	{name: "reason not UTF-8", code: workflow.EINVALID, reason: "TEXT_NOT_UTF8",
		run: onOpenAmendment(russia, vote(workflow.ChoiceReject, "no\xff"))},
	{name: "reject without reason", code: workflow.EINVALID, reason: "REASON_REQUIRED",
		run: onOpenAmendment(russia, vote(workflow.ChoiceReject, ""))},
	{name: "reject with a blank reason", code: workflow.EINVALID, reason: "REASON_REQUIRED",
		run: onOpenAmendment(russia, vote(workflow.ChoiceReject, " \n "))},
	{name: "vote on an unknown amendment", code: workflow.ENOTFOUND, reason: "AMENDMENT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) { return russia, vote(workflow.ChoiceApprove, "")("am-nope") }},
	{name: "vote on a passed amendment", code: workflow.EFAILEDPRECONDITION, reason: "VOTING_CLOSED",
		run: onPassedAmendment(russia, vote(workflow.ChoiceAbstain, ""))},
	{name: "vote on a failed amendment", code: workflow.EFAILEDPRECONDITION, reason: "VOTING_CLOSED",
		run: func(f *fixture) (string, workflow.Command) {
			return russia, vote(workflow.ChoiceApprove, "")(failedAmendment(f))
		}},
	{name: "vote on a withdrawn amendment", code: workflow.EFAILEDPRECONDITION, reason: "VOTING_CLOSED",
		run: func(f *fixture) (string, workflow.Command) {
			id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
			f.do(ukraine, workflow.WithdrawAmendment{AmendmentID: id})
			return russia, vote(workflow.ChoiceApprove, "")(id)
		}},

	// CloseVoting.
	{name: "close an unknown amendment", code: workflow.ENOTFOUND, reason: "AMENDMENT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) { return mediator, closeVoting("am-nope") }},
	{name: "close twice", code: workflow.EFAILEDPRECONDITION, reason: "VOTING_CLOSED",
		run: func(f *fixture) (string, workflow.Command) { return mediator, closeVoting(failedAmendment(f)) }},
	{name: "close a passed amendment", code: workflow.EFAILEDPRECONDITION, reason: "VOTING_CLOSED",
		run: onPassedAmendment(mediator, closeVoting)},

	// ApplyAmendment.
	{name: "apply an unknown amendment", code: workflow.ENOTFOUND, reason: "AMENDMENT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) { return mediator, applyAs("")("am-nope") }},
	{name: "apply an open amendment", code: workflow.EFAILEDPRECONDITION, reason: "AMENDMENT_NOT_PASSED",
		run: onOpenAmendment(mediator, applyAs(""))},
	{name: "apply a failed amendment", code: workflow.EFAILEDPRECONDITION, reason: "AMENDMENT_NOT_PASSED",
		run: func(f *fixture) (string, workflow.Command) { return mediator, applyAs("")(failedAmendment(f)) }},
	{name: "apply twice", code: workflow.EFAILEDPRECONDITION, reason: "AMENDMENT_NOT_PASSED",
		run: func(f *fixture) (string, workflow.Command) {
			return mediator, applyAs("")(f.amend(workflow.KindReplace, "p1", "Changed."))
		}},
	{name: "apply a stale amendment", code: workflow.EFAILEDPRECONDITION, reason: "AMENDMENT_NOT_PASSED",
		run: func(f *fixture) (string, workflow.Command) {
			id := f.propose(russia, workflow.KindReplace, "p1", "Russia's text.")
			f.pass(id)
			f.amend(workflow.KindReplace, "p1", "Ukraine's text.")
			return mediator, applyAs("")(id)
		}},
	{name: "apply the second delete of a two-point document", code: workflow.EFAILEDPRECONDITION, reason: "LAST_POINT",
		opts: []option{withTexts("First.", "Second.")},
		run: func(f *fixture) (string, workflow.Command) {
			a := f.propose(ukraine, workflow.KindDelete, "p1", "")
			b := f.propose(russia, workflow.KindDelete, "p2", "")
			f.pass(a)
			f.pass(b)
			f.applyAmendment(a)
			return mediator, applyAs("")(b)
		}},
	{name: "apply an insert without a new point id", code: workflow.EINVALID, reason: "POINT_ID_INVALID",
		run: func(f *fixture) (string, workflow.Command) {
			id := f.propose(ukraine, workflow.KindInsert, "p1", "Inserted.")
			f.pass(id)
			return mediator, applyAs("")(id)
		}},
	{name: "apply an insert with the id of a point", code: workflow.EALREADYEXISTS, reason: "POINT_EXISTS",
		run: func(f *fixture) (string, workflow.Command) {
			id := f.propose(ukraine, workflow.KindInsert, "", "Inserted.")
			f.pass(id)
			return mediator, applyAs("p2")(id)
		}},
	{name: "apply an insert with the id of a deleted point", code: workflow.EALREADYEXISTS, reason: "POINT_EXISTS",
		run: func(f *fixture) (string, workflow.Command) {
			deleteP1(f)
			id := f.propose(ukraine, workflow.KindInsert, "", "Inserted.")
			f.pass(id)
			return mediator, applyAs("p1")(id)
		}},
	{name: "apply an insert into a full document", code: workflow.ERESOURCEEXHAUSTED, reason: "TOO_MANY_POINTS",
		opts: []option{withManyPoints(workflow.MaxPoints - 1)},
		run: func(f *fixture) (string, workflow.Command) {
			f.noFold = true
			a := f.propose(ukraine, workflow.KindInsert, "", "One more.")
			b := f.propose(russia, workflow.KindInsert, "", "And another.")
			f.pass(a)
			f.pass(b)
			f.applyAmendment(a)
			return mediator, applyAs("new-last")(b)
		}},

	// RejectAmendment.
	{name: "reject without reason", code: workflow.EINVALID, reason: "REASON_REQUIRED",
		run: onPassedAmendment(mediator, rejectBecause(" "))},
	{name: "reject with a reason one byte too long", code: workflow.EINVALID, reason: "REASON_TOO_LONG",
		run: onPassedAmendment(mediator, rejectBecause(strings.Repeat("n", workflow.MaxReasonBytes+1)))},
	{name: "reject with a NUL in the reason", code: workflow.EINVALID, reason: "TEXT_CONTROL_CHARACTER",
		run: onPassedAmendment(mediator, rejectBecause("no\x00"))},
	{name: "reject an unknown amendment", code: workflow.ENOTFOUND, reason: "AMENDMENT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) { return mediator, rejectBecause("No.")("am-nope") }},
	{name: "reject an open amendment", code: workflow.EFAILEDPRECONDITION, reason: "AMENDMENT_NOT_PASSED",
		run: onOpenAmendment(mediator, rejectBecause("No."))},

	// WithdrawAmendment.
	{name: "withdraw an unknown amendment", code: workflow.ENOTFOUND, reason: "AMENDMENT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) { return ukraine, withdraw("am-nope") }},
	{name: "withdraw twice", code: workflow.EFAILEDPRECONDITION, reason: "AMENDMENT_NOT_PENDING",
		run: func(f *fixture) (string, workflow.Command) {
			id := f.propose(ukraine, workflow.KindReplace, "p1", "A new text.")
			f.do(ukraine, withdraw(id))
			return ukraine, withdraw(id)
		}},
	{name: "withdraw an applied amendment", code: workflow.EFAILEDPRECONDITION, reason: "AMENDMENT_NOT_PENDING",
		run: func(f *fixture) (string, workflow.Command) {
			return ukraine, withdraw(f.amend(workflow.KindReplace, "p1", "Changed."))
		}},
	{name: "withdraw a failed amendment", code: workflow.EFAILEDPRECONDITION, reason: "AMENDMENT_NOT_PENDING",
		run: func(f *fixture) (string, workflow.Command) { return ukraine, withdraw(failedAmendment(f)) }},

	// SignOffPoint.
	{name: "sign off revision 0", code: workflow.EINVALID, reason: "REVISION_INVALID",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.signOffCmd("p1")
			c.Revision = 0
			return ukraine, c
		}},
	{name: "sign off with an uppercase hash", code: workflow.EINVALID, reason: "HASH_INVALID",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.signOffCmd("p1")
			c.TextHash = strings.ToUpper(c.TextHash)
			return ukraine, c
		}},
	{name: "sign off without hash", code: workflow.EINVALID, reason: "HASH_INVALID",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.signOffCmd("p1")
			c.TextHash = ""
			return ukraine, c
		}},
	{name: "sign off an unknown point", code: workflow.ENOTFOUND, reason: "POINT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) {
			return ukraine, workflow.SignOffPoint{PointID: "nope", Revision: 1, TextHash: goodHash}
		}},
	{name: "sign off a deleted point", code: workflow.EFAILEDPRECONDITION, reason: "POINT_DELETED",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.signOffCmd("p1")
			deleteP1(f)
			return ukraine, c
		}},
	{name: "sign off a revision from the future", code: workflow.EINVALID, reason: "REVISION_UNKNOWN",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.signOffCmd("p1")
			c.Revision = 2
			return ukraine, c
		}},
	{name: "sign off the revision before the last change", code: workflow.EABORTED, reason: "STALE_REVISION",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.signOffCmd("p1")
			f.amend(workflow.KindReplace, "p1", "Changed.")
			return ukraine, c
		}},
	{name: "sign off with the hash of another text", code: workflow.EABORTED, reason: "TEXT_HASH_MISMATCH",
		run: func(f *fixture) (string, workflow.Command) {
			c := f.signOffCmd("p1")
			c.TextHash = workflow.HashText(text1 + " ")
			return ukraine, c
		}},
	{name: "sign off the current revision with the old text's hash", code: workflow.EABORTED, reason: "TEXT_HASH_MISMATCH",
		run: func(f *fixture) (string, workflow.Command) {
			old := f.signOffCmd("p1")
			f.amend(workflow.KindReplace, "p1", "Changed.")
			c := f.signOffCmd("p1")
			c.TextHash = old.TextHash
			return ukraine, c
		}},

	// RevokeSignOff.
	{name: "revoke on an unknown point", code: workflow.ENOTFOUND, reason: "POINT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) { return ukraine, workflow.RevokeSignOff{PointID: "nope"} }},
	{name: "revoke on a deleted point", code: workflow.EFAILEDPRECONDITION, reason: "POINT_DELETED",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, f.signOffCmd("p1"))
			deleteP1(f)
			return ukraine, workflow.RevokeSignOff{PointID: "p1"}
		}},
	{name: "revoke what was never signed", code: workflow.EFAILEDPRECONDITION, reason: "NOT_SIGNED_OFF",
		run: func(*fixture) (string, workflow.Command) { return ukraine, workflow.RevokeSignOff{PointID: "p1"} }},
	{name: "revoke a sign-off made by another", code: workflow.EFAILEDPRECONDITION, reason: "NOT_SIGNED_OFF",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(russia, f.signOffCmd("p1"))
			return ukraine, workflow.RevokeSignOff{PointID: "p1"}
		}},
	{name: "revoke a stale sign-off", code: workflow.EFAILEDPRECONDITION, reason: "NOT_SIGNED_OFF",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, f.signOffCmd("p1"))
			f.amend(workflow.KindReplace, "p1", "Changed.")
			return ukraine, workflow.RevokeSignOff{PointID: "p1"}
		}},
	{name: "revoke twice", code: workflow.EFAILEDPRECONDITION, reason: "NOT_SIGNED_OFF",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, f.signOffCmd("p1"))
			f.do(ukraine, workflow.RevokeSignOff{PointID: "p1"})
			return ukraine, workflow.RevokeSignOff{PointID: "p1"}
		}},

	// AcceptDocument.
	{name: "accept without hash", code: workflow.EINVALID, reason: "HASH_INVALID",
		run: func(f *fixture) (string, workflow.Command) {
			f.signAll()
			return ukraine, workflow.AcceptDocument{}
		}},
	{name: "accept with a truncated hash", code: workflow.EINVALID, reason: "HASH_INVALID",
		run: func(f *fixture) (string, workflow.Command) {
			f.signAll()
			return ukraine, workflow.AcceptDocument{DocumentHash: f.n.DocumentHash()[:63]}
		}},
	{name: "accept with an open amendment", code: workflow.EFAILEDPRECONDITION, reason: "AMENDMENTS_PENDING",
		run: func(f *fixture) (string, workflow.Command) {
			f.signAll()
			f.propose(russia, workflow.KindInsert, "", "Preamble.")
			return ukraine, workflow.AcceptDocument{DocumentHash: f.n.DocumentHash()}
		}},
	{name: "accept with a passed amendment", code: workflow.EFAILEDPRECONDITION, reason: "AMENDMENTS_PENDING",
		run: func(f *fixture) (string, workflow.Command) {
			f.signAll()
			f.pass(f.propose(russia, workflow.KindInsert, "", "Preamble."))
			return ukraine, workflow.AcceptDocument{DocumentHash: f.n.DocumentHash()}
		}},
	{name: "accept with nothing signed", code: workflow.EFAILEDPRECONDITION, reason: "POINTS_NOT_AGREED",
		run: func(f *fixture) (string, workflow.Command) {
			return ukraine, workflow.AcceptDocument{DocumentHash: f.n.DocumentHash()}
		}},
	{name: "accept with one sign-off revoked", code: workflow.EFAILEDPRECONDITION, reason: "POINTS_NOT_AGREED",
		run: func(f *fixture) (string, workflow.Command) {
			f.signAll()
			f.do(europe, workflow.RevokeSignOff{PointID: "p3"})
			return ukraine, workflow.AcceptDocument{DocumentHash: f.n.DocumentHash()}
		}},
	{name: "accept with the hash of another text", code: workflow.EABORTED, reason: "DOCUMENT_HASH_MISMATCH",
		run: func(f *fixture) (string, workflow.Command) {
			f.signAll()
			return ukraine, workflow.AcceptDocument{DocumentHash: goodHash}
		}},
	{name: "accept the text before the last change", code: workflow.EABORTED, reason: "DOCUMENT_HASH_MISMATCH",
		run: func(f *fixture) (string, workflow.Command) {
			old := f.n.DocumentHash()
			f.amend(workflow.KindInsert, "p3", "Final clause.")
			f.signAll()
			return ukraine, workflow.AcceptDocument{DocumentHash: old}
		}},

	// Credentials.
	{name: "credential for a stranger", code: workflow.ENOTFOUND, reason: "PARTICIPANT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.IssueCredential{Participant: stranger, TokenHash: goodHash}
		}},
	{name: "revoke the admin's credential", code: workflow.ENOTFOUND, reason: "PARTICIPANT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) { return admin, workflow.RevokeCredential{Participant: admin} }},
	{name: "credential with a bad hash", code: workflow.EINVALID, reason: "HASH_INVALID",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.IssueCredential{Participant: ukraine, TokenHash: "token"}
		}},
	{name: "credential issued twice", code: workflow.EALREADYEXISTS, reason: "CREDENTIAL_EXISTS",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(admin, workflow.IssueCredential{Participant: ukraine, TokenHash: goodHash})
			return admin, workflow.IssueCredential{Participant: ukraine, TokenHash: workflow.HashText("other")}
		}},
	{name: "rotate without a credential", code: workflow.EFAILEDPRECONDITION, reason: "NO_CREDENTIAL",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.IssueCredential{Participant: ukraine, TokenHash: goodHash, Rotate: true}
		}},
	{name: "revoke without a credential", code: workflow.EFAILEDPRECONDITION, reason: "NO_CREDENTIAL",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.RevokeCredential{Participant: observer}
		}},
	{name: "revoke twice", code: workflow.EFAILEDPRECONDITION, reason: "NO_CREDENTIAL",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(admin, workflow.IssueCredential{Participant: mediator, TokenHash: goodHash})
			f.do(admin, workflow.RevokeCredential{Participant: mediator})
			return admin, workflow.RevokeCredential{Participant: mediator}
		}},

	// Counter-proposals.
	{name: "counter to an unknown amendment", code: workflow.ENOTFOUND, reason: "COUNTER_TARGET_NOT_FOUND",
		run: proposeWith(func(c *workflow.ProposeAmendment) { c.CounterTo = "am-elsewhere" })},
	{name: "counter to a withdrawn amendment", code: workflow.EFAILEDPRECONDITION, reason: "COUNTER_TARGET_NOT_PENDING",
		run: func(f *fixture) (string, workflow.Command) {
			target := f.propose(russia, workflow.KindReplace, "p1", "Russia's text.")
			f.do(russia, workflow.WithdrawAmendment{AmendmentID: target})
			c := replaceP1()
			c.CounterTo = target
			return ukraine, c
		}},
	{name: "counter on another point", code: workflow.EINVALID, reason: "COUNTER_POINT_MISMATCH",
		run: func(f *fixture) (string, workflow.Command) {
			c := replaceP1()
			c.CounterTo = f.propose(russia, workflow.KindReplace, "p3", "Russia's text.")
			return ukraine, c
		}},
	{name: "insert countering a replace", code: workflow.EINVALID, reason: "COUNTER_POINT_MISMATCH",
		run: func(f *fixture) (string, workflow.Command) {
			target := f.propose(russia, workflow.KindReplace, "p1", "Russia's text.")
			return ukraine, workflow.ProposeAmendment{AmendmentID: "am-new", Kind: workflow.KindInsert, PointID: "p1", Text: "New.", CounterTo: target}
		}},

	// Comments.
	{name: "empty comment", code: workflow.EINVALID, reason: "COMMENT_EMPTY",
		run: commentWith(func(c *workflow.PostComment) { c.Text = " \n\t " })},
	{name: "comment one byte too long", code: workflow.EINVALID, reason: "COMMENT_TOO_LONG",
		run: commentWith(func(c *workflow.PostComment) { c.Text = strings.Repeat("c", workflow.MaxCommentBytes+1) })},
	{name: "comment without id", code: workflow.EINVALID, reason: "COMMENT_ID_REQUIRED",
		run: commentWith(func(c *workflow.PostComment) { c.CommentID = "" })},
	{name: "comment posted twice", code: workflow.EALREADYEXISTS, reason: "COMMENT_EXISTS",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, validComment())
			return ukraine, validComment()
		}},
	{name: "comment about nothing", code: workflow.EINVALID, reason: "SUBJECT_REQUIRED",
		run: commentWith(func(c *workflow.PostComment) { c.PointID = "" })},
	{name: "comment on a point and an amendment", code: workflow.EINVALID, reason: "SUBJECT_CONFLICT",
		run: commentWith(func(c *workflow.PostComment) { c.AmendmentID = "am-1" })},
	{name: "comment on an unknown point", code: workflow.ENOTFOUND, reason: "POINT_NOT_FOUND",
		run: commentWith(func(c *workflow.PostComment) { c.PointID = "p9" })},
	{name: "comment on an unknown amendment", code: workflow.ENOTFOUND, reason: "AMENDMENT_NOT_FOUND",
		run: commentWith(func(c *workflow.PostComment) { c.PointID, c.AmendmentID = "", "am-9" })},
	{name: "reply to an unknown comment", code: workflow.ENOTFOUND, reason: "COMMENT_NOT_FOUND",
		run: commentWith(func(c *workflow.PostComment) { c.PointID, c.ParentID = "", "c-9" })},
	{name: "reply to a retracted comment", code: workflow.EFAILEDPRECONDITION, reason: "COMMENT_RETRACTED",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(russia, validComment())
			f.do(russia, workflow.RetractComment{CommentID: "c-1"})
			return ukraine, workflow.PostComment{CommentID: "c-2", ParentID: "c-1", Text: "Why?"}
		}},
	{name: "comment by an observer", code: workflow.EPERMISSION, reason: "ROLE_NOT_ALLOWED",
		run: func(*fixture) (string, workflow.Command) { return observer, validComment() }},
	{name: "retract another's comment", code: workflow.EPERMISSION, reason: "NOT_AUTHOR",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(russia, validComment())
			return ukraine, workflow.RetractComment{CommentID: "c-1"}
		}},
	{name: "retract twice", code: workflow.EFAILEDPRECONDITION, reason: "COMMENT_RETRACTED",
		run: func(f *fixture) (string, workflow.Command) {
			f.do(ukraine, validComment())
			f.do(ukraine, workflow.RetractComment{CommentID: "c-1"})
			return ukraine, workflow.RetractComment{CommentID: "c-1"}
		}},
	{name: "retract an unknown comment", code: workflow.ENOTFOUND, reason: "COMMENT_NOT_FOUND",
		run: func(*fixture) (string, workflow.Command) { return ukraine, workflow.RetractComment{CommentID: "c-9"} }},
	{name: "one comment too many", code: workflow.ERESOURCEEXHAUSTED, reason: "TOO_MANY_COMMENTS",
		run: func(f *fixture) (string, workflow.Command) {
			f.noFold = true // a hundred thousand events; the fold is checked elsewhere
			for i := range workflow.MaxComments {
				f.do(ukraine, workflow.PostComment{CommentID: fmt.Sprintf("c-%d", i+1), PointID: "p1", Text: "More."})
			}
			return ukraine, workflow.PostComment{CommentID: "c-last", PointID: "p1", Text: "One more."}
		}},
	{name: "comment after conclusion", code: workflow.EFAILEDPRECONDITION, reason: "NEGOTIATION_CONCLUDED",
		run: func(f *fixture) (string, workflow.Command) {
			f.conclude()
			return ukraine, validComment()
		}},

	// The checkpoint key.
	{name: "a delegation rotates the checkpoint key", code: workflow.EPERMISSION, reason: "ADMIN_ONLY",
		run: func(*fixture) (string, workflow.Command) {
			return ukraine, workflow.RotateCheckpointKey{VerifierKey: "parley+1234abcd+new"}
		}},
	{name: "a rotation without a new key", code: workflow.EINVALID, reason: "VERIFIER_KEY_INVALID",
		run: func(*fixture) (string, workflow.Command) {
			return admin, workflow.RotateCheckpointKey{VerifierKey: "parley+1234abcd+same", PreviousVerifierKey: "parley+1234abcd+same"}
		}},
}

func validComment() workflow.PostComment {
	return workflow.PostComment{CommentID: "c-1", PointID: "p1", Text: "Which borders?"}
}

func commentWith(mod func(c *workflow.PostComment)) func(*fixture) (string, workflow.Command) {
	return func(*fixture) (string, workflow.Command) {
		c := validComment()
		mod(&c)
		return ukraine, c
	}
}

// manyParticipants returns count participants: a mediator and count-1
// delegations.
func manyParticipants(count int) []workflow.Participant {
	ps := make([]workflow.Participant, count)
	ps[0] = workflow.Participant{ID: mediator, Role: workflow.RoleMediator}
	for i := 1; i < count; i++ {
		ps[i] = workflow.Participant{ID: fmt.Sprintf("d%d", i), Role: workflow.RoleDelegation}
	}
	return ps
}

func TestRefusals(t *testing.T) {
	for _, tc := range refusals {
		t.Run(errName(tc.reason)+"/"+tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts...)
			actor, cmd := tc.run(f)
			if tc.nilState {
				events, err := workflow.Decide(nil, f.meta(actor), cmd)
				checkRefused(t, events, err, tc.code, tc.reason)
				return
			}
			f.refuse(actor, cmd, tc.code, tc.reason)
		})
	}
}

// The refusals break valid commands in one way each; these are the valid
// commands, so that a refusal cannot pass because its base was broken too.
func TestRefusalBasesSucceed(t *testing.T) {
	t.Run("create", func(t *testing.T) {
		if _, err := workflow.Decide(nil, workflow.Meta{Actor: admin}, validCreate()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("replace", func(t *testing.T) {
		f := newFixture(t)
		f.do(ukraine, replaceP1())
	})
	t.Run("insert", func(t *testing.T) {
		f := newFixture(t)
		f.do(ukraine, workflow.ProposeAmendment{AmendmentID: "am-new", Kind: workflow.KindInsert, PointID: "p1", Text: "New."})
	})
	t.Run("delete", func(t *testing.T) {
		f := newFixture(t)
		f.do(ukraine, workflow.ProposeAmendment{AmendmentID: "am-new", Kind: workflow.KindDelete, PointID: "p1", BaseRevision: 1})
	})
	t.Run("comment", func(t *testing.T) {
		f := newFixture(t)
		f.do(ukraine, validComment())
	})
	t.Run("sign off", func(t *testing.T) {
		f := newFixture(t)
		f.do(ukraine, f.signOffCmd("p1"))
	})
	t.Run("credential", func(t *testing.T) {
		f := newFixture(t)
		f.do(admin, workflow.IssueCredential{Participant: ukraine, TokenHash: goodHash})
		f.do(admin, workflow.IssueCredential{Participant: ukraine, TokenHash: goodHash, Rotate: true})
		f.do(admin, workflow.RevokeCredential{Participant: ukraine})
	})
}

// TestEveryReasonIsTested reads the reasons the package can return from its
// source and fails when one has no test, so that a new refusal cannot be added
// without its test.
func TestEveryReasonIsTested(t *testing.T) {
	codes := map[string]string{
		"EINVALID": workflow.EINVALID, "ENOTFOUND": workflow.ENOTFOUND,
		"EFAILEDPRECONDITION": workflow.EFAILEDPRECONDITION, "EABORTED": workflow.EABORTED,
		"EALREADYEXISTS": workflow.EALREADYEXISTS, "EPERMISSION": workflow.EPERMISSION,
		"EUNAUTHENTICATED": workflow.EUNAUTHENTICATED, "ERESOURCEEXHAUSTED": workflow.ERESOURCEEXHAUSTED,
		"EUNAVAILABLE": workflow.EUNAVAILABLE, "EINTERNAL": workflow.EINTERNAL,
	}
	direct := regexp.MustCompile(`Errorf\((E[A-Z]+), "([A-Z0-9_]+)"`)
	// validateLine and validateFreeText take the reason as an argument and
	// always fail with EINVALID.
	passed := regexp.MustCompile(`validate(?:Line|FreeText)\([^,]+, "([A-Z0-9_]+)"`)
	want := map[string]bool{}
	for _, file := range []string{"decide.go", "text.go", "apply.go", "changes.go", "consent.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range direct.FindAllStringSubmatch(string(src), -1) {
			want[codes[m[1]]+"/"+m[2]] = true
		}
		for _, m := range passed.FindAllStringSubmatch(string(src), -1) {
			want[workflow.EINVALID+"/"+m[1]] = true
		}
	}
	if len(want) < 50 {
		t.Fatalf("found only %d reasons in the source; has the pattern of Errorf calls changed?", len(want))
	}
	tested := map[string]bool{}
	for _, r := range refusals {
		tested[r.code+"/"+r.reason] = true
	}
	for _, r := range defensiveRefusals {
		tested[r.code+"/"+r.reason] = true
	}
	for _, r := range changeRefusals {
		tested[r.code+"/"+r.reason] = true
	}
	for _, r := range consentRefusals {
		tested[r.code+"/"+r.reason] = true
	}
	for _, c := range parseCases {
		if c.reason != "" {
			tested[workflow.EINVALID+"/"+c.reason] = true
		}
	}
	if len(corruptLogs) > 0 {
		tested[workflow.EINTERNAL+"/LOG_CORRUPT"] = true
	}
	var missing []string
	for r := range want {
		if !tested[r] {
			missing = append(missing, r)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("reasons without a test: %v", missing)
	}
	var unknown []string
	for r := range tested {
		if !want[r] {
			unknown = append(unknown, r)
		}
	}
	slices.Sort(unknown)
	if len(unknown) > 0 {
		t.Errorf("tests expect reasons the source never returns: %v", unknown)
	}
}

// A refusal of a document names the point or line at fault by its number, so
// that whoever typed the document can find it.
func TestRefusalsSayWhere(t *testing.T) {
	create := func(mod func(c *workflow.CreateNegotiation)) error {
		c := validCreate()
		mod(&c)
		_, err := workflow.Decide(nil, workflow.Meta{Actor: admin}, c)
		return err
	}
	_, parseErr := workflow.ParseNumberedText("1. First.\n2. Second.\n3. \x07Third.")
	_, preambleErr := workflow.ParseNumberedText("\nA preamble.\n1. First.")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"repeated id", create(func(c *workflow.CreateNegotiation) { c.Points[2].ID = c.Points[0].ID }), "point 3 "},
		{"empty text", create(func(c *workflow.CreateNegotiation) { c.Points[1].Text = " \n " }), "point 2 "},
		{"numbered text", parseErr, "point 3 "},
		{"text before the first point", preambleErr, "line 2 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := workflow.ErrorMessage(tt.err); !strings.HasPrefix(msg, tt.want) {
				t.Errorf("message %q does not start with %q", msg, tt.want)
			}
		})
	}
}
