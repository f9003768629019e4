package main

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/parley-negotiation/parley/client"
	parleyv1 "github.com/parley-negotiation/parley/proto/parley/v1"
)

func numCPU() int { return runtime.NumCPU() }

type loadConfig struct {
	server       serverFlags
	clients      int
	delegations  int
	points       int
	pool         int
	duration     time.Duration
	rounds       int
	warmup       time.Duration
	solo         time.Duration
	mix          string
	writeBytes   int
	etcd         string
	etcdBytes    int
	jsonPath     string
	signed       bool
	cluster      int
	failovers    int
	clusterFlags string
	fullReply    bool
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := loadConfig{}
	fs := flag.NewFlagSet("parley-bench load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.server.register(fs)
	fs.IntVar(&c.clients, "clients", 64, "concurrent clients, each with its own connection")
	fs.IntVar(&c.delegations, "delegations", 16, "delegations in the negotiation (at least 2)")
	fs.IntVar(&c.points, "points", 28, "points in the negotiation")
	fs.IntVar(&c.pool, "amendments", 256, "open amendments the votes go to")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long each measured phase runs")
	fs.IntVar(&c.rounds, "rounds", 1, "run every phase this many times, in turn, and report each operation over all its rounds")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "unmeasured run before each phase")
	fs.DurationVar(&c.solo, "solo", 5*time.Second, "how long the one-client phases run; 0 skips them")
	fs.StringVar(&c.mix, "mix", "vote", "operations and weights, e.g. vote:8,propose:1,signoff:1,read:2")
	fs.IntVar(&c.writeBytes, "write-bytes", 1536, "size of each bare bbolt write in the ceiling, about what a vote writes")
	fs.StringVar(&c.etcd, "etcd", "auto", "etcdbench `binary` to measure etcd Put beside parleyd (auto: beside this binary, then on PATH; off: skip)")
	fs.IntVar(&c.etcdBytes, "etcd-bytes", 256, "size of each etcd Put's value")
	fs.StringVar(&c.jsonPath, "json", "", "also write the results as JSON to this `file`")
	fs.BoolVar(&c.signed, "signed", true, "also measure CastVote signed with the delegation's key, beside the unsigned one")
	fs.IntVar(&c.cluster, "cluster", 0, "also start a cluster of this many `nodes` and measure CastVote on the single node, through the leader and through a follower in one run (0: no cluster)")
	fs.StringVar(&c.clusterFlags, "cluster-flags", "", "with --cluster: more `flags` for the cluster's nodes only (e.g. --raft-election-timeout 500ms), after --server-flags")
	fs.IntVar(&c.failovers, "failovers", 3, "with --cluster: SIGKILL the leader this many times after the phases and time a serving new leader")
	fs.BoolVar(&c.fullReply, "full-reply", false, "votes ask for the whole amendment in reply, instead of the vote alone (vote_only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if c.delegations < 2 || c.clients < 1 || c.pool < 1 || c.points < 1 || c.rounds < 1 {
		return fmt.Errorf("need --delegations >= 2 and positive --clients, --amendments, --points, --rounds")
	}
	if c.cluster != 0 {
		if c.cluster < 2 || c.server.target != "" || c.failovers < 0 || (c.failovers > 0 && c.cluster < 3) {
			return usageError{errors.New("--cluster needs at least 2 nodes (3 to survive a --failovers kill), no --target (the benchmark starts every server) and --failovers >= 0")}
		}
		return runClusterLoad(ctx, c, stdout, stderr)
	}
	mix, err := parseMix(c.mix)
	if err != nil {
		return err
	}
	etcdBin, err := etcdBinary(c.etcd)
	if err != nil {
		return usageError{err}
	}
	srv, err := c.server.start(ctx, stderr)
	if err != nil {
		return err
	}
	defer srv.stop()
	var etcd *etcdServer
	if etcdBin != "" {
		if etcd, err = startEtcd(ctx, etcdBin, stderr); err != nil {
			return fmt.Errorf("start etcd: %w", err)
		}
		defer etcd.stop()
	} else {
		fmt.Fprintln(stdout, "etcd not measured: no etcdbench binary (cd cmd/parley-bench/etcdbench && go build -o ../../../bin/ .)")
	}
	fmt.Fprintf(stdout, "parley-bench load: %d clients, %d delegations, %d points, %d open amendments, mix %s, %s per phase\n",
		c.clients, c.delegations, c.points, c.pool, c.mix, c.duration)
	fx, err := newFixture(ctx, srv, c.delegations, c.points, c.pool)
	if err != nil {
		return fmt.Errorf("set up: %w", err)
	}
	fx.voteOnly = !c.fullReply

	// Each round runs every phase once, in turn; a figure is an operation
	// over all its rounds, so that every operation meets the same share of
	// what else the machine was doing.
	steps := []step{
		{"no-op gRPC call (health check)", func() (Figure, error) {
			return fx.run(ctx, stderr, "no-op gRPC call (health check)", c.clients, c.warmup, c.duration, fx.healthOp)
		}},
		{"workload: " + c.mix, func() (Figure, error) {
			return fx.run(ctx, stderr, "workload: "+c.mix, c.clients, c.warmup, c.duration, fx.mixOp(mix))
		}},
		{"bare bbolt", func() (Figure, error) {
			return bareBoltPhase(ctx, stderr, c.clients, c.writeBytes, c.warmup, c.duration)
		}},
	}
	if c.signed {
		steps = append(steps,
			step{"unsigned vote", func() (Figure, error) {
				return fx.run(ctx, stderr, fmt.Sprintf("CastVote unsigned, %d clients", c.clients), c.clients, c.warmup, c.duration, fx.mixOp(map[string]int{"vote": 1}))
			}},
			step{"signed vote", func() (Figure, error) {
				return fx.run(ctx, stderr, fmt.Sprintf("CastVote signed, %d clients", c.clients), c.clients, c.warmup, c.duration, fx.mixOp(map[string]int{"signedvote": 1}))
			}})
	}
	if etcd != nil {
		steps = append(steps, step{"etcd", func() (Figure, error) {
			return etcd.putPhase(ctx, stderr, fmt.Sprintf("etcd Put (%d B, distinct keys)", c.etcdBytes), c.clients, c.etcdBytes, c.warmup, c.duration)
		}})
	}
	if c.solo > 0 {
		steps = append(steps,
			step{"solo no-op", func() (Figure, error) {
				return fx.run(ctx, stderr, "no-op gRPC call, one client", 1, c.warmup/2, c.solo, fx.healthOp)
			}},
			step{"solo vote", func() (Figure, error) {
				return fx.run(ctx, stderr, "CastVote, one client alone", 1, c.warmup/2, c.solo, fx.mixOp(map[string]int{"vote": 1}))
			}},
			step{"solo signed vote", func() (Figure, error) {
				if !c.signed {
					return Figure{}, nil
				}
				return fx.run(ctx, stderr, "CastVote signed, one client alone", 1, c.warmup/2, c.solo, fx.mixOp(map[string]int{"signedvote": 1}))
			}},
			step{"solo bare bbolt", func() (Figure, error) {
				f, err := bareBoltPhase(ctx, stderr, 1, c.writeBytes, c.warmup/2, c.solo)
				f.Name = "bare bbolt write, one writer"
				return f, err
			}})
		if etcd != nil {
			steps = append(steps, step{"solo etcd", func() (Figure, error) {
				return etcd.putPhase(ctx, stderr, "etcd Put, one client alone", 1, c.etcdBytes, c.warmup/2, c.solo)
			}})
		}
	}
	byStep, err := runRounds(steps, c.rounds)
	if err != nil {
		return err
	}
	figures := make([]Figure, 0, len(steps))
	for _, st := range steps {
		if f := byStep[st.name]; f.Name != "" {
			figures = append(figures, f)
		}
	}
	noop, work, bare := figures[0], figures[1], figures[2]
	put, soloPut := byStep["etcd"], byStep["solo etcd"]
	soloNoop, soloVote, soloBare := byStep["solo no-op"], byStep["solo vote"], byStep["solo bare bbolt"]
	fmt.Fprintln(stdout)
	printFigures(stdout, figures)

	ratios := []Ratio{
		{Name: fmt.Sprintf("workload ops/s beside no-op gRPC calls/s, %d clients", c.clients), Value: work.PerSecond,
			Ceiling: noop.PerSecond, Target: ">= 60%", Met: work.PerSecond >= 0.6*noop.PerSecond},
		{Name: fmt.Sprintf("workload ops/s beside bare bbolt writes/s, %d clients", c.clients), Value: work.PerSecond,
			Ceiling: bare.PerSecond, Target: "(information)", Met: true},
		{Name: fmt.Sprintf("workload p99 ms beside 5 ms, %d clients", c.clients), Value: work.P99Millis,
			Ceiling: 5, Target: "<= 5 ms", Met: work.P99Millis <= 5},
	}
	if c.solo > 0 {
		ratios = append(ratios,
			Ratio{Name: "CastVote p50 ms, one client, beside 0.5 ms", Value: soloVote.P50Millis, Ceiling: 0.5,
				Target: "<= 0.5 ms", Met: soloVote.P50Millis <= 0.5},
			Ratio{Name: "CastVote p50 ms, one client, beside a no-op call's p50", Value: soloVote.P50Millis,
				Ceiling: soloNoop.P50Millis, Target: "(information)", Met: true},
			Ratio{Name: "CastVote p50 ms, one client, beside a bare bbolt write's p50", Value: soloVote.P50Millis,
				Ceiling: soloBare.P50Millis, Target: "(information)", Met: true},
		)
	}
	if c.signed {
		unsigned, signed := byStep["unsigned vote"], byStep["signed vote"]
		ratios = append(ratios,
			Ratio{Name: fmt.Sprintf("signed CastVote ops/s beside unsigned, %d clients", c.clients), Value: signed.PerSecond,
				Ceiling: unsigned.PerSecond, Target: "(information)", Met: true},
			Ratio{Name: fmt.Sprintf("signed CastVote p99 ms beside unsigned, %d clients", c.clients), Value: signed.P99Millis,
				Ceiling: unsigned.P99Millis, Target: "(information)", Met: true})
		if c.solo > 0 {
			ratios = append(ratios, Ratio{Name: "signed CastVote p50 ms beside unsigned, one client", Value: byStep["solo signed vote"].P50Millis,
				Ceiling: soloVote.P50Millis, Target: "(information)", Met: true})
		}
	}
	if etcd != nil {
		ratios = append(ratios,
			Ratio{Name: fmt.Sprintf("workload ops/s beside etcd Puts/s, %d clients", c.clients), Value: work.PerSecond,
				Ceiling: put.PerSecond, Target: ">= 100%", Met: work.PerSecond >= put.PerSecond},
			Ratio{Name: fmt.Sprintf("workload p99 ms beside etcd Put's p99, %d clients", c.clients), Value: work.P99Millis,
				Ceiling: put.P99Millis, Target: "<= 100%", Met: work.P99Millis <= put.P99Millis})
		if c.solo > 0 {
			ratios = append(ratios, Ratio{Name: "CastVote p50 ms, one client, beside a lone etcd Put's p50", Value: soloVote.P50Millis,
				Ceiling: soloPut.P50Millis, Target: "<= 100%", Met: soloVote.P50Millis <= soloPut.P50Millis})
		}
	}
	for i := range ratios {
		if ratios[i].Ceiling > 0 {
			ratios[i].Ratio = ratios[i].Value / ratios[i].Ceiling
		}
	}
	printRatios(stdout, ratios)
	return writeJSON(c.jsonPath, map[string]any{"mode": "load", "machine": machine(), "config": map[string]any{
		"clients": c.clients, "delegations": c.delegations, "points": c.points, "amendments": c.pool,
		"mix": c.mix, "duration_s": c.duration.Seconds(), "rounds": c.rounds, "signed": c.signed}, "figures": figures, "ratios": ratios})
}

