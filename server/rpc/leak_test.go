package rpc

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: watch
// streams, the store's committer and gRPC's own must all end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
