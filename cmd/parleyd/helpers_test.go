package main_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// sha returns the lowercase hex SHA-256 of s, as the API spells hashes.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// rid returns a fresh request id.
func rid() string { return uuid.NewString() }

// render is the consolidated text as the API documents it, computed on the
// client's side so that the server's document hash is checked, not trusted.
func render(points []*parleyv1.Point) string {
	var b strings.Builder
	for _, p := range points {
		b.WriteString(strconv.Itoa(int(p.GetNumber())))
		b.WriteString(". ")
		b.WriteString(p.GetText())
		b.WriteString("\n")
	}
	return b.String()
}

// errorInfo returns the gRPC code of err and the reason and domain of its
// google.rpc.ErrorInfo, if it has one.
func errorInfo(err error) (code codes.Code, reason, domain string) {
	st := status.Convert(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Code(), info.GetReason(), info.GetDomain()
		}
	}
	return st.Code(), "", ""
}

// wantError fails unless err has the code and, when reason is not empty, an
// ErrorInfo with that reason in Parley's domain. An empty reason means the
// error must come without ErrorInfo (one made by the gRPC layer itself).
func wantError(t testing.TB, what string, err error, code codes.Code, reason string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want %v %s", what, code, reason)
		return
	}
	gotCode, gotReason, domain := errorInfo(err)
	if gotCode != code || gotReason != reason {
		t.Errorf("%s: got %v %q (%v), want %v %q", what, gotCode, gotReason, err, code, reason)
		return
	}
	if reason != "" && domain != "parley.v1" {
		t.Errorf("%s: ErrorInfo domain %q, want parley.v1", what, domain)
	}
}

// listAllEvents reads a negotiation's whole log page by page.
func listAllEvents(t testing.TB, ctx context.Context, svc parleyv1.NegotiationServiceClient, name string, pageSize int32) []*parleyv1.EventRecord {
	t.Helper()
	var out []*parleyv1.EventRecord
	token := ""
	for {
		r, err := svc.ListEvents(ctx, &parleyv1.ListEventsRequest{Negotiation: name, PageSize: pageSize, PageToken: token})
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		if len(r.GetEvents()) > int(pageSize) {
			t.Fatalf("ListEvents: page of %d events, asked for %d", len(r.GetEvents()), pageSize)
		}
		out = append(out, r.GetEvents()...)
		if token = r.GetNextPageToken(); token == "" {
			return out
		}
	}
}

// getWholeDocument reads every page of a negotiation's document.
func getWholeDocument(t testing.TB, ctx context.Context, svc parleyv1.NegotiationServiceClient, name string, pageSize int32) []*parleyv1.GetDocumentResponse {
	t.Helper()
	var pages []*parleyv1.GetDocumentResponse
	token := ""
	for {
		r, err := svc.GetDocument(ctx, &parleyv1.GetDocumentRequest{Negotiation: name, PageSize: pageSize, PageToken: token})
		if err != nil {
			t.Fatalf("GetDocument: %v", err)
		}
		pages = append(pages, r)
		if token = r.GetNextPageToken(); token == "" {
			return pages
		}
	}
}

// documentPoints returns the points of every page in order.
func documentPoints(pages []*parleyv1.GetDocumentResponse) []*parleyv1.Point {
	var out []*parleyv1.Point
	for _, p := range pages {
		out = append(out, p.GetPoints()...)
	}
	return out
}

// metadataCtx returns ctx carrying authorization metadata exactly as given.
func metadataCtx(ctx context.Context, authorization string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", authorization)
}
