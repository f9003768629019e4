package rpc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/checkpoint"
	"github.com/parley-negotiation/parley/server/rpc"
	"github.com/parley-negotiation/parley/server/store"
)

// auditServer is a server on a database file with a given checkpoint key.
type auditServer struct {
	svc   parleyv1.NegotiationServiceClient
	admin parleyv1.AdminServiceClient
	audit parleyv1.AuditServiceClient
	stop  func()
}

func startAuditServer(t *testing.T, path string, signer *checkpoint.Signer) *auditServer {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := rpc.New(db, adminToken, nil, rpc.WithCheckpointSigner(signer))
	g := srv.GRPCServer()
	lis := bufconn.Listen(1 << 20)
	go g.Serve(lis)
	conn, err := grpc.NewClient("passthrough:///parley",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			conn.Close()
			srv.Shutdown()
			g.Stop()
			db.Close()
		}
	}
	t.Cleanup(stop)
	return &auditServer{svc: parleyv1.NewNegotiationServiceClient(conn), admin: parleyv1.NewAdminServiceClient(conn),
		audit: parleyv1.NewAuditServiceClient(conn), stop: stop}
}

func newSigner(t *testing.T) *checkpoint.Signer {
	t.Helper()
	skey, _, err := note.GenerateKey(rand.Reader, "parley-test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := checkpoint.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func bearer(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

// A delegation may state which checkpoint of the log it saw when it signed
// off or accepted; the server checks it and records it.
func TestCheckpointInSignOff(t *testing.T) {
	dir := t.TempDir()
	signer := newSigner(t)
	a := startAuditServer(t, filepath.Join(dir, "a.db"), signer)
	created, err := a.svc.CreateNegotiation(bearer(adminToken), &parleyv1.CreateNegotiationRequest{
		Title: "One point",
		Participants: []*parleyv1.Participant{{Id: "ukraine", Role: parleyv1.Role_ROLE_DELEGATION}, {Id: "russia", Role: parleyv1.Role_ROLE_DELEGATION},
			{Id: "mediator", Role: parleyv1.Role_ROLE_MEDIATOR}},
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS},
		Points:       []string{"The sovereignty of Ukraine will be confirmed.", "A second point."},
	})
	if err != nil {
		t.Fatal(err)
	}
	name := created.GetNegotiation().GetName()
	tokens := map[string]context.Context{}
	for _, id := range []string{"ukraine", "russia"} {
		tok, err := a.admin.IssueToken(bearer(adminToken), &parleyv1.IssueTokenRequest{Negotiation: name, Participant: id})
		if err != nil {
			t.Fatal(err)
		}
		tokens[id] = bearer(tok.GetToken())
	}
	ukraine := tokens["ukraine"]
	doc, err := a.svc.GetDocument(ukraine, &parleyv1.GetDocumentRequest{Negotiation: name})
	if err != nil {
		t.Fatal(err)
	}
	seen, err := a.audit.GetCheckpoint(ukraine, &parleyv1.GetCheckpointRequest{Negotiation: name})
	if err != nil {
		t.Fatal(err)
	}
	signOff := func(point *parleyv1.Point, cp string) (*parleyv1.SignOffPointResponse, error) {
		return a.svc.SignOffPoint(ukraine, &parleyv1.SignOffPointRequest{Point: point.GetName(),
			Revision: point.GetRevision(), TextSha256: point.GetTextSha256(), Checkpoint: cp})
	}
	last := func() int64 {
		r, err := a.svc.GetNegotiation(ukraine, &parleyv1.GetNegotiationRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetNegotiation().GetLastSequence()
	}

	t.Run("OK", func(t *testing.T) {
		r, err := signOff(doc.GetPoints()[0], seen.GetCheckpoint())
		if err != nil {
			t.Fatal(err)
		}
		got := r.GetPoint().GetSignOffs()[0].GetCheckpoint()
		if got.GetTreeSize() != seen.GetTreeSize() || !bytes.Equal(got.GetRootHash(), seen.GetRootHash()) {
			t.Fatalf("sign-off records checkpoint %v, want size %d root %x", got, seen.GetTreeSize(), seen.GetRootHash())
		}
		events, err := a.svc.ListEvents(ukraine, &parleyv1.ListEventsRequest{Negotiation: name, AfterSequence: last() - 1})
		if err != nil {
			t.Fatal(err)
		}
		if cp := events.GetEvents()[0].GetEvent().GetPointSignedOff().GetCheckpoint(); cp.GetTreeSize() != seen.GetTreeSize() {
			t.Fatalf("the event records checkpoint %v", cp)
		}
		if _, err := signOff(doc.GetPoints()[1], ""); err != nil {
			t.Fatal(err)
		}
		for _, p := range doc.GetPoints() {
			if _, err := a.svc.SignOffPoint(tokens["russia"], &parleyv1.SignOffPointRequest{Point: p.GetName(),
				Revision: p.GetRevision(), TextSha256: p.GetTextSha256()}); err != nil {
				t.Fatal(err)
			}
		}
		now, err := a.audit.GetCheckpoint(ukraine, &parleyv1.GetCheckpointRequest{Negotiation: name})
		if err != nil {
			t.Fatal(err)
		}
		acc, err := a.svc.AcceptDocument(ukraine, &parleyv1.AcceptDocumentRequest{Negotiation: name,
			DocumentSha256: doc.GetDocumentSha256(), Checkpoint: now.GetCheckpoint()})
		if err != nil {
			t.Fatal(err)
		}
		if cp := acc.GetNegotiation().GetAcceptances()[0].GetCheckpoint(); cp.GetTreeSize() != now.GetTreeSize() {
			t.Fatalf("the acceptance records checkpoint %v, want size %d", cp, now.GetTreeSize())
		}
	})

	// A fork: a copy of the database, served with the same key, grows
	// differently. Its checkpoints are signed by the right key and name the
	// right negotiation, but are not a prefix of the first server's log.
	a.stop()
	raw, err := os.ReadFile(filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.db"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	b := startAuditServer(t, filepath.Join(dir, "b.db"), signer)
	if _, err := b.admin.RotateToken(bearer(adminToken), &parleyv1.RotateTokenRequest{Negotiation: name, Participant: "russia"}); err != nil {
		t.Fatal(err)
	}
	forked, err := b.audit.GetCheckpoint(bearer(adminToken), &parleyv1.GetCheckpointRequest{Negotiation: name})
	if err != nil {
		t.Fatal(err)
	}
	b.stop()
	a = startAuditServer(t, filepath.Join(dir, "a.db"), signer)
	if _, err := a.admin.RevokeToken(bearer(adminToken), &parleyv1.RevokeTokenRequest{Negotiation: name, Participant: "russia"}); err != nil {
		t.Fatal(err)
	}
	otherNegotiation, err := a.svc.CreateNegotiation(bearer(adminToken), &parleyv1.CreateNegotiationRequest{Title: "Other",
		Participants: []*parleyv1.Participant{{Id: "ukraine", Role: parleyv1.Role_ROLE_DELEGATION}, {Id: "mediator", Role: parleyv1.Role_ROLE_MEDIATOR}},
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS}, Points: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	ofOther, err := a.audit.GetCheckpoint(bearer(adminToken), &parleyv1.GetCheckpointRequest{Negotiation: otherNegotiation.GetNegotiation().GetName()})
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := newSigner(t).Sign(checkpoint.Checkpoint{Origin: name, Size: uint64(seen.GetTreeSize()), Root: seen.GetRootHash()})

	for _, tc := range []struct {
		name       string
		checkpoint string
		code       codes.Code
		reason     string
	}{
		{"ErrNotANote", "size 3, root zzz", codes.InvalidArgument, "CHECKPOINT_INVALID"},
		{"ErrSignedByAnotherKey", foreign, codes.InvalidArgument, "CHECKPOINT_INVALID"},
		{"ErrOfAnotherNegotiation", ofOther.GetCheckpoint(), codes.InvalidArgument, "CHECKPOINT_INVALID"},
		{"ErrForkedLog", forked.GetCheckpoint(), codes.FailedPrecondition, "CHECKPOINT_NOT_IN_LOG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := a.svc.GetDocument(ukraine, &parleyv1.GetDocumentRequest{Negotiation: name})
			if err != nil {
				t.Fatal(err)
			}
			before := last()
			_, err = signOff(doc.GetPoints()[0], tc.checkpoint)
			wantError(t, tc.name, err, tc.code, tc.reason)
			if after := last(); after != before {
				t.Fatalf("a refused sign-off appended events: %d → %d", before, after)
			}
		})
	}
}
