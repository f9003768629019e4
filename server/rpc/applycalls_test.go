package rpc_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/rpc"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// TestApplyCalls carries out the same raft entries on two servers, one by
// one (ApplyCall) and in batches (ApplyCalls), as two nodes whose raft
// batched differently: the same replies, refusals, events and roots.
func TestApplyCalls(t *testing.T) {
	open := func() (*store.DB, *rpc.Server) {
		db, err := store.Open(filepath.Join(t.TempDir(), "parley.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s := rpc.New(db, "prl_node-admin-token-0123456789abcdef", nil)
		t.Cleanup(s.Shutdown)
		return db, s
	}
	encode := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	at := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	stamp := func(index uint64) rpc.Stamp {
		return rpc.Stamp{Index: index, At: at.Add(time.Duration(index) * time.Millisecond), Seed: [16]byte{byte(index), 7}}
	}
	oneDB, one := open()
	batchDB, batched := open()
	create := rpc.Call{Method: parleyv1.NegotiationService_CreateNegotiation_FullMethodName, Request: encode(demo.CreateRequest()), Admin: true}
	if rpc.Batchable(create) {
		t.Fatal("CreateNegotiation is batchable; the test expects it alone")
	}
	var name string
	for _, s := range []*rpc.Server{one, batched} {
		reply, err := s.ApplyCall(stamp(1), create)
		if err != nil {
			t.Fatal(err)
		}
		name = reply.(*parleyv1.CreateNegotiationResponse).GetNegotiation().GetName()
	}
	nid := name[len("negotiations/"):]
	var order []string
	if err := oneDB.View(nid, func(n *workflow.Negotiation) error { order = append(order, n.Order...); return nil }); err != nil {
		t.Fatal(err)
	}
	as := func(who string, method string, m proto.Message) rpc.Call {
		return rpc.Call{Method: method, Request: encode(m), Negotiation: nid, Participant: who, Member: who}
	}

	// The entries, applied one by one as they are written: a proposal's
	// reply names the amendment the votes that follow name.
	var calls []rpc.Call
	var want []rpc.Applied
	add := func(c rpc.Call) proto.Message {
		if !rpc.Batchable(c) {
			t.Fatalf("%s is not batchable", c.Method)
		}
		reply, err := one.ApplyCall(stamp(uint64(len(calls)+2)), c)
		calls = append(calls, c)
		want = append(want, rpc.Applied{Reply: reply, Err: err})
		return reply
	}
	propose := parleyv1.NegotiationService_ProposeAmendment_FullMethodName
	vote := parleyv1.NegotiationService_CastVote_FullMethodName
	var amendments []string
	for i, who := range []string{"ukraine", "russia"} {
		reply := add(as(who, propose, &parleyv1.ProposeAmendmentRequest{RequestId: fmt.Sprint("propose-", i), Negotiation: name,
			Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_INSERT, Point: name + "/points/" + order[i], Text: fmt.Sprint("New point ", i, ".")}))
		amendments = append(amendments, reply.(*parleyv1.ProposeAmendmentResponse).GetAmendment().GetName())
	}
	for i, who := range demo.Delegations {
		add(as(who, vote, &parleyv1.CastVoteRequest{RequestId: "vote-" + who, Amendment: amendments[i%2], Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE}))
		if i == 1 {
			// Refused by the handler, before its command: a malformed name.
			add(as(who, vote, &parleyv1.CastVoteRequest{RequestId: "bad-name", Amendment: "amendments/nope", Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE}))
			// Refused by the rules: a mediator does not vote.
			add(as(demo.Mediator, vote, &parleyv1.CastVoteRequest{RequestId: "mediator-vote", Amendment: amendments[0], Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE}))
			// Sent again: the stored reply.
			add(as(demo.Delegations[0], vote, &parleyv1.CastVoteRequest{RequestId: "vote-" + demo.Delegations[0], Amendment: amendments[0],
				Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE}))
		}
	}
	add(as(demo.Mediator, parleyv1.NegotiationService_CloseVoting_FullMethodName, &parleyv1.CloseVotingRequest{RequestId: "close", Amendment: amendments[1]}))
	refused := 0
	for _, w := range want {
		if w.Err != nil {
			refused++
		}
	}
	if refused != 2 {
		t.Fatalf("%d entries refused one by one, want the 2 the test makes: %v", refused, want)
	}

	// The same entries in batches of 3, then ones the batch holds already.
	var got []rpc.Applied
	for from := 0; from < len(calls); from += 3 {
		to := min(from+3, len(calls))
		var stamps []rpc.Stamp
		for i := from; i < to; i++ {
			stamps = append(stamps, stamp(uint64(i+2)))
		}
		got = append(got, batched.ApplyCalls(stamps, calls[from:to])...)
	}
	for i := range want {
		if fmt.Sprint(want[i].Err) != fmt.Sprint(got[i].Err) || !proto.Equal(want[i].Reply, got[i].Reply) {
			t.Errorf("entry %d: %v, %v; want %v, %v", i+2, got[i].Reply, got[i].Err, want[i].Reply, want[i].Err)
		}
	}
	for _, a := range batched.ApplyCalls([]rpc.Stamp{stamp(3), stamp(4)}, calls[1:3]) {
		if !errors.Is(a.Err, store.ErrAlreadyApplied) {
			t.Errorf("a replayed entry: %v, want store.ErrAlreadyApplied", a.Err)
		}
	}

	var roots [2][]byte
	var leaves [2][][]byte
	for i, db := range []*store.DB{oneDB, batchDB} {
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
		if index, err := db.AppliedIndex(); err != nil || index != uint64(len(calls)+1) {
			t.Errorf("applied index %d, %v; want %d", index, err, len(calls)+1)
		}
	}
	if len(leaves[0]) != len(leaves[1]) || !bytes.Equal(roots[0], roots[1]) {
		t.Fatalf("the servers hold %d and %d events, roots %x and %x", len(leaves[0]), len(leaves[1]), roots[0], roots[1])
	}
	for i := range leaves[0] {
		if !bytes.Equal(leaves[0][i], leaves[1][i]) {
			t.Fatalf("event %d differs between the servers", i+1)
		}
	}
}