func parseMix(s string) (map[string]int, error) {
	mix := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		name, weight, found := strings.Cut(strings.TrimSpace(part), ":")
		w := 1
		if found {
			var err error
			if w, err = strconv.Atoi(weight); err != nil || w < 0 {
				return nil, fmt.Errorf("--mix: weight of %q is not a whole number", name)
			}
		}
		switch name {
		case "vote", "signedvote", "propose", "signoff", "read":
			mix[name] = w
		default:
			return nil, fmt.Errorf("--mix: unknown operation %q (vote, signedvote, propose, signoff, read)", name)
		}
	}
	return mix, nil
}

// fixture is a negotiation set up for load: delegation 0 proposed every
// amendment of the pool and never votes, so voting never closes and every
// vote is a real write.
type fixture struct {
	srv         *server
	negotiation string
	tokens      []string // of the delegations, by index
	amendments  []string
	amended     map[string]*parleyv1.Amendment // by name, for signing votes
	points      []*parleyv1.Point
	// signers sign the votes of the delegations, by index (delegation 0
	// never votes); checkpoint is the log's size and root they sign.
	signers        []*client.Signer
	checkpointSize uint64
	checkpointRoot []byte
	runs           uint64 // phases run so far: each seeds its clients anew
	voteOnly       bool   // votes ask for the lean reply, as clients that follow the amendment otherwise do
}

