package rpc_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/credential"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/rpc"
	"github.com/parley-negotiation/parley/server/store"
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
