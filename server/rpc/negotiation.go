package rpc

import (
	"context"
	"crypto/sha256"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// MaxRequestIDBytes bounds request ids; a UUID needs 36.
const MaxRequestIDBytes = 128

// mutation is a request that changes something; all of them carry a
// request id.
type mutation interface {
	proto.Message
	GetRequestId() string
}

// replyFunc builds a reply from the state after a command and its events.
type replyFunc func(n *workflow.Negotiation, events []workflow.Event) proto.Message

// executeAs runs cmd on a negotiation for the caller and returns the reply:
// the one just built, or the stored one of an earlier identical request.
func executeAs[T proto.Message](ctx context.Context, s *Server, req mutation, negotiationID string, cmd workflow.Command, reply replyFunc) (T, error) {
	return runAs[T](ctx, s, req, negotiationID, cmd, reply, false)
}

func runAs[T proto.Message](ctx context.Context, s *Server, req mutation, negotiationID string, cmd workflow.Command, reply replyFunc, secret bool) (T, error) {
	var zero T
	msg, err := s.run(ctx, req, negotiationID, cmd, zero.ProtoReflect().Type(), reply, secret)
	if err != nil {
		return zero, err
	}
	return msg.(T), nil
}

// amendmentReplyFunc builds a reply around the amendment a command
// touched, as the command left it.
type amendmentReplyFunc func(a *parleyv1.Amendment, n *workflow.Negotiation, events []workflow.Event) proto.Message

// executeOnAmendment runs cmd as executeAs does, for a reply built around
// amendment aid: the store converts it once, for the reply and for the
// projection it stores.
func executeOnAmendment[T proto.Message](ctx context.Context, s *Server, req mutation, negotiationID string, cmd workflow.Command, aid string, reply amendmentReplyFunc) (T, error) {
	var zero T
	msg, err := s.runExec(ctx, req, store.Exec{NegotiationID: negotiationID, Command: cmd, AmendmentID: aid,
		AmendmentReply: func(a *parleyv1.Amendment, n *workflow.Negotiation, events []workflow.Event) (proto.Message, error) {
			return reply(a, n, events), nil
		}}, zero.ProtoReflect().Type())
	if err != nil {
		return zero, err
	}
	return msg.(T), nil
}

// run executes cmd and returns its reply: the message built now, or the
// stored reply decoded into a new message of type out.
func (s *Server) run(ctx context.Context, req mutation, negotiationID string, cmd workflow.Command, out protoreflect.MessageType, reply replyFunc, secret bool) (proto.Message, error) {
	return s.runExec(ctx, req, store.Exec{NegotiationID: negotiationID, Command: cmd,
		Reply: func(n *workflow.Negotiation, events []workflow.Event) (proto.Message, error) {
			return reply(n, events), nil
		},
		SecretReply: secret}, out)
}

// runExec executes x, which names the negotiation, the command and how to
// build the reply, for the caller of ctx and the request req.
func (s *Server) runExec(ctx context.Context, req mutation, x store.Exec, out protoreflect.MessageType) (proto.Message, error) {
	c := callerFrom(ctx)
	if err := c.member(x.NegotiationID); err != nil {
		return nil, err
	}
	if err := validateRequestID(req.GetRequestId()); err != nil {
		return nil, err
	}
	var hash [sha256.Size]byte
	if req.GetRequestId() != "" {
		var err error
		if hash, err = requestHash(req); err != nil {
			return nil, err
		}
	}
	x.Principal, x.RequestID, x.RequestHash, x.Actor, x.Member = c.key(), req.GetRequestId(), hash, c.Actor(), c.Member
	res, err := s.execute(ctx, x)
	if err != nil {
		return nil, err
	}
	if res.Message != nil {
		setEncodedReply(ctx, res.Message, res.Reply)
		return res.Message, nil
	}
	msg := out.New().Interface()
	return msg, proto.Unmarshal(res.Reply, msg)
}

// requestHash returns the SHA-256 of the request's deterministic encoding,
// encoded into a buffer kept for the next request.
func requestHash(req proto.Message) ([sha256.Size]byte, error) {
	buf := encodeBuffers.Get().(*[]byte)
	defer encodeBuffers.Put(buf)
	encoded, err := wire.Deterministic.MarshalAppend((*buf)[:0], req)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	if cap(encoded) <= maxPooledEncoding {
		*buf = encoded
	}
	return sha256.Sum256(encoded), nil
}

// encodeBuffers holds buffers for encoding requests to hash them; one larger
// than maxPooledEncoding (a text import) is not kept.
var encodeBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledEncoding = 64 << 10

func validateRequestID(id string) error {
	if len(id) > MaxRequestIDBytes {
		return workflow.Errorf(workflow.EINVALID, "REQUEST_ID_INVALID", "request_id is %d bytes; the limit is %d", len(id), MaxRequestIDBytes)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return workflow.Errorf(workflow.EINVALID, "REQUEST_ID_INVALID", "request_id must be printable ASCII without spaces")
		}
	}
	return nil
}

