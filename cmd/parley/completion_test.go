package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/parley-negotiation/parley/server/servertest"
)

// complete asks the parley binary what the shell would offer after args, as
// the scripts of 'parley completion bash|zsh|fish' do (the hidden __complete
// command), and returns the candidates without their descriptions, and the
// directive cobra ends with.
func (c *cli) complete(args ...string) ([]string, string) {
	c.t.Helper()
	out := c.ok(append([]string{"__complete"}, args...)...)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	directive := lines[len(lines)-1]
	if !strings.HasPrefix(directive, ":") {
		c.t.Fatalf("parley __complete %s: no directive at the end:\n%s", strings.Join(args, " "), out)
	}
	var values []string
	for _, l := range lines[:len(lines)-1] {
		if l == "" || strings.HasPrefix(l, "Completion ended with directive") {
			continue
		}
		v, _, _ := strings.Cut(l, "\t")
		values = append(values, v)
	}
	return values, directive
}

// TestCompletion drives the completion against a real parleyd: profile
// names from the profile file, point numbers and amendment ids from the
// server, each filtered as the command needs.
func TestCompletion(t *testing.T) {
	s := servertest.Start(t)
	c := newCLI(t)
	n := s.CreateDemo(context.Background())
	tokens := c.demoTokens(s, n)
	c.ok("login", "--import", tokens, "--as", "ukraine")
	noFiles := ":" + strconv.Itoa(int(cobra.ShellCompDirectiveNoFileComp))
	points := ":" + strconv.Itoa(int(cobra.ShellCompDirectiveNoFileComp|cobra.ShellCompDirectiveKeepOrder))
	want := func(t *testing.T, what string, got []string, dir string, wantValues []string, wantDir string) {
		t.Helper()
		if !slices.Equal(got, wantValues) || dir != wantDir {
			t.Errorf("%s: got %q %s, want %q %s", what, got, dir, wantValues, wantDir)
		}
	}
	numbers := func(from, to int) []string {
		var out []string
		for i := from; i <= to; i++ {
			out = append(out, strconv.Itoa(i))
		}
		return out
	}
	profiles := []string{"europe", "mediator", "russia", "ukraine", "united-states"}

	t.Run("Profiles", func(t *testing.T) {
		got, dir := c.complete("--profile", "")
		want(t, "--profile", got, dir, profiles, noFiles)
		got, dir = c.complete("--profile", "u")
		want(t, "--profile u", got, dir, []string{"ukraine", "united-states"}, noFiles)
		got, dir = c.complete("use", "")
		want(t, "use", got, dir, profiles, noFiles)
		got, dir = c.complete("use", "europe", "")
		want(t, "use with its argument given", got, dir, nil, noFiles)
		got, dir = c.complete("logout", "m")
		want(t, "logout m", got, dir, []string{"mediator"}, noFiles)
	})

	t.Run("Points", func(t *testing.T) {
		got, dir := c.complete("point", "")
		want(t, "point", got, dir, numbers(1, 28), points)
		got, dir = c.complete("point", "2")
		want(t, "point 2", got, dir, append([]string{"2"}, numbers(20, 28)...), points)
		got, dir = c.complete("point", "6", "")
		want(t, "point with its argument given", got, dir, nil, noFiles)
		got, dir = c.complete("diff", "1")
		want(t, "diff 1", got, dir, append([]string{"1"}, numbers(10, 19)...), points)
		got, dir = c.complete("sign-off", "1", "2", "")
		want(t, "sign-off 1 2", got, dir, numbers(3, 28), points)
		got, dir = c.complete("revoke", "28", "2")
		want(t, "revoke 28 2", got, dir, append([]string{"2"}, numbers(20, 27)...), points)
		got, dir = c.complete("amend", "replace", "")
		want(t, "amend replace", got, dir, numbers(1, 28), points)
		got, dir = c.complete("amend", "delete", "27")
		want(t, "amend delete 27", got, dir, []string{"27"}, points)
		got, dir = c.complete("amend", "insert", "--after", "")
		want(t, "amend insert --after", got, dir, numbers(1, 28), points)
		got, dir = c.complete("amendments", "--point", "3")
		want(t, "amendments --point 3", got, dir, []string{"3"}, points)

		// The description is the start of the point's text.
		out := c.ok("__complete", "point", "6")
		if !strings.HasPrefix(out, "6\tThe size of the Armed Forces of Ukraine") {
			t.Errorf("point 6's candidate: %q", out)
		}
	})

	t.Run("Amendments", func(t *testing.T) {
		id := lastPart(jsonField(t, c.ok("amend", "replace", "6", "--rationale", "r", "--text", "Six.", "-o", "json"), "name"))
		other := lastPart(jsonField(t, c.ok("--profile", "russia", "amend", "delete", "7", "--rationale", "r", "-o", "json"), "name"))
		both := []string{id, other}

		got, dir := c.complete("vote", "")
		want(t, "vote", got, dir, []string{"approve", "reject", "abstain"}, noFiles)
		got, dir = c.complete("vote", "approve", "")
		want(t, "vote approve", got, dir, both, points)
		got, dir = c.complete("vote", "approve", id[:4])
		want(t, "vote approve PREFIX", got, dir, []string{id}, points)
		got, dir = c.complete("vote", "approve", id, "")
		want(t, "vote with both arguments", got, dir, nil, noFiles)
		got, dir = c.complete("amendment", "")
		want(t, "amendment", got, dir, both, points)
		// Withdraw offers one's own amendments only.
		got, dir = c.complete("withdraw", "")
		want(t, "withdraw as ukraine", got, dir, []string{id}, points)
		got, dir = c.complete("--profile", "russia", "withdraw", "")
		want(t, "withdraw as russia", got, dir, []string{other}, points)
		// Nothing has passed yet: nothing to apply or reject; both can be closed.
		got, dir = c.complete("--profile", "mediator", "apply", "")
		want(t, "apply before voting ends", got, dir, nil, points)
		got, dir = c.complete("--profile", "mediator", "close-vote", "")
		want(t, "close-vote", got, dir, both, points)

		for _, p := range []string{"ukraine", "russia", "united-states", "europe"} {
			c.ok("--profile", p, "vote", "approve", id)
		}
		got, dir = c.complete("--profile", "mediator", "apply", "")
		want(t, "apply", got, dir, []string{id}, points)
		got, dir = c.complete("--profile", "mediator", "reject", "")
		want(t, "reject", got, dir, []string{id}, points)
		got, dir = c.complete("--profile", "mediator", "close-vote", "")
		want(t, "close-vote after one passed", got, dir, []string{other}, points)
		got, dir = c.complete("vote", "reject", "")
		want(t, "vote once one passed", got, dir, []string{other}, points)

		out := c.ok("__complete", "amendment", id)
		if !strings.HasPrefix(out, id+"\tREPLACE point 6, PASSED, by ukraine\n") {
			t.Errorf("the amendment's candidate: %q", out)
		}
	})

	t.Run("ErrUnreachable", func(t *testing.T) {
		// No candidates, and no file names either; the error goes to
		// cobra's debug log, not to the shell.
		got, dir := c.complete("--server", "127.0.0.1:1", "--timeout", "2s", "point", "")
		want(t, "point with the server down", got, dir, nil, noFiles)
	})

	t.Run("Scripts", func(t *testing.T) {
		for _, shell := range []string{"bash", "zsh", "fish"} {
			script := c.ok("completion", shell)
			if !strings.Contains(script, "__complete") {
				t.Errorf("parley completion %s: the script does not call __complete", shell)
			}
			if shell == "bash" {
				check := exec.Command("bash", "-n")
				check.Stdin = strings.NewReader(script)
				if out, err := check.CombinedOutput(); err != nil {
					t.Errorf("bash -n on the bash completion: %v\n%s", err, out)
				}
			}
		}
	})
}

