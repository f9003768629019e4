package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/checkpoint"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// chromiumPath is Debian's chromium, the browser the board is tested in.
const chromiumPath = "/usr/bin/chromium"

// live is how soon a change made in one browser must show in another: 2 s,
// as the board promises. Under the race detector parleyd itself is built with
// -race and runs several times slower, with other packages' tests beside it on
// two cores, so the bound is wider there; a plain `go test ./client/web` holds
// the board to 2 s.
var live = func() time.Duration {
	if servertest.Race {
		return 6 * time.Second
	}
	return 2 * time.Second
}()

// needChromium skips the test where there is no chromium, except in CI,
// where a missing browser is a failure: .ci/run installs it.
func needChromium(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is missing: CI must install Debian's chromium (apt-get install -y chromium)", chromiumPath)
	}
	tb.Skipf("%s is missing: install Debian's chromium to run the board's browser test", chromiumPath)
}

// newBrowser starts a headless Chromium for the test, with a fresh profile
// and nothing that reaches for other hosts.
func newBrowser(tb testing.TB) context.Context {
	tb.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	tb.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(browser); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	return browser
}

// page is one browser context (its own storage, as a separate person's
// browser would have) with one tab.
type page struct {
	tb   testing.TB
	name string
	ctx  context.Context
}

func newPage(tb testing.TB, browser context.Context, name string) *page {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	tb.Cleanup(cancel)
	// The tab lives as long as the context of its first run: open it here,
	// with no deadline, before any action runs with one.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("%s: open a tab: %v", name, err)
	}
	return &page{tb: tb, name: name, ctx: ctx}
}

// run runs actions with a deadline, failing the test with what was being
// done.
func (p *page) run(what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.tb.Fatalf("%s: %s: %v", p.name, what, err)
	}
}

// do runs an action of the UI, which the board must answer within seconds.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.tb.Helper()
	p.run(what, 20*time.Second, actions...)
}

// text returns the text of the first element matching sel, once it is there.
func (p *page) text(sel string) string {
	p.tb.Helper()
	p.eventually(sel+" present", 10*time.Second, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
	return get(p, "read "+sel, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).innerText`, sel)))
}

// allText returns the text of every element matching sel, joined.
func (p *page) allText(sel string) string {
	p.tb.Helper()
	return get(p, "read "+sel, chromedp.Evaluate[string](fmt.Sprintf(`Array.from(document.querySelectorAll(%q), e => e.textContent).join(" ")`, sel)))
}

// eventually waits until the JavaScript expression is true, at most within.
// It asks every 25 ms.
func (p *page) eventually(what string, within time.Duration, expr string) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, within)
	defer cancel()
	var err error
	for {
		var ok bool
		ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(25 * time.Millisecond):
			continue
		}
		break
	}
	bodyCtx, cancelBody := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancelBody()
	body, _ := chromedp.Run(bodyCtx, chromedp.Evaluate[string](`document.body.innerText`))
	p.tb.Fatalf("%s: %s did not happen within %v (last error: %v)\npage text:\n%s", p.name, what, within, err, body)
}

// fill sets a text field's value as typing would, so the app sees the
// input event.
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false;
			el.value = %q; el.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`, sel, value)
		ok, err := chromedp.Evaluate[bool](js)(ctx, t)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no element %s", sel)
		}
		return nil
	})
}

// click waits for a visible, enabled element and clicks it.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.WaitEnabled(chromedp.CSS(sel)),
		chromedp.Click(chromedp.CSS(sel)),
	)
}

// visible waits until an element matching sel is visible.
func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// get runs one action that returns a value.
func get[T any](p *page, what string, a chromedp.Action[T]) T {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.tb.Fatalf("%s: %s: %v", p.name, what, err)
	}
	return v
}

// shots saves a screenshot of each step in the folder CI keeps:
// $PARLEY_SCREENSHOTS, or client/web/screenshots (ignored by git).
type shots struct {
	tb  testing.TB
	dir string
	n   int
}

func newShots(tb testing.TB) *shots {
	dir := os.Getenv("PARLEY_SCREENSHOTS")
	if dir == "" {
		dir = "screenshots"
	}
	dir = filepath.Join(dir, tb.Name())
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return &shots{tb: tb, dir: dir}
}

