package service

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/integrationd/integrationd/internal/store"
)

// writer persists execution records off the request path: callers enqueue
// and return; one goroutine writes batches in a single transaction each
// (group commit). Records stay readable from memory until written.
type writer struct {
	st  store.Store
	log *slog.Logger

	in   chan writeReq
	stop chan struct{}
	done chan struct{}

	mu      sync.RWMutex
	pending map[string]*store.Execution // execution ID -> record not yet written
}

type writeReq struct {
	e *store.Execution
	// done is a job that e's record finishes, deleted in the same
	// transaction; doneJob the same for a job added by an earlier request
	// (its ID is known once that request is written).
	done    int64
	doneJob *store.Job
	// add is a job added with e.
	add   *store.Job
	flush chan struct{}
}

const maxBatch = 256

func newWriter(st store.Store, log *slog.Logger) *writer {
	w := &writer{st: st, log: log, in: make(chan writeReq, 4096), stop: make(chan struct{}), done: make(chan struct{}),
		pending: make(map[string]*store.Execution)}
	go w.loop()
	return w
}

// enqueue schedules e for writing.
func (w *writer) enqueue(e *store.Execution) { w.enqueueDone(e, 0) }

// enqueueDone schedules e for writing together with the deletion of job
// done (0: none), the job whose work e's record completes.
func (w *writer) enqueueDone(e *store.Execution, done int64) {
	w.enqueueReq(writeReq{e: e, done: done})
}

func (w *writer) enqueueReq(r writeReq) {
	w.mu.Lock()
	w.pending[r.e.ID] = r.e
	w.mu.Unlock()
	w.in <- r
}

// get returns a record not yet written.
func (w *writer) get(id string) (*store.Execution, bool) {
	w.mu.RLock()
	e, ok := w.pending[id]
	w.mu.RUnlock()
	return e, ok
}

// hasChildren reports whether a record not yet written has parent id.
func (w *writer) hasChildren(id string) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, e := range w.pending {
		if e.ParentID == id {
			return true
		}
	}
	return false
}

// findRequest returns a pending record of k with this request id.
func (w *writer) findRequest(k store.IntegrationKey, requestID string) (*store.Execution, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, e := range w.pending {
		if e.RequestID == requestID && e.Key == k {
			return e, true
		}
	}
	return nil, false
}

// flush waits until everything enqueued before it is written.
func (w *writer) flush(ctx context.Context) error {
	w.mu.RLock()
	n := len(w.pending)
	w.mu.RUnlock()
	if n == 0 {
		return nil
	}
	ch := make(chan struct{})
	select {
	case w.in <- writeReq{flush: ch}:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return errors.New("execution writer stopped")
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// linger is how long the writer waits for more records after the first
// of a batch: a few milliseconds turn many small commits into one.
const linger = 2 * time.Millisecond

func (w *writer) loop() {
	defer close(w.done)
	batch := make([]writeReq, 0, maxBatch)
	var flushes []chan struct{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		stopping := false
		select {
		case r := <-w.in:
			batch, flushes = w.add(batch, flushes, r)
		case <-w.stop:
			stopping = true
		}
		// Gather what else arrives within the linger, unless someone is
		// waiting for a flush or the writer is stopping.
		timer.Reset(linger)
	gather:
		for len(batch) < maxBatch && len(flushes) == 0 && !stopping {
			select {
			case r := <-w.in:
				batch, flushes = w.add(batch, flushes, r)
			case <-timer.C:
				break gather
			case <-w.stop:
				stopping = true
			}
		}
		timer.Stop()
		if stopping {
		drain:
			for {
				select {
				case r := <-w.in:
					batch, flushes = w.add(batch, flushes, r)
				default:
					break drain
				}
			}
		}
		w.write(batch, flushes)
		batch, flushes = batch[:0], flushes[:0]
		if stopping {
			return
		}
	}
}

func (w *writer) add(batch []writeReq, flushes []chan struct{}, r writeReq) ([]writeReq, []chan struct{}) {
	if r.flush != nil {
		return batch, append(flushes, r.flush)
	}
	return append(batch, r), flushes
}

// commit writes records and deletes the jobs they finish in one transaction.
func (w *writer) commit(reqs []writeReq) error {
	es := make([]*store.Execution, len(reqs))
	var done []int64
	var add []*store.Job
	for i, r := range reqs {
		es[i] = r.e
		if r.done != 0 {
			done = append(done, r.done)
		}
		if r.doneJob != nil && r.doneJob.ID != 0 {
			done = append(done, r.doneJob.ID)
		}
		if r.add != nil {
			add = append(add, r.add)
		}
	}
	return w.st.Commit(context.Background(), es, done, add)
}

func (w *writer) write(batch []writeReq, flushes []chan struct{}) {
	if len(batch) > 0 {
		err := w.commit(batch)
		if err != nil && len(batch) > 1 {
			// One bad record must not lose the others.
			for i, r := range batch {
				if err := w.commit(batch[i : i+1]); err != nil {
					w.log.Error("writing execution record", "execution_id", r.e.ID, "error", err)
				}
			}
		} else if err != nil {
			w.log.Error("writing execution record", "execution_id", batch[0].e.ID, "error", err)
		}
		w.mu.Lock()
		for _, r := range batch {
			if w.pending[r.e.ID] == r.e {
				delete(w.pending, r.e.ID)
			}
		}
		w.mu.Unlock()
	}
	for _, f := range flushes {
		close(f)
	}
}

func (w *writer) close(ctx context.Context) error {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
