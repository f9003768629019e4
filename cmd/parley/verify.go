package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/wire"
	"github.com/parley-negotiation/parley/server/workflow"
)

// ExitUnverified says the audit log, or the state rebuilt from it, does not
// verify: keep the output, it is the evidence.
const ExitUnverified = 7

// unverifiedError is a verification that failed.
type unverifiedError struct{ error }

// trustDir is where trusted checkpoints are kept, beside the profiles.
func (a *app) trustDir() (string, error) {
	path, err := profilesPath(a.Getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(path), "checkpoints"), nil
}

// logVerifier checks every event the client reads against checkpoints
// signed by the pinned key.
func (a *app) logVerifier(key string) (*client.LogVerifier, error) {
	dir, err := a.trustDir()
	if err != nil {
		return nil, err
	}
	v, err := client.NewLogVerifier(key, &client.TrustStore{Dir: dir})
	if err != nil {
		return nil, configf("the profile's verifier key: %v", err)
	}
	v.OnKeyRotation = a.warnKeyRotation
	return v, nil
}

// warnKeyRotation tells the user that the server's operator replaced the
// key that signs checkpoints, and what that means for what they trust.
func (a *app) warnKeyRotation(r client.KeyRotation) {
	fmt.Fprintf(a.Stderr, "WARNING: the server's operator ROTATED the key that signs the checkpoints of %s, at event %d of its log.\n"+
		"  old key: %s\n  new key: %s\n"+
		"  The log up to event %d, which you trusted under the old key, is unchanged. Events after it are vouched for\n"+
		"  by the new key only: ask the operator why the key changed, and compare the new key with the one parleyd printed.\n",
		r.Negotiation, r.Sequence, r.From, r.To, r.TrustedSize)
}

// verification is what 'parley verify' found.
type verification struct {
	Negotiation string `json:"negotiation"`
	Events      int64  `json:"events,string"`
	TreeSize    uint64 `json:"checkpointTreeSize,string"`
	RootHash    string `json:"checkpointRootHash"` // base64, as the API writes bytes
	Checkpoint  string `json:"checkpoint"`
	Key         string `json:"verifierKey"`
	KeyPinned   bool   `json:"verifierKeyPinned"`
	Points      int    `json:"points"`
	Amendments  int    `json:"amendments"`
	Document    string `json:"documentSha256"`
	Verified    bool   `json:"verified"`
	// Rotations are the key rotations this run followed.
	Rotations []client.KeyRotation `json:"key_rotations,omitempty"`
	// SignedConsents is how many signed votes, sign-offs and acceptances
	// were checked against their members' keys.
	SignedConsents int `json:"signedConsents"`
}

func (a *app) verifyCommand() *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the whole audit log from scratch, and the document against it",
		Long: `Downloads every event of the negotiation and checks that each is in its place, that their
Merkle tree has the root of a checkpoint signed by the server's key, and that the checkpoint is
consistent with the last one this machine trusted (kept beside the profiles). It checks every signed vote, sign-off and acceptance against the
key its member had registered at that point of the log, and that none is unsigned where the
negotiation requires signatures. Then it folds the
events into the negotiation's state, as the server does, and checks that the document, the
negotiation and the amendments the server serves are exactly that state.

The key is --key, else the one pinned in the profile at login. Exit code 7 means something did
not verify; the output is the evidence.`,
		Args: cobra.NoArgs,
		RunE: a.run(func(ctx context.Context, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			name, err := a.negotiationName(ctx)
			if err != nil {
				return err
			}
			v := verification{Negotiation: name, Key: key, KeyPinned: true}
			if v.Key == "" {
				v.Key = a.conn.VerifierKey
			}
			if v.Key == "" {
				r, err := parleyv1.NewAuditServiceClient(cl.Conn()).GetVerifierKey(ctx, &parleyv1.GetVerifierKeyRequest{})
				if err != nil {
					return err
				}
				v.Key, v.KeyPinned = r.GetVerifierKey(), false
			}
			if err := a.verifyLog(ctx, cl, &v); err != nil {
				return err
			}
			v.Verified = true
			if a.json() {
				return printJSON(a.Stdout, v)
			}
			fmt.Fprintf(a.Stdout, "negotiation  %s\n", v.Negotiation)
			fmt.Fprintf(a.Stdout, "log          %d events, in order, without gaps; each decodes to itself\n", v.Events)
			fmt.Fprintf(a.Stdout, "checkpoint   size %d, root %s\n", v.TreeSize, v.RootHash)
			fmt.Fprintf(a.Stdout, "signed by    %s", v.Key)
			if !v.KeyPinned {
				fmt.Fprintf(a.Stdout, " (taken from the server, not pinned: pass --key, or log in again to pin it)")
			}
			for _, r := range v.Rotations {
				fmt.Fprintf(a.Stdout, "\nkey ROTATED  at event %d by the server's operator, from %s", r.Sequence, r.From)
			}
			fmt.Fprintf(a.Stdout, "\nconsent      %s checked against the keys registered at their point of the log; none missing where required",
				plural(v.SignedConsents, "signed vote, sign-off or acceptance", "signed votes, sign-offs and acceptances"))
			fmt.Fprintf(a.Stdout, "\nstate        rebuilt from the log, it is the served document (%s, sha256 %s) and its %s\n",
				plural(v.Points, "point", "points"), v.Document, plural(v.Amendments, "amendment", "amendments"))
			fmt.Fprintln(a.Stdout, "verified")
			return nil
		}),
	}
	cmd.Flags().StringVar(&key, "key", "", "the server's checkpoint verifier `key` (name+hash+data), pinned out of band")
	return cmd
}

