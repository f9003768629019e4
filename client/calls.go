package client

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/parley-negotiation/parley/client/backup"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// invoke makes one call with the client's retry policy. A mutating request
// already holds its request_id, so every attempt sends the same one.
func invoke[Req, Resp any](ctx context.Context, c *Client, req Req, call func(context.Context, Req, ...grpc.CallOption) (Resp, error)) (Resp, error) {
	var resp Resp
	err := c.do(ctx, func(ctx context.Context) error {
		var err error
		resp, err = call(ctx, req)
		return err
	})
	return resp, err
}

// idFor fills in a mutating request's id unless the caller chose one.
func (c *Client) idFor(ctx context.Context, current string) string {
	if current != "" {
		return current
	}
	return c.requestID(ctx)
}

// Caller says who the client's token belongs to.
func (c *Client) Caller(ctx context.Context) (*parleyv1.GetCallerResponse, error) {
	return invoke(ctx, c, &parleyv1.GetCallerRequest{}, c.svc.GetCaller)
}

// CreateNegotiation creates a negotiation (administrator only).
func (c *Client) CreateNegotiation(ctx context.Context, req *parleyv1.CreateNegotiationRequest) (*parleyv1.Negotiation, error) {
	req.RequestId = c.idFor(ctx, req.GetRequestId())
	resp, err := invoke(ctx, c, req, c.svc.CreateNegotiation)
	return resp.GetNegotiation(), err
}

// Negotiation gets a negotiation by resource name.
func (c *Client) Negotiation(ctx context.Context, name string) (*parleyv1.Negotiation, error) {
	resp, err := invoke(ctx, c, &parleyv1.GetNegotiationRequest{Name: name}, c.svc.GetNegotiation)
	return resp.GetNegotiation(), err
}