// view runs fn on the committed state of a negotiation the caller may read.
func (s *Server) view(ctx context.Context, negotiationID string, fn func(n *workflow.Negotiation) error) error {
	if err := callerFrom(ctx).member(negotiationID); err != nil {
		return err
	}
	return s.store.View(negotiationID, fn)
}

// pointIn parses a point name that must belong to the given negotiation.
func pointIn(negotiationID, field, name string) (string, error) {
	nid, pid, err := wire.ParsePointName(field, name)
	if err != nil {
		return "", err
	}
	if nid != negotiationID {
		return "", workflow.Errorf(workflow.EINVALID, "NAME_INVALID", "%s belongs to another negotiation", field)
	}
	return pid, nil
}

func (s *Server) CreateNegotiation(ctx context.Context, req *parleyv1.CreateNegotiationRequest) (*parleyv1.CreateNegotiationResponse, error) {
	if err := callerFrom(ctx).requireAdmin(); err != nil {
		return nil, err
	}
	cmd, err := createCommandWith(req, func() string { return newID(ctx) })
	if err != nil {
		return nil, err
	}
	return executeAs[*parleyv1.CreateNegotiationResponse](ctx, s, req, cmd.NegotiationID, cmd, func(n *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.CreateNegotiationResponse{Negotiation: wire.NegotiationToProto(n)}
	})
}

// createCommand maps a request to the rules' command, choosing the new ids.
// It checks what only the request shows (points given one way, the numbered
// text); the rules check the rest.
func createCommand(req *parleyv1.CreateNegotiationRequest) (workflow.CreateNegotiation, error) {
	return createCommandWith(req, uuid.NewString)
}

// createCommandWith is createCommand drawing the ids from newID.
func createCommandWith(req *parleyv1.CreateNegotiationRequest, newID func() string) (workflow.CreateNegotiation, error) {
	texts := req.GetPoints()
	switch {
	case len(texts) > 0 && req.GetNumberedText() != "":
		return workflow.CreateNegotiation{}, workflow.Errorf(workflow.EINVALID, "POINTS_CONFLICT", "give either points or numbered_text, not both")
	case len(texts) > workflow.MaxPoints:
		return workflow.CreateNegotiation{}, workflow.Errorf(workflow.EINVALID, "TOO_MANY_POINTS", "%d points; the limit is %d", len(texts), workflow.MaxPoints)
	case req.GetNumberedText() != "":
		var err error
		if texts, err = workflow.ParseNumberedText(req.GetNumberedText()); err != nil {
			return workflow.CreateNegotiation{}, err
		}
	}
	def, err := durationOf("default_voting_duration", req.GetDefaultVotingDuration())
	if err != nil {
		return workflow.CreateNegotiation{}, err
	}
	limit, err := durationOf("max_voting_duration", req.GetMaxVotingDuration())
	if err != nil {
		return workflow.CreateNegotiation{}, err
	}
	cmd := workflow.CreateNegotiation{
		MediatorsMayChange:    req.GetMediatorsMayChange(),
		DefaultVotingDuration: def,
		MaxVotingDuration:     limit,
		NegotiationID:         newID(),
		Title:                 req.GetTitle(),
		Participants:          wire.Participants(req.GetParticipants()),
		Rule:                  wire.Rule(req.GetDecisionRule()),
		Points:                make([]workflow.NewPoint, len(texts)),
		ObserversMayComment:   req.GetObserversMayComment(),
		RequireSignatures:     req.GetRequireSignatures(),
	}
	for i, t := range texts {
		cmd.Points[i] = workflow.NewPoint{ID: newID(), Text: t}
	}
	return cmd, nil
}

func (s *Server) GetNegotiation(ctx context.Context, req *parleyv1.GetNegotiationRequest) (*parleyv1.GetNegotiationResponse, error) {
	id, err := wire.ParseNegotiationName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	out := &parleyv1.GetNegotiationResponse{}
	return out, s.view(ctx, id, func(n *workflow.Negotiation) error {
		out.Negotiation = wire.NegotiationToProto(n)
		return nil
	})
}

