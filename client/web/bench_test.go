package web_test

import (
	"context"
	"fmt"
	"os"
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
// It reports the page's own marks (ms since the navigation started): its
// first render of the board, mean, fastest and slowest, and the part of it
// after the board's data arrived, which is the browser's own work; ns/op is
// the wall time of the whole navigation seen from Go.
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
			var rendered, data, slowest time.Duration
			fastest := time.Hour
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				p.run("blank page", 20*time.Second, chromedp.Navigate("about:blank"))
				b.StartTimer()
				p.run("open the board", 60*time.Second, chromedp.Navigate(base+"#token="+c.token), chromedp.WaitReady(chromedp.CSS(last)))
				b.StopTimer()
				// The board marks its render in an effect, which runs once the
				// frame is painted, a moment after the rows are in the DOM.
				p.eventually("the render mark", 10*time.Second, `performance.getEntriesByName("parley:board-rendered").length > 0`)
				m := get(p, "read the marks", chromedp.Evaluate[[]float64](
					`["parley:board-data", "parley:board-rendered"].map(n => performance.getEntriesByName(n)[0]?.startTime ?? -1)`))
				if len(m) != 2 || m[0] < 0 || m[1] < 0 {
					b.Fatalf("the board made no marks: %v", m)
				}
				r := time.Duration(m[1] * float64(time.Millisecond))
				if os.Getenv("PARLEY_BENCH_VERBOSE") != "" {
					b.Logf("data %.0f ms, rendered %.0f ms", m[0], m[1])
				}
				rendered += r
				data += time.Duration(m[0] * float64(time.Millisecond))
				fastest, slowest = min(fastest, r), max(slowest, r)
				b.StartTimer()
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(rendered)/float64(b.N), "ms-first-render")
			b.ReportMetric(ms(fastest), "ms-first-render-min")
			b.ReportMetric(ms(slowest), "ms-first-render-max")
			b.ReportMetric(ms(rendered-data)/float64(b.N), "ms-render-after-data")
		})
	}
}