func newFixture(ctx context.Context, srv *server, delegations, points, pool int) (*fixture, error) {
	conn, err := srv.dial()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	api := parleyv1.NewNegotiationServiceClient(conn)
	admin := as(ctx, srv.adminToken)
	req := &parleyv1.CreateNegotiationRequest{
		Title:        "parley-bench load",
		DecisionRule: &parleyv1.DecisionRule{Method: parleyv1.DecisionMethod_DECISION_METHOD_CONSENSUS},
	}
	for i := range delegations {
		req.Participants = append(req.Participants, &parleyv1.Participant{Id: fmt.Sprintf("d%03d", i), Role: parleyv1.Role_ROLE_DELEGATION})
	}
	req.Participants = append(req.Participants, &parleyv1.Participant{Id: "mediator", Role: parleyv1.Role_ROLE_MEDIATOR})
	for i := range points {
		req.Points = append(req.Points, fmt.Sprintf("Point %d. The parties agree on a provision of about the length of a real one, "+
			"with a clause, a condition and a date by which it takes effect.", i+1))
	}
	created, err := api.CreateNegotiation(admin, req)
	if err != nil {
		return nil, err
	}
	fx := &fixture{srv: srv, negotiation: created.GetNegotiation().GetName(), amended: map[string]*parleyv1.Amendment{}}
	admins := parleyv1.NewAdminServiceClient(conn)
	for i := range delegations {
		r, err := admins.IssueToken(admin, &parleyv1.IssueTokenRequest{Negotiation: fx.negotiation, Participant: fmt.Sprintf("d%03d", i)})
		if err != nil {
			return nil, err
		}
		fx.tokens = append(fx.tokens, r.GetToken())
	}
	doc, err := api.GetDocument(as(ctx, fx.tokens[0]), &parleyv1.GetDocumentRequest{Negotiation: fx.negotiation})
	if err != nil {
		return nil, err
	}
	fx.points = doc.GetPoints()
	for i := range pool {
		p := fx.points[i%len(fx.points)]
		r, err := api.ProposeAmendment(as(ctx, fx.tokens[0]), &parleyv1.ProposeAmendmentRequest{
			Negotiation: fx.negotiation, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p.GetName(),
			BaseRevision: p.GetRevision(), Text: fmt.Sprintf("Amended text %d of point %d.", i, p.GetNumber())})
		if err != nil {
			return nil, err
		}
		fx.amendments = append(fx.amendments, r.GetAmendment().GetName())
		fx.amended[r.GetAmendment().GetName()] = r.GetAmendment()
	}
	// Every delegation registers a signing key, for the signed votes.
	for i := range delegations {
		id := fmt.Sprintf("d%03d", i)
		seed := make([]byte, ed25519.SeedSize)
		binary.BigEndian.PutUint64(seed, uint64(i+1))
		s := &client.Signer{Key: ed25519.NewKeyFromSeed(seed), Participant: id, Member: id}
		fx.signers = append(fx.signers, s)
		reg, err := s.RegisterKeyRequest(fx.negotiation, nil)
		if err != nil {
			return nil, err
		}
		if _, err := api.RegisterKey(as(ctx, fx.tokens[i]), reg); err != nil {
			return nil, fmt.Errorf("register %s's key: %w", id, err)
		}
	}
	// The checkpoint the signed votes name: a real one of this log, as a
	// client that verified it would send.
	cp, err := parleyv1.NewAuditServiceClient(conn).GetCheckpoint(admin, &parleyv1.GetCheckpointRequest{Negotiation: fx.negotiation})
	if err != nil {
		return nil, err
	}
	fx.checkpointSize, fx.checkpointRoot = uint64(cp.GetTreeSize()), cp.GetRootHash()
	return fx, nil
}

