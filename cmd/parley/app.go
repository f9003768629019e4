package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/parley-negotiation/parley/client"
)

// app is the state of one run: the global flags, the profile in use and the
// client, made when a command first needs it.
type app struct {
	*Main

	// Global flags.
	profileName string
	output      string
	server      string
	token       string
	negotiation string
	color       string
	timeout     time.Duration
	requestID   string
	tlsFlags    Profile // ca_file, cert_file, key_file, server_name, tls, plaintext

	ran      bool               // a command's RunE started: later errors are not usage errors
	current  *cobra.Command     // the command running
	retry    client.RetryPolicy // zero: the client's default
	onRetry  func(failures int, wait time.Duration, err error)
	conn     Profile // the settings the client was made with
	connName string  // the profile's name, "" if none
	cl       *client.Client
	// signerInUse is the client's signer: the profile's signing key, if
	// it has one; nil signs nothing.
	signerInUse *client.Signer
	cancel      context.CancelFunc
	st          style
}

func (a *app) close() {
	if a.cl != nil {
		a.cl.Close()
	}
	if a.cancel != nil {
		a.cancel()
	}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "parley",
		Short: "Negotiate a numbered document on a Parley server",
		Long: `parley reads and negotiates a document of numbered points on a Parley server:
propose amendments, vote, apply what passed, sign off points, accept the text.

Start with 'parley login' (or 'parley login --import parley-data/demo-tokens.json'
for the demo), then 'parley status' or 'parley doc'. Points are given by their
number (parley point 21), amendments by their id or a unique prefix of it.

Exit codes: 0 done, 1 refused or failed, 2 bad command line, 3 no usable profile
or negotiation, 4 token unknown or not allowed, 5 server unreachable,
6 the document changed under you (read again), 7 the audit log or the state
rebuilt from it does not verify (the output is the evidence).`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: a.before,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	f := root.PersistentFlags()
	f.StringVar(&a.profileName, "profile", "", "profile to use (default: $PARLEY_PROFILE, else the current one)")
	f.StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	f.StringVar(&a.server, "server", "", "server address host:port, overriding the profile ($PARLEY_SERVER)")
	f.StringVar(&a.token, "token", "", "bearer token, overriding the profile ($PARLEY_TOKEN)")
	f.StringVarP(&a.negotiation, "negotiation", "n", "", "negotiation name, overriding the profile's")
	f.StringVar(&a.color, "color", "auto", "colours: auto (on a terminal, unless NO_COLOR), always or never")
	f.DurationVar(&a.timeout, "timeout", 30*time.Second, "give up a command after this long (not watch)")
	f.StringVar(&a.requestID, "request-id", "", "request id of the command's change, to repeat it safely (default: a new UUID)")
	f.StringVar(&a.tlsFlags.CAFile, "ca-file", "", "PEM file of the certificate authorities to trust")
	f.StringVar(&a.tlsFlags.CertFile, "cert-file", "", "client certificate (PEM) for mutual TLS")
	f.StringVar(&a.tlsFlags.KeyFile, "key-file", "", "client key (PEM) for mutual TLS")
	f.StringVar(&a.tlsFlags.ServerName, "server-name", "", "name expected in the server's certificate")
	f.BoolVar(&a.tlsFlags.TLS, "tls", false, "use TLS even to a loopback server")
	f.BoolVar(&a.tlsFlags.Plaintext, "plaintext", false, "allow a connection without TLS to a server that is not loopback")

	root.AddGroup(
		&cobra.Group{ID: "read", Title: "Reading:"},
		&cobra.Group{ID: "act", Title: "Negotiating:"},
		&cobra.Group{ID: "setup", Title: "Set-up:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add("read", a.statusCommand(), a.docCommand(), a.pointCommand(), a.diffCommand(), a.amendmentsCommand(),
		a.amendmentCommand(), a.commentsCommand(), a.logCommand(), a.watchCommand(), a.exportCommand(), a.negotiationsCommand(), a.verifyCommand())
	add("act", a.amendCommand(), a.voteCommand(), a.closeVoteCommand(), a.applyCommand(), a.rejectCommand(),
		a.withdrawCommand(), a.signOffCommand(), a.revokeCommand(), a.acceptCommand(), a.commentCommand(), a.retractCommand(), a.deadlineCommand())
	add("setup", a.loginCommand(), a.logoutCommand(), a.profilesCommand(), a.useCommand(), a.whoamiCommand(), a.tokenCommand(), a.membersCommand(), a.keyCommand(), a.backupCommand(), a.clusterCommand())
	root.SetHelpCommandGroupID("setup")
	root.SetCompletionCommandGroupID("setup")
	a.addToolCommands(root)
	rejectUnknownSubcommands(root)
	return root
}

// rejectUnknownSubcommands makes every command that only groups others
// refuse a word that is none of them, with a suggestion, instead of printing
// its help and exiting 0 as cobra does: 'parley amend replce 6' is a typing
// mistake, not a request for help. Alone, such a command prints its help.
func rejectUnknownSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		rejectUnknownSubcommands(c)
	}
	if !cmd.HasAvailableSubCommands() || cmd.RunE != nil || cmd.Run != nil {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		return unknownSubcommand(c, args[0])
	}
}

