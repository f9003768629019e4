package store

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/parley-negotiation/parley/server/workflow"
)

// Storage failures. A commit that fails for lack of space, or because the
// disk fails, changes nothing (bbolt rolls the transaction back and the
// committer forgets the state it had folded), and the next commit tries
// again: writes succeed again, without a restart, once space is back.
var (
	ErrStorageFull = workflow.Errorf(workflow.ERESOURCEEXHAUSTED, "STORAGE_FULL",
		"the server's disk is full: nothing was written; retry once its operator has freed space")
	ErrStorageFailed = workflow.Errorf(workflow.EUNAVAILABLE, "STORAGE_FAILED",
		"the server could not write to its disk: nothing was written; retry later")
)

// storageError classifies the error of a failed commit: a full disk or a
// failing one, told apart from a bug. bbolt formats some of its errors with
// %s, so the system's message is looked for too.
func storageError(err error) error {
	is := func(errno syscall.Errno) bool {
		return errors.Is(err, errno) || strings.Contains(err.Error(), errno.Error())
	}
	switch {
	case is(syscall.ENOSPC), is(syscall.EDQUOT), is(syscall.EFBIG):
		return ErrStorageFull
	case is(syscall.EIO), is(syscall.EROFS), is(syscall.ENXIO), is(syscall.ENODEV), is(syscall.ESTALE):
		return ErrStorageFailed
	}
	return nil
}

// The last-commit record: a small file beside the database naming the last
// transaction this process committed, and the last event it appended. bbolt
// keeps two meta pages and, when the newest is damaged, silently opens the
// file as it was one transaction earlier: acknowledged writes would vanish
// without a word. The record lets Open notice it and refuse.
//
// The record is written after each commit's fsync, in place and without an
// fsync of its own, so it costs the write path one small write to the page
// cache. It is therefore never ahead of what the database holds on disk, and
// it reaches the disk with the operating system's next writeback (seconds):
// a rollback of the database is caught unless the machine itself lost power
// or crashed within those seconds of the commits that went missing.
const (
	lastCommitSuffix  = ".last-commit"
	lastCommitMagic   = "parley last commit 1"
	lastCommitRecSize = 256 // fixed, so that a write in place never leaves a tail
)

// lastCommit is what the record says.
type lastCommit struct {
	Txid        uint64
	Negotiation string // the negotiation of the last event appended, if any
	Sequence    int64
}

func encodeLastCommit(c lastCommit) []byte {
	body := fmt.Sprintf("%s\ntransaction %d\nnegotiation %s\nsequence %d\n", lastCommitMagic, c.Txid, c.Negotiation, c.Sequence)
	rec := fmt.Sprintf("%scrc32 %08x\n", body, crc32.ChecksumIEEE([]byte(body)))
	return []byte(rec + strings.Repeat(" ", max(0, lastCommitRecSize-1-len(rec))) + "\n")
}

func decodeLastCommit(raw []byte) (lastCommit, error) {
	var c lastCommit
	text := strings.TrimRight(string(raw), " \n")
	body, sum, ok := strings.Cut(text, "crc32 ")
	if !ok || fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(body))) != sum {
		return c, errors.New("its checksum does not match")
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) != 4 || lines[0] != lastCommitMagic {
		return c, errors.New("it is not a last-commit record")
	}
	var err error
	var errs []error
	txid, ok1 := strings.CutPrefix(lines[1], "transaction ")
	c.Negotiation, _ = strings.CutPrefix(lines[2], "negotiation ")
	seq, ok2 := strings.CutPrefix(lines[3], "sequence ")
	c.Txid, err = strconv.ParseUint(txid, 10, 64)
	errs = append(errs, err)
	c.Sequence, err = strconv.ParseInt(seq, 10, 64)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil || !ok1 || !ok2 {
		return c, errors.New("it is not a last-commit record")
	}
	return c, nil
}