// opFunc does one operation and says whether it failed.
type opFunc func(ctx context.Context) error

func (fx *fixture) healthOp(int) opFunc { return nil }

// clientState is one client's connection and what it last did, so that its
// next vote or sign-off changes something.
type clientState struct {
	conn   *grpc.ClientConn
	api    parleyv1.NegotiationServiceClient
	health healthpb.HealthClient
	token  string
	signer *client.Signer
	rng    *rand.Rand
	choice map[string]parleyv1.VoteChoice
	signed map[string]bool
}

func (fx *fixture) mixOp(mix map[string]int) func(client int) opFunc {
	var names []string
	for name, w := range mix {
		for range w {
			names = append(names, name)
		}
	}
	return func(client int) opFunc {
		return func(ctx context.Context) error {
			st := ctx.Value(clientKey{}).(*clientState)
			switch names[st.rng.IntN(len(names))] {
			case "vote":
				a := fx.amendments[st.rng.IntN(len(fx.amendments))]
				next := parleyv1.VoteChoice_VOTE_CHOICE_APPROVE
				if st.choice[a] == next {
					next = parleyv1.VoteChoice_VOTE_CHOICE_ABSTAIN
				}
				st.choice[a] = next
				_, err := st.api.CastVote(as(ctx, st.token), &parleyv1.CastVoteRequest{RequestId: uuid.NewString(), Amendment: a, Choice: next, VoteOnly: fx.voteOnly})
				return err
			case "signedvote":
				// The client's work is part of a signed vote: it signs each.
				a := fx.amendments[st.rng.IntN(len(fx.amendments))]
				next := parleyv1.VoteChoice_VOTE_CHOICE_APPROVE
				if st.choice[a] == next {
					next = parleyv1.VoteChoice_VOTE_CHOICE_ABSTAIN
				}
				st.choice[a] = next
				signed, err := st.signer.VoteConsent(fx.amended[a], next, "", fx.checkpointSize, fx.checkpointRoot)
				if err != nil {
					return err
				}
				_, err = st.api.CastVote(as(ctx, st.token), &parleyv1.CastVoteRequest{RequestId: uuid.NewString(), Amendment: a, Choice: next, Consent: signed, VoteOnly: fx.voteOnly})
				return err
			case "propose":
				p := fx.points[st.rng.IntN(len(fx.points))]
				_, err := st.api.ProposeAmendment(as(ctx, st.token), &parleyv1.ProposeAmendmentRequest{RequestId: uuid.NewString(),
					Negotiation: fx.negotiation, Kind: parleyv1.AmendmentKind_AMENDMENT_KIND_REPLACE, Point: p.GetName(),
					BaseRevision: p.GetRevision(), Text: fmt.Sprintf("Proposal %d on point %d.", st.rng.Int(), p.GetNumber())})
				return err
			case "signoff":
				p := fx.points[st.rng.IntN(len(fx.points))]
				signOff := func() error {
					_, err := st.api.SignOffPoint(as(ctx, st.token), &parleyv1.SignOffPointRequest{RequestId: uuid.NewString(),
						Point: p.GetName(), Revision: p.GetRevision(), TextSha256: p.GetTextSha256()})
					return err
				}
				st.signed[p.GetName()] = !st.signed[p.GetName()]
				if !st.signed[p.GetName()] {
					_, err := st.api.RevokeSignOff(as(ctx, st.token), &parleyv1.RevokeSignOffRequest{RequestId: uuid.NewString(), Point: p.GetName()})
					// Another client of the same delegation revoked it first.
					if status.Code(err) == codes.FailedPrecondition {
						st.signed[p.GetName()] = true
						return signOff()
					}
					return err
				}
				return signOff()
			default:
				_, err := st.api.GetDocument(as(ctx, st.token), &parleyv1.GetDocumentRequest{Negotiation: fx.negotiation})
				return err
			}
		}
	}
}

