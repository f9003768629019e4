package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// me returns the caller's participant id.
func (a *app) me(ctx context.Context) (string, error) {
	if a.conn.Participant != "" {
		return a.conn.Participant, nil
	}
	caller, err := a.cl.Caller(ctx)
	if err != nil {
		return "", err
	}
	a.conn.Participant = caller.GetParticipant().GetId()
	return a.conn.Participant, nil
}

func signedBy(p *parleyv1.Point, who string) bool {
	for _, s := range p.GetSignOffs() {
		if s.GetParticipant() == who {
			return true
		}
	}
	return false
}

func (a *app) signOffCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "sign-off N... | --all",
		Short: "Sign off points at their current revision and text, as you read them (delegations)",
		Long: `sign-off states that your delegation agrees to points at the revision and text
hash read just before: if a point changed in between, the server refuses and
nothing is signed. --all signs off every point you have not signed off at its
current revision.`,
		RunE: a.run(func(ctx context.Context, args []string) error {
			if all == (len(args) > 0) {
				return usagef("give point numbers, or --all")
			}
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			var points []*parleyv1.Point
			if all {
				me, err := a.me(ctx)
				if err != nil {
					return err
				}
				for _, p := range doc.Points {
					if !signedBy(p, me) {
						points = append(points, p)
					}
				}
			} else {
				for _, arg := range args {
					p, err := pointArg(doc, arg)
					if err != nil {
						return err
					}
					points = append(points, p)
				}
			}
			if len(points) == 0 {
				if a.json() {
					return printJSON(a.Stdout, map[string]any{"points": []apiJSON{}})
				}
				fmt.Fprintf(a.Stdout, "You have signed off all %d points already.\n", len(doc.Points))
				return nil
			}
			// One call and one commit for all of them: either every point is
			// signed off at the revision read, or none is.
			if _, err := a.cl.SignOffPoints(a.mutationContext(ctx, ""), doc.Negotiation.GetName(), points); err != nil {
				return batchError(err, points)
			}
			after, err := a.document(ctx)
			if err != nil {
				return err
			}
			signed := afterBatch(after, points)
			if a.json() {
				return printJSON(a.Stdout, map[string]any{"points": apiJSONList(signed)})
			}
			for _, p := range signed {
				note := ""
				if p.GetStatus() == parleyv1.PointStatus_POINT_STATUS_AGREED {
					note = "; it is now agreed by every delegation"
				}
				fmt.Fprintf(a.Stdout, "Signed off point %d at revision %d (text sha256 %s)%s.\n", p.GetNumber(), p.GetRevision(), shortHash(p.GetTextSha256()), note)
			}
			if all {
				fmt.Fprintf(a.Stdout, "Signed off %s; you have now signed off all %d points.\n", plural(len(points), "point", "points"), len(doc.Points))
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&all, "all", false, "sign off every point you have not signed off at its current revision")
	return cmd
}

func (a *app) revokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke N...",
		Short: "Revoke your sign-off of points (delegations)",
		Args:  args(1, -1, "one or more point numbers"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			var points []*parleyv1.Point
			var names []string
			for _, arg := range args {
				p, err := pointArg(doc, arg)
				if err != nil {
					return err
				}
				points, names = append(points, p), append(names, p.GetName())
			}
			if _, err := a.cl.RevokeSignOffs(a.mutationContext(ctx, ""), doc.Negotiation.GetName(), names); err != nil {
				return batchError(err, points)
			}
			after, err := a.document(ctx)
			if err != nil {
				return err
			}
			revoked := afterBatch(after, points)
			if a.json() {
				return printJSON(a.Stdout, map[string]any{"points": apiJSONList(revoked)})
			}
			for _, p := range revoked {
				fmt.Fprintf(a.Stdout, "Revoked your sign-off of point %d (revision %d).\n", p.GetNumber(), p.GetRevision())
			}
			return nil
		}),
	}
}

