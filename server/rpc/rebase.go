package rpc

import (
	"context"

	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/merge"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// rebaseAmendment re-proposes a STALE amendment on its point's current text
// (ProposeAmendmentRequest.rebase_of). The three texts are copied out of the
// state and merged here, outside the commit, so that no writer waits for a
// diff; the rules then check that the text merged against is still current
// and record the merged text, or refuse with the conflicts. A merge that
// cannot be made is passed on as conflicts rather than returned from here,
// so that a retry of a request that succeeded gets its first reply.
func (s *Server) rebaseAmendment(ctx context.Context, req *parleyv1.ProposeAmendmentRequest) (*parleyv1.ProposeAmendmentResponse, error) {
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	snid, staleID, err := wire.ParseAmendmentName("rebase_of", req.GetRebaseOf())
	if err != nil {
		return nil, err
	}
	if snid != nid {
		return nil, workflow.Errorf(workflow.EINVALID, "REBASE_OTHER_NEGOTIATION", "rebase_of names an amendment of another negotiation")
	}
	if req.GetKind() != parleyv1.AmendmentKind_AMENDMENT_KIND_UNSPECIFIED || req.GetPoint() != "" || req.GetBaseRevision() != 0 ||
		req.GetText() != "" || req.GetCounterTo() != "" {
		return nil, workflow.Errorf(workflow.EINVALID, "REBASE_FIELDS_NOT_ALLOWED", "a rebase takes its kind, point, base revision and text from the stale amendment and the merge: leave kind, point, base_revision, text and counter_to unset")
	}
	deadline, err := deadlineOf("voting_deadline", req.GetVotingDeadline(), false)
	if err != nil {
		return nil, err
	}
	var base, yours, theirs string
	var current int64
	var ok bool
	if err := s.view(ctx, nid, func(n *workflow.Negotiation) error {
		base, yours, theirs, current, ok = n.RebaseSource(staleID)
		return nil
	}); err != nil {
		return nil, err
	}
	cmd := workflow.RebaseAmendment{AmendmentID: newID(ctx), StaleID: staleID, BaseRevision: current,
		Rationale: req.GetRationale(), Deadline: deadline}
	if ok { // else the rules say what is wrong with the amendment
		merged, conflicts := merge.Words(base, yours, theirs)
		cmd.Text = merged
		for _, c := range conflicts {
			cmd.Conflicts = append(cmd.Conflicts, workflow.TextConflict{FirstWord: c.FirstWord, LastWord: c.LastWord,
				Base: c.Base, Yours: c.Yours, Theirs: c.Theirs})
		}
	}
	return executeOnAmendment[*parleyv1.ProposeAmendmentResponse](ctx, s, req, nid, cmd, cmd.AmendmentID, func(a *parleyv1.Amendment, _ *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.ProposeAmendmentResponse{Amendment: a}
	})
}
