// Command parley is the command-line client of Parley: negotiators and
// mediators read the document, propose and vote on amendments, sign off
// points and accept the text, from a terminal or from scripts.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := NewMain().Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Main is one run of the command line, with its surroundings made explicit
// so that tests can drive it.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Terminal reports whether w is a terminal; colours are used only then.
	Terminal func(w io.Writer) bool
}

// NewMain returns a Main on the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Terminal: isTerminal}
}

// Run runs the command line args and returns the exit code. Errors are
// printed to Stderr as one line.
func (m *Main) Run(ctx context.Context, args []string) int {
	a := &app{Main: m}
	defer a.close()
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(m.Stdin)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	f := a.describe(cmd, err)
	f.print(m.Stderr, a.json())
	return f.ExitCode
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
