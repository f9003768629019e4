package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

// demoTokens is the token file parleyd --demo writes.
type demoTokens struct {
	Server      string            `json:"server"`
	Negotiation string            `json:"negotiation"`
	Tokens      map[string]string `json:"tokens"`
}

func (a *app) loginCommand() *cobra.Command {
	var name, tokenFile, importFile, as string
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Check a token with the server and save it as a profile",
		Long: `login checks a token with the server, then saves the server, the token and
whom it belongs to as a profile, and makes it the current profile.

  parley login --server HOST:PORT --token TOKEN [--name NAME]
  parley login --server HOST:PORT --token-file FILE      (or --token - to read stdin)
  parley login --import parley-data/demo-tokens.json --as ukraine

--import saves one profile per participant of the demo's token file, each
named after its participant; --as makes one of them current. Profiles are
kept in $PARLEY_CONFIG or in parley/profiles.json in your configuration
folder, with mode 0600.`,
		Args: args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			if importFile != "" {
				if name != "" || tokenFile != "" || a.token != "" {
					return usagef("--import takes the tokens from its file: leave out --name, --token and --token-file")
				}
				return a.importDemo(ctx, importFile, as)
			}
			if as != "" {
				return usagef("--as goes with --import")
			}
			return a.login(ctx, name, tokenFile)
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "profile name (default: the participant's id, or admin)")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "read the token from this file")
	cmd.Flags().StringVar(&importFile, "import", "", "import every participant of a demo token file (demo-tokens.json)")
	cmd.Flags().StringVar(&as, "as", "", "with --import: the participant whose profile becomes current")
	return cmd
}

// verify asks the server whom a token belongs to, and fills in the profile.
func (a *app) verify(ctx context.Context, p *Profile) error {
	cl, err := client.New(p.Server, clientOptions(*p))
	if err != nil {
		return configf("%v", err)
	}
	defer cl.Close()
	if a.cl == nil {
		a.conn = *p // for error messages
	}
	caller, err := cl.Caller(ctx)
	if err != nil {
		return err
	}
	key, err := parleyv1.NewAuditServiceClient(cl.Conn()).GetVerifierKey(ctx, &parleyv1.GetVerifierKeyRequest{})
	if err != nil {
		return err
	}
	p.VerifierKey = key.GetVerifierKey()
	if caller.GetAdmin() {
		p.Negotiation, p.Participant, p.Role = "", "", "admin"
		return nil
	}
	p.Negotiation, p.Participant, p.Role = caller.GetNegotiation(), caller.GetParticipant().GetId(), roleName(caller.GetParticipant().GetRole())
	return nil
}

func (a *app) login(ctx context.Context, name, tokenFile string) error {
	server := firstNonEmpty(a.server, a.Getenv("PARLEY_SERVER"))
	token := firstNonEmpty(a.token, a.Getenv("PARLEY_TOKEN"))
	switch {
	case tokenFile != "" && token != "":
		return usagef("give the token with --token or --token-file, not both")
	case tokenFile != "":
		raw, err := os.ReadFile(tokenFile)
		if err != nil {
			return configf("token file: %v", err)
		}
		token = strings.TrimSpace(string(raw))
	case token == "-":
		line, err := bufio.NewReader(a.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return usagef("--token -: no token on standard input")
		}
		token = strings.TrimSpace(line)
	}
	if server == "" || token == "" {
		return usagef("login needs --server HOST:PORT and --token TOKEN (or --token-file FILE), or --import FILE")
	}
	p := a.tlsFlags
	p.Server, p.Token = server, token
	if err := a.verify(ctx, &p); err != nil {
		return err
	}
	if name == "" {
		name = firstNonEmpty(p.Participant, "admin")
	}
	if err := validProfileName(name); err != nil {
		return err
	}
	path, file, err := a.profiles()
	if err != nil {
		return err
	}
	if old, ok := file.Profiles[name]; ok && old.Server == p.Server && old.VerifierKey != "" && old.VerifierKey != p.VerifierKey {
		return fmt.Errorf("the server's checkpoint key changed from %s to %s: someone may be replacing the server; "+
			"if the change is expected, 'parley logout %s' first", old.VerifierKey, p.VerifierKey, name)
	}
	file.Profiles[name] = &p
	file.Current = name
	if err := file.save(path); err != nil {
		return err
	}
	if a.json() {
		return a.printProfiles(file)
	}
	who := "the administrator"
	if p.Participant != "" {
		who = fmt.Sprintf("%s (%s) in %s", p.Participant, p.Role, p.Negotiation)
	}
	fmt.Fprintf(a.Stdout, "Logged in to %s as %s.\nSaved profile %q in %s; it is now the current profile.\n", p.Server, who, name, path)
	fmt.Fprintf(a.Stdout, "Pinned the server's checkpoint key %s: compare it with the one parleyd printed when it started.\n", p.VerifierKey)
	return nil
}