// unknownSubcommand is the error for a word that names no subcommand of cmd.
func unknownSubcommand(cmd *cobra.Command, word string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	msg := fmt.Sprintf("unknown command %q for %q", word, cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, set only on its own path
	}
	if s := cmd.SuggestionsFor(word); len(s) > 0 {
		msg += fmt.Sprintf(": did you mean %q?", cmd.CommandPath()+" "+s[0])
	} else if cmd.HasParent() { // the root's help lists its many commands
		msg += ": use " + strings.Join(names, ", ")
	}
	return usageError{errors.New(msg)}
}

// before checks the global flags and bounds the command's time.
func (a *app) before(cmd *cobra.Command, _ []string) error {
	// An empty value given on purpose is a mistake, not a request for the
	// profile's value: '--token "$T"' with T unset must not act as someone else.
	for _, name := range []string{"token", "server", "profile", "negotiation", "request-id"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed && strings.TrimSpace(f.Value.String()) == "" {
			return usagef("--%s is empty: give a value, or leave the flag out", name)
		}
	}
	switch a.output {
	case "table", "json":
	default:
		return usagef("-o %q: use table or json", a.output)
	}
	if a.json() && cmd.Annotations[noJSON] != "" {
		return usagef("-o json: %s", cmd.Annotations[noJSON])
	}
	switch a.color {
	case "always":
		a.st = style{color: true}
	case "never":
	case "auto":
		a.st = style{color: a.Terminal != nil && a.Terminal(a.Stdout) && a.Getenv("NO_COLOR") == "" && a.Getenv("TERM") != "dumb"}
	default:
		return usagef("--color %q: use auto, always or never", a.color)
	}
	if a.tlsFlags.Plaintext && (a.tlsFlags.TLS || a.tlsFlags.CAFile != "" || a.tlsFlags.CertFile != "" || a.tlsFlags.ServerName != "") {
		return usagef("--plaintext cannot be combined with TLS flags")
	}
	if cmd.Name() != "watch" && cmd.Name() != "backup" && a.timeout > 0 {
		ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
		a.cancel = cancel
		cmd.SetContext(ctx)
	}
	return nil
}

// run wraps a command's body: from here on, errors are not usage errors.
func (a *app) run(fn func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.ran, a.current = true, cmd
		return fn(cmd.Context(), args)
	}
}

// args checks the number of positional arguments.
func args(min, max int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, a []string) error {
		if len(a) < min || (max >= 0 && len(a) > max) {
			if what == "" {
				return usagef("takes no arguments")
			}
			return usagef("expects %s", what)
		}
		return nil
	}
}

func (a *app) json() bool { return a.output == "json" }

// noJSON annotates a command that refuses -o json, with the reason why.
const noJSON = "parley/no-json"

