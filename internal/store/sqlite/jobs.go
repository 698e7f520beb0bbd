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
	return s.Apply(ctx, &store.Change{Executions: es, DoneJobs: done, AddJobs: add})
}

// Apply writes a change in one transaction (see store.Store).
func (s *Store) Apply(ctx context.Context, c *store.Change) error {
	if err := checkExecutions(c.Executions); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	for _, j := range c.AddJobs {
		if j.Kind == "" {
			return fmt.Errorf("sqlite: commit: a job has no kind: %w", store.ErrInvalidArgument)
		}
	}
	for _, sp := range c.Suspensions {
		if err := checkKey(sp.Key); err != nil || sp.ExecutionID == "" || sp.ID == "" {
			return fmt.Errorf("sqlite: commit: suspension %q of execution %q: incomplete key: %w", sp.ID, sp.ExecutionID, store.ErrInvalidArgument)
		}
	}
	now := s.now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := putExecutions(ctx, tx, c.Executions); err != nil {
			return err
		}
		for _, cp := range c.Checkpoints {
			k := cp.Key
			var err error
			if cp.Data == nil {
				_, err = tx.ExecContext(ctx, `DELETE FROM checkpoints WHERE project = ? AND location = ? AND integration = ? AND execution_id = ?`,
					k.Project, k.Location, k.Name, cp.ExecutionID)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO checkpoints (project, location, integration, execution_id, data) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT (project, location, integration, execution_id) DO UPDATE SET data = excluded.data`,
					k.Project, k.Location, k.Name, cp.ExecutionID, cp.Data)
			}
			if err != nil {
				return fmt.Errorf("checkpoint of %s: %w", cp.ExecutionID, err)
			}
		}
		for _, sp := range c.Suspensions {
			k := sp.Key
			ct, ut := sp.CreateTime, sp.UpdateTime
			if ct.IsZero() {
				ct = now
			}
			if ut.IsZero() {
				ut = now
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO suspensions (project, location, integration, execution_id, id, task_id, kind, state, doc, create_time, update_time)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (project, location, integration, execution_id, id) DO UPDATE SET
					task_id = excluded.task_id, kind = excluded.kind, state = excluded.state, doc = excluded.doc, update_time = excluded.update_time`,
				k.Project, k.Location, k.Name, sp.ExecutionID, sp.ID, sp.TaskID, sp.Kind, sp.State, blob(sp.Doc), nanos(ct), nanos(ut))
			if err != nil {
				return fmt.Errorf("suspension %s: %w", sp.ID, err)
			}
		}
		for _, id := range c.DoneJobs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE id = ?`, id); err != nil {
				return fmt.Errorf("job %d: %w", id, err)
			}
		}
		for _, j := range c.AddJobs {
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

// GetCheckpoint returns the saved state of a suspended execution.
func (s *Store) GetCheckpoint(ctx context.Context, key store.IntegrationKey, executionID string) ([]byte, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx, `SELECT data FROM checkpoints WHERE project = ? AND location = ? AND integration = ? AND execution_id = ?`,
		key.Project, key.Location, key.Name, executionID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: checkpoint of %s: %w", executionID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: checkpoint of %s: %w", executionID, err)
	}
	return data, nil
}

const suspensionColumns = `project, location, integration, execution_id, id, task_id, kind, state, doc, create_time, update_time`

func scanSuspension(sc scanner) (*store.Suspension, error) {
	var sp store.Suspension
	var ct, ut int64
	if err := sc.Scan(&sp.Key.Project, &sp.Key.Location, &sp.Key.Name, &sp.ExecutionID, &sp.ID, &sp.TaskID, &sp.Kind, &sp.State, &sp.Doc, &ct, &ut); err != nil {
		return nil, err
	}
	sp.CreateTime, sp.UpdateTime = fromNanos(ct), fromNanos(ut)
	return &sp, nil
}

// ListSuspensions returns the suspensions of an execution, oldest first.
func (s *Store) ListSuspensions(ctx context.Context, key store.IntegrationKey, executionID string) ([]*store.Suspension, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+suspensionColumns+` FROM suspensions
		WHERE project = ? AND location = ? AND integration = ? AND execution_id = ? ORDER BY create_time, id`,
		key.Project, key.Location, key.Name, executionID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list suspensions: %w", err)
	}
	defer rows.Close()
	var out []*store.Suspension
	for rows.Next() {
		sp, err := scanSuspension(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list suspensions: %w", err)
		}
		out = append(out, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list suspensions: %w", err)
	}
	return out, nil
}

// GetSuspension returns one suspension.
func (s *Store) GetSuspension(ctx context.Context, key store.IntegrationKey, executionID, id string) (*store.Suspension, error) {
	sp, err := scanSuspension(s.r.QueryRowContext(ctx, `SELECT `+suspensionColumns+` FROM suspensions
		WHERE project = ? AND location = ? AND integration = ? AND execution_id = ? AND id = ?`,
		key.Project, key.Location, key.Name, executionID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: suspension %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: suspension %s: %w", id, err)
	}
	return sp, nil
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
