package wal

import (
	"os"
	"syscall"
)

// fdatasync writes the file's data and only the metadata needed to read it
// back: with the segment preallocated, no size.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

func preallocate(f *os.File, size int64) error {
	err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
	if err == syscall.ENOTSUP || err == syscall.EOPNOTSUPP || err == syscall.EINTR {
		return f.Truncate(size)
	}
	return err
}
