package client_test

import (
	"crypto/rand"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// BenchmarkAuditLogVerify measures what a client does to verify a whole log
// from scratch: decode every leaf, check its sequence and negotiation, hash
// it and fold it into the Merkle tree, then take the root to compare with a
// checkpoint. The target in DESIGN.md is 1,000,000 events in at most 3 s.
//
//	go test ./client -run '^$' -bench AuditLogVerify -benchtime 3x
func BenchmarkAuditLogVerify(b *testing.B) {
	const negotiation = "negotiations/6f1c2a4e-8a8e-4d59-9d3b-1c0f2d6c9e11"
	for _, n := range []int{100_000, 1_000_000} {
		records := make([]*parleyv1.EventRecord, n)
		for i := range records {
			// A vote is the most common event; its leaf is ~150 bytes.
			e := &parleyv1.Event{Negotiation: negotiation, Sequence: int64(i + 1), Time: timestamppb.Now(),
				Actor: "united-states", RequestId: "3b0c4f2e-5a6d-4e7f-8a9b-0c1d2e3f4a5b",
				Payload: &parleyv1.Event_VoteCast{VoteCast: &parleyv1.VoteCast{
					AmendmentId: "0d2c5f0e-9b1a-4c3d-8e7f-6a5b4c3d2e1f", Choice: parleyv1.VoteChoice_VOTE_CHOICE_APPROVE}}}
			leaf, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
			if err != nil {
				b.Fatal(err)
			}
			records[i] = &parleyv1.EventRecord{Sequence: int64(i + 1), Leaf: leaf}
		}
		_, vkey, _ := note.GenerateKey(rand.Reader, "parley")
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			for b.Loop() {
				log, err := client.NewAuditLog(nil, negotiation, vkey, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := log.Add(records...); err != nil {
					b.Fatal(err)
				}
				if len(log.Root()) != 32 {
					b.Fatal("no root")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
		})
	}
}
