package client

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the domain of the google.rpc.ErrorInfo the server sends.
const ErrorDomain = "parley.v1"

// Reasons the client itself gives, with codes.DataLoss, when what the server
// sends breaks the log's guarantees.
const (
	ReasonSequenceGap       = "SEQUENCE_GAP"       // an event is missing
	ReasonSequenceDuplicate = "SEQUENCE_DUPLICATE" // an event came again or out of order
	ReasonEventInvalid      = "EVENT_INVALID"      // an event does not decode or belongs elsewhere
	ReasonDocumentHash      = "DOCUMENT_HASH"      // the text does not hash to the document hash sent with it
)

// Error is the one error type of this package: what every call returns when
// it fails. Code and Reason are for programs (Reason is the server's stable
// google.rpc.ErrorInfo reason, empty when the failure happened before the
// server could give one, e.g. a refused connection); Message is for people.
type Error struct {
	Code    codes.Code
	Reason  string
	Message string
	// Metadata holds the details the server gave with the reason (its
	// google.rpc.ErrorInfo metadata), e.g. a REBASE_CONFLICT's conflicts
	// (see RebaseConflicts); nil if none.
	Metadata map[string]string

	cause error
}

// Error returns the message followed by the code and reason, e.g.
// "voting on this amendment has closed: it is PASSED (FAILED_PRECONDITION
// VOTING_CLOSED)".
func (e *Error) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("%s (%s)", e.Message, CodeName(e.Code))
	}
	return fmt.Sprintf("%s (%s %s)", e.Message, CodeName(e.Code), e.Reason)
}

// Unwrap returns the error the Error was made from, if any: a gRPC status
// error, or a context error.
func (e *Error) Unwrap() error { return e.cause }

// GRPCStatus lets status.FromError and status.Code see the code.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// ReasonOf returns the reason of err if it is or wraps an *Error, else "".
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// CodeOf returns the gRPC code of err: OK for nil, the code of an *Error or
// a status error, Unknown otherwise.
func CodeOf(err error) codes.Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return status.Code(err)
}

// codeNames spell gRPC codes as the API and its documentation do.
var codeNames = map[codes.Code]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
}

// CodeName returns a gRPC code in UPPER_SNAKE, e.g. "FAILED_PRECONDITION".
func CodeName(c codes.Code) string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("CODE_%d", uint32(c))
}

// toError turns any error of a call into an *Error.
func toError(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &Error{Code: codes.Canceled, Message: "the call was cancelled", cause: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: codes.DeadlineExceeded, Message: "the deadline passed before the call finished", cause: err}
	}
	st, ok := status.FromError(err)
	if !ok {
		return &Error{Code: codes.Unknown, Message: err.Error(), cause: err}
	}
	out := &Error{Code: st.Code(), Message: st.Message(), cause: err}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			out.Reason = info.GetReason()
			out.Metadata = info.GetMetadata()
			break
		}
	}
	return out
}

// dataLoss is an error the client detects in what the server sent.
func dataLoss(reason, format string, args ...any) *Error {
	return &Error{Code: codes.DataLoss, Reason: reason, Message: fmt.Sprintf(format, args...)}
}