func (a *app) importDemo(ctx context.Context, path, as string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return configf("token file: %v", err)
	}
	var demo demoTokens
	if err := json.Unmarshal(raw, &demo); err != nil || len(demo.Tokens) == 0 {
		return configf("%s is not a demo token file (want {\"server\", \"negotiation\", \"tokens\": {participant: token}})", path)
	}
	if as != "" {
		if _, ok := demo.Tokens[as]; !ok {
			return usagef("--as %s: %s has no token for %q", as, path, as)
		}
	}
	server := firstNonEmpty(a.server, a.Getenv("PARLEY_SERVER"), demo.Server)
	ids := make([]string, 0, len(demo.Tokens))
	for id := range demo.Tokens {
		if err := validProfileName(id); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	profiles := map[string]*Profile{}
	for _, id := range ids {
		p := a.tlsFlags
		p.Server, p.Token = server, demo.Tokens[id]
		if err := a.verify(ctx, &p); err != nil {
			return fmt.Errorf("the token of %s: %w", id, err)
		}
		if p.Participant != id || (demo.Negotiation != "" && p.Negotiation != demo.Negotiation) {
			return fmt.Errorf("the token listed for %s belongs to %s in %s", id, firstNonEmpty(p.Participant, "the administrator"), firstNonEmpty(p.Negotiation, "no negotiation"))
		}
		profiles[id] = &p
	}
	cfg, file, err := a.profiles()
	if err != nil {
		return err
	}
	for id, p := range profiles {
		file.Profiles[id] = p
	}
	if as != "" {
		file.Current = as
	}
	if err := file.save(cfg); err != nil {
		return err
	}
	if a.json() {
		return a.printProfiles(file)
	}
	fmt.Fprintf(a.Stdout, "Imported %s from %s into %s:\n", plural(len(ids), "profile", "profiles"), path, cfg)
	w := table(a.Stdout)
	for _, id := range ids {
		p := profiles[id]
		fmt.Fprintf(w, "  %s\t%s\t%s\n", id, p.Role, p.Negotiation)
	}
	w.Flush()
	switch {
	case as != "":
		fmt.Fprintf(a.Stdout, "Current profile: %s. Act as another with --profile NAME, or switch with 'parley use NAME'.\n", as)
	case file.Current == "":
		fmt.Fprintf(a.Stdout, "Pick the profile to act as with 'parley use NAME', or pass --profile NAME.\n")
	default:
		fmt.Fprintf(a.Stdout, "Current profile is still %s; switch with 'parley use NAME'.\n", file.Current)
	}
	return nil
}

// profiles loads the profile file for changing it.
func (a *app) profiles() (string, *profileFile, error) {
	path, err := profilesPath(a.Getenv)
	if err != nil {
		return "", nil, err
	}
	f, err := loadProfiles(path)
	return path, f, err
}

func (a *app) logoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "logout [PROFILE]",
		Short: "Forget a profile (default: the current one)",
		Args:  args(0, 1, "at most one profile name"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			path, file, err := a.profiles()
			if err != nil {
				return err
			}
			name := firstNonEmpty(append(args, a.profileName, a.Getenv("PARLEY_PROFILE"), file.Current)...)
			if name == "" {
				return configf("no profile to forget: name one")
			}
			if _, _, err := file.pick(name, path); err != nil {
				return err
			}
			delete(file.Profiles, name)
			if file.Current == name {
				file.Current = ""
			}
			if err := file.save(path); err != nil {
				return err
			}
			if a.json() {
				return a.printProfiles(file)
			}
			fmt.Fprintf(a.Stdout, "Forgot profile %q. The server still accepts its token until the administrator rotates or revokes it.\n", name)
			return nil
		}),
	}
}

