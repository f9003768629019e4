package rpc_test

import (
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/client/consent"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/credential"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/rpc"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// TestApplyCall carries out the same raft entries on two servers, as two
// nodes of a cluster do: the same replies, ids, events and Merkle roots.
func TestApplyCall(t *testing.T) {
	servers := make([]*rpc.Server, 2)
	dbs := make([]*store.DB, 2)
	for i := range servers {
		db, err := store.Open(filepath.Join(t.TempDir(), "parley.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i], servers[i] = db, rpc.New(db, "prl_node-admin-token-0123456789abcdef", nil)
		t.Cleanup(servers[i].Shutdown)
	}
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	apply := func(index uint64, call rpc.Call) []proto.Message {
		t.Helper()
		var replies []proto.Message
		for _, s := range servers {
			reply, err := s.ApplyCall(rpc.Stamp{Index: index, At: at, Seed: [16]byte{byte(index)}}, call)
			if err != nil {
				t.Fatalf("entry %d: %v", index, err)
			}
			replies = append(replies, reply)
		}
		if !proto.Equal(replies[0], replies[1]) {
			t.Fatalf("entry %d: the servers replied\n%v\nand\n%v", index, replies[0], replies[1])
		}
		return replies
	}
	encode := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	t.Run("OK", func(t *testing.T) {
		req := demo.CreateRequest()
		created := apply(1, rpc.Call{Method: parleyv1.NegotiationService_CreateNegotiation_FullMethodName, Request: encode(req), Admin: true})
		name := created[0].(*parleyv1.CreateNegotiationResponse).GetNegotiation().GetName()

		_, hash := credential.NewToken()
		issued := apply(2, rpc.Call{Method: parleyv1.AdminService_IssueToken_FullMethodName, Admin: true, TokenHash: hash,
			Request: encode(&parleyv1.IssueTokenRequest{RequestId: "issue-1", Negotiation: name, Participant: "ukraine"})})
		if r := issued[0].(*parleyv1.IssueTokenResponse); r.GetToken() != "" || r.GetTokenSha256() != hash {
			t.Errorf("issued token: %v; want no token and the entry's hash: the token stays on the node the client called", r)
		}
		nid := name[len("negotiations/"):]
		apply(3, rpc.Call{Method: parleyv1.NegotiationService_RenameNegotiation_FullMethodName, Admin: true,
			Request: encode(&parleyv1.RenameNegotiationRequest{RequestId: "rename-1", Negotiation: name, Title: "Renamed"})})

		// What later issues added draws ids too: a package deal whose INSERT
		// part gets a new point, a rebase, a signing key. Every node must
		// draw the same.
		var order []string
		var point6 string
		if err := dbs[0].View(nid, func(n *workflow.Negotiation) error {
			order = append(order, n.Order...)
			point6 = n.Points[n.Order[5]].Current().Text
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		point := func(i int) string { return name + "/points/" + order[i-1] }
		as := func(who string, method string, m proto.Message) rpc.Call {
			return rpc.Call{Method: method, Request: encode(m), Negotiation: nid, Participant: who, Member: who}
		}
		index := uint64(4)
		next := func(c rpc.Call) []proto.Message { index++; return apply(index, c) }
		propose := parleyv1.NegotiationService_ProposeAmendment_FullMethodName
		pkg := next(as("ukraine", propose, &parleyv1.ProposeAmendmentRequest{RequestId: "pkg", Negotiation: name, Parts: []*parleyv1.AmendmentPart{
			{Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: point(6), BaseRevision: 1, Text: strings.Replace(point6, "600,000", "800,000", 1)},
			{Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Point: point(19), Text: "A new point after 19."},
		}}))[0].(*parleyv1.ProposeAmendmentResponse).GetAmendment().GetName()
		stale := next(as("russia", propose, &parleyv1.ProposeAmendmentRequest{RequestId: "rival", Negotiation: name,
			Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: point(6), BaseRevision: 1,
			Text: strings.Replace(point6, "The size", "The overall size", 1)}))[0].(*parleyv1.ProposeAmendmentResponse).GetAmendment().GetName()
		for _, d := range demo.Delegations {
			next(as(d, parleyv1.NegotiationService_CastVote_FullMethodName, &parleyv1.CastVoteRequest{RequestId: "vote-" + d, Amendment: pkg,
				Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE}))
		}
		applied := next(as(demo.Mediator, parleyv1.NegotiationService_ApplyAmendment_FullMethodName,
			&parleyv1.ApplyAmendmentRequest{RequestId: "apply-pkg", Amendment: pkg}))[0].(*parleyv1.ApplyAmendmentResponse)
		if len(applied.GetPoints()) != 2 {
			t.Fatalf("the package applied %d points, want 2", len(applied.GetPoints()))
		}
		next(as("russia", propose, &parleyv1.ProposeAmendmentRequest{RequestId: "rebase", Negotiation: name, RebaseOf: stale}))
		key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
		registration := consent.Statement{Kind: consent.KeyRegistration, Negotiation: name, Member: "europe", Participant: "europe",
			Key: consent.KeyID(key.Public().(ed25519.PublicKey))}
		proof, err := consent.Sign(key, registration)
		if err != nil {
			t.Fatal(err)
		}
		next(as("europe", parleyv1.NegotiationService_RegisterKey_FullMethodName, &parleyv1.RegisterKeyRequest{RequestId: "key", Negotiation: name,
			PublicKey: key.Public().(ed25519.PublicKey), Signature: proof}))

		var leaves [2][][]byte
		var roots [2][]byte
		for i, db := range dbs {
			events, err := db.Events(nid, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range events {
				leaves[i] = append(leaves[i], e.Leaf)
			}
			if _, roots[i], err = db.TreeHead(nid); err != nil {
				t.Fatal(err)
			}
		}
		if len(leaves[0]) == 0 || len(leaves[0]) != len(leaves[1]) || string(roots[0]) != string(roots[1]) {
			t.Fatalf("the servers hold %d and %d events, roots %x and %x", len(leaves[0]), len(leaves[1]), roots[0], roots[1])
		}
		for i := range leaves[0] {
			if string(leaves[0][i]) != string(leaves[1][i]) {
				t.Fatalf("event %d differs between the servers", i+1)
			}
		}
	})

	t.Run("ErrAlreadyApplied", func(t *testing.T) {
		_, err := servers[0].ApplyCall(rpc.Stamp{Index: 3, At: at}, rpc.Call{Method: parleyv1.NegotiationService_CreateNegotiation_FullMethodName,
			Request: encode(demo.CreateRequest()), Admin: true})
		if !errors.Is(err, store.ErrAlreadyApplied) {
			t.Errorf("an entry applied already: %v, want store.ErrAlreadyApplied", err)
		}
	})
}
