package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"

	"github.com/parley-negotiation/parley/client"
)

// Exit codes. Scripts can tell apart what to fix: the command line (2), the
// set-up (3, 4), the network (5), or a view of the negotiation that went out
// of date (6: read again and retry).
const (
	ExitOK          = 0 // done
	ExitFailed      = 1 // the server refused the action, or it failed
	ExitUsage       = 2 // the command line is wrong
	ExitConfig      = 3 // no usable profile, or no negotiation to act on
	ExitAuth        = 4 // the token is unknown or revoked, or may not do this
	ExitUnreachable = 5 // the server could not be reached or did not answer
	ExitConflict    = 6 // the document changed under the caller (ABORTED)
)

// usageError is a mistake on the command line.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// configError is a missing or unusable profile or setting.
type configError struct{ error }

func configf(format string, args ...any) error { return configError{fmt.Errorf(format, args...)} }

// loginHint says how to get a profile.
const loginHint = "log in first: 'parley login --server HOST:PORT --token TOKEN', or for the demo 'parley login --import parley-data/demo-tokens.json --as ukraine'"

// describe turns the error of a run into its exit code and one line:
// "parley: <command>: <what failed and why>".
func (a *app) describe(cmd *cobra.Command, err error) (int, string) {
	prefix := "parley: "
	if cmd != nil && cmd.HasParent() {
		prefix += strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ") + ": "
	}
	var (
		usage  usageError
		config configError
		ce     *client.Error
	)
	switch {
	case !a.ran:
		// Errors before a command ran come from parsing its flags and
		// arguments: point to the help.
		help := "parley --help"
		if cmd != nil {
			help = cmd.CommandPath() + " --help"
		}
		return ExitUsage, fmt.Sprintf("%s%v (see '%s')", prefix, err, help)
	case errors.As(err, &usage):
		return ExitUsage, prefix + err.Error()
	case errors.As(err, &config):
		return ExitConfig, prefix + err.Error()
	case isUnverified(err) || client.IsLogError(err):
		return ExitUnverified, prefix + err.Error()
	case errors.As(err, &ce):
		return a.describeCall(prefix, err, ce)
	}
	return ExitFailed, prefix + err.Error()
}

// describeCall explains a failed call, with what to do where the reason
// alone does not say it. err is e, or wraps it with context ("point 6: …").
func (a *app) describeCall(prefix string, err error, e *client.Error) (int, string) {
	server := a.conn.Server
	switch e.Code {
	case codes.Unavailable:
		if e.Reason != "" { // the server answered: it is shutting down
			return ExitUnreachable, prefix + err.Error()
		}
		return ExitUnreachable, fmt.Sprintf("%scannot reach the server at %s (UNAVAILABLE: %s): is parleyd running there? Check the profile's server with 'parley profiles', or pass --server",
			prefix, server, transportCause(e.Message))
	case codes.DeadlineExceeded:
		return ExitUnreachable, fmt.Sprintf("%sthe server at %s did not answer in time (DEADLINE_EXCEEDED); try again, or allow more with --timeout", prefix, server)
	case codes.Unauthenticated:
		return ExitAuth, fmt.Sprintf("%s%v; log in again with a valid token: 'parley login --server %s --token TOKEN'", prefix, err, server)
	case codes.PermissionDenied:
		return ExitAuth, prefix + err.Error()
	case codes.Aborted:
		return ExitConflict, prefix + err.Error()
	}
	return ExitFailed, prefix + err.Error()
}

// transportCause shortens gRPC's transport messages to their cause, e.g.
// "connection refused".
func transportCause(msg string) string {
	msg = strings.TrimSuffix(msg, `"`)
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "dial") {
		return msg[i+2:]
	}
	return msg
}