func (s *Server) ListNegotiations(ctx context.Context, req *parleyv1.ListNegotiationsRequest) (*parleyv1.ListNegotiationsResponse, error) {
	size, err := pageSize(req.GetPageSize(), 50, 500)
	if err != nil {
		return nil, err
	}
	c := callerFrom(ctx)
	token, err := decodePageToken(req.GetPageToken(), "negotiations", scopeOf(c.key()))
	if err != nil {
		return nil, err
	}
	var ids []string
	if c.Admin {
		if ids, err = s.store.NegotiationIDs(token.AfterID, size+1); err != nil {
			return nil, err
		}
	} else if token.AfterID == "" {
		ids = []string{c.NegotiationID}
	}
	out := &parleyv1.ListNegotiationsResponse{}
	more := len(ids) > size
	ids = ids[:min(len(ids), size)]
	p := newPage(ctx)
	for _, id := range ids {
		var item *parleyv1.Negotiation
		err := s.store.View(id, func(n *workflow.Negotiation) error {
			item = wire.NegotiationToProto(n)
			return nil
		})
		if err != nil {
			return nil, err
		}
		ok, err := p.admit(item)
		if err != nil {
			return nil, err
		}
		if !ok {
			more = true
			break
		}
		out.Negotiations = append(out.Negotiations, item)
	}
	if more {
		out.NextPageToken = encodePageToken(pageToken{Kind: "negotiations", Scope: scopeOf(c.key()), AfterID: ids[len(out.Negotiations)-1]})
	}
	return out, nil
}

func (s *Server) GetDocument(ctx context.Context, req *parleyv1.GetDocumentRequest) (*parleyv1.GetDocumentResponse, error) {
	id, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	size, err := pageSize(req.GetPageSize(), 1000, workflow.MaxPoints)
	if err != nil {
		return nil, err
	}
	token, err := decodePageToken(req.GetPageToken(), "document", scopeOf(id))
	if err != nil {
		return nil, err
	}
	var out *parleyv1.GetDocumentResponse
	err = s.view(ctx, id, func(n *workflow.Negotiation) error {
		hash := n.DocumentHash()
		if token.Version != "" && token.Version != hash {
			return workflow.Errorf(workflow.EABORTED, "DOCUMENT_CHANGED", "the document changed since the first page was read; read it again from the start")
		}
		// Every change of a negotiation appends an event, so its last
		// sequence versions the whole reply: a page read again at the same
		// version is the same page.
		key := documentPage{sequence: n.LastSequence, start: int(token.After), size: size, bare: req.GetOmitAlternatives()}
		if cached, ok := s.documents.Load(id); ok {
			if page, ok := cached.(documentPages).find(key); ok {
				// The page is shared, but each call encodes its own copy.
				if !grantFrom(ctx).take(int64(page.bytes)) {
					return errServerBusy
				}
				out = page.reply
				return nil
			}
		}
		out = &parleyv1.GetDocumentResponse{}
		out.Negotiation = wire.NegotiationToProto(n)
		out.DocumentSha256 = hash
		p := newPage(ctx)
		if _, err := p.admit(out); err != nil {
			return err
		}
		p.items = 0 // the negotiation is not an item: the first point still goes on the page
		start := min(int(token.After), len(n.Order))
		end := min(start+size, len(n.Order))
		for i, pid := range n.Order[start:end] {
			point := wire.DocumentPoint(n, n.Points[pid], start+i+1, key.bare)
			ok, err := p.admit(point)
			if err != nil {
				return err
			}
			if !ok {
				end = start + i
				break
			}
			out.Points = append(out.Points, point)
		}
		if end < len(n.Order) {
			out.NextPageToken = encodePageToken(pageToken{Kind: "document", Scope: scopeOf(id), After: int64(end), Version: hash})
		}
		if !p.starved {
			key.reply, key.bytes = out, p.bytes
			// Two callers may add a page at once and one page be lost:
			// it is built again by the next caller, nothing worse.
			var pages documentPages
			if cached, ok := s.documents.Load(id); ok {
				pages = cached.(documentPages)
			}
			s.documents.Store(id, pages.with(key))
		}
		return nil
	})
	return out, err
}

