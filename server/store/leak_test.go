package store_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// committer must end with Close, and nothing else may linger.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
