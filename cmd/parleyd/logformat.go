package main

import (
	"fmt"
	"io"
	"log/slog"
)

// Log formats of --log-format.
const (
	LogText = "text" // slog's key=value lines, for people
	LogJSON = "json" // one JSON object a line, for log collectors
)

// logHandler returns the handler that writes parleyd's log to w in format.
func logHandler(w io.Writer, format string, level slog.Level) (slog.Handler, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case LogText, "":
		return slog.NewTextHandler(w, opts), nil
	case LogJSON:
		return slog.NewJSONHandler(w, opts), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// fail reports the error that stops parleyd. With --log-format json it is a
// log record like every other line, so that a log collector reads them all;
// otherwise it is one plain line.
func (m *Main) fail(err error) {
	if m.Logger != nil && m.Config.LogFormat == LogJSON {
		m.Logger.Error("parleyd stops", "err", err)
		return
	}
	fmt.Fprintln(m.Stderr, "parleyd:", err)
}
