package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// Document is the consolidated document as one read saw it: every point in
// order, the negotiation it belongs to, and the hash that AcceptDocument
// takes.
type Document struct {
	Negotiation *parleyv1.Negotiation
	Points      []*parleyv1.Point
	SHA256      string // lowercase hex SHA-256 of Text()
}

// documentReads bounds how often Document starts again when the document
// changes between two of its pages.
const documentReads = 4

// Document reads the whole document of a negotiation, page after page, and
// checks that its text hashes to the hash the server sent. If the document
// changes between two pages, it reads it again from the start, so the points
// returned are always one version of the document.
func (c *Client) Document(ctx context.Context, negotiation string) (*Document, error) {
	for try := 1; ; try++ {
		doc, err := c.readDocument(ctx, negotiation)
		if err != nil {
			if ReasonOf(err) == "DOCUMENT_CHANGED" && try < documentReads {
				continue
			}
			return nil, err
		}
		if err := doc.Verify(); err != nil {
			return nil, err
		}
		return doc, nil
	}
}

func (c *Client) readDocument(ctx context.Context, negotiation string) (*Document, error) {
	req := &parleyv1.GetDocumentRequest{Negotiation: negotiation}
	doc := &Document{}
	for {
		resp, err := invoke(ctx, c, req, c.svc.GetDocument)
		if err != nil {
			return nil, err
		}
		if doc.Negotiation == nil {
			doc.Negotiation, doc.SHA256 = resp.GetNegotiation(), resp.GetDocumentSha256()
		}
		doc.Points = append(doc.Points, resp.GetPoints()...)
		if resp.GetNextPageToken() == "" {
			return doc, nil
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// Text returns the consolidated text: for each point in order, its number,
// ". ", its text and a newline. Its SHA-256 is the document hash.
func (d *Document) Text() string {
	var b strings.Builder
	for _, p := range d.Points {
		b.WriteString(strconv.Itoa(int(p.GetNumber())))
		b.WriteString(". ")
		b.WriteString(p.GetText())
		b.WriteString("\n")
	}
	return b.String()
}

// Verify checks that the points are numbered 1, 2, 3… and that the text
// they make hashes to SHA256, so that accepting SHA256 accepts the text read.
func (d *Document) Verify() error {
	for i, p := range d.Points {
		if int(p.GetNumber()) != i+1 {
			return dataLoss(ReasonDocumentHash, "the document's point %d carries the number %d", i+1, p.GetNumber())
		}
	}
	sum := sha256.Sum256([]byte(d.Text()))
	if got := hex.EncodeToString(sum[:]); got != d.SHA256 {
		return dataLoss(ReasonDocumentHash, "the document's text hashes to %s, not to the %s the server sent with it", got, d.SHA256)
	}
	return nil
}

// PointByNumber returns the point with a display number, 1-based.
func (d *Document) PointByNumber(number int) (*parleyv1.Point, bool) {
	if number < 1 || number > len(d.Points) {
		return nil, false
	}
	return d.Points[number-1], true
}

// PointByName returns the point with a resource name, if it is in the
// document.
func (d *Document) PointByName(name string) (*parleyv1.Point, bool) {
	for _, p := range d.Points {
		if p.GetName() == name {
			return p, true
		}
	}
	return nil, false
}