type clientKey struct{}

// run runs clients for warmup, then measures them for d. op nil means the
// no-op health check.
func (fx *fixture) run(ctx context.Context, stderr io.Writer, name string, clients int, warmup, d time.Duration,
	op func(client int) opFunc) (Figure, error) {
	states := make([]*clientState, clients)
	fx.runs++
	for i := range states {
		conn, err := fx.srv.dial()
		if err != nil {
			return Figure{}, err
		}
		defer conn.Close()
		// Clients spread over delegations 1…n-1: delegation 0 proposed the
		// amendments and stays silent, so voting never closes.
		states[i] = &clientState{conn: conn, api: parleyv1.NewNegotiationServiceClient(conn), health: healthpb.NewHealthClient(conn),
			token: fx.tokens[1+i%(len(fx.tokens)-1)], signer: fx.signers[1+i%(len(fx.tokens)-1)], rng: rand.New(rand.NewPCG(uint64(i), 7+fx.runs)),
			choice: map[string]parleyv1.VoteChoice{}, signed: map[string]bool{}}
	}
	ops := make([]opFunc, clients)
	for i, st := range states {
		f := op(i)
		cctx := context.WithValue(ctx, clientKey{}, st)
		if f == nil {
			ops[i] = func(context.Context) error {
				_, err := st.health.Check(cctx, &healthpb.HealthCheckRequest{})
				return err
			}
		} else {
			ops[i] = func(context.Context) error { return f(cctx) }
		}
	}
	return phase(ctx, stderr, name, fx.srv.pid(), ops, warmup, d)
}

