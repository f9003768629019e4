package servertest_test

import (
	"context"
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

func TestStart(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	resp, err := s.Health().Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", resp, err)
	}
	n := s.CreateDemo(ctx)
	s.Restart()
	got, err := parleyv1.NewNegotiationServiceClient(s.Conn()).GetNegotiation(servertest.As(ctx, n.Tokens["ukraine"]),
		&parleyv1.GetNegotiationRequest{Name: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetNegotiation().GetPointCount() != 28 {
		t.Fatalf("after restart: %d points, want 28", got.GetNegotiation().GetPointCount())
	}
	s.Stop()
}