func (s *Server) GetPoint(ctx context.Context, req *parleyv1.GetPointRequest) (*parleyv1.GetPointResponse, error) {
	nid, pid, err := wire.ParsePointName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	size, err := pageSize(req.GetPageSize(), math.MaxInt, workflow.MaxPoints)
	if err != nil {
		return nil, err
	}
	scope := scopeOf(nid, pid)
	token, err := decodePageToken(req.GetPageToken(), "point", scope)
	if err != nil {
		return nil, err
	}
	out := &parleyv1.GetPointResponse{}
	return out, s.view(ctx, nid, func(n *workflow.Negotiation) error {
		p, ok := n.Points[pid]
		if !ok {
			return workflow.Errorf(workflow.ENOTFOUND, "POINT_NOT_FOUND", "point %s not found", pid)
		}
		version := wire.PointVersion(p)
		if token.Version != "" && token.Version != version {
			return workflow.Errorf(workflow.EABORTED, "POINT_CHANGED", "the point changed since the first page of its history was read; read it again from the start")
		}
		pg := newPage(ctx)
		entries := 0
		point, last, more, err := wire.PointPage(n, p, token.After, func(entry proto.Message) (bool, error) {
			if entries == size {
				return false, nil
			}
			entries++
			return pg.admit(entry)
		})
		if err != nil {
			return err
		}
		out.Point = point
		if more {
			out.NextPageToken = encodePageToken(pageToken{Kind: "point", Scope: scope, After: last, Version: version})
		}
		return nil
	})
}

func (s *Server) ProposeAmendment(ctx context.Context, req *parleyv1.ProposeAmendmentRequest) (*parleyv1.ProposeAmendmentResponse, error) {
	if req.GetRebaseOf() != "" {
		return s.rebaseAmendment(ctx, req)
	}
	nid, cmd, err := proposeCommandWith(req, func() string { return newID(ctx) })
	if err != nil {
		return nil, err
	}
	return executeOnAmendment[*parleyv1.ProposeAmendmentResponse](ctx, s, req, nid, cmd, cmd.AmendmentID, func(a *parleyv1.Amendment, _ *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.ProposeAmendmentResponse{Amendment: a}
	})
}

// proposeCommand maps a request to its negotiation's id and the rules'
// command, choosing the amendment's id. Only an INSERT may leave the point
// out (to insert at the start); a point must be in the same negotiation.
func proposeCommand(req *parleyv1.ProposeAmendmentRequest) (string, workflow.ProposeAmendment, error) {
	return proposeCommandWith(req, uuid.NewString)
}

// proposeCommandWith is proposeCommand drawing the amendment's id from newID.
func proposeCommandWith(req *parleyv1.ProposeAmendmentRequest, newID func() string) (string, workflow.ProposeAmendment, error) {
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return "", workflow.ProposeAmendment{}, err
	}
	var pid string
	if len(req.GetParts()) == 0 && (req.GetPoint() != "" || req.GetKind() != parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT) {
		if pid, err = pointIn(nid, "point", req.GetPoint()); err != nil {
			return "", workflow.ProposeAmendment{}, err
		}
	} else if req.GetPoint() != "" {
		// A package with a point of its own is refused by the rules
		// (PACKAGE_CONFLICT); the name need only be readable.
		if pid, err = pointIn(nid, "point", req.GetPoint()); err != nil {
			return "", workflow.ProposeAmendment{}, err
		}
	}
	parts, err := partsCommand(nid, req.GetParts())
	if err != nil {
		return "", workflow.ProposeAmendment{}, err
	}
	deadline, err := deadlineOf("voting_deadline", req.GetVotingDeadline(), false)
	if err != nil {
		return "", workflow.ProposeAmendment{}, err
	}
	var counter string
	if req.GetCounterTo() != "" {
		var cnid string
		if cnid, counter, err = wire.ParseAmendmentName("counter_to", req.GetCounterTo()); err != nil {
			return "", workflow.ProposeAmendment{}, err
		}
		if cnid != nid {
			return "", workflow.ProposeAmendment{}, workflow.Errorf(workflow.EINVALID, "COUNTER_OTHER_NEGOTIATION", "counter_to names an amendment of another negotiation: a counter-proposal answers one of its own negotiation")
		}
	}
	return nid, workflow.ProposeAmendment{AmendmentID: newID(), Kind: wire.Kind(req.GetKind()), PointID: pid,
		BaseRevision: req.GetBaseRevision(), Text: req.GetText(), Rationale: req.GetRationale(), CounterTo: counter, Deadline: deadline,
		Parts: parts}, nil
}

// partsCommand maps a package deal's parts to the rules' parts: nil for
// none (a single change). Each part's point must be of the negotiation. A
// part's error names it, as the rules do.
func partsCommand(nid string, in []*parleyv1.AmendmentPart) ([]workflow.Part, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > workflow.MaxPackageParts {
		// Refused before the names are parsed: the rules would refuse it
		// anyway, and a huge list costs nothing more to look at.
		return nil, workflow.Errorf(workflow.EINVALID, "PACKAGE_TOO_LARGE", "a package deal has 2 to %d parts, not %d", workflow.MaxPackageParts, len(in))
	}
	parts := make([]workflow.Part, len(in))
	for i, p := range in {
		part := workflow.Part{Kind: wire.Kind(p.GetKind()), BaseRevision: p.GetBaseRevision(), Text: p.GetText()}
		if p.GetPoint() != "" { // none: an INSERT at the start, else the rules' POINT_REQUIRED
			pid, err := pointIn(nid, "parts["+strconv.Itoa(i)+"].point", p.GetPoint())
			if err != nil {
				return nil, workflow.Errorf(workflow.ErrorCode(err), workflow.ErrorReason(err), "part %d: %s", i+1, workflow.ErrorMessage(err))
			}
			part.PointID = pid
		}
		parts[i] = part
	}
	return parts, nil
}

