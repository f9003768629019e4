package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
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
	// CPU spent per operation while measuring, in microseconds: by the
	// server process (0 if not known) and by this process, the clients.
	ServerCPUMicros float64 `json:"server_cpu_us_per_op,omitempty"`
	ClientCPUMicros float64 `json:"client_cpu_us_per_op,omitempty"`
	Rounds          int     `json:"rounds,omitempty"`

	samples []time.Duration // latencies, sorted
}

// mergeRounds returns one operation measured over several rounds: its rate
// over all the time measured, its latencies over all its samples, its CPU
// per operation over all its operations.
func mergeRounds(rounds []Figure) Figure {
	if len(rounds) == 1 {
		return rounds[0]
	}
	f := Figure{Name: rounds[0].Name, Clients: rounds[0].Clients, Rounds: len(rounds)}
	var samples []time.Duration
	var serverCPU, clientCPU float64
	for _, r := range rounds {
		f.Ops += r.Ops
		f.Errors += r.Errors
		f.Seconds += r.Seconds
		if r.LastError != "" {
			f.LastError = r.LastError
		}
		serverCPU += r.ServerCPUMicros * float64(r.Ops)
		clientCPU += r.ClientCPUMicros * float64(r.Ops)
		samples = append(samples, r.samples...)
	}
	slices.Sort(samples)
	f.setLatencies(samples)
	if f.Seconds > 0 {
		f.PerSecond = float64(f.Ops) / f.Seconds
	}
	if f.Ops > 0 {
		f.ServerCPUMicros, f.ClientCPUMicros = serverCPU/float64(f.Ops), clientCPU/float64(f.Ops)
	}
	return f
}

// setLatencies sets the percentiles from sorted samples.
func (f *Figure) setLatencies(s []time.Duration) {
	f.samples = s
	if len(s) > 0 {
		at := func(q float64) float64 { return ms(s[min(len(s)-1, int(q*float64(len(s))))]) }
		f.P50Millis, f.P90Millis, f.P99Millis, f.MaxMillis = at(0.50), at(0.90), at(0.99), ms(s[len(s)-1])
	}
}

// cpuClock reads the CPU time of the server and of this process.
type cpuClock struct{ serverPID int }

// cpu returns the CPU time a process has used so far (user and system);
// pid 0 means this process.
func cpuOf(pid int) time.Duration {
	path := "/proc/self/stat"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/stat", pid)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start after ")".
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // clock ticks of 1/100 s on Linux
}

// measureCPU returns a function that, called at the end of a phase of ops
// operations, sets the figure's CPU per operation.
func (c cpuClock) start() func(f *Figure) {
	server, self := cpuOf(c.serverPID), cpuOf(0)
	return func(f *Figure) {
		if f.Ops == 0 {
			return
		}
		if c.serverPID != 0 {
			f.ServerCPUMicros = float64((cpuOf(c.serverPID) - server).Microseconds()) / float64(f.Ops)
		}
		f.ClientCPUMicros = float64((cpuOf(0) - self).Microseconds()) / float64(f.Ops)
	}
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
	f.setLatencies(s)
	return f
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func printFigures(w io.Writer, figures []Figure) {
	fmt.Fprintf(w, "%-40s %7s %9s %9s %8s %8s %8s %8s %6s %10s %10s\n", "operation", "clients", "ops", "ops/s", "p50 ms", "p90 ms", "p99 ms",
		"max ms", "errors", "server µs", "client µs")
	for _, f := range figures {
		fmt.Fprintf(w, "%-40s %7d %9d %9.0f %8.3f %8.3f %8.3f %8.3f %6d %10.1f %10.1f\n",
			f.Name, f.Clients, f.Ops, f.PerSecond, f.P50Millis, f.P90Millis, f.P99Millis, f.MaxMillis, f.Errors, f.ServerCPUMicros, f.ClientCPUMicros)
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

// showProgress prints the running count of operations every second until
// the returned function is called, which waits for the last line.
func showProgress(w io.Writer, label string, rec *recorder) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		progress(w, label, rec, done)
	}()
	return func() {
		close(done)
		<-stopped
		fmt.Fprintln(w)
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
