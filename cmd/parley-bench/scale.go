package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
	"github.com/parley-negotiation/parley/server/checkpoint"
	"github.com/parley-negotiation/parley/server/credential"
	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

type scaleConfig struct {
	server      serverFlags
	points      int
	amendments  int
	delegations int
	requests    int
	jsonPath    string
}

// scaleInfo is what the build leaves in the data folder, so that a second
// run measures the same database without building it again.
type scaleInfo struct {
	Negotiation string `json:"negotiation"`
	Token       string `json:"token"`
	Points      int    `json:"points"`
	Amendments  int    `json:"amendments"`
	Events      int64  `json:"events"`
	BuildSecs   float64
}

func runScale(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := scaleConfig{}
	fs := flag.NewFlagSet("parley-bench scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.server.register(fs)
	fs.IntVar(&c.points, "points", 10_000, "points in the document")
	fs.IntVar(&c.amendments, "amendments", 100_000, "amendments, each voted on by every delegation")
	fs.IntVar(&c.delegations, "delegations", 8, "delegations; each amendment adds delegations+2 events")
	fs.IntVar(&c.requests, "requests", 50, "requests measured for each read")
	fs.StringVar(&c.jsonPath, "json", "", "also write the results as JSON to this `file`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if c.server.target != "" {
		return errors.New("scale builds its own database: it starts parleyd on it and takes no --target")
	}
	if c.server.data == "" {
		dir, err := os.MkdirTemp("", "parley-bench-scale-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c.server.data = dir
	}
	info, err := buildScale(ctx, stdout, c)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}

	srv, err := c.server.start(ctx, stderr)
	if err != nil {
		return err
	}
	defer srv.stop()
	rssStart := rssOf(srv.pid())
	conn, err := srv.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	api := parleyv1.NewNegotiationServiceClient(conn)
	rctx := as(ctx, info.Token)

	var figures []Figure
	measure := func(name string, n int, op func(i int) error) Figure {
		rec := &recorder{}
		began := time.Now()
		for i := range n {
			start := time.Now()
			err := op(i)
			rec.add(time.Since(start), err)
		}
		f := rec.figure(name, 1, time.Since(began))
		figures = append(figures, f)
		return f
	}
	first := measure("first GetDocument (loads the state)", 1, func(int) error {
		_, err := api.GetDocument(rctx, &parleyv1.GetDocumentRequest{Negotiation: info.Negotiation, PageSize: int32(c.points)})
		return err
	})
	rssLoaded := rssOf(srv.pid())
	health := healthpb.NewHealthClient(conn)
	noop := measure("no-op gRPC call (health check)", c.requests, func(int) error {
		_, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	})
	// The whole document, as a client reads it: pages stop at
	// rpc.MaxPageBytes, and with ten pending alternatives on every point a
	// page holds about 1,900 of the 10,000 points, so reading it takes
	// several calls.
	wholeDocument := func(bare bool) ([]*parleyv1.Point, error) {
		var points []*parleyv1.Point
		req := &parleyv1.GetDocumentRequest{Negotiation: info.Negotiation, PageSize: int32(c.points), OmitAlternatives: bare}
		for {
			r, err := api.GetDocument(rctx, req)
			if err != nil {
				return nil, err
			}
			points = append(points, r.GetPoints()...)
			if r.GetNextPageToken() == "" {
				return points, nil
			}
			req.PageToken = r.GetNextPageToken()
		}
	}
	var docErr error
	readDocument := func(bare bool) func(int) error {
		return func(int) error {
			points, err := wholeDocument(bare)
			if err == nil && len(points) != c.points {
				err = fmt.Errorf("GetDocument returned %d points", len(points))
			}
			if err != nil {
				docErr = err
			}
			return err
		}
	}
	// The text, as the target was set for it; then with every point's
	// brackets, which on this database are most of the bytes.
	doc := measure(fmt.Sprintf("GetDocument, %d points, text only (omit_alternatives)", c.points), c.requests, readDocument(true))
	withBrackets := measure(fmt.Sprintf("GetDocument, %d points with alternatives, every page", c.points), c.requests, readDocument(false))
	rng := rand.New(rand.NewPCG(3, 4))
	var pointNames []string
	if points, err := wholeDocument(true); err == nil {
		for _, p := range points {
			pointNames = append(pointNames, p.GetName())
		}
	}
	if len(pointNames) == 0 {
		return fmt.Errorf("GetDocument: %v", docErr)
	}
	byPoint := measure("ListAmendments of one point", c.requests, func(int) error {
		_, err := api.ListAmendments(rctx, &parleyv1.ListAmendmentsRequest{Negotiation: info.Negotiation,
			Point: pointNames[rng.IntN(len(pointNames))], PageSize: 50})
		return err
	})
	var token string
	pages := measure("ListAmendments, next page of 1000", c.requests, func(int) error {
		r, err := api.ListAmendments(rctx, &parleyv1.ListAmendmentsRequest{Negotiation: info.Negotiation, PageSize: 1000, PageToken: token})
		token = r.GetNextPageToken()
		return err
	})
	byState := measure("ListAmendments by state, page of 50", c.requests, func(int) error {
		_, err := api.ListAmendments(rctx, &parleyv1.ListAmendmentsRequest{Negotiation: info.Negotiation,
			States: []parleyv1.AmendmentState{parleyv1.AmendmentState_AMENDMENT_STATE_FAILED}, PageSize: 50})
		return err
	})
	events := measure("ListEvents, page of 1000 at a random place", c.requests, func(int) error {
		_, err := api.ListEvents(rctx, &parleyv1.ListEventsRequest{Negotiation: info.Negotiation,
			AfterSequence: rng.Int64N(info.Events - 1000), PageSize: 1000})
		return err
	})
	rssEnd := rssOf(srv.pid())

	fmt.Fprintf(stdout, "\nparley-bench scale: %d points, %d amendments, %d events (built in %.0fs)\n", info.Points, info.Amendments, info.Events, info.BuildSecs)
	printFigures(stdout, figures)
	ratios := []Ratio{
		{Name: "GetDocument p50 ms beside 20 ms", Value: doc.P50Millis, Ceiling: 20, Target: "<= 20 ms", Met: doc.P50Millis <= 20},
		{Name: "GetDocument p50 ms beside a no-op call's p50", Value: doc.P50Millis, Ceiling: noop.P50Millis, Target: "(information)", Met: true},
		{Name: "GetDocument with alternatives, every page, p50 ms beside the text only", Value: withBrackets.P50Millis, Ceiling: doc.P50Millis, Target: "(information)", Met: true},
		{Name: "server start, exec to serving, ms, beside 1000 ms", Value: ms(srv.startTime), Ceiling: 1000, Target: "<= 1 s", Met: srv.startTime <= time.Second},
		{Name: "start + first GetDocument (state loaded), ms, beside 1000 ms", Value: ms(srv.startTime) + first.MaxMillis, Ceiling: 1000,
			Target: "(information)", Met: true},
		{Name: "resident memory after start, MiB, beside 256", Value: rssStart.total, Ceiling: 256, Target: "<= 256 MiB", Met: rssStart.total <= 256},
		{Name: "own memory (RssAnon) with the state loaded, MiB, beside 256", Value: rssLoaded.anon, Ceiling: 256, Target: "<= 256 MiB", Met: rssLoaded.anon <= 256},
		{Name: "  plus mapped database pages (RssFile), MiB", Value: rssLoaded.file, Ceiling: 256, Target: "(information)", Met: true},
		{Name: "own memory (RssAnon) at the end, MiB, beside 256", Value: rssEnd.anon, Ceiling: 256, Target: "<= 256 MiB", Met: rssEnd.anon <= 256},
		{Name: "  plus mapped database pages (RssFile), MiB", Value: rssEnd.file, Ceiling: 256, Target: "(information)", Met: true},
		{Name: "ListAmendments of one point p50 ms beside no-op p50", Value: byPoint.P50Millis, Ceiling: noop.P50Millis, Target: "(information)", Met: true},
		{Name: "ListAmendments page of 1000 p50 ms beside no-op p50", Value: pages.P50Millis, Ceiling: noop.P50Millis, Target: "(information)", Met: true},
		{Name: "ListAmendments by state p50 ms beside no-op p50", Value: byState.P50Millis, Ceiling: noop.P50Millis, Target: "(information)", Met: true},
		{Name: "ListEvents page of 1000 p50 ms beside no-op p50", Value: events.P50Millis, Ceiling: noop.P50Millis, Target: "(information)", Met: true},
	}
	for i := range ratios {
		if ratios[i].Ceiling > 0 {
			ratios[i].Ratio = ratios[i].Value / ratios[i].Ceiling
		}
	}
	printRatios(stdout, ratios)
	return writeJSON(c.jsonPath, map[string]any{"mode": "scale", "machine": machine(), "database": info,
		"figures": figures, "ratios": ratios})
}

// buildScale writes the large negotiation straight through the store, in
// big concurrent batches, not through a million RPCs; a data folder built
// before with the same sizes is reused.
func buildScale(ctx context.Context, stdout io.Writer, c scaleConfig) (scaleInfo, error) {
	infoPath := filepath.Join(c.server.data, "scale.json")
	var info scaleInfo
	if raw, err := os.ReadFile(infoPath); err == nil && json.Unmarshal(raw, &info) == nil &&
		info.Points == c.points && info.Amendments == c.amendments {
		fmt.Fprintf(stdout, "parley-bench scale: reusing the database in %s\n", c.server.data)
		return info, nil
	}
	began := time.Now()
	db, err := store.Open(filepath.Join(c.server.data, "parley.db"), store.Options{})
	if err != nil {
		return info, err
	}
	defer db.Close()
	// parleyd refuses a database with negotiations and no checkpoint key:
	// make the key its first start adopts.
	if _, err := checkpoint.LoadOrCreate(filepath.Join(c.server.data, "checkpoint-key"), "parley"); err != nil {
		return info, err
	}
	id := uuid.NewString()
	create := workflow.CreateNegotiation{NegotiationID: id, Title: "parley-bench scale",
		Rule: workflow.DecisionRule{Method: workflow.MethodConsensus}}
	for i := range c.delegations {
		create.Participants = append(create.Participants, workflow.Participant{ID: fmt.Sprintf("d%03d", i), Role: workflow.RoleDelegation})
	}
	create.Participants = append(create.Participants, workflow.Participant{ID: "mediator", Role: workflow.RoleMediator})
	pointIDs := make([]string, c.points)
	for i := range pointIDs {
		pointIDs[i] = uuid.NewString()
		create.Points = append(create.Points, workflow.NewPoint{ID: pointIDs[i],
			Text: fmt.Sprintf("Point %d. The parties agree on a provision of about the length of a real one, with a clause, "+
				"a condition and a date by which it takes effect, and a sub-item:\n— which also applies.", i+1)})
	}
	exec := func(actor string, cmd workflow.Command) error {
		_, err := db.Execute(ctx, store.Exec{NegotiationID: id, Actor: actor, Command: cmd})
		return err
	}
	if err := exec(workflow.AdminActor, create); err != nil {
		return info, err
	}
	token, hash := credential.NewToken()
	if err := exec(workflow.AdminActor, workflow.IssueCredential{Participant: "d000", TokenHash: hash}); err != nil {
		return info, err
	}
	// 256 writers fill batches; each amendment is proposed, then voted on by
	// every delegation (one in ten is rejected, so it fails).
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 256)
	for w := range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for {
				i := int(next.Add(1)) - 1
				if i >= c.amendments || ctx.Err() != nil {
					return
				}
				aid := uuid.NewString()
				err := exec(fmt.Sprintf("d%03d", i%c.delegations), workflow.ProposeAmendment{AmendmentID: aid, Kind: workflow.KindReplace,
					PointID: pointIDs[rng.IntN(len(pointIDs))], BaseRevision: 1, Text: fmt.Sprintf("Amended text number %d.", i),
					Rationale: "Because the parties asked for it."})
				for d := 0; err == nil && d < c.delegations; d++ {
					vote := workflow.CastVote{AmendmentID: aid, Choice: workflow.ChoiceApprove}
					if i%10 == 0 && d == c.delegations-1 {
						vote = workflow.CastVote{AmendmentID: aid, Choice: workflow.ChoiceReject, Reason: "Not acceptable."}
					}
					err = exec(fmt.Sprintf("d%03d", d), vote)
				}
				if err != nil {
					errs <- err
					return
				}
				if i%10000 == 0 {
					fmt.Fprintf(stdout, "\r  building: %d of %d amendments", i, c.amendments)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return info, err
	}
	var last int64
	db.View(id, func(n *workflow.Negotiation) error { last = n.LastSequence; return nil })
	info = scaleInfo{Negotiation: "negotiations/" + id, Token: token, Points: c.points, Amendments: c.amendments,
		Events: last, BuildSecs: time.Since(began).Seconds()}
	fmt.Fprintf(stdout, "\r  built %d events in %.0fs\n", last, info.BuildSecs)
	raw, _ := json.Marshal(info)
	return info, os.WriteFile(infoPath, raw, 0o600)
}

// rss is a process's resident memory in MiB: all of it, its own (heap,
// stacks), and pages of files it maps (the database), which the kernel maps
// in around every page read and can drop at any time.
type rss struct{ total, anon, file float64 }

// rssOf reads a process's resident memory from /proc.
func rssOf(pid int) rss {
	var r rss
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return r
	}
	for _, line := range strings.Split(string(raw), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch name {
		case "VmRSS":
			r.total = kb / 1024
		case "RssAnon":
			r.anon = kb / 1024
		case "RssFile":
			r.file = kb / 1024
		}
	}
	return r
}
