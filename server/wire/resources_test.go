package wire_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// An amendment converted with reused vote storage is the amendment converted
// afresh, whatever the conversions before it left in the storage: more votes,
// fewer, or none.
func TestAmendmentToProtoReusing(t *testing.T) {
	n := &workflow.Negotiation{}
	for _, e := range fuzzScenario(t) {
		if err := n.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	backwards := slices.Clone(n.AmendmentOrder)
	slices.Reverse(backwards)
	order := append(slices.Clone(n.AmendmentOrder), backwards...)
	var scratch wire.VoteScratch
	voted := 0
	for _, id := range order {
		a := n.Amendments[id]
		if len(a.Votes) > 0 {
			voted++
		}
		want := wire.AmendmentToProto(n, a)
		if got := wire.AmendmentToProtoReusing(n, a, &scratch); !proto.Equal(got, want) {
			t.Fatalf("amendment %s with reused storage:\n%v\nwant\n%v", id, got, want)
		}
	}
	if voted < 2 {
		t.Fatalf("only %d conversions had votes: the scenario no longer tests reuse", voted)
	}
}