// Negotiations lists every negotiation the caller may read, all pages.
func (c *Client) Negotiations(ctx context.Context) ([]*parleyv1.Negotiation, error) {
	var out []*parleyv1.Negotiation
	req := &parleyv1.ListNegotiationsRequest{PageSize: 500}
	for {
		resp, err := invoke(ctx, c, req, c.svc.ListNegotiations)
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetNegotiations()...)
		if resp.GetNextPageToken() == "" {
			return out, nil
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// Point gets one point by resource name, with its revisions and all its
// sign-offs, reading its history page after page when it is long.
func (c *Client) Point(ctx context.Context, name string) (*parleyv1.Point, error) {
	req := &parleyv1.GetPointRequest{Name: name}
	var point *parleyv1.Point
	for {
		resp, err := invoke(ctx, c, req, c.svc.GetPoint)
		if err != nil {
			return nil, err
		}
		if point == nil {
			point = resp.GetPoint()
		} else {
			point.Revisions = append(point.Revisions, resp.GetPoint().GetRevisions()...)
			point.StaleSignOffs = append(point.StaleSignOffs, resp.GetPoint().GetStaleSignOffs()...)
		}
		if resp.GetNextPageToken() == "" {
			return point, nil
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// Redline gets the server's word-level redline of req's subject: one change
// for revisions, an amendment or a proposal; every change since the original
// text for a document, all pages. req's page fields are ignored.
func (c *Client) Redline(ctx context.Context, req *parleyv1.GetRedlineRequest) ([]*parleyv1.RedlineChange, error) {
	var out []*parleyv1.RedlineChange
	r := &parleyv1.GetRedlineRequest{Subject: req.GetSubject()}
	if _, ok := r.GetSubject().(*parleyv1.GetRedlineRequest_Document); ok {
		r.PageSize = 1000
	}
	for {
		resp, err := invoke(ctx, c, r, c.svc.GetRedline)
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetChanges()...)
		if resp.GetNextPageToken() == "" {
			return out, nil
		}
		r.PageToken = resp.GetNextPageToken()
	}
}

// ProposeAmendment proposes an amendment and opens voting on it.
func (c *Client) ProposeAmendment(ctx context.Context, req *parleyv1.ProposeAmendmentRequest) (*parleyv1.Amendment, error) {
	req.RequestId = c.idFor(ctx, req.GetRequestId())
	resp, err := invoke(ctx, c, req, c.svc.ProposeAmendment)
	return resp.GetAmendment(), err
}

// Amendment gets an amendment by resource name.
func (c *Client) Amendment(ctx context.Context, name string) (*parleyv1.Amendment, error) {
	resp, err := invoke(ctx, c, &parleyv1.GetAmendmentRequest{Name: name}, c.svc.GetAmendment)
	return resp.GetAmendment(), err
}

// Amendments lists the amendments that match req's filters, all pages, in
// the order they were proposed. req's page fields are ignored.
func (c *Client) Amendments(ctx context.Context, req *parleyv1.ListAmendmentsRequest) ([]*parleyv1.Amendment, error) {
	var out []*parleyv1.Amendment
	r := &parleyv1.ListAmendmentsRequest{Negotiation: req.GetNegotiation(), Point: req.GetPoint(), States: req.GetStates(), PageSize: 1000}
	for {
		resp, err := invoke(ctx, c, r, c.svc.ListAmendments)
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetAmendments()...)
		if resp.GetNextPageToken() == "" {
			return out, nil
		}
		r.PageToken = resp.GetNextPageToken()
	}
}

// WithdrawAmendment withdraws an OPEN or PASSED amendment (its proposer
// only).
func (c *Client) WithdrawAmendment(ctx context.Context, amendment string) (*parleyv1.Amendment, error) {
	req := &parleyv1.WithdrawAmendmentRequest{RequestId: c.requestID(ctx), Name: amendment}
	resp, err := invoke(ctx, c, req, c.svc.WithdrawAmendment)
	return resp.GetAmendment(), err
}

// CastVote casts or changes the caller's vote. A REJECT needs a reason.
// With Options.Signer the vote is signed, over the amendment as the client
// reads it now. It returns the amendment after the vote; Vote is the lighter
// call for a caller that does not need it.
func (c *Client) CastVote(ctx context.Context, amendment string, choice parleyv1.VoteChoice, reason string) (*parleyv1.Amendment, error) {
	resp, err := c.castVote(ctx, &parleyv1.CastVoteRequest{RequestId: c.requestID(ctx), Amendment: amendment, Choice: choice, Reason: reason})
	return resp.GetAmendment(), err
}

// Vote casts or changes the caller's vote as CastVote does, and returns the
// vote as recorded and the amendment's state after it (PASSED or FAILED if
// this vote closed it) instead of the whole amendment: the server then
// converts, encodes and sends one vote rather than the amendment with every
// vote.
func (c *Client) Vote(ctx context.Context, amendment string, choice parleyv1.VoteChoice, reason string) (*parleyv1.Vote, parleyv1.AmendmentState, error) {
	resp, err := c.castVote(ctx, &parleyv1.CastVoteRequest{RequestId: c.requestID(ctx), Amendment: amendment, Choice: choice, Reason: reason, VoteOnly: true})
	return resp.GetVote(), resp.GetAmendmentState(), err
}

func (c *Client) castVote(ctx context.Context, req *parleyv1.CastVoteRequest) (*parleyv1.CastVoteResponse, error) {
	if s, err := c.signer(ctx); err != nil {
		return nil, err
	} else if s != nil {
		a, err := c.Amendment(ctx, req.GetAmendment())
		if err != nil {
			return nil, err
		}
		_, size, root, err := c.consentCheckpoint(ctx, negotiationOf(req.GetAmendment()))
		if err != nil {
			return nil, err
		}
		if req.Consent, err = s.VoteConsent(a, req.GetChoice(), req.GetReason(), size, root); err != nil {
			return nil, err
		}
	}
	return invoke(ctx, c, req, c.svc.CastVote)
}

// CloseVoting closes voting on an amendment (mediators only).
func (c *Client) CloseVoting(ctx context.Context, amendment string) (*parleyv1.Amendment, error) {
	req := &parleyv1.CloseVotingRequest{RequestId: c.requestID(ctx), Amendment: amendment}
	resp, err := invoke(ctx, c, req, c.svc.CloseVoting)
	return resp.GetAmendment(), err
}

// ApplyAmendment applies a PASSED amendment (mediators only). The reply
// holds the changed point and the amendments that went stale.
func (c *Client) ApplyAmendment(ctx context.Context, amendment string) (*parleyv1.ApplyAmendmentResponse, error) {
	req := &parleyv1.ApplyAmendmentRequest{RequestId: c.requestID(ctx), Amendment: amendment}
	return invoke(ctx, c, req, c.svc.ApplyAmendment)
}

// RejectAmendment rejects a PASSED amendment with a reason (mediators only).
func (c *Client) RejectAmendment(ctx context.Context, amendment, reason string) (*parleyv1.Amendment, error) {
	req := &parleyv1.RejectAmendmentRequest{RequestId: c.requestID(ctx), Amendment: amendment, Reason: reason}
	resp, err := invoke(ctx, c, req, c.svc.RejectAmendment)
	return resp.GetAmendment(), err
}

// SignOff signs off a point at the revision and text hash of p, the point as
// the caller read it: if the point changed since, the server refuses with
// ABORTED rather than record agreement to a text the caller has not seen.
// With a LogVerifier, the sign-off also names the checkpoint of the log the
// client has just verified, and the server records it.
func (c *Client) SignOff(ctx context.Context, p *parleyv1.Point) (*parleyv1.Point, error) {
	s, seen, size, root, err := c.checkpointFor(ctx, negotiationOf(p.GetName()))
	if err != nil {
		return nil, err
	}
	req := &parleyv1.SignOffPointRequest{RequestId: c.requestID(ctx), Point: p.GetName(),
		Revision: p.GetRevision(), TextSha256: p.GetTextSha256(), Checkpoint: seen}
	if s != nil {
		if req.Consent, err = s.SignOffConsent(p, size, root); err != nil {
			return nil, err
		}
	}
	resp, err := invoke(ctx, c, req, c.svc.SignOffPoint)
	return resp.GetPoint(), err
}

// RevokeSignOff revokes the caller's sign-off of a point.
func (c *Client) RevokeSignOff(ctx context.Context, point string) (*parleyv1.Point, error) {
	req := &parleyv1.RevokeSignOffRequest{RequestId: c.requestID(ctx), Point: point}
	resp, err := invoke(ctx, c, req, c.svc.RevokeSignOff)
	return resp.GetPoint(), err
}

// AcceptDocument accepts the whole document at the given hash, the
// document_sha256 of the text the caller read (see Document.Verify).
func (c *Client) AcceptDocument(ctx context.Context, negotiation, documentSHA256 string) (*parleyv1.Negotiation, error) {
	s, seen, size, root, err := c.checkpointFor(ctx, negotiation)
	if err != nil {
		return nil, err
	}
	req := &parleyv1.AcceptDocumentRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, DocumentSha256: documentSHA256, Checkpoint: seen}
	if s != nil {
		if req.Consent, err = s.AcceptanceConsent(negotiation, documentSHA256, size, root); err != nil {
			return nil, err
		}
	}
	resp, err := invoke(ctx, c, req, c.svc.AcceptDocument)
	return resp.GetNegotiation(), err
}

// IssueToken issues a participant its first token (administrator only). The
// token is shown once: a retry of a call that reached the server fails with
// ALREADY_EXISTS / TOKEN_ALREADY_SHOWN rather than show it again, and the
// way out is RotateToken.
func (c *Client) IssueToken(ctx context.Context, negotiation, participant string) (*parleyv1.IssueTokenResponse, error) {
	req := &parleyv1.IssueTokenRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Participant: participant}
	return invoke(ctx, c, req, c.admin.IssueToken)
}

// RotateToken replaces a participant's token (administrator only); see
// IssueToken about retries.
func (c *Client) RotateToken(ctx context.Context, negotiation, participant string) (*parleyv1.RotateTokenResponse, error) {
	req := &parleyv1.RotateTokenRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Participant: participant}
	return invoke(ctx, c, req, c.admin.RotateToken)
}

