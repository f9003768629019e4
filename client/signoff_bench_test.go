package client_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// BenchmarkSignOffAll signs off every point of a 600-point document against
// a real parleyd, fsync on: in one SignOffPoints call (one commit), or in
// 600 SignOffPoint calls as `parley sign-off --all` did before. Each
// iteration revokes the sign-offs again in one RevokeSignOffs call, timer
// stopped.
func BenchmarkSignOffAll(b *testing.B) {
	s := servertest.Start(b)
	ctx := context.Background()
	texts := make([]string, 600)
	for i := range texts {
		texts[i] = fmt.Sprintf("Point %d of a long agreement.", i+1)
	}
	n := s.Create(ctx, &parleyv1.CreateNegotiationRequest{Title: "600 points", Points: texts,
		Participants: []*parleyv1.Participant{{Id: "north", Role: parleyv1.Role_ROLE_DELEGATION}, {Id: "chair", Role: parleyv1.Role_ROLE_MEDIATOR}},
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS}})
	north := newClient(b, s.Addr, n.Tokens["north"], client.Options{})
	doc, err := north.Document(ctx, n.Name)
	if err != nil {
		b.Fatal(err)
	}
	names := make([]string, len(doc.Points))
	for i, p := range doc.Points {
		names[i] = p.GetName()
	}
	revoke := func(b *testing.B) {
		b.StopTimer()
		if _, err := north.RevokeSignOffs(ctx, n.Name, names); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.Run("Batch", func(b *testing.B) {
		for b.Loop() {
			if _, err := north.SignOffPoints(ctx, n.Name, doc.Points); err != nil {
				b.Fatal(err)
			}
			revoke(b)
		}
	})
	b.Run("OneByOne", func(b *testing.B) {
		for b.Loop() {
			for _, p := range doc.Points {
				if _, err := north.SignOff(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
			revoke(b)
		}
	})
}
