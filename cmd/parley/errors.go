package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// failure is what a run that failed reports: its exit code, and the one
// line for people or, with -o json, the JSON object for programs.
type failure struct {
	ExitCode int    `json:"exitCode"`
	Command  string `json:"command"` // "vote", "token issue"; "" for parley itself
	Code     string `json:"code"`    // the gRPC code, or INVALID_ARGUMENT for the command line, FAILED_PRECONDITION for the set-up, DATA_LOSS for a log that does not verify, UNKNOWN for a local failure
	Reason   string `json:"reason"`  // the server's ErrorInfo reason, or the CLI's: USAGE, CONFIG, UNVERIFIED, LOCAL
	Message  string `json:"message"` // what failed and why, as in the line
	// Details are the server's details of the refusal (its ErrorInfo
	// metadata), e.g. a REBASE_CONFLICT's conflicts; absent if none.
	Details map[string]string `json:"details,omitempty"`
	line    string
}

// Reasons of the failures that happen before, or without, a server's answer.
const (
	reasonUsage      = "USAGE"      // the command line is wrong
	reasonConfig     = "CONFIG"     // no usable profile or negotiation
	reasonUnverified = "UNVERIFIED" // the audit log does not verify
	reasonLocal      = "LOCAL"      // a local file or system call failed
)

// print writes the failure on w: one line, or one line of JSON.
func (f failure) print(w io.Writer, asJSON bool) {
	if asJSON {
		raw, _ := json.Marshal(map[string]failure{"error": f})
		w.Write(append(raw, '\n'))
		return
	}
	io.WriteString(w, f.line+"\n")
}

// describe turns the error of a run into its exit code and one line:
// "parley: <command>: <what failed and why>".
func (a *app) describe(cmd *cobra.Command, err error) failure {
	f := failure{}
	prefix := "parley: "
	if cmd != nil && cmd.HasParent() {
		f.Command = strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
		prefix += f.Command + ": "
	}
	local := func(exit int, code codes.Code, reason, message string) failure {
		f.ExitCode, f.Code, f.Reason, f.Message, f.line = exit, client.CodeName(code), reason, message, prefix+message
		return f
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
		return local(ExitUsage, codes.InvalidArgument, reasonUsage, fmt.Sprintf("%v (see '%s')", err, help))
	case errors.As(err, &usage):
		return local(ExitUsage, codes.InvalidArgument, reasonUsage, err.Error())
	case errors.As(err, &config):
		return local(ExitConfig, codes.FailedPrecondition, reasonConfig, err.Error())
	case isUnverified(err) || client.IsLogError(err):
		f = local(ExitUnverified, codes.DataLoss, reasonUnverified, err.Error())
		if errors.As(err, &ce) && ce.Reason != "" {
			f.Reason = ce.Reason
		}
		return f
	case errors.As(err, &ce):
		exit, message := a.describeCall(err, ce)
		f.ExitCode, f.Code, f.Reason, f.Message, f.line = exit, client.CodeName(ce.Code), ce.Reason, message, prefix+message
		f.Details = ce.Metadata
		return f
	}
	return local(ExitFailed, codes.Unknown, reasonLocal, err.Error())
}

// describeCall explains a failed call, with what to do where the reason
// alone does not say it. err is e, or wraps it with context ("point 6: …").
func (a *app) describeCall(err error, e *client.Error) (int, string) {
	server := a.conn.Server
	switch e.Code {
	case codes.Unavailable:
		if e.Reason != "" { // the server answered: it is shutting down
			return ExitUnreachable, err.Error()
		}
		return ExitUnreachable, fmt.Sprintf("cannot reach the server at %s (UNAVAILABLE: %s): is parleyd running there? Check the profile's server with 'parley profiles', or pass --server",
			server, transportCause(e.Message))
	case codes.DeadlineExceeded:
		return ExitUnreachable, fmt.Sprintf("the server at %s did not answer in time (DEADLINE_EXCEEDED); try again, or allow more with --timeout", server)
	case codes.Unauthenticated:
		return ExitAuth, fmt.Sprintf("%v; log in again with a valid token: 'parley login --server %s --token TOKEN'", err, server)
	case codes.PermissionDenied:
		return ExitAuth, err.Error()
	case codes.Aborted:
		return ExitConflict, err.Error()
	}
	if e.Reason == "NEGOTIATION_NOT_FOUND" {
		// The profile or --negotiation names a negotiation that is not
		// there: a set-up problem, as when there is no profile at all.
		return ExitConfig, fmt.Sprintf("%v; list the negotiations you may read with 'parley negotiations'", err)
	}
	return ExitFailed, err.Error()
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