// settings returns the connection settings: the chosen profile, overridden
// by flags and the environment.
func (a *app) settings() (string, Profile, error) {
	path, err := profilesPath(a.Getenv)
	if err != nil {
		return "", Profile{}, err
	}
	name := a.profileName
	if name == "" {
		name = a.Getenv("PARLEY_PROFILE")
	}
	server := firstNonEmpty(a.server, a.Getenv("PARLEY_SERVER"))
	token := firstNonEmpty(a.token, a.Getenv("PARLEY_TOKEN"))

	var p Profile
	if name != "" || server == "" || token == "" {
		file, err := loadProfiles(path)
		if err != nil {
			return "", Profile{}, err
		}
		var chosen *Profile
		if name, chosen, err = file.pick(name, path); err != nil {
			return "", Profile{}, err
		}
		if chosen != nil {
			p = *chosen
		}
	}
	if server != "" {
		p.Server = server
	}
	if token != "" && token != p.Token {
		// Another token may belong to another negotiation: ask the server.
		p.Token, p.Negotiation, p.Participant, p.Role = token, "", "", ""
	}
	t := a.tlsFlags
	if t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.TLS || t.Plaintext {
		p.CAFile, p.CertFile, p.KeyFile, p.ServerName, p.TLS, p.Plaintext = t.CAFile, t.CertFile, t.KeyFile, t.ServerName, t.TLS, t.Plaintext
	}
	switch {
	case p.Server == "" && p.Token == "":
		return "", Profile{}, configf("no profile: %s", loginHint)
	case p.Server == "":
		return "", Profile{}, configf("no server address: pass --server HOST:PORT, or %s", loginHint)
	case p.Token == "":
		return "", Profile{}, configf("no token: pass --token TOKEN, or %s", loginHint)
	}
	return name, p, nil
}

// clientOptions turns settings into client options.
func clientOptions(p Profile) client.Options {
	opts := client.Options{Token: p.Token, Plaintext: p.Plaintext}
	if p.TLS || p.CAFile != "" || p.CertFile != "" || p.KeyFile != "" || p.ServerName != "" {
		opts.TLS = &client.TLSOptions{CAFile: p.CAFile, CertFile: p.CertFile, KeyFile: p.KeyFile, ServerName: p.ServerName}
	}
	return opts
}

// client returns the client for this run, made on first use.
func (a *app) client() (*client.Client, error) {
	if a.cl != nil {
		return a.cl, nil
	}
	name, p, err := a.settings()
	if err != nil {
		return nil, err
	}
	opts := clientOptions(p)
	opts.Retry, opts.OnRetry = a.retry, a.onRetry
	if p.VerifierKey != "" {
		if opts.Verifier, err = a.logVerifier(p.VerifierKey); err != nil {
			return nil, err
		}
	}
	if p.Role != "admin" {
		if opts.Signer, err = a.signer(name); err != nil {
			return nil, err
		}
	}
	cl, err := client.New(p.Server, opts)
	if err != nil {
		return nil, configf("%v", err)
	}
	a.cl, a.conn, a.connName, a.signerInUse = cl, p, name, opts.Signer
	return cl, nil
}

// negotiationName returns the negotiation to act on: --negotiation, else the
// profile's, else the one the token belongs to.
func (a *app) negotiationName(ctx context.Context) (string, error) {
	if _, err := a.client(); err != nil {
		return "", err
	}
	if a.negotiation != "" {
		return normalizeNegotiation(a.negotiation)
	}
	if a.conn.Negotiation != "" {
		return a.conn.Negotiation, nil
	}
	caller, err := a.cl.Caller(ctx)
	if err != nil {
		return "", err
	}
	if caller.GetNegotiation() == "" {
		return "", configf("the administrator acts on any negotiation: pass --negotiation NAME (list them with 'parley negotiations')")
	}
	a.conn.Negotiation = caller.GetNegotiation()
	return a.conn.Negotiation, nil
}

// normalizeNegotiation accepts "negotiations/UUID" or a bare UUID.
func normalizeNegotiation(s string) (string, error) {
	id := strings.TrimPrefix(s, "negotiations/")
	if len(id) != 36 || strings.Contains(id, "/") {
		return "", usagef("--negotiation %q: give a name like negotiations/1b4e28ba-2fa1-11d2-883f-0016d3cca427", s)
	}
	return "negotiations/" + strings.ToLower(id), nil
}

// mutationContext gives the command's change the request id asked for with
// --request-id; suffix tells apart several changes of one command.
func (a *app) mutationContext(ctx context.Context, suffix string) context.Context {
	if a.requestID == "" {
		return ctx
	}
	id := a.requestID
	if suffix != "" {
		id += ":" + suffix
	}
	return client.WithRequestID(ctx, id)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
