package rpc

import (
	"context"
	"errors"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/parley-negotiation/parley/server/workflow"
)

// ErrorDomain is the domain of every google.rpc.ErrorInfo Parley returns.
const ErrorDomain = "parley.v1"

// codeOf is the one table from Parley's error codes to gRPC codes.
var codeOf = map[string]codes.Code{
	workflow.EINVALID:            codes.InvalidArgument,
	workflow.ENOTFOUND:           codes.NotFound,
	workflow.EFAILEDPRECONDITION: codes.FailedPrecondition,
	workflow.EABORTED:            codes.Aborted,
	workflow.EALREADYEXISTS:      codes.AlreadyExists,
	workflow.EPERMISSION:         codes.PermissionDenied,
	workflow.EUNAUTHENTICATED:    codes.Unauthenticated,
	workflow.ERESOURCEEXHAUSTED:  codes.ResourceExhausted,
	workflow.EUNAVAILABLE:        codes.Unavailable,
	workflow.EINTERNAL:           codes.Internal,
}

// toStatus turns any error a handler returns into a gRPC status error with a
// google.rpc.ErrorInfo. Errors that are not *workflow.Error are logged with
// their detail and returned as INTERNAL without it.
func toStatus(ctx context.Context, logger *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the call was cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the deadline passed before the call finished")
	}
	var e *workflow.Error
	if !errors.As(err, &e) || e.Code == workflow.EINTERNAL {
		logger.ErrorContext(ctx, "internal error", "method", method, "err", err)
		e = &workflow.Error{Code: workflow.EINTERNAL, Reason: "INTERNAL", Message: "internal error; the server's log has the details"}
	}
	code, ok := codeOf[e.Code]
	if !ok {
		code = codes.Unknown
	}
	st, detailErr := status.New(code, e.Message).WithDetails(&errdetails.ErrorInfo{Reason: e.Reason, Domain: ErrorDomain, Metadata: e.Metadata})
	if detailErr != nil {
		return status.Error(code, e.Message)
	}
	return st.Err()
}
