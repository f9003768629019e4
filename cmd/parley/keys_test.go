package main

import (
	"context"
	binenc "encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/servertest"
)

// TestSigningKey takes a delegation's key through its life in the CLI:
// generated (0600 beside the profile), registered, signing by default,
// rotated, revoked; 'parley verify' checks the signatures all along.
func TestSigningKey(t *testing.T) {
	c := newCLI(t)
	s := servertest.Start(t)
	n := s.CreateDemo(context.Background())
	tokens := c.demoTokens(s, n)
	c.ok("login", "--import", tokens, "--as", "ukraine")

	// Without a key nothing is signed.
	c.ok("sign-off", "1")
	if last := c.ok("log", "--last", "1", "-o", "json"); strings.Contains(last, `"consent":{`) {
		t.Fatalf("an unsigned sign-off carries a consent:\n%s", last)
	}

	out := c.ok("key", "generate")
	keys, _ := filepath.Glob(filepath.Join(c.dir, "keys", "*.ed25519"))
	if len(keys) != 1 || !strings.Contains(out, "generated key ") || !strings.Contains(out, keys[0]) {
		t.Fatalf("key generate: %q, key files %v", out, keys)
	}
	if info, err := os.Stat(keys[0]); err != nil || (runtime.GOOS != "windows" && info.Mode().Perm() != 0o600) {
		t.Fatalf("key file: %v %v, want mode 0600", info.Mode(), err)
	}
	if msg := c.fails(3, "key", "generate"); !strings.Contains(msg, "holds a key already") {
		t.Fatalf("a second key generate: %s", msg)
	}
	// Generated, not registered: the server knows no such key.
	if msg := c.fails(1, "sign-off", "2"); !strings.Contains(msg, "KEY_UNKNOWN") {
		t.Fatalf("signing with an unregistered key: %s", msg)
	}
	c.ok("key", "register")
	c.ok("sign-off", "2")
	last := c.ok("log", "--last", "1", "-o", "json")
	if !strings.Contains(last, `"consent":{`) || !strings.Contains(last, `"signature"`) {
		t.Fatalf("the sign-off is not signed:\n%s", last)
	}
	if out := c.ok("log", "--last", "2"); !strings.Contains(out, "registered its signing key ") || !strings.Contains(out, "signed off point 2 at revision 1, signed with key ") {
		t.Fatalf("the log does not show the key and the signed sign-off:\n%s", out)
	}
	if out := c.ok("verify"); !strings.Contains(out, "consent      1 signed vote, sign-off or acceptance checked") {
		t.Fatalf("verify does not report the signed sign-off:\n%s", out)
	}

	if out := c.ok("negotiations", "show"); !strings.Contains(out, "signing key") || !strings.Contains(out, "of ukraine, registered at event 36, current") {
		t.Fatalf("negotiations show does not list the key:\n%s", out)
	}
	c.ok("key", "rotate")
	c.ok("sign-off", "3")
	var v verification
	if err := json.Unmarshal([]byte(c.ok("verify", "-o", "json")), &v); err != nil || v.SignedConsents != 2 {
		t.Fatalf("verify after the rotation: %+v %v", v, err)
	}

	c.ok("key", "revoke")
	c.ok("sign-off", "4") // unsigned again: this negotiation does not require signatures
	if _, err := os.Stat(keys[0] + ".revoked"); err != nil {
		t.Fatalf("the revoked key is not put aside: %v", err)
	}
	c.ok("verify")

	// From now on the negotiation takes only signed consent.
	admin := newCLI(t)
	admin.ok("login", "--server", s.Addr, "--token", s.AdminToken, "--name", "admin")
	if out := admin.ok("negotiations", "require-signatures", "-n", n.Name); !strings.Contains(out, "Signatures required from now on") {
		t.Fatalf("require-signatures: %s", out)
	}
	if msg := c.fails(1, "sign-off", "6"); !strings.Contains(msg, "SIGNATURE_REQUIRED") {
		t.Fatalf("an unsigned sign-off where signatures are required: %s", msg)
	}

	// Russia's key, read from the file $PARLEY_SIGNING_KEY_FILE names.
	c.ok("login", "--import", tokens, "--as", "russia")
	envKey := filepath.Join(c.dir, "elsewhere.key")
	c.env = append(c.env, "PARLEY_SIGNING_KEY_FILE="+envKey)
	c.ok("key", "generate")
	c.ok("key", "register")
	c.ok("sign-off", "5")
	if err := json.Unmarshal([]byte(c.ok("verify", "-o", "json")), &v); err != nil || v.SignedConsents != 3 {
		t.Fatalf("verify with the key of the environment: %+v %v", v, err)
	}

	// The operator moves Russia's signed sign-off of point 5 to point 6 in
	// the database, and recomputes the Merkle tree so that the log itself
	// is consistent: only the signature gives it away.
	s.Stop()
	db, err := bolt.Open(filepath.Join(s.DataDir, "parley.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var moved int64
	err = db.Update(func(tx *bolt.Tx) error {
		nb := tx.Bucket([]byte("negotiations")).Bucket([]byte(strings.TrimPrefix(n.Name, "negotiations/")))
		events := nb.Bucket([]byte("events"))
		var leaves [][]byte
		var points []string
		events.ForEach(func(k, v []byte) error {
			var e parleyv1.Event
			if err := proto.Unmarshal(v, &e); err != nil {
				return err
			}
			if p := e.GetPointAdded(); p != nil {
				points = append(points, p.GetPointId())
			}
			if so := e.GetPointSignedOff(); so != nil && so.GetConsent() != nil && e.GetActor() == "russia" {
				so.PointId, moved = points[5], e.GetSequence()
				v, _ = proto.MarshalOptions{Deterministic: true}.Marshal(&e)
				if err := events.Put(append([]byte(nil), k...), v); err != nil {
					return err
				}
			}
			leaves = append(leaves, append([]byte(nil), v...))
			return nil
		})
		merkle := nb.Bucket([]byte("merkle"))
		tree := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
		for _, leaf := range leaves {
			tree.Append(rfc6962.DefaultHasher.HashLeaf(leaf), func(id compact.NodeID, hash []byte) {
				merkle.Put(append([]byte{byte(id.Level)}, binenc.BigEndian.AppendUint64(nil, id.Index)...), append([]byte(nil), hash...))
			})
		}
		return nil
	})
	db.Close()
	if err != nil || moved == 0 {
		t.Fatalf("tamper: %v (moved event %d)", err, moved)
	}
	s.Restart()
	r := c.run("verify")
	if r.code != ExitUnverified || !strings.Contains(r.stderr, "CONSENT_BAD_SIGNATURE") || !strings.Contains(r.stderr, fmt.Sprintf("event %d by russia/russia", moved)) {
		t.Fatalf("verify of a moved sign-off: exit %d, want %d naming event %d and Russia\n%s%s", r.code, ExitUnverified, moved, r.stdout, r.stderr)
	}
}
