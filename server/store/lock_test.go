package store_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parley-negotiation/parley/server/store"
)

// holdEnv names the database that TestHelperHoldDatabase holds.
const holdEnv = "PARLEY_TEST_HOLD_DATABASE"

// TestHelperHoldDatabase is not a test of its own: TestOpen_HeldByAnotherProcess
// runs the test binary again with it, as another process that opens the
// database and holds it until its standard input closes.
func TestHelperHoldDatabase(t *testing.T) {
	path := os.Getenv(holdEnv)
	if path == "" {
		t.Skip("helper process of TestOpen_HeldByAnotherProcess")
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	os.Stdout.WriteString("holding\n")
	io.Copy(io.Discard, os.Stdin)
}

// A second server started on a data folder that a running one holds gives up
// after the default lock timeout with an error that says why, instead of
// waiting forever; once the first one is gone, the database opens.
func TestOpen_HeldByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	holder := exec.Command(os.Args[0], "-test.run=^TestHelperHoldDatabase$", "-test.count=1")
	holder.Env = append(os.Environ(), holdEnv+"="+path)
	holder.Stderr = os.Stderr
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	release := func() {
		stdin.Close()
		io.Copy(io.Discard, stdout)
		holder.Wait()
	}
	defer release()
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && lines.Text() != "holding" {
	}
	if lines.Err() != nil || lines.Text() != "holding" {
		t.Fatalf("the other process does not hold the database: %v", lines.Err())
	}

	type opened struct {
		db  *store.DB
		err error
	}
	done := make(chan opened, 1)
	go func() {
		db, err := store.Open(path, store.Options{})
		done <- opened{db, err}
	}()
	var got opened
	select {
	case got = <-done:
	case <-time.After(10 * time.Second):
		release()
		got = <-done
		if got.db != nil {
			got.db.Close()
		}
		t.Fatalf("Open waited 10 s for the lock another process holds, and only returned when it exited")
	}
	if got.err == nil {
		got.db.Close()
		t.Fatalf("Open took a database that another process holds")
	}
	if !errors.Is(got.err, bolt.ErrTimeout) || !strings.Contains(got.err.Error(), "another process holds the database") {
		t.Fatalf("Open: %v; want an error saying another process holds the database", got.err)
	}
	t.Logf("refused: %v", got.err)

	release()
	mustOpenAt(t, path)
}
