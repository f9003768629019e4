package main

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// recorder collects the latency of every operation of one kind.
type recorder struct {
	mu      sync.Mutex
	samples []time.Duration
	errors  int
	lastErr error
}

func (r *recorder) add(d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errors++
		r.lastErr = err
		return
	}
	r.samples = append(r.samples, d)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.samples)
}

// Figure is one measured operation: its rate and latency distribution.
type Figure struct {
	Name       string  `json:"name"`
	Clients    int     `json:"clients"`
	Ops        int     `json:"ops"`
	Errors     int     `json:"errors"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"per_second"`
	P50Millis  float64 `json:"p50_ms"`
	P90Millis  float64 `json:"p90_ms"`
	P99Millis  float64 `json:"p99_ms"`
	MaxMillis  float64 `json:"max_ms"`
	LastError  string  `json:"last_error,omitempty"`
	Annotation string  `json:"note,omitempty"`
}

func (r *recorder) figure(name string, clients int, elapsed time.Duration) Figure {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := slices.Clone(r.samples)
	slices.Sort(s)
	f := Figure{Name: name, Clients: clients, Ops: len(s), Errors: r.errors, Seconds: elapsed.Seconds()}
	if r.lastErr != nil {
		f.LastError = r.lastErr.Error()
	}
	if elapsed > 0 {
		f.PerSecond = float64(len(s)) / elapsed.Seconds()
	}
	if len(s) > 0 {
		at := func(q float64) float64 { return ms(s[min(len(s)-1, int(q*float64(len(s))))]) }
		f.P50Millis, f.P90Millis, f.P99Millis, f.MaxMillis = at(0.50), at(0.90), at(0.99), ms(s[len(s)-1])
	}
	return f
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func printFigures(w io.Writer, figures []Figure) {
	fmt.Fprintf(w, "%-34s %7s %9s %11s %8s %8s %8s %8s %6s\n", "operation", "clients", "ops", "ops/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors")
	for _, f := range figures {
		fmt.Fprintf(w, "%-34s %7d %9d %11.0f %8.3f %8.3f %8.3f %8.3f %6d\n",
			f.Name, f.Clients, f.Ops, f.PerSecond, f.P50Millis, f.P90Millis, f.P99Millis, f.MaxMillis, f.Errors)
		if f.LastError != "" {
			fmt.Fprintf(w, "    last error: %s\n", f.LastError)
		}
	}
}

// Ratio is a figure beside its ceiling.
type Ratio struct {
	Name    string  `json:"name"`
	Value   float64 `json:"value"`
	Ceiling float64 `json:"ceiling"`
	Ratio   float64 `json:"ratio"`
	Target  string  `json:"target"`
	Met     bool    `json:"met"`
}

func printRatios(w io.Writer, ratios []Ratio) {
	fmt.Fprintf(w, "\n%-58s %11s %11s %7s  %s\n", "figure beside its ceiling", "value", "ceiling", "ratio", "target")
	for _, r := range ratios {
		mark := "MET"
		if !r.Met {
			mark = "NOT MET"
		}
		fmt.Fprintf(w, "%-58s %11.2f %11.2f %6.0f%%  %s: %s\n", r.Name, r.Value, r.Ceiling, 100*r.Ratio, r.Target, mark)
	}
}

// progress prints the running count of operations every second until done.
func progress(w io.Writer, label string, rec *recorder, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last, start := 0, time.Now()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			n := rec.count()
			fmt.Fprintf(w, "\r  %-28s %6.0fs  %9d ops  %9d ops/s", label, now.Sub(start).Seconds(), n, n-last)
			last = n
		}
	}
}
