// Package metrics exposes Parley's Prometheus metrics: the gRPC server's,
// from go-grpc-middleware, and the store's own (commit latency, commands and
// events per commit, watchers).
package metrics

import (
	"net/http"
	"net/http/pprof"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
)

// Metrics is one registry of Parley's metrics.
type Metrics struct {
	registry *prometheus.Registry
	// GRPC counts and times every call; add its interceptors to the server.
	GRPC *grpcprom.ServerMetrics

	commitSeconds  prometheus.Histogram
	commitCommands prometheus.Histogram
	events         prometheus.Counter
	failedCommits  prometheus.Counter
}

// New returns the metrics, registered with Go's runtime and process metrics.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		GRPC: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
			grpcprom.WithHistogramBuckets([]float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}))),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "parley_store_commit_seconds",
			Help:    "Time of one store commit: deciding its commands, writing, and the fsyncs.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25},
		}),
		commitCommands: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "parley_store_commit_commands",
			Help:    "Commands that shared one commit (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_store_events_appended_total",
			Help: "Events appended to the negotiations' logs.",
		}),
		failedCommits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_store_commit_failures_total",
			Help: "Commits that failed and were rolled back; their commands were refused with INTERNAL.",
		}),
	}
	m.registry.MustRegister(m.GRPC, m.commitSeconds, m.commitCommands, m.events, m.failedCommits,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveCommit records one store commit.
func (m *Metrics) ObserveCommit(commands, events int, took time.Duration, failed bool) {
	if failed {
		m.failedCommits.Inc()
		return
	}
	m.commitSeconds.Observe(took.Seconds())
	m.commitCommands.Observe(float64(commands))
	m.events.Add(float64(events))
}

// Gauge registers a gauge read from fn at each scrape, such as the number of
// watchers or the size of the database file.
func (m *Metrics) Gauge(name, help string, fn func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// Initialize makes every RPC's series appear at zero before its first call.
func (m *Metrics) Initialize(s *grpc.Server) { m.GRPC.InitializeMetrics(s) }

// Handler serves /metrics, and Go's profiles under /debug/pprof/ for finding
// what keeps a figure from its target.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
