package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/integrationd/integrationd/internal/store"
)

const jobColumns = `id, kind, key, payload, run_at, attempt, owner, lease_until, last_error`

func scanJob(sc scanner) (*store.Job, error) {
	var j store.Job
	var key sql.NullString
	var runAt, lease int64
	if err := sc.Scan(&j.ID, &j.Kind, &key, &j.Payload, &runAt, &j.Attempt, &j.Owner, &lease, &j.LastError); err != nil {
		return nil, err
	}
	j.Key = key.String
	j.RunAt = fromNanos(runAt)
	if lease > 0 {
		j.LeaseUntil = fromNanos(lease)
	}
	return &j, nil
}

// Commit stores es, deletes the jobs done and adds the jobs add in one
// transaction (see store.Store).
func (s *Store) Commit(ctx context.Context, es []*store.Execution, done []int64, add []*store.Job) error {
	if err := checkExecutions(es); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	for _, j := range add {
		if j.Kind == "" {
			return fmt.Errorf("sqlite: commit: a job has no kind: %w", store.ErrInvalidArgument)
		}
	}
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := putExecutions(ctx, tx, es); err != nil {
			return err
		}
		for _, id := range done {
			if _, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE id = ?`, id); err != nil {
				return fmt.Errorf("job %d: %w", id, err)
			}
		}
		for _, j := range add {
			var key any
			if j.Key != "" {
				res, err := tx.ExecContext(ctx, `INSERT INTO job_keys (key, used) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, j.Key, nanos(now))
				if err != nil {
					return fmt.Errorf("job key %q: %w", j.Key, err)
				}
				if n, _ := res.RowsAffected(); n == 0 {
					continue // the key was used: the job was added before
				}
				key = j.Key
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, key, payload, run_at) VALUES (?, ?, ?, ?)`,
				j.Kind, key, blob(j.Payload), nanos(j.RunAt))
			if err != nil {
				return fmt.Errorf("job %s: %w", j.Kind, err)
			}
			if j.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// ClaimJobs leases due jobs to owner (see store.Store).
func (s *Store) ClaimJobs(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*store.Job, error) {
	if owner == "" || limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("sqlite: claim jobs: need an owner, a lease and a limit: %w", store.ErrInvalidArgument)
	}
	var out []*store.Job
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE jobs SET owner = ?, lease_until = ?, attempt = attempt + 1
			WHERE id IN (SELECT id FROM jobs WHERE run_at <= ? AND lease_until <= ? ORDER BY run_at, id LIMIT ?)
			RETURNING `+jobColumns,
			owner, nanos(now.Add(lease)), nanos(now), nanos(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			j, err := scanJob(rows)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim jobs: %w", err)
	}
	// RETURNING does not follow the subquery's order.
	slices.SortFunc(out, func(a, b *store.Job) int {
		if c := a.RunAt.Compare(b.RunAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// ExtendLeases extends the leases owner holds.
func (s *Store) ExtendLeases(ctx context.Context, owner string, until time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET lease_until = ? WHERE owner = ? AND lease_until > 0`, nanos(until), owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: extend leases: %w", err)
	}
	return nil
}

// ReleaseJob frees a held job, due again at runAt.
func (s *Store) ReleaseJob(ctx context.Context, id int64, runAt time.Time, lastError string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET owner = '', lease_until = 0, run_at = ?, last_error = ? WHERE id = ?`,
			nanos(runAt), lastError, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("job %d: %w", id, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: release job: %w", err)
	}
	return nil
}

// findFreeJob returns the job with key in tx, ErrFailedPrecondition when
// a live lease holds it.
func findFreeJob(ctx context.Context, tx *sql.Tx, key string, now time.Time) (*store.Job, error) {
	j, err := scanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("job %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if j.LeaseUntil.After(now) {
		return nil, fmt.Errorf("job %q is running: %w", key, store.ErrFailedPrecondition)
	}
	return j, nil
}

// RescheduleJob moves the free job with key to runAt.
func (s *Store) RescheduleJob(ctx context.Context, key string, runAt, now time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		j, err := findFreeJob(ctx, tx, key, now)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE jobs SET run_at = ? WHERE id = ?`, nanos(runAt), j.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: reschedule job: %w", err)
	}
	return nil
}

// TakeJob deletes and returns the free job with key.
func (s *Store) TakeJob(ctx context.Context, key string, now time.Time) (*store.Job, error) {
	var j *store.Job
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if j, err = findFreeJob(ctx, tx, key, now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM jobs WHERE id = ?`, j.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: take job: %w", err)
	}
	return j, nil
}

// NextJobTime is the earliest RunAt among the jobs.
func (s *Store) NextJobTime(ctx context.Context) (time.Time, bool, error) {
	var t sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MIN(run_at) FROM jobs WHERE lease_until = 0`).Scan(&t); err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: next job time: %w", err)
	}
	if !t.Valid {
		return time.Time{}, false, nil
	}
	return fromNanos(t.Int64), true, nil
}

// PurgeJobKeys forgets the job keys used before t.
func (s *Store) PurgeJobKeys(ctx context.Context, before time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM job_keys WHERE used < ? AND key NOT IN (SELECT key FROM jobs WHERE key IS NOT NULL)`, nanos(before))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: purge job keys: %w", err)
	}
	return nil
}