// verifyLog checks the log and the state. The log may grow meanwhile: the
// state is compared as of one snapshot of the document, and read again if
// the negotiation moved while the amendments were read.
func (a *app) verifyLog(ctx context.Context, cl *client.Client, v *verification) error {
	trustDir, err := a.trustDir()
	if err != nil {
		return err
	}
	svc := cl.Service()
	for attempt := 1; ; attempt++ {
		doc, err := svc.GetDocument(ctx, &parleyv1.GetDocumentRequest{Negotiation: v.Negotiation, PageSize: workflow.MaxPoints})
		if err != nil {
			return err
		}
		snapshot := doc.GetNegotiation().GetLastSequence()
		log, err := client.NewAuditLog(cl.Conn(), v.Negotiation, v.Key, &client.TrustStore{Dir: trustDir})
		if err != nil {
			return configf("%v", err)
		}
		log.OnKeyRotation = func(r client.KeyRotation) {
			a.warnKeyRotation(r)
			v.Rotations = append(v.Rotations, r)
		}
		if err := a.expectOwnKeys(ctx, cl, log); err != nil {
			return err
		}
		var events []workflow.Event
		for int64(log.Size()) < snapshot {
			page, err := svc.ListEvents(ctx, &parleyv1.ListEventsRequest{Negotiation: v.Negotiation,
				AfterSequence: int64(log.Size()), PageSize: 1000})
			if err != nil {
				return err
			}
			recs := page.GetEvents()
			if len(recs) == 0 {
				return unverifiedError{fmt.Errorf("the log ends at event %d, but the document was read at event %d", log.Size(), snapshot)}
			}
			if err := log.Add(recs...); err != nil {
				return unverifiedError{err}
			}
			for _, rec := range recs {
				e, _, err := wire.UnmarshalEvent(rec.GetLeaf())
				if err != nil {
					return unverifiedError{fmt.Errorf("event %d: %v", rec.GetSequence(), err)}
				}
				events = append(events, e)
			}
		}
		cp, err := log.Sync(ctx)
		if err != nil {
			if client.IsLogError(err) {
				return unverifiedError{err}
			}
			return err
		}
		v.Events, v.TreeSize, v.Checkpoint, v.Key = int64(log.Size()), cp.Size, cp.Note, log.Key()
		v.SignedConsents = log.SignedConsents()
		v.RootHash = base64.StdEncoding.EncodeToString(cp.Root)
		n, err := workflow.Fold(events)
		if err != nil {
			return unverifiedError{fmt.Errorf("the log does not fold into a negotiation: %v", err)}
		}
		amendments, err := cl.Amendments(ctx, &parleyv1.ListAmendmentsRequest{Negotiation: v.Negotiation})
		if err != nil {
			return err
		}
		comments, err := cl.Comments(ctx, &parleyv1.ListCommentsRequest{Negotiation: v.Negotiation})
		if err != nil {
			return err
		}
		now, err := cl.Negotiation(ctx, v.Negotiation)
		if err != nil {
			return err
		}
		if now.GetLastSequence() != snapshot && attempt < 5 {
			continue // the amendments or comments were read after a change: read again
		}
		if err := sameState(n, doc, amendments); err != nil {
			return unverifiedError{err}
		}
		if err := sameComments(n, comments); err != nil {
			return unverifiedError{err}
		}
		v.Points, v.Amendments, v.Document = len(doc.GetPoints()), len(amendments), doc.GetDocumentSha256()
		return nil
	}
}

