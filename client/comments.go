package client

import (
	"context"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// PostComment posts a comment on a point or an amendment, or a reply to a
// comment: the request names exactly one of point, amendment and parent.
func (c *Client) PostComment(ctx context.Context, req *parleyv1.PostCommentRequest) (*parleyv1.Comment, error) {
	req.RequestId = c.idFor(ctx, req.GetRequestId())
	resp, err := invoke(ctx, c, req, c.svc.PostComment)
	return resp.GetComment(), err
}

// RetractComment retracts one of the caller's comments. The log keeps what
// it said; listings show it retracted, without its text.
func (c *Client) RetractComment(ctx context.Context, comment string) (*parleyv1.Comment, error) {
	req := &parleyv1.RetractCommentRequest{RequestId: c.requestID(ctx), Name: comment}
	resp, err := invoke(ctx, c, req, c.svc.RetractComment)
	return resp.GetComment(), err
}

// Comments lists the comments of a negotiation, or of one point or amendment
// if the request names it, in the order they were posted, all pages.
func (c *Client) Comments(ctx context.Context, req *parleyv1.ListCommentsRequest) ([]*parleyv1.Comment, error) {
	var out []*parleyv1.Comment
	r := &parleyv1.ListCommentsRequest{Negotiation: req.GetNegotiation(), Point: req.GetPoint(), Amendment: req.GetAmendment(), PageSize: 1000}
	for {
		resp, err := invoke(ctx, c, r, c.svc.ListComments)
		if err != nil {
			return nil, err
		}
		out = append(out, resp.GetComments()...)
		if resp.GetNextPageToken() == "" {
			return out, nil
		}
		r.PageToken = resp.GetNextPageToken()
	}
}
