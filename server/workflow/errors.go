package workflow

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one gRPC status code in the server's error table.
const (
	EINVALID            = "invalid"             // the request is malformed, whatever the state
	ENOTFOUND           = "not_found"           // a named resource does not exist
	EFAILEDPRECONDITION = "failed_precondition" // the state does not allow the action now
	EABORTED            = "aborted"             // the caller acted on an outdated view (revision, hash)
	EALREADYEXISTS      = "already_exists"      // the thing to create exists already
	EPERMISSION         = "permission_denied"   // the caller may not do this
	EUNAUTHENTICATED    = "unauthenticated"     // the caller is not known
	ERESOURCEEXHAUSTED  = "resource_exhausted"  // a limit was reached
	EUNAVAILABLE        = "unavailable"         // the server cannot take the request now; retry later
	EINTERNAL           = "internal"            // a bug or an I/O failure; details are logged, not returned
)

// Error is the one error type of Parley. Code says which class of failure it
// is, Reason is a stable UPPER_SNAKE word a program can switch on, and Message
// is for people.
type Error struct {
	Code    string
	Reason  string
	Message string
	// Metadata, if any, gives a program the details of the refusal as
	// lowerCamelCase keys (google.rpc.ErrorInfo's metadata on the wire).
	Metadata map[string]string
}

func (e *Error) Error() string {
	return fmt.Sprintf("parley error: code=%s reason=%s message=%s", e.Code, e.Reason, e.Message)
}

// Errorf returns an *Error with the given code and reason.
func Errorf(code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is or wraps an *Error, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorReason returns the reason of err if it is or wraps an *Error, and
// "INTERNAL" for any other non-nil error.
func ErrorReason(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Reason
	default:
		return "INTERNAL"
	}
}

// ErrorMessage returns the human message of err if it is or wraps an *Error,
// and a generic message otherwise, so that internal details never leak.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