func (s *Server) GetAmendment(ctx context.Context, req *parleyv1.GetAmendmentRequest) (*parleyv1.GetAmendmentResponse, error) {
	nid, aid, err := wire.ParseAmendmentName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	out := &parleyv1.GetAmendmentResponse{}
	return out, s.view(ctx, nid, func(n *workflow.Negotiation) error {
		a, ok := n.Amendments[aid]
		if !ok {
			return workflow.Errorf(workflow.ENOTFOUND, "AMENDMENT_NOT_FOUND", "amendment %s not found", aid)
		}
		out.Amendment = withTimeLeft(wire.AmendmentToProto(n, a), time.Now())
		return nil
	})
}

func (s *Server) ListAmendments(ctx context.Context, req *parleyv1.ListAmendmentsRequest) (*parleyv1.ListAmendmentsResponse, error) {
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	var pid string
	if req.GetPoint() != "" {
		if pid, err = pointIn(nid, "point", req.GetPoint()); err != nil {
			return nil, err
		}
	}
	wanted := map[workflow.AmendmentState]bool{}
	stateNames := make([]string, 0, len(req.GetStates()))
	for _, st := range req.GetStates() {
		state := wire.AmendmentState(st)
		if state < workflow.AmendmentStateOpen || state > workflow.AmendmentStateStale {
			return nil, workflow.Errorf(workflow.EINVALID, "STATE_INVALID", "states holds %d, which is not an amendment state", st)
		}
		wanted[state] = true
		stateNames = append(stateNames, state.String())
	}
	sort.Strings(stateNames)
	size, err := pageSize(req.GetPageSize(), 50, 1000)
	if err != nil {
		return nil, err
	}
	scope := scopeOf(nid, pid, strings.Join(stateNames, ","))
	token, err := decodePageToken(req.GetPageToken(), "amendments", scope)
	if err != nil {
		return nil, err
	}
	out := &parleyv1.ListAmendmentsResponse{}
	p := newPage(ctx)
	return out, s.view(ctx, nid, func(n *workflow.Negotiation) error {
		ids := n.AmendmentOrder
		if pid != "" {
			ids = n.AmendmentsOfPoint(pid)
		}
		// Both lists are in proposal order, that is by increasing sequence.
		i := sort.Search(len(ids), func(i int) bool { return n.Amendments[ids[i]].Sequence > token.After })
		for ; i < len(ids); i++ {
			a := n.Amendments[ids[i]]
			if len(wanted) > 0 && !wanted[a.State] {
				continue
			}
			if len(out.Amendments) == size {
				// One more matches: the list goes on after this page.
				out.NextPageToken = encodePageToken(pageToken{Kind: "amendments", Scope: scope, After: out.Amendments[size-1].GetSequence()})
				break
			}
			item := wire.AmendmentToProto(n, a)
			ok, err := p.admit(item)
			if err != nil {
				return err
			}
			if !ok {
				out.NextPageToken = encodePageToken(pageToken{Kind: "amendments", Scope: scope, After: out.Amendments[len(out.Amendments)-1].GetSequence()})
				break
			}
			out.Amendments = append(out.Amendments, item)
		}
		return nil
	})
}

// amendmentCall parses the amendment name of a request acting on one.
func amendmentCall(name string) (nid, aid string, err error) {
	return wire.ParseAmendmentName("amendment", name)
}

func (s *Server) WithdrawAmendment(ctx context.Context, req *parleyv1.WithdrawAmendmentRequest) (*parleyv1.WithdrawAmendmentResponse, error) {
	nid, aid, err := wire.ParseAmendmentName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	return executeOnAmendment[*parleyv1.WithdrawAmendmentResponse](ctx, s, req, nid, workflow.WithdrawAmendment{AmendmentID: aid}, aid, func(a *parleyv1.Amendment, _ *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.WithdrawAmendmentResponse{Amendment: a}
	})
}