// afterBatch returns the points of a batch as the document read after it
// shows them, in the batch's order.
func afterBatch(doc *client.Document, batch []*parleyv1.Point) []*parleyv1.Point {
	byID := make(map[string]*parleyv1.Point, len(doc.Points))
	for _, p := range doc.Points {
		byID[p.GetId()] = p
	}
	out := make([]*parleyv1.Point, 0, len(batch))
	for _, p := range batch {
		if q, ok := byID[p.GetId()]; ok {
			out = append(out, q)
		}
	}
	return out
}

// batchError turns the server's "item K: ..." of a refused batch into
// "point N: ...", the number the user gave.
func batchError(err error, batch []*parleyv1.Point) error {
	var e *client.Error
	if !errors.As(err, &e) {
		return err
	}
	var k int
	if _, scanErr := fmt.Sscanf(e.Message, "item %d:", &k); scanErr != nil || k < 1 || k > len(batch) {
		return err
	}
	out := *e
	out.Message = fmt.Sprintf("point %d:%s", batch[k-1].GetNumber(), strings.TrimPrefix(e.Message, fmt.Sprintf("item %d:", k)))
	return &out
}

func (a *app) acceptCommand() *cobra.Command {
	var hash string
	var withdraw bool
	cmd := &cobra.Command{
		Use:   "accept [--hash SHA256] | --withdraw",
		Short: "Accept the whole document at its hash (delegations)",
		Long: `accept reads the document, checks that its text hashes to the document hash,
shows that hash, and accepts the document at it. With --hash, it accepts only
if the document still has that hash (for instance the one shown by 'parley doc'
or an export you read). When every delegation has accepted the same text, the
negotiation concludes and the text is frozen. --withdraw takes your
delegation's acceptance back, as long as the negotiation has not concluded.`,
		Args: args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			if withdraw {
				if hash != "" {
					return usagef("--withdraw takes no --hash: it withdraws whatever your delegation accepted")
				}
				n, err := a.negotiationName(ctx)
				if err != nil {
					return err
				}
				after, err := a.cl.WithdrawAcceptance(a.mutationContext(ctx, ""), n)
				if err != nil {
					return err
				}
				if a.json() {
					return printJSON(a.Stdout, after)
				}
				fmt.Fprintf(a.Stdout, "Withdrew your acceptance; %s accepted the current text.\n",
					ofCount(currentAcceptances(after), len(delegations(after)), "delegation has", "delegations have"))
				return nil
			}
			if hash != "" {
				if !isSHA256Hex(hash) {
					return usagef("--hash %q is not a SHA-256: give the 64 hex digits 'parley doc' shows (or 'parley doc --text | sha256sum')", hash)
				}
				hash = strings.ToLower(hash)
			}
			doc, err := a.document(ctx)
			if err != nil {
				return err
			}
			if hash != "" && hash != doc.SHA256 {
				return &client.Error{Code: codes.Aborted, Reason: "DOCUMENT_HASH_MISMATCH", Message: fmt.Sprintf(
					"the document's hash is now %s, not %s: read it again ('parley diff', 'parley doc') before accepting", doc.SHA256, hash)}
			}
			n, err := a.cl.AcceptDocument(a.mutationContext(ctx, ""), doc.Negotiation.GetName(), doc.SHA256)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, n)
			}
			fmt.Fprintf(a.Stdout, "Accepted the document of %d points with sha256\n  %s\n", len(doc.Points), doc.SHA256)
			if n.GetState() == parleyv1.NegotiationState_NEGOTIATION_STATE_CONCLUDED {
				fmt.Fprintf(a.Stdout, "Every delegation has accepted this text: the negotiation is CONCLUDED and its text frozen.\n")
				return nil
			}
			fmt.Fprintf(a.Stdout, "%s accepted this text.\n", ofCount(currentAcceptances(n), len(delegations(n)), "delegation has", "delegations have"))
			return nil
		}),
	}
	cmd.Flags().StringVar(&hash, "hash", "", "accept only if the document still has this SHA-256")
	cmd.Flags().BoolVar(&withdraw, "withdraw", false, "withdraw your acceptance instead, before the negotiation concludes")
	return cmd
}

// isSHA256Hex reports whether s is a SHA-256 written in hex, as the API and
// sha256sum write it.
func isSHA256Hex(s string) bool {
	_, err := hex.DecodeString(s)
	return len(s) == 64 && err == nil
}