// TestMan writes the manual pages: one for every command that --help
// shows, named as man expects, and none for hidden ones.
func TestMan(t *testing.T) {
	c := newCLI(t)

	t.Run("OK", func(t *testing.T) {
		dir := filepath.Join(c.dir, "man1")
		c.ok("man", "--dir", dir)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		var wantPages []string
		var walk func(cmd *cobra.Command)
		walk = func(cmd *cobra.Command) {
			if !cmd.IsAvailableCommand() && cmd.HasParent() {
				return
			}
			wantPages = append(wantPages, strings.ReplaceAll(cmd.CommandPath(), " ", "-")+".1")
			for _, sub := range cmd.Commands() {
				walk(sub)
			}
		}
		root := (&app{Main: NewMain()}).rootCommand()
		root.InitDefaultHelpCmd()
		root.InitDefaultCompletionCmd()
		walk(root)
		slices.Sort(wantPages)
		if !slices.Equal(got, wantPages) {
			t.Fatalf("pages:\n got %v\nwant %v", got, wantPages)
		}
		for _, page := range []string{"parley.1", "parley-vote.1", "parley-amend-replace.1", "parley-version.1"} {
			if !slices.Contains(got, page) {
				t.Errorf("no %s", page)
			}
		}
		vote, err := os.ReadFile(filepath.Join(dir, "parley-vote.1"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`.TH "PARLEY-VOTE" "1"`, "parley-vote - Vote on an amendment", `\fB--reason\fP`, "Parley Manual"} {
			if !strings.Contains(string(vote), want) {
				t.Errorf("parley-vote.1 lacks %q:\n%s", want, vote)
			}
		}
	})

	t.Run("ReproducibleDate", func(t *testing.T) {
		dir := filepath.Join(c.dir, "dated")
		c.env = append(c.env, "SOURCE_DATE_EPOCH=1763640000") // 2025-11-20
		defer func() { c.env = c.env[:len(c.env)-1] }()
		c.ok("man", "--dir", dir)
		page, err := os.ReadFile(filepath.Join(dir, "parley.1"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(page), `"Nov 2025"`) {
			t.Errorf("parley.1 is not dated Nov 2025:\n%.300s", page)
		}
	})

	t.Run("ErrNoDir", func(t *testing.T) {
		if line := c.fails(ExitUsage, "man"); !strings.Contains(line, "--dir") {
			t.Errorf("man without --dir: %s", line)
		}
	})

	t.Run("Hidden", func(t *testing.T) {
		if help := c.ok("--help"); strings.Contains(help, "\n  man ") {
			t.Errorf("parley --help lists the hidden man command:\n%s", help)
		}
	})
}