func (s *Server) CastVote(ctx context.Context, req *parleyv1.CastVoteRequest) (*parleyv1.CastVoteResponse, error) {
	nid, aid, err := amendmentCall(req.GetAmendment())
	if err != nil {
		return nil, err
	}
	if err := callerFrom(ctx).member(nid); err != nil {
		return nil, err
	}
	signed, err := s.consentIn(nid, req.GetConsent())
	if err != nil {
		return nil, err
	}
	cmd := workflow.CastVote{AmendmentID: aid, Choice: wire.Choice(req.GetChoice()), Reason: req.GetReason(), Consent: signed}
	if req.GetVoteOnly() {
		// The lean reply: no conversion of the amendment and its votes to
		// build, encode, send and decode at every vote.
		voter := callerFrom(ctx).Actor()
		return executeAs[*parleyv1.CastVoteResponse](ctx, s, req, nid, cmd, func(n *workflow.Negotiation, _ []workflow.Event) proto.Message {
			a := n.Amendments[aid]
			return &parleyv1.CastVoteResponse{Vote: wire.VoteToProto(a.Votes[voter]), AmendmentState: parleyv1.AmendmentState(a.State)}
		})
	}
	return executeOnAmendment[*parleyv1.CastVoteResponse](ctx, s, req, nid, cmd, aid, func(a *parleyv1.Amendment, _ *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.CastVoteResponse{Amendment: a}
	})
}

func (s *Server) CloseVoting(ctx context.Context, req *parleyv1.CloseVotingRequest) (*parleyv1.CloseVotingResponse, error) {
	nid, aid, err := amendmentCall(req.GetAmendment())
	if err != nil {
		return nil, err
	}
	return executeOnAmendment[*parleyv1.CloseVotingResponse](ctx, s, req, nid, workflow.CloseVoting{AmendmentID: aid}, aid, func(a *parleyv1.Amendment, _ *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.CloseVotingResponse{Amendment: a}
	})
}

func (s *Server) ApplyAmendment(ctx context.Context, req *parleyv1.ApplyAmendmentRequest) (*parleyv1.ApplyAmendmentResponse, error) {
	nid, aid, err := amendmentCall(req.GetAmendment())
	if err != nil {
		return nil, err
	}
	cmd := workflow.ApplyAmendment{AmendmentID: aid, NewPointID: newID(ctx)}
	// A package deal's INSERT parts each need an id for their new point.
	// Its parts never change, so counting them before the command runs is
	// safe; an error here is the command's to report.
	_ = s.view(ctx, nid, func(n *workflow.Negotiation) error {
		if a, ok := n.Amendments[aid]; ok {
			for _, part := range a.Parts {
				if part.Kind == workflow.KindInsert {
					cmd.NewPointIDs = append(cmd.NewPointIDs, newID(ctx))
				}
			}
		}
		return nil
	})
	return executeOnAmendment[*parleyv1.ApplyAmendmentResponse](ctx, s, req, nid, cmd, aid, func(a *parleyv1.Amendment, n *workflow.Negotiation, events []workflow.Event) proto.Message {
		reply := &parleyv1.ApplyAmendmentResponse{Amendment: a}
		for _, e := range events {
			switch p := e.Payload.(type) {
			case workflow.AmendmentApplied:
				for _, id := range p.PointIDs() {
					reply.Points = append(reply.Points, wire.PointToProto(n, n.Points[id], false))
				}
				reply.Point = reply.Points[0]
				if p.Parts == nil {
					reply.Points = nil
				}
			case workflow.AmendmentStaled:
				reply.StaledAmendments = append(reply.StaledAmendments, wire.AmendmentName(nid, p.AmendmentID))
			}
		}
		return reply
	})
}

func (s *Server) RejectAmendment(ctx context.Context, req *parleyv1.RejectAmendmentRequest) (*parleyv1.RejectAmendmentResponse, error) {
	nid, aid, err := amendmentCall(req.GetAmendment())
	if err != nil {
		return nil, err
	}
	return executeOnAmendment[*parleyv1.RejectAmendmentResponse](ctx, s, req, nid, workflow.RejectAmendment{AmendmentID: aid, Reason: req.GetReason()}, aid, func(a *parleyv1.Amendment, _ *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.RejectAmendmentResponse{Amendment: a}
	})
}

