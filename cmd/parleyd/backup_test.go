package main_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parley-negotiation/parley/client/backup"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
	"github.com/parley-negotiation/parley/server/wire"
)

// A backup taken from the real server under concurrent write load verifies on
// its own and holds every write acknowledged before it started; restoring it
// as docs/operations.md says gives a server that serves exactly that state;
// and a damaged file is refused at start.
func TestBackup(t *testing.T) {
	s := servertest.Start(t, "--rate-limit", "0")
	ctx := context.Background()
	n := s.CreateDemo(ctx)
	nid, err := wire.ParseNegotiationName("name", n.Name)
	if err != nil {
		t.Fatal(err)
	}
	api := parleyv1.NewNegotiationServiceClient(s.Conn())
	doc, err := api.GetDocument(servertest.As(ctx, n.Tokens["ukraine"]), &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}

	// Writers propose amendments until told to stop, and note each one
	// acknowledged.
	var (
		mu    sync.Mutex
		acked []string // amendment names
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := demo.Delegations[w%4]
			as := servertest.As(ctx, n.Tokens[d])
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				reply, err := api.ProposeAmendment(as, &parleyv1.ProposeAmendmentRequest{RequestId: uuid.NewString(),
					Negotiation: n.Name, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE,
					Point: doc.GetPoints()[(w+i)%28].GetName(), BaseRevision: 1, Text: fmt.Sprintf("Draft %d of writer %d.", i, w)})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				acked = append(acked, reply.GetAmendment().GetName())
				mu.Unlock()
			}
		}()
	}
	stopWriters := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopWriters()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		count := len(acked)
		mu.Unlock()
		if count >= 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d writes acknowledged in 30s", count)
		}
	}

	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	path := filepath.Join(t.TempDir(), "parley-backup.db")
	admin := parleyv1.NewAdminServiceClient(s.Conn())
	res, err := backup.ToFile(servertest.As(ctx, s.AdminToken), admin, path)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	mu.Lock()
	during := len(acked) - len(before)
	mu.Unlock()
	time.Sleep(50 * time.Millisecond) // writes go on after the backup
	stopWriters()
	close(errs)
	for err := range errs {
		t.Fatalf("a writer failed: %v", err)
	}

	db, state := dbcheckOpen(t, path, nid)
	for _, name := range before {
		_, aid, _ := wire.ParseAmendmentName("amendment", name)
		if _, ok := state.Amendments[aid]; !ok {
			t.Fatalf("%s was acknowledged before the backup started and is not in it", name)
		}
	}
	backupSequence := state.LastSequence
	db.Close()
	t.Logf("backup: %d bytes, %d events; %d writes acknowledged before it started, %d while it ran",
		res.Size, backupSequence, len(before), during)

	t.Run("Restore", func(t *testing.T) {
		// docs/operations.md: stop the server, put the backup in place of
		// parley.db, start it (here with --verify).
		s.Stop()
		live := filepath.Join(s.DataDir, "parley.db")
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(live, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		// The restored file is older than the server's last commit: say so.
		if err := os.Remove(live + ".last-commit"); err != nil {
			t.Fatal(err)
		}
		s.Args = append(s.Args, "--verify")
		s.Restart()
		got, err := parleyv1.NewNegotiationServiceClient(s.Conn()).GetNegotiation(servertest.As(ctx, n.Tokens["europe"]),
			&parleyv1.GetNegotiationRequest{Name: n.Name})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetNegotiation().GetLastSequence() != backupSequence {
			t.Fatalf("the restored server is at event %d, the backup at %d", got.GetNegotiation().GetLastSequence(), backupSequence)
		}
		if !strings.Contains(s.Stderr.String(), "database verified") {
			t.Fatalf("--verify did not run:\n%s", s.Stderr.String())
		}
		s.Stop()
	})

	t.Run("ErrDamagedFile", func(t *testing.T) {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			data []byte
			want string
		}{
			{"Truncated", raw[:len(raw)/2], "truncated"},
			{"Empty", nil, "empty"},
			{"NotADatabase", []byte(strings.Repeat("not a database ", 1000)), "invalid database"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "parley.db"), tt.data, 0o600); err != nil {
					t.Fatal(err)
				}
				code, stderr := tlsRun(t, "--listen", "127.0.0.1:0", "--data", dir)
				if code != 1 || !strings.Contains(stderr, tt.want) {
					t.Fatalf("parleyd on a damaged file: exit %d, stderr:\n%s\nwant exit 1 and %q", code, stderr, tt.want)
				}
			})
		}
	})
}
