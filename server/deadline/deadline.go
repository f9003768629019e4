// Package deadline closes voting on amendments when their deadlines pass.
//
// The store keeps an index of the deadlines of OPEN amendments. A Scheduler
// reads the earliest ones from it when it starts, and after every commit
// that indexed a new one, and keeps one timer for the next. At a deadline it
// executes workflow.CloseVotingAtDeadline as the server: the store stamps the
// command with its commit time before the rules run, and the rules refuse a
// closing before the deadline or of a vote that has closed already, so a
// restart, a retry or a mediator closing at the same moment never records a
// second outcome.
package deadline

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-negotiation/parley/server/store"
	"github.com/parley-negotiation/parley/server/workflow"
)

// retryAfter is how long the scheduler waits after a closing failed for a
// reason that may pass (the store busy or failing).
const retryAfter = time.Second

// Scheduler closes votes at their deadlines.
type Scheduler struct {
	db     *store.DB
	exec   Executor
	logger *slog.Logger
	now    func() time.Time

	wake       chan struct{}
	unregister func() // its hook on the store's commits
	cancel     context.CancelFunc
	done       chan struct{}

	mu sync.Mutex
	// waiting holds deadlines the rules refused for now (a suspended
	// negotiation); they are tried again after the next commit that indexes
	// a deadline, which a resume does.
	waiting map[store.Deadline]bool
	closed  int
}

// Executor runs a command, as store.DB.Execute does.
type Executor func(ctx context.Context, x store.Exec) (store.Result, error)

// Start starts a scheduler on an open database; Stop stops it.
func Start(db *store.DB, logger *slog.Logger) *Scheduler {
	return StartWith(db, logger, db.Execute)
}

// StartWith starts a scheduler that reads the deadlines from db and closes
// votes through exec: in a cluster, through the raft log, on the leader only.
func StartWith(db *store.DB, logger *slog.Logger, exec Executor) *Scheduler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{db: db, exec: exec, logger: logger, now: time.Now, wake: make(chan struct{}, 1), cancel: cancel,
		done: make(chan struct{}), waiting: map[store.Deadline]bool{}}
	s.unregister = db.OnDeadline(func(time.Time) {
		s.mu.Lock()
		clear(s.waiting)
		s.mu.Unlock()
		s.poke()
	})
	go s.run(ctx)
	return s
}

// Stop stops the scheduler and waits for it. A closing in flight either
// commits or not; the next start finds what is still due.
func (s *Scheduler) Stop() {
	s.unregister()
	s.cancel()
	<-s.done
}

// Closed returns how many votes the scheduler has closed.
func (s *Scheduler) Closed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Scheduler) run(ctx context.Context) {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next, err := s.closeDue(ctx)
		wait := time.Duration(-1)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.logger.Error("voting deadlines: cannot close a vote that is due; retrying", "err", err)
			wait = retryAfter
		case !next.IsZero():
			wait = max(next.Sub(s.now()), 0)
		}
		timer.Stop()
		var fire <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-fire:
		}
	}
}

// closeDue closes every vote whose deadline has passed and returns the next
// deadline still to come (zero if none).
func (s *Scheduler) closeDue(ctx context.Context) (time.Time, error) {
	for {
		s.mu.Lock()
		skip := len(s.waiting)
		s.mu.Unlock()
		due, err := s.db.Deadlines(time.Time{}, skip+32)
		if err != nil {
			return time.Time{}, err
		}
		progressed := false
		for _, d := range due {
			s.mu.Lock()
			waiting := s.waiting[d]
			s.mu.Unlock()
			if waiting {
				continue
			}
			if d.At.After(s.now()) {
				return d.At, nil
			}
			if err := s.close(ctx, d); err != nil {
				return time.Time{}, err
			}
			progressed = true
		}
		if !progressed {
			return time.Time{}, nil
		}
	}
}

// close closes one vote whose deadline has passed. A refusal by the rules is
// not an error: the vote closed otherwise, or waits for a resume.
func (s *Scheduler) close(ctx context.Context, d store.Deadline) error {
	_, err := s.exec(ctx, store.Exec{
		NegotiationID: d.NegotiationID,
		Actor:         workflow.AdminActor,
		Command:       workflow.CloseVotingAtDeadline{AmendmentID: d.AmendmentID},
	})
	var refusal *workflow.Error
	switch {
	case err == nil:
		s.logger.Info("voting closed at its deadline", "negotiation", d.NegotiationID, "amendment", d.AmendmentID, "deadline", d.At)
		s.mu.Lock()
		s.closed++
		s.mu.Unlock()
		return nil
	case errors.As(err, &refusal) && refusal.Code != workflow.EINTERNAL && refusal.Code != workflow.EUNAVAILABLE:
		s.logger.Info("voting deadline not closed now", "negotiation", d.NegotiationID, "amendment", d.AmendmentID, "reason", refusal.Reason)
		s.mu.Lock()
		s.waiting[d] = true
		s.mu.Unlock()
		return nil
	default:
		return err
	}
}