func (s *Server) SignOffPoint(ctx context.Context, req *parleyv1.SignOffPointRequest) (*parleyv1.SignOffPointResponse, error) {
	nid, pid, err := wire.ParsePointName("point", req.GetPoint())
	if err != nil {
		return nil, err
	}
	if err := callerFrom(ctx).member(nid); err != nil {
		return nil, err
	}
	seen, err := s.checkpointRef(nid, req.GetCheckpoint())
	if err != nil {
		return nil, err
	}
	signed, err := s.consentIn(nid, req.GetConsent())
	if err != nil {
		return nil, err
	}
	cmd := workflow.SignOffPoint{PointID: pid, Revision: req.GetRevision(), TextHash: req.GetTextSha256(), Checkpoint: seen, Consent: signed}
	return executeAs[*parleyv1.SignOffPointResponse](ctx, s, req, nid, cmd, func(n *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.SignOffPointResponse{Point: wire.PointToProto(n, n.Points[pid], false)}
	})
}

func (s *Server) RevokeSignOff(ctx context.Context, req *parleyv1.RevokeSignOffRequest) (*parleyv1.RevokeSignOffResponse, error) {
	nid, pid, err := wire.ParsePointName("point", req.GetPoint())
	if err != nil {
		return nil, err
	}
	return executeAs[*parleyv1.RevokeSignOffResponse](ctx, s, req, nid, workflow.RevokeSignOff{PointID: pid}, func(n *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.RevokeSignOffResponse{Point: wire.PointToProto(n, n.Points[pid], false)}
	})
}

func (s *Server) AcceptDocument(ctx context.Context, req *parleyv1.AcceptDocumentRequest) (*parleyv1.AcceptDocumentResponse, error) {
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	if err := callerFrom(ctx).member(nid); err != nil {
		return nil, err
	}
	seen, err := s.checkpointRef(nid, req.GetCheckpoint())
	if err != nil {
		return nil, err
	}
	signed, err := s.consentIn(nid, req.GetConsent())
	if err != nil {
		return nil, err
	}
	return executeAs[*parleyv1.AcceptDocumentResponse](ctx, s, req, nid, workflow.AcceptDocument{DocumentHash: req.GetDocumentSha256(), Checkpoint: seen, Consent: signed}, func(n *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.AcceptDocumentResponse{Negotiation: wire.NegotiationToProto(n)}
	})
}

func (s *Server) ListEvents(ctx context.Context, req *parleyv1.ListEventsRequest) (*parleyv1.ListEventsResponse, error) {
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	if err := callerFrom(ctx).member(nid); err != nil {
		return nil, err
	}
	size, err := pageSize(req.GetPageSize(), 100, 1000)
	if err != nil {
		return nil, err
	}
	after := req.GetAfterSequence()
	if after < 0 {
		return nil, workflow.Errorf(workflow.EINVALID, "SEQUENCE_INVALID", "after_sequence must not be negative")
	}
	token, err := decodePageToken(req.GetPageToken(), "events", scopeOf(nid))
	if err != nil {
		return nil, err
	}
	if req.GetPageToken() != "" {
		after = token.After
	}
	// The page is read from the log in small chunks, each admitted before
	// the next is read, so that a call refused for want of reply memory has
	// read little.
	out := &parleyv1.ListEventsResponse{}
	p := newPage(ctx)
	next := func() string { return encodePageToken(pageToken{Kind: "events", Scope: scopeOf(nid), After: after}) }
	for len(out.Events) < size {
		stored, more, err := s.store.EventsWithin(nid, after, size-len(out.Events), eventChunkBytes)
		if err != nil {
			return nil, err
		}
		for _, e := range stored {
			rec := s.eventRecord(e)
			ok, err := p.admit(rec)
			if err != nil {
				return nil, err
			}
			if !ok {
				out.NextPageToken = next() // the page is full; the log goes on
				return out, nil
			}
			out.Events = append(out.Events, rec)
			after = e.Sequence
		}
		if !more {
			return out, nil
		}
	}
	out.NextPageToken = next()
	return out, nil
}

// eventChunkBytes is how many bytes of leaves ListEvents reads at a time.
const eventChunkBytes = 256 << 10

// eventRecord serves a stored event: its exact bytes, and their decoding.
// A leaf that does not decode is still served as it is, without the
// decoding, so that a verifying client sees what is stored and can show it.
func (s *Server) eventRecord(e store.StoredEvent) *parleyv1.EventRecord {
	rec := &parleyv1.EventRecord{Sequence: e.Sequence, Leaf: e.Leaf, Event: &parleyv1.Event{}}
	if err := proto.Unmarshal(e.Leaf, rec.Event); err != nil {
		s.logger.Error("stored event does not decode", "sequence", e.Sequence, "err", err)
		rec.Event = nil
	}
	return rec
}

