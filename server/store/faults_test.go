package store_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-negotiation/parley/server/servertest"
	"github.com/parley-negotiation/parley/server/store"
)

// TestOpen_Faults checks what Open refuses, and how it says so.
func TestOpen_Faults(t *testing.T) {
	t.Run("ErrGoneBackInTime", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "parley.db")
		db, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		id, _ := mustCreatePlan(t, db)
		db.Close()
		servertest.DamageNewestMeta(t, path)
		_, err = store.Open(path, store.Options{})
		if err == nil || !strings.Contains(err.Error(), "gone back in time") || !strings.Contains(err.Error(), "negotiation "+id+" had reached event 29") {
			t.Fatalf("Open of a file one transaction back: %v", err)
		}
		// Deleting the record accepts the older state.
		if err := os.Remove(path + ".last-commit"); err != nil {
			t.Fatal(err)
		}
		mustOpenAt(t, path)
	})

	t.Run("ErrRecordDamaged", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "parley.db")
		mustOpenAt(t, path).Close()
		if err := os.WriteFile(path+".last-commit", []byte("parley last commit 1\ntransaction 12\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Open(path, store.Options{}); err == nil || !strings.Contains(err.Error(), "is damaged") {
			t.Fatalf("Open with a damaged record: %v", err)
		}
	})

	t.Run("ErrDatabaseMissing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "parley.db")
		mustOpenAt(t, path).Close()
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Open(path, store.Options{}); err == nil || !strings.Contains(err.Error(), "is missing") {
			t.Fatalf("Open without the database but with its record: %v", err)
		}
	})

	t.Run("ErrInUse", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "parley.db")
		mustOpenAt(t, path)
		_, err := store.Open(path, store.Options{LockTimeout: 50 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "in use by process "+strconv.Itoa(os.Getpid())) {
			t.Fatalf("a second Open: %v", err)
		}
	})

	t.Run("OK", func(t *testing.T) {
		// Closing and opening again, many times, never trips the check.
		path := filepath.Join(t.TempDir(), "parley.db")
		for i := 0; i < 3; i++ {
			db := mustOpenAt(t, path)
			mustCreatePlan(t, db)
			db.Close()
		}
		if _, err := os.Stat(path + ".owner"); !os.IsNotExist(err) {
			t.Errorf("the owner file outlives Close: %v", err)
		}
	})
}
