package servertest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them, such as
// one still reading the output of a parleyd that was not stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