func (s *Server) GetCaller(ctx context.Context, _ *parleyv1.GetCallerRequest) (*parleyv1.GetCallerResponse, error) {
	c := callerFrom(ctx)
	if c.Admin {
		return &parleyv1.GetCallerResponse{Admin: true}, nil
	}
	out := &parleyv1.GetCallerResponse{Negotiation: wire.NegotiationName(c.NegotiationID)}
	return out, s.store.View(c.NegotiationID, func(n *workflow.Negotiation) error {
		p, ok := n.Participant(c.Participant)
		if !ok {
			return workflow.Errorf(workflow.EINTERNAL, "STORE_CORRUPT", "token owner %s is not a participant", c.key())
		}
		out.Participant = wire.ParticipantToProto(n, p)
		if c.Member == p.ID {
			_, has := n.Credentials[p.ID]
			out.Member = &parleyv1.Member{Id: p.ID, DisplayName: p.DisplayName, HasCredential: has}
		} else if m, ok := p.Member(c.Member); ok {
			out.Member = wire.MemberToProto(n, p.ID, m)
		}
		return nil
	})
}

func (s *Server) WithdrawAcceptance(ctx context.Context, req *parleyv1.WithdrawAcceptanceRequest) (*parleyv1.WithdrawAcceptanceResponse, error) {
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	return executeAs[*parleyv1.WithdrawAcceptanceResponse](ctx, s, req, nid, workflow.WithdrawAcceptance{}, func(n *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.WithdrawAcceptanceResponse{Negotiation: wire.NegotiationToProto(n)}
	})
}

// batchPoints checks the size of a batch before its items are parsed.
func batchPoints(n int) error {
	if n < 1 || n > workflow.MaxPoints {
		return workflow.Errorf(workflow.EINVALID, "BATCH_SIZE_INVALID", "a batch holds 1 to %d items, not %d", workflow.MaxPoints, n)
	}
	return nil
}

// itemNameError names the batch item whose point name is bad.
func itemNameError(i int, err error) error {
	return workflow.Errorf(workflow.ErrorCode(err), workflow.ErrorReason(err), "item %d: %s", i+1, workflow.ErrorMessage(err))
}

func (s *Server) SignOffPoints(ctx context.Context, req *parleyv1.SignOffPointsRequest) (*parleyv1.SignOffPointsResponse, error) {
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	if err := callerFrom(ctx).member(nid); err != nil {
		return nil, err
	}
	if err := batchPoints(len(req.GetItems())); err != nil {
		return nil, err
	}
	cmd := workflow.SignOffPoints{Items: make([]workflow.SignOffItem, len(req.GetItems()))}
	roots := map[int64][]byte{}
	for i, item := range req.GetItems() {
		pid, err := pointIn(nid, "point", item.GetPoint())
		if err != nil {
			return nil, itemNameError(i, err)
		}
		signed, err := s.consentInCached(nid, item.GetConsent(), roots)
		if err != nil {
			return nil, itemNameError(i, err)
		}
		cmd.Items[i] = workflow.SignOffItem{PointID: pid, Revision: item.GetRevision(), TextHash: item.GetTextSha256(), Consent: signed}
	}
	if cmd.Checkpoint, err = s.checkpointRef(nid, req.GetCheckpoint()); err != nil {
		return nil, err
	}
	return executeAs[*parleyv1.SignOffPointsResponse](ctx, s, req, nid, cmd, func(n *workflow.Negotiation, events []workflow.Event) proto.Message {
		count := 0
		for _, e := range events {
			if _, ok := e.Payload.(workflow.PointSignedOff); ok {
				count++
			}
		}
		return &parleyv1.SignOffPointsResponse{Negotiation: wire.NegotiationToProto(n), SignedOffCount: int32(count)}
	})
}

func (s *Server) RevokeSignOffs(ctx context.Context, req *parleyv1.RevokeSignOffsRequest) (*parleyv1.RevokeSignOffsResponse, error) {
	nid, err := wire.ParseNegotiationName("negotiation", req.GetNegotiation())
	if err != nil {
		return nil, err
	}
	if err := callerFrom(ctx).member(nid); err != nil {
		return nil, err
	}
	if err := batchPoints(len(req.GetPoints())); err != nil {
		return nil, err
	}
	cmd := workflow.RevokeSignOffs{PointIDs: make([]string, len(req.GetPoints()))}
	for i, name := range req.GetPoints() {
		pid, err := pointIn(nid, "point", name)
		if err != nil {
			return nil, itemNameError(i, err)
		}
		cmd.PointIDs[i] = pid
	}
	return executeAs[*parleyv1.RevokeSignOffsResponse](ctx, s, req, nid, cmd, func(n *workflow.Negotiation, _ []workflow.Event) proto.Message {
		return &parleyv1.RevokeSignOffsResponse{Negotiation: wire.NegotiationToProto(n)}
	})
}