// RevokeToken revokes a participant's token (administrator only).
func (c *Client) RevokeToken(ctx context.Context, negotiation, participant string) error {
	req := &parleyv1.RevokeTokenRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Participant: participant}
	_, err := invoke(ctx, c, req, c.admin.RevokeToken)
	return err
}

// IssueMemberToken issues a participant's member its first token (the
// administrator, or a head of the participant for its other members). An
// empty member is the participant's default member, as IssueToken. See
// IssueToken about retries.
func (c *Client) IssueMemberToken(ctx context.Context, negotiation, participant, member string) (*parleyv1.IssueTokenResponse, error) {
	req := &parleyv1.IssueTokenRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Participant: participant, Member: member}
	return invoke(ctx, c, req, c.admin.IssueToken)
}

// RotateMemberToken replaces a member's token; see IssueMemberToken.
func (c *Client) RotateMemberToken(ctx context.Context, negotiation, participant, member string) (*parleyv1.RotateTokenResponse, error) {
	req := &parleyv1.RotateTokenRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Participant: participant, Member: member}
	return invoke(ctx, c, req, c.admin.RotateToken)
}

// RevokeMemberToken revokes a member's token; see IssueMemberToken.
func (c *Client) RevokeMemberToken(ctx context.Context, negotiation, participant, member string) error {
	req := &parleyv1.RevokeTokenRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Participant: participant, Member: member}
	_, err := invoke(ctx, c, req, c.admin.RevokeToken)
	return err
}

