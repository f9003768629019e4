package client

import (
	"context"
	"errors"
	"strconv"
	"strings"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// RebaseAmendment re-proposes the caller's STALE amendment (a resource name)
// on its point's current text: the server merges, word by word, the
// amendment's change with the change(s) applied since. It returns the new
// amendment, OPEN for voting; when the changes overlap it fails with
// FAILED_PRECONDITION REBASE_CONFLICT, whose conflicts RebaseConflicts
// reads. An empty rationale keeps the stale amendment's.
func (c *Client) RebaseAmendment(ctx context.Context, amendment, rationale string) (*parleyv1.Amendment, error) {
	negotiation, _, _ := strings.Cut(amendment, "/amendments/")
	req := &parleyv1.ProposeAmendmentRequest{RequestId: c.requestID(ctx), Negotiation: negotiation, RebaseOf: amendment, Rationale: rationale}
	resp, err := invoke(ctx, c, req, c.svc.ProposeAmendment)
	return resp.GetAmendment(), err
}

// RebaseConflict is a part of a point's text that a stale amendment and the
// change applied since both change.
type RebaseConflict struct {
	Words  string // the words of the text the amendment was drafted against, e.g. "words 7–9" or "before word 7"
	Base   string // what they read then
	Yours  string // what the stale amendment makes of them
	Theirs string // what the point reads there now
}

// RebaseConflicts returns the conflicts that a REBASE_CONFLICT error shows
// (the server sends the first three, each text cut to 200 bytes), how many
// there are in all, and the point's revision to redraft against. It returns
// nothing for any other error.
func RebaseConflicts(err error) (shown []RebaseConflict, total int, currentRevision int64) {
	var e *Error
	if !errors.As(err, &e) || e.Reason != "REBASE_CONFLICT" {
		return nil, 0, 0
	}
	m := e.Metadata
	total, _ = strconv.Atoi(m["conflicts"])
	currentRevision, _ = strconv.ParseInt(m["currentRevision"], 10, 64)
	for i := 1; ; i++ {
		key := "conflict" + strconv.Itoa(i)
		words, ok := m[key+"Words"]
		if !ok {
			break
		}
		shown = append(shown, RebaseConflict{Words: words, Base: m[key+"Base"], Yours: m[key+"Yours"], Theirs: m[key+"Theirs"]})
	}
	return shown, total, currentRevision
}
