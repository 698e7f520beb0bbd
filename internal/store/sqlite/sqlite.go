// Package sqlite implements store.Store on a single SQLite database file,
// using the pure-Go driver modernc.org/sqlite (no cgo).
//
// The database runs in WAL mode. Writes go through a dedicated connection
// pool holding exactly one connection, so concurrent writers queue in
// database/sql instead of failing with SQLITE_BUSY; reads use a separate
// pool of query-only connections that WAL lets proceed alongside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/integrationd/integrationd/internal/store"

	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeout bounds how long a connection waits for a lock held by another
// connection (a checkpoint, or another process) before SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Store is a store.Store backed by SQLite. Its methods are safe for
// concurrent use. Create one with Open and release it with Close.
type Store struct {
	w   *sql.DB // exactly one connection: every write transaction
	r   *sql.DB // query-only connections for reads
	ck  *sql.DB // one connection for WAL checkpoints
	log *slog.Logger
	now func() time.Time

	stopCk chan struct{} // closed by Close: stops the checkpointer
	ckDone chan struct{} // closed when the checkpointer has stopped

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the SQLite database at path, applies
// any pending schema migrations and returns the store. path names a file;
// in-memory databases are not supported because readers and the writer use
// separate connections. A nil logger means slog.Default().
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: %w: need a file path", path, store.ErrInvalidArgument)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}

	// The writer's transactions start with BEGIN IMMEDIATE, so a write
	// transaction takes the write lock up front rather than failing to
	// upgrade a read lock later.
	w, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_txlock":       {"immediate"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"NORMAL"},
		"_foreign_keys": {"1"},
		"_busy_timeout": {fmt.Sprint(busyTimeout.Milliseconds())},
		// Statement journals (the upsert of executions needs one) stay in
		// memory instead of a temporary file written at every commit, and
		// the write-ahead log is checkpointed by its own goroutine (see
		// checkpointLoop) instead of inside a writer's commit.
		"_pragma": {"temp_store(memory)", "wal_autocheckpoint(0)"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	if err := migrate(ctx, w, logger); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}

	// Readers are opened after the writer has switched the file to WAL.
	r, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_foreign_keys": {"1"},
		"_busy_timeout": {fmt.Sprint(busyTimeout.Milliseconds())},
		"_query_only":   {"1"},
	}))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}

	ck, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_busy_timeout": {fmt.Sprint(busyTimeout.Milliseconds())},
	}))
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	ck.SetMaxOpenConns(1)

	logger.Debug("sqlite: opened store", "path", abs, "readers", n)
	s := &Store{w: w, r: r, ck: ck, log: logger, now: time.Now, stopCk: make(chan struct{}), ckDone: make(chan struct{})}
	go s.checkpointLoop()
	return s, nil
}

// checkpointInterval is how often the write-ahead log is copied back into
// the database file.
const checkpointInterval = 200 * time.Millisecond

// checkpointLoop runs passive checkpoints beside the writer, so that
// copying the log back never stalls a commit (SQLite's automatic
// checkpoint runs inside the commit that crosses its threshold). It stops
// when Close closes stopCk.
func (s *Store) checkpointLoop() {
	defer close(s.ckDone)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopCk:
			return
		case <-t.C:
			if _, err := s.ck.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
				s.log.Warn("sqlite: checkpoint failed", "err", err)
			}
		}
	}
}

// dsn returns the driver data source name for the file at abs with the
// driver parameters q.
func dsn(abs string, q url.Values) string {
	u := url.URL{Path: filepath.ToSlash(abs)}
	return "file:" + u.EscapedPath() + "?" + q.Encode()
}

// Close checkpoints the write-ahead log into the database file and closes
// every connection. Calls after the first return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stopCk)
		<-s.ckDone
		errC := s.ck.Close()
		errR := s.r.Close()
		ctx := context.Background()
		// Refresh planner statistics where SQLite deems it worthwhile.
		if _, err := s.w.ExecContext(ctx, "PRAGMA optimize"); err != nil {
			s.log.Warn("sqlite: optimize at close failed", "err", err)
		}
		// With the readers gone the checkpoint can copy the whole log back
		// and truncate it.
		if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			s.log.Warn("sqlite: checkpoint at close failed", "err", err)
		}
		errW := s.w.Close()
		if err := errors.Join(errC, errR, errW); err != nil {
			s.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return s.closeErr
}

// write runs fn in a transaction on the writer connection and commits it if
// fn succeeds.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			s.log.Warn("sqlite: rollback failed", "err", rerr)
		}
		return err
	}
	return tx.Commit()
}

// read runs fn in a read transaction, so that its queries see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// isUniqueViolation reports whether err is SQLite's UNIQUE constraint failure.
func isUniqueViolation(err error) bool {
	var se *sqlitedriver.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// nanos encodes t as the INTEGER stored in time columns: Unix nanoseconds,
// 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos decodes a time column: a UTC time, the zero time for 0.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// blob returns b as a query argument that keeps nil distinct from empty:
// nil is stored as NULL.
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// placeholders returns "?, ?, ?" with n markers.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// checkKey rejects a key that cannot name a single integration.
func checkKey(k store.IntegrationKey) error {
	if k.Project == "" || k.Location == "" || k.Name == "" || k.Name == "-" {
		return fmt.Errorf("integration key %q/%q/%q: %w", k.Project, k.Location, k.Name, store.ErrInvalidArgument)
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}
