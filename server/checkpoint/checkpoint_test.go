package checkpoint_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/parley-negotiation/parley/server/checkpoint"
)

func TestSigner(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		// Many keys, so that base64 key data with '+' in it is covered.
		for range 50 {
			skey, vkey, err := note.GenerateKey(rand.Reader, "parley")
			if err != nil {
				t.Fatal(err)
			}
			s, err := checkpoint.NewSigner(skey)
			if err != nil {
				t.Fatalf("%s: %v", skey, err)
			}
			if s.VerifierKey() != vkey {
				t.Fatalf("verifier key %s, want %s", s.VerifierKey(), vkey)
			}
			c := checkpoint.Checkpoint{Origin: "negotiations/x", Size: 42, Root: bytes.Repeat([]byte{7}, 32)}
			signed, err := s.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := note.NewVerifier(vkey)
			got, err := checkpoint.Open(signed, v)
			if err != nil || got.Origin != c.Origin || got.Size != c.Size || !bytes.Equal(got.Root, c.Root) {
				t.Fatalf("Open(Sign(c)) = %+v, %v; want %+v", got, err, c)
			}
		}
	})

	t.Run("LoadOrCreate", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "checkpoint-key")
		first, err := checkpoint.LoadOrCreate(path, "parley")
		if err != nil {
			t.Fatal(err)
		}
		info, _ := os.Stat(path)
		if info.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v, want 0600", info.Mode().Perm())
		}
		again, err := checkpoint.LoadOrCreate(path, "other-name")
		if err != nil || again.VerifierKey() != first.VerifierKey() {
			t.Fatalf("reloading gave %v, %v; want the same key", again, err)
		}
		os.Chmod(path, 0o644)
		if _, err := checkpoint.LoadOrCreate(path, "parley"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("a key readable by others was accepted: %v", err)
		}
	})

	t.Run("ErrForged", func(t *testing.T) {
		s, _ := checkpoint.NewSigner(mustKey(t))
		signed, _ := s.Sign(checkpoint.Checkpoint{Origin: "negotiations/x", Size: 3, Root: make([]byte, 32)})
		forged := strings.Replace(signed, "\n3\n", "\n4\n", 1)
		if _, err := checkpoint.Open(forged, s.Verifier()); err == nil {
			t.Fatal("a checkpoint whose size was changed still verifies")
		}
		other, _ := checkpoint.NewSigner(mustKey(t))
		if _, err := checkpoint.Open(signed, other.Verifier()); err == nil {
			t.Fatal("a checkpoint verifies under another key")
		}
	})
}

func mustKey(t *testing.T) string {
	skey, _, err := note.GenerateKey(rand.Reader, "parley")
	if err != nil {
		t.Fatal(err)
	}
	return skey
}