// AddMember adds a named member to a participant and returns the
// participant with its members (the administrator, or a head of the
// participant; only the administrator makes heads).
func (c *Client) AddMember(ctx context.Context, req *parleyv1.AddMemberRequest) (*parleyv1.Participant, error) {
	req.RequestId = c.idFor(ctx, req.GetRequestId())
	resp, err := invoke(ctx, c, req, c.admin.AddMember)
	return resp.GetParticipant(), err
}

// RemoveMember removes a participant's named member; its token stops
// working at once.
func (c *Client) RemoveMember(ctx context.Context, negotiation, participant, member string) (*parleyv1.Participant, error) {
	req := &parleyv1.RemoveMemberRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Participant: participant, Member: member}
	resp, err := invoke(ctx, c, req, c.admin.RemoveMember)
	return resp.GetParticipant(), err
}

// WithdrawAcceptance takes back the caller's acceptance of the document,
// while the negotiation has not concluded.
func (c *Client) WithdrawAcceptance(ctx context.Context, negotiation string) (*parleyv1.Negotiation, error) {
	req := &parleyv1.WithdrawAcceptanceRequest{RequestId: c.requestID(ctx), Negotiation: negotiation}
	resp, err := invoke(ctx, c, req, c.svc.WithdrawAcceptance)
	return resp.GetNegotiation(), err
}

// SignOffPoints signs off every point given, each at the revision and text
// hash the caller read, in one call and one commit: if any point changed
// since, the whole batch is refused and the error names the item. With a
// LogVerifier the sign-offs name the checkpoint just verified, as SignOff.
func (c *Client) SignOffPoints(ctx context.Context, negotiation string, points []*parleyv1.Point) (*parleyv1.SignOffPointsResponse, error) {
	s, seen, size, root, err := c.checkpointFor(ctx, negotiation)
	if err != nil {
		return nil, err
	}
	req := &parleyv1.SignOffPointsRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Checkpoint: seen}
	for _, p := range points {
		item := &parleyv1.SignOffPointsItem{Point: p.GetName(), Revision: p.GetRevision(), TextSha256: p.GetTextSha256()}
		if s != nil {
			if item.Consent, err = s.SignOffConsent(p, size, root); err != nil {
				return nil, err
			}
		}
		req.Items = append(req.Items, item)
	}
	return invoke(ctx, c, req, c.svc.SignOffPoints)
}

// RevokeSignOffs revokes the caller's sign-offs of the points named, in one
// call and one commit; all or none.
func (c *Client) RevokeSignOffs(ctx context.Context, negotiation string, points []string) (*parleyv1.Negotiation, error) {
	req := &parleyv1.RevokeSignOffsRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, Points: points}
	resp, err := invoke(ctx, c, req, c.svc.RevokeSignOffs)
	return resp.GetNegotiation(), err
}

// Backup downloads a consistent snapshot of the server's whole database to
// path (administrator only), checked against the size and SHA-256 the server
// sends; see package backup. It is not retried: a failed download leaves
// nothing behind and can simply be run again. A failure of the call is an
// *Error; a local one (the file exists already, the disk is full) or a
// download that does not match is returned as it is, so that it is not
// taken for the server's.
func (c *Client) Backup(ctx context.Context, path string) (backup.Result, error) {
	res, err := backup.ToFile(ctx, c.admin, path)
	if _, fromServer := status.FromError(err); err != nil && (fromServer || ctx.Err() != nil) {
		return res, toError(err)
	}
	return res, err
}
