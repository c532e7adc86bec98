package deltalog

import (
	"context"
	"runtime"

	"github.com/deltashare/deltashare/sharing/delta"
)

// streamMin is the shortest run of commits read by a commitStream; shorter runs are read one
// after the other.
const streamMin = 16

// commitStream reads the commits of a version range in order while up to streamWorkers
// goroutines read and parse the next ones (at most streamAhead versions ahead), so a long
// replay uses every core.
type commitStream struct {
	t        *Table
	l        *logListing
	next, to int64
	ctx      context.Context
	cancel   context.CancelFunc
	slots    chan chan commitResult // nil: read one after the other
}

type commitResult struct {
	acts []*delta.Action
	err  error
}

const streamAhead = 64

func (t *Table) streamCommits(ctx context.Context, l *logListing, from, to int64) *commitStream {
	s := &commitStream{t: t, l: l, next: from, to: to, ctx: ctx}
	workers := min(runtime.GOMAXPROCS(0), 4)
	if to-from+1 < streamMin || workers < 2 {
		return s
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.slots = make(chan chan commitResult, streamAhead)
	type job struct {
		v   int64
		out chan commitResult
	}
	jobs := make(chan job, streamAhead)
	for i := 0; i < workers; i++ {
		go func() {
			for j := range jobs {
				acts, err := t.readCommit(s.ctx, l, j.v)
				j.out <- commitResult{acts, err} // buffered: never blocks
			}
		}()
	}
	go func() {
		defer close(jobs)
		defer close(s.slots)
		for v := from; v <= to; v++ {
			out := make(chan commitResult, 1)
			select {
			case s.slots <- out:
			case <-s.ctx.Done():
				return
			}
			select {
			case jobs <- job{v, out}:
			case <-s.ctx.Done():
				return
			}
		}
	}()
	return s
}

// read returns the actions of the next commit of the range.
func (s *commitStream) read() ([]*delta.Action, error) {
	v := s.next
	s.next++
	if s.slots == nil {
		return s.t.readCommit(s.ctx, s.l, v)
	}
	var out chan commitResult
	select {
	case out = <-s.slots:
	case <-s.ctx.Done():
		return nil, s.ctx.Err()
	}
	select {
	case r := <-out:
		return r.acts, r.err
	case <-s.ctx.Done():
		return nil, s.ctx.Err()
	}
}

// close stops the readers (call it when done, also after an error).
func (s *commitStream) close() {
	if s.cancel != nil {
		s.cancel()
	}
}
