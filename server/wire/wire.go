// Package wire maps the rules' types to and from the parley.v1 protobuf
// messages, which are both the API and the storage format.
//
// Everything that turns a workflow value into bytes, or bytes back into a
// workflow value, goes through here, so the API and the database cannot drift
// apart.
package wire

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-negotiation/parley/server/workflow"
)

// Deterministic is how Parley encodes every message it stores, so that the
// same event always has the same leaf bytes in the same build.
var Deterministic = proto.MarshalOptions{Deterministic: true}

// NegotiationName returns `negotiations/{id}`.
func NegotiationName(id string) string { return "negotiations/" + id }

// PointName returns `negotiations/{negotiation}/points/{point}`.
func PointName(negotiationID, pointID string) string {
	return "negotiations/" + negotiationID + "/points/" + pointID
}

// AmendmentName returns `negotiations/{negotiation}/amendments/{amendment}`.
func AmendmentName(negotiationID, amendmentID string) string {
	return "negotiations/" + negotiationID + "/amendments/" + amendmentID
}

// CommentName returns `negotiations/{negotiation}/comments/{comment}`.
func CommentName(negotiationID, commentID string) string {
	return "negotiations/" + negotiationID + "/comments/" + commentID
}

// ParseCommentName returns the ids in `negotiations/{n}/comments/{c}`.
func ParseCommentName(field, name string) (negotiationID, commentID string, err error) {
	return parseChildName(field, name, "comments")
}

// ParseNegotiationName returns the id in `negotiations/{id}`.
func ParseNegotiationName(field, name string) (string, error) {
	parts := strings.Split(name, "/")
	if len(parts) != 2 || parts[0] != "negotiations" || !isUUID(parts[1]) {
		return "", nameError(field, name, "negotiations/{uuid}")
	}
	return parts[1], nil
}

// ParsePointName returns the ids in `negotiations/{n}/points/{p}`.
func ParsePointName(field, name string) (negotiationID, pointID string, err error) {
	return parseChildName(field, name, "points")
}

// ParseAmendmentName returns the ids in `negotiations/{n}/amendments/{a}`.
func ParseAmendmentName(field, name string) (negotiationID, amendmentID string, err error) {
	return parseChildName(field, name, "amendments")
}

func parseChildName(field, name, collection string) (string, string, error) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "negotiations" || parts[2] != collection || !isUUID(parts[1]) || !isUUID(parts[3]) {
		return "", "", nameError(field, name, "negotiations/{uuid}/"+collection+"/{uuid}")
	}
	return parts[1], parts[3], nil
}

// isUUID accepts only the canonical lowercase form, so that one resource has
// one name.
func isUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

func nameError(field, name, pattern string) error {
	if name == "" {
		return workflow.Errorf(workflow.EINVALID, "NAME_INVALID", "%s is required: %s", field, pattern)
	}
	return workflow.Errorf(workflow.EINVALID, "NAME_INVALID", "%s %.100q is not of the form %s", field, name, pattern)
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func duration(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

// Duration converts a protobuf duration; nil gives 0.
func Duration(d *durationpb.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.AsDuration()
}

// Time converts a stored timestamp back; nil gives the zero time.
func Time(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}