// sameState compares the state folded from the log with what the server
// serves, message by message, in the API's own form.
func sameState(n *workflow.Negotiation, doc *parleyv1.GetDocumentResponse, amendments []*parleyv1.Amendment) error {
	if want := n.DocumentHash(); doc.GetDocumentSha256() != want {
		return fmt.Errorf("the served document hash %s is not the hash of the text rebuilt from the log, %s", doc.GetDocumentSha256(), want)
	}
	if want := wire.NegotiationToProto(n); !proto.Equal(doc.GetNegotiation(), want) {
		return fmt.Errorf("the served negotiation differs from the one rebuilt from the log:\nserved:  %v\nrebuilt: %v", doc.GetNegotiation(), want)
	}
	if len(doc.GetPoints()) != len(n.Order) {
		return fmt.Errorf("the server serves %d points, the log has %d", len(doc.GetPoints()), len(n.Order))
	}
	for i, served := range doc.GetPoints() {
		want := wire.PointToProto(n, n.Points[n.Order[i]], false)
		if !proto.Equal(served, want) {
			return fmt.Errorf("point %d differs from the log:\nserved:  %v\nrebuilt: %v", i+1, served, want)
		}
	}
	if len(amendments) != len(n.AmendmentOrder) {
		return fmt.Errorf("the server lists %d amendments, the log has %d", len(amendments), len(n.AmendmentOrder))
	}
	for i, served := range amendments {
		want := wire.AmendmentToProto(n, n.Amendments[n.AmendmentOrder[i]])
		if !proto.Equal(served, want) {
			return fmt.Errorf("amendment %s differs from the log:\nserved:  %v\nrebuilt: %v", served.GetName(), served, want)
		}
	}
	return nil
}

// sameComments compares the discussion folded from the log with the one the
// server lists.
func sameComments(n *workflow.Negotiation, comments []*parleyv1.Comment) error {
	if len(comments) != len(n.CommentOrder) {
		return fmt.Errorf("the server lists %d comments, the log has %d", len(comments), len(n.CommentOrder))
	}
	for i, served := range comments {
		want := wire.CommentToProto(n, n.Comments[n.CommentOrder[i]])
		if !proto.Equal(served, want) {
			return fmt.Errorf("comment %s differs from the log:\nserved:  %v\nrebuilt: %v", served.GetName(), served, want)
		}
	}
	return nil
}

// expectOwnKeys tells the log which signing keys this machine generated for
// the caller, so that a key registered in its name by somebody else fails
// the verification: only the member itself can tell.
func (a *app) expectOwnKeys(ctx context.Context, cl *client.Client, log *client.AuditLog) error {
	if a.conn.Role == "admin" {
		return nil
	}
	path, err := a.keyPath(a.connName)
	if err != nil {
		return nil // no profile and no key file: nothing to expect
	}
	ids, err := knownKeyIDs(path)
	if err != nil || len(ids) == 0 {
		return err
	}
	caller, err := cl.Caller(ctx)
	if err != nil {
		return err
	}
	member := caller.GetMember().GetId()
	if member == "" {
		member = caller.GetParticipant().GetId()
	}
	log.ExpectKeys(caller.GetParticipant().GetId(), member, ids...)
	return nil
}

// isUnverified reports whether err is a failed verification.
func isUnverified(err error) bool {
	var u unverifiedError
	return errors.As(err, &u)
}