func (a *app) profilesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "profiles",
		Short: "List the saved profiles (never their tokens)",
		Args:  args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			path, file, err := a.profiles()
			if err != nil {
				return err
			}
			if a.json() {
				return a.printProfiles(file)
			}
			if len(file.Profiles) == 0 {
				fmt.Fprintf(a.Stdout, "No profiles in %s: %s\n", path, loginHint)
				return nil
			}
			w := table(a.Stdout)
			fmt.Fprintln(w, "\tPROFILE\tROLE\tSERVER\tNEGOTIATION")
			for _, n := range file.names() {
				p := file.Profiles[n]
				mark := ""
				if n == file.Current {
					mark = "*"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", mark, n, p.Role, p.Server, firstNonEmpty(p.Negotiation, "-"))
			}
			return w.Flush()
		}),
	}
}

// printProfiles writes the profiles as JSON, without their tokens.
func (a *app) printProfiles(file *profileFile) error {
	type entry struct {
		Name        string `json:"name"`
		Current     bool   `json:"current"`
		Server      string `json:"server"`
		Negotiation string `json:"negotiation"`
		Participant string `json:"participant"` // "" for the administrator
		Role        string `json:"role"`        // ROLE_DELEGATION, ROLE_MEDIATOR, ROLE_OBSERVER, or ADMIN
	}
	out := []entry{}
	for _, n := range file.names() {
		p := file.Profiles[n]
		role := "ADMIN"
		if p.Role != "admin" {
			role = "ROLE_" + strings.ToUpper(p.Role)
		}
		out = append(out, entry{n, n == file.Current, p.Server, p.Negotiation, p.Participant, role})
	}
	return printJSON(a.Stdout, map[string]any{"current": file.Current, "profiles": out})
}

func (a *app) useCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "use PROFILE",
		Short: "Make a profile the current one",
		Args:  args(1, 1, "a profile name"),
		RunE: a.run(func(ctx context.Context, args []string) error {
			path, file, err := a.profiles()
			if err != nil {
				return err
			}
			if _, _, err := file.pick(args[0], path); err != nil {
				return err
			}
			file.Current = args[0]
			if err := file.save(path); err != nil {
				return err
			}
			if a.json() {
				return a.printProfiles(file)
			}
			fmt.Fprintf(a.Stdout, "Current profile: %s (%s).\n", args[0], file.Profiles[args[0]])
			return nil
		}),
	}
}

func (a *app) whoamiCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Say whom the token in use belongs to",
		Args:  args(0, 0, ""),
		RunE: a.run(func(ctx context.Context, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			caller, err := cl.Caller(ctx)
			if err != nil {
				return err
			}
			if a.json() {
				return printJSON(a.Stdout, caller)
			}
			profile := ""
			if a.connName != "" {
				profile = fmt.Sprintf(" (profile %s)", a.connName)
			}
			if caller.GetAdmin() {
				fmt.Fprintf(a.Stdout, "the administrator of %s%s\n", a.conn.Server, profile)
				return nil
			}
			p := caller.GetParticipant()
			who := p.GetId()
			if m := caller.GetMember(); m.GetId() != "" && m.GetId() != p.GetId() {
				who = fmt.Sprintf("member %s (%s) of %s", m.GetId(), m.GetDisplayName(), p.GetId())
				if m.GetHead() {
					who += ", a head,"
				}
			}
			fmt.Fprintf(a.Stdout, "%s (%s), %s in %s on %s%s\n", who, p.GetDisplayName(), roleName(p.GetRole()),
				caller.GetNegotiation(), a.conn.Server, profile)
			return nil
		}),
	}
}

