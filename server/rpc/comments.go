package rpc

import (
	"context"
	"sort"

	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

func (s *Server) PostComment(ctx context.Context, req *parleyv1.PostCommentRequest) (*parleyv1.PostCommentResponse, error) {
	nid, cmd, err := postCommentCommand(ctx, req)
	if err != nil {
		return nil, err
	}
	return executeAs[*parleyv1.PostCommentResponse](ctx, s, req, nid, cmd, func(n *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.PostCommentResponse{Comment: wire.CommentToProto(n, n.Comments[cmd.CommentID])}
	})
}

// postCommentCommand maps a request to its negotiation's id and the rules'
// command, choosing the comment's id. Every name given must be of the same
// negotiation; the rules check that exactly one is given.
func postCommentCommand(ctx context.Context, req *parleyv1.PostCommentRequest) (string, workflow.PostComment, error) {
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return "", workflow.PostComment{}, err
	}
	cmd := workflow.PostComment{CommentID: newID(ctx), Text: req.GetText()}
	if req.GetPoint() != "" {
		if cmd.PointID, err = pointIn(nid, "point", req.GetPoint()); err != nil {
			return "", cmd, err
		}
	}
	if req.GetAmendment() != "" {
		if cmd.AmendmentID, err = childIn(nid, "amendment", req.GetAmendment(), wire.ParseAmendmentName); err != nil {
			return "", cmd, err
		}
	}
	if req.GetParent() != "" {
		if cmd.ParentID, err = childIn(nid, "parent", req.GetParent(), wire.ParseCommentName); err != nil {
			return "", cmd, err
		}
	}
	return nid, cmd, nil
}

// childIn parses the name of a resource that must belong to the given
// negotiation.
func childIn(negotiationID, field, name string, parse func(field, name string) (string, string, error)) (string, error) {
	nid, id, err := parse(field, name)
	if err != nil {
		return "", err
	}
	if nid != negotiationID {
		return "", workflow.Errorf(workflow.EINVALID, "NAME_INVALID", "%s belongs to another negotiation", field)
	}
	return id, nil
}

func (s *Server) RetractComment(ctx context.Context, req *parleyv1.RetractCommentRequest) (*parleyv1.RetractCommentResponse, error) {
	nid, cid, err := wire.ParseCommentName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	return executeAs[*parleyv1.RetractCommentResponse](ctx, s, req, nid, workflow.RetractComment{CommentID: cid}, func(n *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.RetractCommentResponse{Comment: wire.CommentToProto(n, n.Comments[cid])}
	})
}

func (s *Server) ListComments(ctx context.Context, req *parleyv1.ListCommentsRequest) (*parleyv1.ListCommentsResponse, error) {
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	var subject string
	switch {
	case req.GetPoint() != "" && req.GetAmendment() != "":
		return nil, workflow.Errorf(workflow.EINVALID, "SUBJECT_CONFLICT", "list the comments of a point or of an amendment, not both")
	case req.GetPoint() != "":
		subject, err = pointIn(nid, "point", req.GetPoint())
	case req.GetAmendment() != "":
		subject, err = childIn(nid, "amendment", req.GetAmendment(), wire.ParseAmendmentName)
	}
	if err != nil {
		return nil, err
	}
	size, err := pageSize(req.GetPageSize(), 100, 1000)
	if err != nil {
		return nil, err
	}
	scope := scopeOf(nid, req.GetPoint(), req.GetAmendment())
	token, err := decodePageToken(req.GetPageToken(), "comments", scope)
	if err != nil {
		return nil, err
	}
	out := &parleyv1.ListCommentsResponse{}
	p := newPage(ctx)
	return out, s.view(ctx, nid, func(n *workflow.Negotiation) error {
		ids := n.CommentOrder
		if subject != "" {
			if _, isPoint := n.Points[subject]; !isPoint && req.GetPoint() != "" {
				return workflow.Errorf(workflow.ENOTFOUND, "POINT_NOT_FOUND", "point %s not found", subject)
			}
			if _, isAmendment := n.Amendments[subject]; !isAmendment && req.GetAmendment() != "" {
				return workflow.Errorf(workflow.ENOTFOUND, "AMENDMENT_NOT_FOUND", "amendment %s not found", subject)
			}
			ids = n.CommentsOf(subject)
		}
		// Both lists are in posting order, that is by increasing sequence.
		i := sort.Search(len(ids), func(i int) bool { return n.Comments[ids[i]].Sequence > token.After })
		next := func() string {
			return encodePageToken(pageToken{Kind: "comments", Scope: scope, After: out.Comments[len(out.Comments)-1].GetSequence()})
		}
		for ; i < len(ids); i++ {
			if len(out.Comments) == size {
				out.NextPageToken = next()
				break
			}
			item := wire.CommentToProto(n, n.Comments[ids[i]])
			ok, err := p.admit(item)
			if err != nil {
				return err
			}
			if !ok {
				out.NextPageToken = next()
				break
			}
			out.Comments = append(out.Comments, item)
		}
		return nil
	})
}