func (s *shots) take(p *page, step string) {
	s.tb.Helper()
	s.save(p, step, get(p, "screenshot "+step, chromedp.FullScreenshot(100)))
}

func (s *shots) save(p *page, step string, png []byte) {
	s.tb.Helper()
	s.n++
	file := filepath.Join(s.dir, fmt.Sprintf("%02d-%s-%s.png", s.n, p.name, step))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		s.tb.Fatal(err)
	}
}

// freeAddr returns a loopback address with a port free at the time.
func freeAddr(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// signIn opens the board with a demo sign-in link (the token in the URL
// fragment) and waits for the matrix.
func (p *page) signIn(base, token string) {
	p.tb.Helper()
	p.do("sign in", chromedp.Navigate(base+"#token="+token), visible(`[data-test="matrix"]`))
	href := get(p, "read the address", chromedp.Location())
	if strings.Contains(href, token) {
		p.tb.Fatalf("%s: the token stays in the address bar: %s", p.name, href)
	}
}

// has is a JavaScript expression true when sel matches and its text
// contains want.
func has(sel, want string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).some(e => e.textContent.includes(%q))`, sel, want)
}

func cellState(point int, delegation, state string) string {
	return fmt.Sprintf(`document.querySelector('[data-test="cell-%d-%s"]')?.dataset.state === %q`, point, delegation, state)
}

// startBoardServer skips the test without Chromium or under -short, and
// starts parleyd serving the board on an HTTP address of its own, which it
// returns: fixed for the test, so a restarted parleyd is found again there.
func startBoardServer(t *testing.T) (*servertest.Server, string) {
	t.Helper()
	needChromium(t)
	if testing.Short() {
		t.Skip("starts parleyd and Chromium")
	}
	httpAddr := freeAddr(t)
	return servertest.Start(t, "--http-listen", httpAddr), httpAddr
}

// TestBoard plays a round of the demo negotiation through the board only,
// in five browser contexts (the four delegations and the mediator), and
// checks that every change shows in the other browsers within two seconds.
func TestBoard(t *testing.T) {
	// A fixed HTTP port, so that the boards find parleyd again after its
	// restart below.
	srv, httpAddr := startBoardServer(t)
	ctx := context.Background()
	n := srv.CreateDemo(ctx)
	base := "http://" + httpAddr + "/"
	browser := newBrowser(t)
	shot := newShots(t)

	// A page without a token reads nothing: it asks for one, and a wrong one
	// is refused with the server's message.
	stranger := newPage(t, browser, "stranger")
	stranger.do("open the board", chromedp.Navigate(base), visible(`[data-test="signin"]`))
	if body := stranger.text("body"); strings.Contains(body, demo.Title) || strings.Contains(body, "Ukraine") {
		t.Fatalf("a page without a token shows the negotiation:\n%s", body)
	}
	calls := get(stranger, "count API calls", chromedp.Evaluate[int](`performance.getEntriesByType("resource").filter(e => e.name.includes("/parley.v1.")).length`))
	if calls != 0 {
		t.Fatalf("a page without a token made %d API calls", calls)
	}
	stranger.do("sign in with a wrong token", fill("#token", "prl_not-a-token"), click(`[data-test="signin"] button`))
	stranger.eventually("the server's refusal", live, `document.querySelector('[data-test="signin-error"]') !== null`)
	if msg := stranger.text(`[data-test="signin-error"]`); !strings.Contains(strings.ToLower(msg), "token") {
		t.Fatalf("a wrong token is refused with %q, not the server's message", msg)
	}
	shot.take(stranger, "no-token")

	pages := map[string]*page{}
	for _, id := range append(append([]string{}, demo.Delegations...), demo.Mediator) {
		p := newPage(t, browser, id)
		p.signIn(base, n.Tokens[id])
		pages[id] = p
	}
	ukraine, russia, us, europe, mediator := pages["ukraine"], pages["russia"], pages["united-states"], pages["europe"], pages[demo.Mediator]
	delegations := []*page{ukraine, russia, us, europe}
	everyone := append(append([]*page{}, delegations...), mediator)
	for _, p := range everyone {
		p.eventually("the log verified", 10*time.Second, `document.querySelector('[data-test="verified"]') !== null`)
	}
	shot.take(mediator, "board")

	// Ukraine signs off point 1 as it stands, so the change below makes that
	// sign-off stale.
	ukraine.do("open point 1", click(`a[aria-label="Point 1"]`), visible(`[data-test="point"]`))
	ukraine.do("sign off point 1", click(`[data-test="sign-off"]`))
	mediator.eventually("Ukraine's sign-off of point 1", live, cellState(1, "ukraine", "signed"))

	// Ukraine proposes to replace point 1, seeing the redline first.
	const newText = "Ukraine's sovereignty will be confirmed and guaranteed."
	ukraine.do("draft an amendment", click(`[data-test="kind-replace"]`), fill(`[data-test="propose-text"]`, newText),
		fill(`[data-test="propose-rationale"]`, "Guarantees, not only confirmation."), click(`[data-test="preview"]`),
		visible(`[data-test="preview-redline"] ins`))
	if ins := ukraine.allText(`[data-test="preview-redline"] ins`); !strings.Contains(ins, "guaranteed") {
		t.Fatalf("the redline before sending shows %q inserted, want the new words", ins)
	}
	shot.take(ukraine, "propose-preview")
	ukraine.do("send the amendment", click(`[data-test="propose-send"]`))
	ukraine.eventually("the amendment proposed", live, has(`[data-test="propose-status"]`, "Proposed amendment"))
	ukraine.eventually("the amendment among the point's", live, `document.querySelector('[data-test^="amendment-"]') !== null`)
	shot.take(ukraine, "point")

	// The discussion of point 1, seen live in another browser: Russia opens
	// the point (its text now in brackets with Ukraine's proposal), Ukraine
	// comments, Russia sees it and replies, Ukraine sees the reply, then
	// retracts its comment, and Russia sees it retracted, without its text.
	russia.do("open point 1", click(`a[aria-label="Point 1"]`), visible(`[data-test="point-discussion"]`))
	russia.eventually("point 1 in brackets", live, has(`[data-test="brackets"]`, "current")+` && `+has(`[data-test="bracket-A"]`, "guaranteed"))
	const remark = "Guaranteed by whom? The text must say."
	ukraine.do("comment on point 1", fill(`[data-test="point-discussion"] [data-test="comment-new"]`, remark),
		click(`[data-test="point-discussion"] [data-test="comment-post"]`))
	russia.eventually("Ukraine's comment", live, has(`[data-test="point-discussion"]`, remark))
	shot.take(russia, "comment-live")
	russia.do("reply", click(`[data-test="point-discussion"] [data-test="comment-reply"]`),
		fill(`[data-test="point-discussion"] [data-test="reply-text"]`, "By the guarantors of point 5."),
		click(`[data-test="point-discussion"] [data-test="reply-post"]`))
	ukraine.eventually("Russia's reply", live, has(`[data-test="point-discussion"]`, "By the guarantors of point 5."))
	ukraine.do("retract the comment", click(`[data-test="point-discussion"] [data-test="comment-retract"]`))
	russia.eventually("the comment retracted", live, has(`[data-test="point-discussion"]`, "Retracted by its author.")+
		` && !document.querySelector('[data-test="point-discussion"]').innerText.includes(`+fmt.Sprintf("%q", remark)+`)`)
	russia.do("back to the board", click(`nav a[href="#/"]`), visible(`[data-test="matrix"]`))
	ukraine.do("back to the board", click(`nav a[href="#/"]`), visible(`[data-test="matrix"]`))
	for _, p := range everyone[1:] {
		p.eventually("the new amendment on the board", live, `document.querySelector('[data-test^="amendment-"]') !== null`)
	}
	mediator.eventually("point 1's brackets on the board", live, has(`[data-test="brackets-1"]`, "[current | A]"))
	amendment := mediator.attr(`[data-amendment]`, "data-amendment")
	shot.take(russia, "amendment-live")

	// A refused action shows the server's reason: Russia rejects without
	// saying why. The same call over gRPC gives the message the board must
	// show, and the log must not grow.
	russia.do("reject without a reason", click(`[data-test="vote-reject"]`))
	russia.eventually("the refusal", live, `document.querySelector('[data-test="refusal"]') !== null`)
	_, err := parleyv1.NewNegotiationServiceClient(srv.Conn()).CastVote(servertest.As(ctx, n.Tokens["russia"]),
		&parleyv1.CastVoteRequest{Amendment: amendment, Choice: parleyv1.VoteChoice_VOTE_CHOICE_REJECT})
	want := status.Convert(err).Message()
	if got := russia.text(`[data-test="refusal"]`); want == "" || !strings.Contains(got, want) || !strings.Contains(got, "REASON_REQUIRED") {
		t.Fatalf("the board shows %q for a refused vote; the server says %q (REASON_REQUIRED)", got, want)
	}
	shot.take(russia, "refused")

	// The mediator sets a deadline, and every board shows it with the time
	// left; the administrator suspends the negotiation and every board says
	// so until it resumes.
	api := parleyv1.NewNegotiationServiceClient(srv.Conn())
	if _, err := api.SetVotingDeadline(servertest.As(ctx, n.Tokens[demo.Mediator]), &parleyv1.SetVotingDeadlineRequest{
		Amendment: amendment, VotingDeadline: timestamppb.New(time.Now().Add(3 * time.Hour))}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*page{russia, mediator} {
		p.eventually("the deadline", live, has(`[data-test="deadline"]`, "left); the server closes it then"))
	}
	admin := servertest.As(ctx, srv.AdminToken)
	if _, err := api.SuspendNegotiation(admin, &parleyv1.SuspendNegotiationRequest{Negotiation: n.Name, Reason: "Consultations"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range everyone {
		p.eventually("the pause", live, `document.querySelector('[data-test="suspended"]') !== null`)
	}
	shot.take(europe, "suspended")
	if _, err := api.ResumeNegotiation(admin, &parleyv1.ResumeNegotiationRequest{Negotiation: n.Name}); err != nil {
		t.Fatal(err)
	}
	for _, p := range everyone {
		p.eventually("the resume", live, `document.querySelector('[data-test="suspended"]') === null`)
	}

	// Four votes, each seen live by the mediator.
	for _, p := range delegations {
		p.do("approve", click(`[data-test="vote-approve"]`))
		mediator.eventually(p.name+"'s vote", live, has(`[data-test="vote-`+p.name+`"]`, "approve"))
	}
	mediator.eventually("the amendment PASSED", live, has(`[data-test="queue"] [data-test="amendment-state"]`, "PASSED"))
	shot.take(mediator, "passed")

	// The watch stream resumes after a disconnect: parleyd restarts (on the
	// same addresses), every board says reconnecting, then goes live again
	// and follows the mediator's apply, which makes Ukraine's sign-off of
	// point 1 stale on every screen.
	reconnecting := make(chan []byte, 1)
	go func() {
		ctx, cancel := context.WithTimeout(russia.ctx, 30*time.Second)
		defer cancel()
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](has(`[data-test="link"]`, "Reconnecting"), chromedp.WithPollingInterval(10*time.Millisecond)))
		if err != nil {
			reconnecting <- nil
			return
		}
		png, _ := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		reconnecting <- png
	}()
	time.Sleep(200 * time.Millisecond) // let the poll start
	srv.Restart()
	if png := <-reconnecting; png == nil {
		t.Fatal("russia: no reconnecting state while parleyd restarted")
	} else {
		shot.save(russia, "reconnecting", png)
	}
	for _, p := range everyone {
		p.eventually("live again", 15*time.Second, has(`[data-test="link"]`, "Live"))
	}

	mediator.do("apply", click(`[data-test="apply"]`))
	for _, p := range everyone {
		p.eventually("Ukraine's sign-off of point 1 turning stale", live, cellState(1, "ukraine", "stale")+` && `+has(`[data-test="row-1"]`, "guaranteed"))
	}
	shot.take(mediator, "stale")

	// The point's redline against the original, from the server.
	europe.do("open point 1", click(`a[aria-label="Point 1"]`), visible(`[data-test="revision-redline"] ins`))
	if ins := europe.allText(`[data-test="revision-redline"] ins`); !strings.Contains(ins, "guaranteed") {
		t.Fatalf("the redline against the original shows %q inserted", ins)
	}
	shot.take(europe, "point-redline")
	europe.do("back to the board", click(`a[href="#/"]`), visible(`[data-test="matrix"]`))

	// A package deal trading point 6 for point 19, proposed through the API:
	// every board shows both its parts, the delegations vote on it where they
	// vote on any amendment, and the mediator's apply changes both points at
	// once.
	doc, err := api.GetDocument(servertest.As(ctx, n.Tokens["ukraine"]), &parleyv1.GetDocumentRequest{Negotiation: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	six, nineteen := doc.GetPoints()[5], doc.GetPoints()[18]
	if _, err := api.ProposeAmendment(servertest.As(ctx, n.Tokens["ukraine"]), &parleyv1.ProposeAmendmentRequest{Negotiation: n.Name, Parts: []*parleyv1.AmendmentPart{
		{Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: six.GetName(), BaseRevision: six.GetRevision(), Text: "The Armed Forces of Ukraine will be limited to 800,000 troops."},
		{Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: nineteen.GetName(), BaseRevision: nineteen.GetRevision(), Text: "The plant's electricity will be shared under IAEA supervision."},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range everyone {
		p.eventually("the package's parts", live, has(`[data-test="package-parts"]`, "Part 1: replace point 6")+` && `+has(`[data-test="package-parts"]`, "Part 2: replace point 19"))
	}
	shot.take(russia, "package")
	for _, p := range delegations {
		p.do("approve the package", click(`[data-test="vote-approve"]`))
		mediator.eventually(p.name+"'s vote on the package", live, has(`[data-test="vote-`+p.name+`"]`, "approve"))
	}
	mediator.eventually("the package PASSED", live, has(`[data-test="queue"] [data-test="amendment-state"]`, "PASSED"))
	mediator.do("apply the package", click(`[data-test="apply"]`))
	for _, p := range everyone {
		p.eventually("points 6 and 19 changed together", live, has(`[data-test="row-6"]`, "800,000")+` && `+has(`[data-test="row-19"]`, "shared under IAEA"))
	}

	// Accepting before every point is agreed is refused with the server's
	// reason.
	ukraine.do("accept too early", click(`[data-test="accept"]`))
	ukraine.eventually("the refusal", live, has(`[data-test="mine"] [data-test="refusal"]`, "POINTS_NOT_AGREED"))

	// Every delegation signs off every point; the others see it live.
	for _, p := range delegations {
		p.do("sign off all", click(`[data-test="sign-off-all"]`))
		mediator.eventually(p.name+"'s sign-offs", 30*time.Second,
			fmt.Sprintf(`Array.from(document.querySelectorAll('[data-test^="cell-"][data-test$="-%s"]')).every(e => e.dataset.state === "signed")`, p.name))
	}
	mediator.eventually("every point agreed", live, has(`[data-test="acceptance-status"]`, "Only acceptances remain"))
	shot.take(mediator, "agreed")

	// The acceptances, each showing the document's hash; the last concludes.
	for i, p := range delegations {
		hash := p.text(`[data-test="document-hash"]`)
		if len(hash) != 64 {
			t.Fatalf("%s: the document's hash shown is %q", p.name, hash)
		}
		p.do("accept", click(`[data-test="accept"]`))
		p.eventually("its acceptance", live, has(`[data-test="my-acceptance"]`, "You accepted this text")+` || document.querySelector('[data-test="concluded"]') !== null`)
		if i == 0 {
			// The first takes its acceptance back, in one click, and gives it again.
			p.do("withdraw the acceptance", click(`[data-test="withdraw-acceptance"]`))
			p.eventually("the acceptance withdrawn", live, `document.querySelector('[data-test="my-acceptance"]') === null`)
			p.do("accept again", click(`[data-test="accept"]`))
			p.eventually("its acceptance again", live, has(`[data-test="my-acceptance"]`, "You accepted this text"))
		}
		mediator.eventually(p.name+"'s acceptance", live, has(`[data-test="summary"]`, fmt.Sprintf("accepted by %d of 4", i+1)))
	}
	for _, p := range everyone {
		p.eventually("CONCLUDED", live, `document.querySelector('[data-test="concluded"]') !== null`)
	}
	shot.take(mediator, "concluded")

	for _, p := range everyone {
		p.eventually("the log still verified", 10*time.Second, `document.querySelector('[data-test="verified"]') !== null`)
	}

	got, err := parleyv1.NewNegotiationServiceClient(srv.Conn()).GetNegotiation(servertest.As(ctx, n.Tokens[demo.Mediator]),
		&parleyv1.GetNegotiationRequest{Name: n.Name})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetNegotiation().GetState() != parleyv1.NegotiationState_NEGOTIATION_STATE_CONCLUDED {
		t.Fatalf("the server says %v after the round played in the browser", got.GetNegotiation().GetState())
	}

	// The audit page lists the log and checks the events against the
	// signed root; the print page holds the text and the redline annex.
	mediator.do("open the audit log", click(`nav a[href="#/audit"]`))
	mediator.eventually("the events checked against the signed root", 10*time.Second, has(`[data-test="leaves-check"]`, "✓"))
	mediator.eventually("consistency with what it trusted before", live, has(`[data-test="verified-detail"]`, "consistent with the"))
	mediator.eventually("the withdrawn acceptance in the log", live, has(`body`, "WITHDREW its acceptance"))
	shot.take(mediator, "audit")
	mediator.do("open the printable text", click(`nav a[href="#/print"]`), visible(`.annex del`))
	shot.take(mediator, "print")

	// Keyboard: Tab moves the focus to a control that shows it; Large type,
	// for a projector, scales the page.
	mediator.do("back to the board", click(`nav a[href="#/"]`), visible(`[data-test="matrix"]`))
	mediator.do("press Tab", chromedp.KeyEvent("\t"))
	mediator.eventually("a visible focus", live, `document.activeElement !== document.body &&
		getComputedStyle(document.activeElement).outlineStyle !== "none" && parseFloat(getComputedStyle(document.activeElement).outlineWidth) >= 2`)
	mediator.do("large type", click(`button[aria-pressed]`))
	mediator.eventually("larger type", live, `getComputedStyle(document.documentElement).fontSize === "22px"`)
	shot.take(mediator, "large-type")

	// Signing out forgets the token.
	ukraine.do("sign out", click(`[data-test="signout"]`), visible(`[data-test="signin"]`))
	stored := get(ukraine, "read the session", chromedp.Evaluate[string](`sessionStorage.getItem("parley.token") ?? ""`))
	if stored != "" {
		t.Fatal("the token is still in sessionStorage after signing out")
	}
}

// attr returns an attribute of the first element matching sel.
func (p *page) attr(sel, name string) string {
	p.tb.Helper()
	res := get(p, "read "+sel, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if !res.Exists {
		p.tb.Fatalf("%s: %s has no %s", p.name, sel, name)
	}
	return res.Value
}

// TestBoardCatchesARewrittenLog gives the browser a checkpoint, signed with
// the server's own key, of a history the server never had: the board must
// say that the log check failed once the server's log moves on.
func TestBoardCatchesARewrittenLog(t *testing.T) {
	srv, httpAddr := startBoardServer(t)
	ctx := context.Background()
	n := srv.CreateDemo(ctx)
	browser := newBrowser(t)
	shot := newShots(t)
	europe := newPage(t, browser, "europe")
	europe.signIn("http://"+httpAddr+"/", n.Tokens["europe"])
	europe.eventually("the log verified", 10*time.Second, `document.querySelector('[data-test="verified"]') !== null`)

	// The operator, who holds the key, signs a different history of 10
	// events, and the browser has trusted it.
	signer, err := checkpoint.LoadOrCreate(filepath.Join(srv.DataDir, "checkpoint-key"), "unused")
	if err != nil {
		t.Fatal(err)
	}
	forged, err := signer.Sign(checkpoint.Checkpoint{Origin: n.Name, Size: 10, Root: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	europe.do("trust the forged checkpoint", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`localStorage.setItem(%q, %q)`, "parley.trusted-checkpoint."+n.Name, forged)))

	// The next event makes the board check a new checkpoint against it.
	europe.do("sign off point 2", click(`a[aria-label="Point 2"]`), click(`[data-test="sign-off"]`))
	europe.eventually("the failed check", live, `document.querySelector('[data-test="verify-failed"]') !== null`)
	europe.do("open the audit log", click(`nav a[href="#/audit"]`))
	europe.eventually("the reason", live, has(`[data-test="verification"]`, "history rewritten"))
	shot.take(europe, "rewritten")
}