// tokenCommand manages participants' tokens (administrator only).
func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Issue, rotate or revoke participants' and members' tokens (administrator; a head for its members)",
	}
	var save bool
	var member string
	issue := func(rotate bool) func(ctx context.Context, args []string) error {
		return func(ctx context.Context, args []string) error {
			if member != "" && len(args) != 1 {
				return usagef("--member names a member of one participant: give exactly one participant id")
			}
			n, err := a.negotiationName(ctx)
			if err != nil {
				return err
			}
			var file *profileFile
			var path string
			roles := map[string]string{}
			if save {
				if path, file, err = a.profiles(); err != nil {
					return err
				}
				neg, err := a.cl.Negotiation(ctx, n)
				if err != nil {
					return err
				}
				for _, p := range neg.GetParticipants() {
					roles[p.GetId()] = roleName(p.GetRole())
				}
			}
			type issued struct {
				Participant string `json:"participant"`
				Member      string `json:"member,omitempty"`
				Token       string `json:"token"`
				TokenSha256 string `json:"tokenSha256"`
			}
			all := []issued{}
			out := &parleyv1.IssueTokenResponse{}
			w := table(a.Stdout)
			for _, id := range args {
				mctx := a.mutationContext(ctx, id)
				name := id // who the token is for, and the name of its profile
				if member != "" && member != id {
					name = id + "-" + member
				}
				if rotate {
					r, err := a.cl.RotateMemberToken(mctx, n, id, member)
					if err != nil {
						return fmt.Errorf("%s: %w", name, err)
					}
					out.Token, out.TokenSha256 = r.GetToken(), r.GetTokenSha256()
				} else if out, err = a.cl.IssueMemberToken(mctx, n, id, member); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				if a.json() {
					all = append(all, issued{id, member, out.GetToken(), out.GetTokenSha256()})
				} else {
					fmt.Fprintf(w, "%s\t%s\n", name, out.GetToken())
				}
				if save {
					p := a.conn
					p.Token, p.Negotiation, p.Participant, p.Role = out.GetToken(), n, id, roles[id]
					if err := validProfileName(name); err != nil {
						return err
					}
					file.Profiles[name] = &p
				}
			}
			w.Flush()
			if save {
				if err := file.save(path); err != nil {
					return err
				}
			}
			if a.json() {
				return printJSON(a.Stdout, map[string]any{"tokens": all})
			}
			if save {
				fmt.Fprintf(a.Stdout, "Saved as profiles in %s.\n", path)
			} else {
				fmt.Fprintln(a.Stdout, "Each token is shown this once: hand it to its participant over a safe channel.")
			}
			return nil
		}
	}
	issueCmd := &cobra.Command{Use: "issue PARTICIPANT...", Short: "Issue a first token to participants",
		Args: args(1, -1, "one or more participant ids"), RunE: a.run(issue(false))}
	rotateCmd := &cobra.Command{Use: "rotate PARTICIPANT...", Short: "Replace participants' tokens; the old ones stop working",
		Args: args(1, -1, "one or more participant ids"), RunE: a.run(issue(true))}
	for _, c := range []*cobra.Command{issueCmd, rotateCmd} {
		c.Flags().BoolVar(&save, "save-profiles", false, "also save each token as a profile named after its participant (PARTICIPANT-MEMBER with --member)")
	}
	revokeCmd := &cobra.Command{Use: "revoke PARTICIPANT...", Short: "Revoke participants' tokens",
		Args:        args(1, -1, "one or more participant ids"),
		Annotations: map[string]string{noJSON: "token revoke prints only a confirmation; its exit code says whether it worked"},
		RunE: a.run(func(ctx context.Context, args []string) error {
			n, err := a.negotiationName(ctx)
			if err != nil {
				return err
			}
			if member != "" && len(args) != 1 {
				return usagef("--member names a member of one participant: give exactly one participant id")
			}
			for _, id := range args {
				if err := a.cl.RevokeMemberToken(a.mutationContext(ctx, id), n, id, member); err != nil {
					return fmt.Errorf("%s: %w", id, err)
				}
				if member != "" && member != id {
					fmt.Fprintf(a.Stdout, "Revoked the token of member %s of %s.\n", member, id)
				} else {
					fmt.Fprintf(a.Stdout, "Revoked the token of %s.\n", id)
				}
			}
			return nil
		})}
	for _, c := range []*cobra.Command{issueCmd, rotateCmd, revokeCmd} {
		c.Flags().StringVar(&member, "member", "", "the token of this member of the participant (see 'parley members')")
	}
	cmd.AddCommand(issueCmd, rotateCmd, revokeCmd)
	return cmd
}