// phase runs each op in a loop on its own goroutine: unmeasured for warmup,
// then measured for d, with the progress shown, and the CPU the server (if
// serverPID is not 0) and this process spent meanwhile.
func phase(ctx context.Context, stderr io.Writer, name string, serverPID int, ops []opFunc, warmup, d time.Duration) (Figure, error) {
	rec := &recorder{}
	measuring, stop := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	for _, op := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			measured := false
			for {
				select {
				case <-stop:
					return
				case <-measuring:
					measured = true
				default:
				}
				start := time.Now()
				err := op(ctx)
				if measured {
					rec.add(time.Since(start), err)
				}
			}
		}()
	}
	time.Sleep(warmup)
	close(measuring)
	began := time.Now()
	cpu := cpuClock{serverPID: serverPID}.start()
	stopProgress := showProgress(stderr, name, rec)
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	f := rec.figure(name, len(ops), time.Since(began))
	cpu(&f)
	close(stop)
	wg.Wait()
	stopProgress()
	return f, ctx.Err()
}

// bareBoltPhase measures the ceiling of durable writes on this disk: writers
// put values of the given size into a bbolt file, and one goroutine commits
// every waiting write in one transaction as soon as the previous commit ends,
// as parleyd's store does, with nothing else: no rules, no encoding, no gRPC.
func bareBoltPhase(ctx context.Context, stderr io.Writer, writers, size int, warmup, d time.Duration) (Figure, error) {
	dir, err := os.MkdirTemp("", "parley-bench-bolt-")
	if err != nil {
		return Figure{}, err
	}
	defer os.RemoveAll(dir)
	db, err := bolt.Open(filepath.Join(dir, "bare.db"), 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
	if err != nil {
		return Figure{}, err
	}
	defer db.Close()
	type write struct {
		key  []byte
		done chan error
	}
	queue := make(chan write, 4*writers)
	go func() {
		for first := range queue {
			batch := []write{first}
		drain:
			for len(batch) < 256 {
				select {
				case w := <-queue:
					batch = append(batch, w)
				default:
					break drain
				}
			}
			value := make([]byte, size)
			err := db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucketIfNotExists([]byte("bench"))
				if err != nil {
					return err
				}
				for _, w := range batch {
					if err := b.Put(w.key, value); err != nil {
						return err
					}
				}
				return nil
			})
			for _, w := range batch {
				w.done <- err
			}
		}
	}()
	defer close(queue)
	ops := make([]opFunc, writers)
	for i := range ops {
		done, n := make(chan error, 1), 0
		ops[i] = func(context.Context) error {
			n++
			queue <- write{key: []byte(fmt.Sprintf("%04d-%012d", i, n)), done: done}
			return <-done
		}
	}
	return phase(ctx, stderr, fmt.Sprintf("bare bbolt write (%d B, group commit)", size), 0, ops, warmup, d)
}

// step is one phase of a run, measured once in each round.
type step struct {
	name string
	run  func() (Figure, error)
}

// runRounds runs every step once per round, in turn, so that each meets the
// same share of whatever else the machine is doing, and returns each step's
// figure over all its rounds by the step's name.
func runRounds(steps []step, rounds int) (map[string]Figure, error) {
	measured := make([][]Figure, len(steps))
	for range rounds {
		for i, st := range steps {
			f, err := st.run()
			if err != nil {
				return nil, err
			}
			measured[i] = append(measured[i], f)
		}
	}
	byStep := make(map[string]Figure, len(steps))
	for i, st := range steps {
		byStep[st.name] = mergeRounds(measured[i])
	}
	return byStep, nil
}