// readLastCommit returns the record beside the database at path; found is
// false if there is none or it is empty (made, but never written to disk
// before a power cut).
func readLastCommit(path string) (c lastCommit, found bool, err error) {
	raw, err := os.ReadFile(path + lastCommitSuffix)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(raw) == 0) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	c, err = decodeLastCommit(raw)
	if err != nil {
		return c, false, fmt.Errorf("%s%s is damaged (%v): parleyd cannot tell whether the database lost commits; "+
			"run it once with --verify, compare with your newest backup, and delete that file to go on", path, lastCommitSuffix, err)
	}
	return c, true, nil
}

// checkNotRolledBack refuses a database whose newest commit is older than
// the last one this server recorded, or which is gone while a record says
// it held commits.
func checkNotRolledBack(path string, fileTxid uint64, exists bool) error {
	last, found, err := readLastCommit(path)
	if err != nil || !found {
		return err
	}
	lastEvent := ""
	if last.Negotiation != "" {
		lastEvent = fmt.Sprintf(", when negotiation %s had reached event %d", last.Negotiation, last.Sequence)
	}
	record := path + lastCommitSuffix
	if !exists {
		return fmt.Errorf("the database %s is missing, but %s says this server committed transaction %d%s: "+
			"restore the database from your newest backup, or, to start a new empty database on purpose, delete %s",
			path, record, last.Txid, lastEvent, record)
	}
	if fileTxid < last.Txid {
		return fmt.Errorf("the database has gone back in time: its newest commit is transaction %d, but this server "+
			"committed transaction %d%s, so writes that were acknowledged are missing. If you restored a backup on "+
			"purpose, delete %s to accept it. Otherwise a damaged page made the file fall back to an earlier state: "+
			"do not serve it; restore your newest backup (docs/operations.md, \"Restore\"), then delete that file",
			fileTxid, last.Txid, lastEvent, record)
	}
	return nil
}

// lastCommitFile keeps the record open to rewrite it in place after each
// commit.
type lastCommitFile struct {
	mu   sync.Mutex // the committer writes it, and SetCheckpointKey
	f    *os.File
	last lastCommit
}

func openLastCommit(path string) (*lastCommitFile, error) {
	last, _, err := readLastCommit(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path+lastCommitSuffix, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the last-commit record: %w", err)
	}
	return &lastCommitFile{f: f, last: last}, nil
}

// record notes a committed transaction and, if it appended events, the last
// of them. A failure to write it is returned for logging only: the commit
// stands.
func (l *lastCommitFile) record(txid uint64, negotiation string, sequence int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if txid < l.last.Txid {
		return nil // a later commit recorded itself first
	}
	l.last.Txid = txid
	if negotiation != "" {
		l.last.Negotiation, l.last.Sequence = negotiation, sequence
	}
	_, err := l.f.WriteAt(encodeLastCommit(l.last), 0)
	return err
}

func (l *lastCommitFile) close() error { return l.f.Close() }

// The owner file names the process that holds the database, so that a
// second server on the same data folder can say who holds it instead of
// bbolt's bare "timeout".
const ownerSuffix = ".owner"

func writeOwner(path string) error {
	host, _ := os.Hostname()
	text := fmt.Sprintf("pid %d\nhost %s\nsince %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	return os.WriteFile(path+ownerSuffix, []byte(text), 0o600)
}

func removeOwner(path string) { os.Remove(path + ownerSuffix) }

// inUse explains a lock timeout with what the owner file says.
func inUse(path string, timeout error) error {
	raw, err := os.ReadFile(path + ownerSuffix)
	if err != nil {
		return fmt.Errorf("the database %s is in use: another process holds the database (it did not say which); "+
			"stop it first, or give this server another --data folder: %w", path, timeout)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		k, v, _ := strings.Cut(line, " ")
		fields[k] = v
	}
	return fmt.Errorf("the database %s is in use: another process holds the database, in use by process %s on host %s (running since %s); "+
		"stop it first, or give this server another --data folder: %w", path, fields["pid"], fields["host"], fields["since"], timeout)
}
