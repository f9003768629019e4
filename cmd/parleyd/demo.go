package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	"github.com/parley-negotiation/parley/client/atomicfile"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
)

// DemoTokens is the file the demo writes its participants' tokens to.
type DemoTokens struct {
	Server      string            `json:"server"`
	Negotiation string            `json:"negotiation"`
	Tokens      map[string]string `json:"tokens"` // participant id → bearer token
}

// DemoTokensFile is the name of the demo's token file in the data folder.
const DemoTokensFile = "demo-tokens.json"

// seedDemo creates the demo negotiation through the server's own API, as an
// administrator would. Its fixed request id makes a second start find the
// negotiation instead of creating a copy; tokens are issued once and kept in
// the token file. If that file is lost, parleyd refuses to go on rather than
// replace the tokens: it says how to issue new ones.
//
// It calls the API in memory, on a private gRPC server with the same
// services, rather than on the listener: the listener may require TLS and
// client certificates that parleyd itself does not hold.
func (m *Main) seedDemo(ctx context.Context, adminToken string) error {
	lis := bufconn.Listen(1 << 20)
	private := m.Server.GRPCServer()
	go private.Serve(lis)
	defer private.Stop()
	conn, err := grpc.NewClient("passthrough:///parleyd-demo",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+adminToken)
	negotiations := parleyv1.NewNegotiationServiceClient(conn)
	admin := parleyv1.NewAdminServiceClient(conn)

	created, err := negotiations.CreateNegotiation(ctx, demo.CreateRequest())
	if err != nil {
		return fmt.Errorf("create the negotiation: %w", err)
	}
	name := created.GetNegotiation().GetName()
	path := filepath.Join(m.Config.DataDir, DemoTokensFile)
	saved, readErr := readDemoTokens(path)
	if readErr == nil && saved.Negotiation == name {
		fmt.Fprintf(m.Stdout, "parleyd: demo negotiation %s; participants' tokens in %s\n", name, path)
		m.printSignInLinks(saved.Tokens)
		return nil
	} else if readErr != nil && !errors.Is(readErr, fs.ErrNotExist) {
		return readErr
	}
	current, err := negotiations.GetNegotiation(ctx, &parleyv1.GetNegotiationRequest{Name: name})
	if err != nil {
		return err
	}
	var ids []string
	issued := false
	for _, p := range current.GetNegotiation().GetParticipants() {
		ids = append(ids, p.GetId())
		issued = issued || p.GetHasCredential()
	}
	if issued {
		// Tokens are shown once. Replacing them here would cut off every
		// client that holds them, without a word to anyone.
		what := "is gone"
		if readErr == nil {
			what = "holds the tokens of another negotiation, " + saved.Negotiation
		}
		return fmt.Errorf("the demo negotiation %s exists and its participants have tokens, but %s %s: parleyd does not "+
			"replace tokens behind their holders' backs. To issue new ones, log in as the administrator "+
			"(the token is in the admin token file) and run: parley token rotate --negotiation %s %s. "+
			"To start the demo afresh instead, give parleyd a new --data folder",
			name, path, what, name, strings.Join(ids, " "))
	}
	out := DemoTokens{Server: m.Listener.Addr().String(), Negotiation: name, Tokens: map[string]string{}}
	for _, p := range current.GetNegotiation().GetParticipants() {
		r, err := admin.IssueToken(ctx, &parleyv1.IssueTokenRequest{Negotiation: name, Participant: p.GetId()})
		if err != nil {
			return fmt.Errorf("issue a token to %s: %w", p.GetId(), err)
		}
		out.Tokens[p.GetId()] = r.GetToken()
	}
	if err := writeDemoTokens(path, out); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "parleyd: demo negotiation %s; participants' tokens written to %s (mode 0600)\n", name, path)
	m.printSignInLinks(out.Tokens)
	return nil
}

func readDemoTokens(path string) (DemoTokens, error) {
	var t DemoTokens
	raw, err := os.ReadFile(path)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return t, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// writeDemoTokens writes the file atomically with mode 0600.
func writeDemoTokens(path string, t DemoTokens) error {
	raw, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(raw, '\n'))
}
