package main

import (
	"context"
	binenc "encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/parley-negotiation/parley/server/servertest"
	"github.com/parley-negotiation/parley/server/store"
)

// TestVerify checks a negotiation from scratch with 'parley verify', then
// tampers with the stopped server's file: verify must fail with exit code 7
// and the evidence, and a read through the pinned profile must fail too.
func TestVerify(t *testing.T) {
	c := newCLI(t)
	s := servertest.Start(t)
	n := s.CreateDemo(context.Background())
	tokens := c.demoTokens(s, n)
	c.ok("login", "--import", tokens, "--as", "ukraine")

	// A sign-off through a pinned profile names the checkpoint the client
	// verified just before, and the log records it.
	c.ok("sign-off", "1")
	last := strings.TrimSpace(c.ok("log", "--last", "1", "-o", "json"))
	if !strings.Contains(last, `"checkpoint"`) || !strings.Contains(last, `"treeSize":"34"`) {
		t.Fatalf("the sign-off's event does not name the checkpoint of 34 events:\n%s", last)
	}

	out := c.ok("verify")
	for _, want := range []string{"negotiation  " + n.Name, "log          35 events", "checkpoint   size 35, root ",
		"rebuilt from the log, it is the served document (28 points", "\nverified\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("verify output lacks %q:\n%s", want, out)
		}
	}
	var v verification
	if err := json.Unmarshal([]byte(c.ok("verify", "-o", "json")), &v); err != nil || !v.Verified || v.Events != 35 || !v.KeyPinned {
		t.Fatalf("verify -o json: %+v %v", v, err)
	}

	// tamper stops the server, rewrites "confirmed" as "cancelled" in a
	// record of the negotiation's bucket, and starts it again.
	tamper := func(bucket string, key func(b *bolt.Bucket) []byte) {
		t.Helper()
		s.Stop()
		db, err := bolt.Open(filepath.Join(s.DataDir, "parley.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("negotiations")).Bucket([]byte(strings.TrimPrefix(n.Name, "negotiations/"))).Bucket([]byte(bucket))
			k := key(b)
			return b.Put(k, []byte(strings.ReplaceAll(string(b.Get(k)), "confirmed", "cancelled")))
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		s.Restart()
	}

	// First the stored state: the log still verifies, the served document
	// is not what the log says.
	tamper("points", func(b *bolt.Bucket) []byte {
		var key []byte
		b.ForEach(func(k, v []byte) error {
			if strings.Contains(string(v), "sovereignty of Ukraine will be confirmed") {
				key = append([]byte(nil), k...)
			}
			return nil
		})
		return key
	})
	if r := c.run("verify"); r.code != ExitUnverified || !strings.Contains(r.stderr, "document hash") {
		t.Fatalf("verify of a tampered state: exit %d, want %d\n%s%s", r.code, ExitUnverified, r.stdout, r.stderr)
	}

	// Then the log itself: event 2 (point 1's text) is rewritten, the Merkle
	// nodes are left as they were.
	tamper("events", func(*bolt.Bucket) []byte { return binenc.BigEndian.AppendUint64(nil, 2) })
	r := c.run("verify")
	if r.code != ExitUnverified || !strings.Contains(r.stderr, "ROOT_MISMATCH") || !strings.Contains(r.stderr, "--- trusted checkpoint ---") {
		t.Fatalf("verify of a tampered log: exit %d, want %d with the evidence\n%s%s", r.code, ExitUnverified, r.stdout, r.stderr)
	}
	// Reading the log through the profile, which pinned the key, fails the
	// same way: the client checks every event it lists.
	if r := c.run("log"); r.code != ExitUnverified || !strings.Contains(r.stderr, "cannot be trusted") {
		t.Fatalf("log of a tampered log: exit %d, want %d\n%s%s", r.code, ExitUnverified, r.stdout, r.stderr)
	}
}

// TestBackup downloads a backup as the administrator and opens it: it is a
// database of its own whose log verifies.
func TestBackup(t *testing.T) {
	c := newCLI(t)
	s := servertest.Start(t)
	n := s.CreateDemo(context.Background())
	c.ok("login", "--server", s.Addr, "--token", s.AdminToken)
	file := filepath.Join(c.dir, "copy.db")
	out := c.ok("backup", file)
	if !strings.HasPrefix(out, "Wrote "+file+": ") || !strings.Contains(out, "sha256 ") {
		t.Fatalf("backup output:\n%s", out)
	}
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", info, err)
	}
	db, err := store.Open(file, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Verify(strings.TrimPrefix(n.Name, "negotiations/")); err != nil {
		t.Fatalf("the backup does not verify: %v", err)
	}
	// A delegation may not take one.
	c.ok("login", "--server", s.Addr, "--token", n.Tokens["ukraine"])
	if line := c.fails(ExitAuth, "backup", file+".2"); !strings.Contains(line, "PERMISSION_DENIED ADMIN_ONLY") {
		t.Fatalf("backup as a delegation: %s", line)
	}
}
