package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/demo"
	"github.com/parley-negotiation/parley/server/servertest"
)

// BenchmarkBoardFirstRender opens the board in headless Chromium and waits
// for the matrix of every point: the 28-point demo, and a document of 600
// points. Each run loads the page afresh and signs in with the link's token.
// It reports the page's own mark of its first render (ms since navigation
// started) beside the wall time of the whole navigation.
//
//	go test ./client/web -run '^$' -bench BoardFirstRender -benchtime 10x
func BenchmarkBoardFirstRender(b *testing.B) {
	needChromium(b)
	ctx := context.Background()
	httpAddr := freeAddr(b)
	srv := servertest.Start(b, "--http-listen", httpAddr)
	base := "http://" + httpAddr + "/"
	browser := newBrowser(b)

	demoTokens := srv.CreateDemo(ctx).Tokens
	points := make([]string, 600)
	for i := range points {
		points[i] = fmt.Sprintf("Provision %d. %s", i+1, strings.Repeat("The parties agree to the terms set out in this point. ", 3))
	}
	big := srv.Create(ctx, &parleyv1.CreateNegotiationRequest{Title: "600 points", Participants: demo.Participants(),
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS}, Points: points})

	for _, c := range []struct {
		name   string
		points int
		token  string
	}{
		{"28-points", 28, demoTokens[demo.Mediator]},
		{"600-points", 600, big.Tokens[demo.Mediator]},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := newPage(b, browser, c.name)
			last := fmt.Sprintf(`[data-test="row-%d"]`, c.points)
			var marks time.Duration
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				p.run("blank page", 20*time.Second, chromedp.Navigate("about:blank"))
				b.StartTimer()
				p.run("open the board", 60*time.Second, chromedp.Navigate(base+"#token="+c.token), chromedp.WaitReady(chromedp.CSS(last)))
				b.StopTimer()
				ms := get(p, "read the mark", chromedp.Evaluate[float64](`performance.getEntriesByName("parley:board-rendered")[0]?.startTime ?? -1`))
				if ms < 0 {
					b.Fatal("the board made no render mark")
				}
				marks += time.Duration(ms * float64(time.Millisecond))
				b.StartTimer()
			}
			b.ReportMetric(float64(marks.Milliseconds())/float64(b.N), "ms-first-render")
		})
	}
}
