package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/integrationd/integrationd/internal/store"
)

const versionColumns = `project, location, integration, id, snapshot_number, state,
	user_label, description, content, config_parameters, create_time, update_time`

func scanVersion(sc scanner) (*store.Version, error) {
	var v store.Version
	var ct, ut int64
	err := sc.Scan(&v.Key.Project, &v.Key.Location, &v.Key.Name, &v.ID, &v.SnapshotNumber, &v.State,
		&v.UserLabel, &v.Description, &v.Content, &v.ConfigParameters, &ct, &ut)
	if err != nil {
		return nil, err
	}
	v.CreateTime, v.UpdateTime = fromNanos(ct), fromNanos(ut)
	return &v, nil
}

// CreateVersion creates the integration if it does not exist, assigns
// v.SnapshotNumber and stores v. A zero v.CreateTime or v.UpdateTime is set
// to the current time and an empty v.State to store.StateDraft, in v too.
// The integration's description becomes v.Description when that is not
// empty. ErrAlreadyExists if the integration already has a version v.ID;
// ErrFailedPrecondition if v is ACTIVE and another version already is.
func (s *Store) CreateVersion(ctx context.Context, v *store.Version) error {
	if err := checkKey(v.Key); err != nil {
		return fmt.Errorf("sqlite: create version: %w", err)
	}
	if v.ID == "" {
		return fmt.Errorf("sqlite: create version: empty id: %w", store.ErrInvalidArgument)
	}
	ct, ut, state := v.CreateTime, v.UpdateTime, v.State
	if ct.IsZero() {
		ct = s.now().UTC()
	}
	if ut.IsZero() {
		ut = ct
	}
	if state == "" {
		state = store.StateDraft
	}
	k := v.Key
	var num int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		var exists int
		err := tx.QueryRowContext(ctx,
			`SELECT 1 FROM versions WHERE project = ? AND location = ? AND integration = ? AND id = ?`,
			k.Project, k.Location, k.Name, v.ID).Scan(&exists)
		switch {
		case err == nil:
			return fmt.Errorf("version %s: %w", v.ID, store.ErrAlreadyExists)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		err = tx.QueryRowContext(ctx,
			`INSERT INTO integrations (project, location, name, description, last_snapshot, create_time, update_time)
			VALUES (?, ?, ?, ?, 1, ?, ?)
			ON CONFLICT (project, location, name) DO UPDATE SET
				last_snapshot = last_snapshot + 1,
				description = CASE WHEN excluded.description <> '' THEN excluded.description ELSE description END,
				update_time = excluded.update_time
			RETURNING last_snapshot`,
			k.Project, k.Location, k.Name, v.Description, nanos(ct), nanos(ut)).Scan(&num)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO versions (`+versionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.Project, k.Location, k.Name, v.ID, num, state,
			v.UserLabel, v.Description, blob(v.Content), blob(v.ConfigParameters), nanos(ct), nanos(ut))
		if isUniqueViolation(err) {
			// The primary key was checked above, the snapshot number comes
			// from the counter: this is versions_active.
			return fmt.Errorf("version %s: integration already has an active version: %w", v.ID, store.ErrFailedPrecondition)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create version: %w", err)
	}
	v.SnapshotNumber, v.State, v.CreateTime, v.UpdateTime = num, state, ct, ut
	return nil
}

// GetVersion returns the version id of key; ErrNotFound if there is none.
func (s *Store) GetVersion(ctx context.Context, key store.IntegrationKey, id string) (*store.Version, error) {
	v, err := scanVersion(s.r.QueryRowContext(ctx,
		`SELECT `+versionColumns+` FROM versions
		WHERE project = ? AND location = ? AND integration = ? AND id = ?`,
		key.Project, key.Location, key.Name, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("version %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get version: %w", err)
	}
	return v, nil
}

// ListVersions returns the page of versions selected by q and the total
// number of matches. q.Key.Name "-" lists the versions of every integration
// of the project and location. ErrInvalidArgument for an unknown q.OrderBy.
func (s *Store) ListVersions(ctx context.Context, q store.VersionQuery) ([]*store.Version, int, error) {
	var order string
	switch q.OrderBy {
	case "", "snapshot_number":
		order = "snapshot_number DESC, integration, id"
	case "create_time":
		order = "create_time DESC, snapshot_number DESC, integration, id"
	default:
		return nil, 0, fmt.Errorf("sqlite: list versions: order by %q: %w", q.OrderBy, store.ErrInvalidArgument)
	}

	where := []string{"project = ?", "location = ?"}
	args := []any{q.Key.Project, q.Key.Location}
	if q.Key.Name != "-" {
		where = append(where, "integration = ?")
		args = append(args, q.Key.Name)
	}
	if len(q.States) > 0 {
		where = append(where, "state IN ("+placeholders(len(q.States))+")")
		for _, st := range q.States {
			args = append(args, st)
		}
	}
	if q.UserLabel != nil {
		where = append(where, "user_label = ?")
		args = append(args, *q.UserLabel)
	}
	if q.SnapshotNumber != nil {
		where = append(where, "snapshot_number = ?")
		args = append(args, *q.SnapshotNumber)
	}
	cond := strings.Join(where, " AND ")
	limit := int64(q.Limit)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	offset := max(q.Offset, 0)

	var page []*store.Version
	var total int
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM versions WHERE `+cond, args...).Scan(&total); err != nil {
			return err
		}
		if total == 0 || offset >= total {
			return nil
		}
		rows, err := tx.QueryContext(ctx,
			`SELECT `+versionColumns+` FROM versions WHERE `+cond+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
			append(args, limit, offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanVersion(rows)
			if err != nil {
				return err
			}
			page = append(page, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list versions: %w", err)
	}
	return page, total, nil
}

// UpdateVersion replaces UserLabel, Description and Content of an existing
// version and sets its UpdateTime (to now when v.UpdateTime is zero). On
// success the other fields of v are refreshed from the stored version.
// ErrNotFound if the version does not exist.
func (s *Store) UpdateVersion(ctx context.Context, v *store.Version) error {
	ut := v.UpdateTime
	if ut.IsZero() {
		ut = s.now().UTC()
	}
	k := v.Key
	var got *store.Version
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		got, err = scanVersion(tx.QueryRowContext(ctx,
			`UPDATE versions SET user_label = ?, description = ?, content = ?, update_time = ?
			WHERE project = ? AND location = ? AND integration = ? AND id = ?
			RETURNING `+versionColumns,
			v.UserLabel, v.Description, blob(v.Content), nanos(ut),
			k.Project, k.Location, k.Name, v.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("version %s: %w", v.ID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx,
			`UPDATE integrations SET
				description = CASE WHEN ? <> '' THEN ? ELSE description END,
				update_time = ?
			WHERE project = ? AND location = ? AND name = ?`,
			v.Description, v.Description, nanos(ut), k.Project, k.Location, k.Name)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: update version: %w", err)
	}
	*v = *got
	return nil
}

// versionState returns the state of version id, ErrNotFound if it does not exist.
func versionState(ctx context.Context, tx *sql.Tx, key store.IntegrationKey, id string) (string, error) {
	var state string
	err := tx.QueryRowContext(ctx,
		`SELECT state FROM versions WHERE project = ? AND location = ? AND integration = ? AND id = ?`,
		key.Project, key.Location, key.Name, id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("version %s: %w", id, store.ErrNotFound)
	}
	return state, err
}

// touchIntegration sets the integration's update time.
func touchIntegration(ctx context.Context, tx *sql.Tx, key store.IntegrationKey, t int64) error {
	_, err := tx.ExecContext(ctx,
		`UPDATE integrations SET update_time = ? WHERE project = ? AND location = ? AND name = ?`,
		t, key.Project, key.Location, key.Name)
	return err
}

// DeleteVersion removes a version. ErrNotFound if it does not exist,
// ErrFailedPrecondition if it is the active one. The integration remains,
// and so does its snapshot counter.
func (s *Store) DeleteVersion(ctx context.Context, key store.IntegrationKey, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		state, err := versionState(ctx, tx, key, id)
		if err != nil {
			return err
		}
		if state == store.StateActive {
			return fmt.Errorf("version %s is active: %w", id, store.ErrFailedPrecondition)
		}
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM versions WHERE project = ? AND location = ? AND integration = ? AND id = ?`,
			key.Project, key.Location, key.Name, id); err != nil {
			return err
		}
		return touchIntegration(ctx, tx, key, nanos(s.now()))
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete version: %w", err)
	}
	return nil
}

// PublishVersion makes id the integration's only ACTIVE version, storing
// config as its ConfigParameters; the previously ACTIVE version becomes
// SNAPSHOT. ErrNotFound if id does not exist, ErrFailedPrecondition if it is
// ARCHIVED. Publishing the active version again replaces its config.
func (s *Store) PublishVersion(ctx context.Context, key store.IntegrationKey, id string, config []byte) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		state, err := versionState(ctx, tx, key, id)
		if err != nil {
			return err
		}
		if state == store.StateArchived {
			return fmt.Errorf("version %s is archived: %w", id, store.ErrFailedPrecondition)
		}
		now := nanos(s.now())
		if _, err := tx.ExecContext(ctx,
			`UPDATE versions SET state = ?, update_time = ?
			WHERE project = ? AND location = ? AND integration = ? AND state = ? AND id <> ?`,
			store.StateSnapshot, now, key.Project, key.Location, key.Name, store.StateActive, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE versions SET state = ?, config_parameters = ?, update_time = ?
			WHERE project = ? AND location = ? AND integration = ? AND id = ?`,
			store.StateActive, blob(config), now, key.Project, key.Location, key.Name, id); err != nil {
			return err
		}
		return touchIntegration(ctx, tx, key, now)
	})
	if err != nil {
		return fmt.Errorf("sqlite: publish version: %w", err)
	}
	return nil
}

// UnpublishVersion turns the ACTIVE version id into SNAPSHOT. ErrNotFound
// if it does not exist, ErrFailedPrecondition if it is not active.
func (s *Store) UnpublishVersion(ctx context.Context, key store.IntegrationKey, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		state, err := versionState(ctx, tx, key, id)
		if err != nil {
			return err
		}
		if state != store.StateActive {
			return fmt.Errorf("version %s is %s, not active: %w", id, state, store.ErrFailedPrecondition)
		}
		now := nanos(s.now())
		if _, err := tx.ExecContext(ctx,
			`UPDATE versions SET state = ?, update_time = ?
			WHERE project = ? AND location = ? AND integration = ? AND id = ?`,
			store.StateSnapshot, now, key.Project, key.Location, key.Name, id); err != nil {
			return err
		}
		return touchIntegration(ctx, tx, key, now)
	})
	if err != nil {
		return fmt.Errorf("sqlite: unpublish version: %w", err)
	}
	return nil
}

// ActiveVersions returns the ACTIVE version of each integration ordered by
// integration name; key.Name "-" means every integration of the project and
// location. Integrations without an active version contribute nothing.
func (s *Store) ActiveVersions(ctx context.Context, key store.IntegrationKey) ([]*store.Version, error) {
	query := `SELECT ` + versionColumns + ` FROM versions WHERE state = 'ACTIVE'`
	var args []any
	if key != (store.IntegrationKey{}) {
		query += ` AND project = ? AND location = ?`
		args = append(args, key.Project, key.Location)
	}
	if key != (store.IntegrationKey{}) && key.Name != "-" {
		query += ` AND integration = ?`
		args = append(args, key.Name)
	}
	query += ` ORDER BY integration`
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: active versions: %w", err)
	}
	defer rows.Close()
	var vs []*store.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: active versions: %w", err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: active versions: %w", err)
	}
	return vs, nil
}

// integrationColumns selects an integration row i, deriving ActiveVersion
// from its ACTIVE version (served by the partial index versions_active).
const integrationColumns = `i.project, i.location, i.name, i.description,
	coalesce((SELECT v.id FROM versions v
		WHERE v.project = i.project AND v.location = i.location AND v.integration = i.name
		AND v.state = 'ACTIVE'), ''),
	i.create_time, i.update_time`

func scanIntegration(sc scanner) (*store.Integration, error) {
	var in store.Integration
	var ct, ut int64
	if err := sc.Scan(&in.Key.Project, &in.Key.Location, &in.Key.Name, &in.Description,
		&in.ActiveVersion, &ct, &ut); err != nil {
		return nil, err
	}
	in.CreateTime, in.UpdateTime = fromNanos(ct), fromNanos(ut)
	return &in, nil
}

// GetIntegration returns the integration key; ErrNotFound if it does not exist.
func (s *Store) GetIntegration(ctx context.Context, key store.IntegrationKey) (*store.Integration, error) {
	in, err := scanIntegration(s.r.QueryRowContext(ctx,
		`SELECT `+integrationColumns+` FROM integrations i
		WHERE i.project = ? AND i.location = ? AND i.name = ?`,
		key.Project, key.Location, key.Name))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("integration %s: %w", key.Name, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get integration: %w", err)
	}
	return in, nil
}

// ListIntegrations returns integrations ordered by name, at most q.Limit
// of them (all when q.Limit <= 0). NameContains matches case-sensitively.
func (s *Store) ListIntegrations(ctx context.Context, q store.IntegrationQuery) ([]*store.Integration, error) {
	query := `SELECT ` + integrationColumns + ` FROM integrations i WHERE i.project = ? AND i.location = ?`
	args := []any{q.Project, q.Location}
	if q.NameEquals != "" {
		query += ` AND i.name = ?`
		args = append(args, q.NameEquals)
	}
	if q.NameContains != "" {
		// instr, unlike LIKE, gives no meaning to % and _.
		query += ` AND instr(i.name, ?) > 0`
		args = append(args, q.NameContains)
	}
	if q.After != "" {
		query += ` AND i.name > ?`
		args = append(args, q.After)
	}
	query += ` ORDER BY i.name`
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list integrations: %w", err)
	}
	defer rows.Close()
	var ins []*store.Integration
	for rows.Next() {
		in, err := scanIntegration(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list integrations: %w", err)
		}
		ins = append(ins, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list integrations: %w", err)
	}
	return ins, nil
}

// DeleteIntegration removes an integration with all its versions and
// executions. ErrNotFound if neither the integration nor any execution of
// it exists.
func (s *Store) DeleteIntegration(ctx context.Context, key store.IntegrationKey) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`DELETE FROM executions WHERE project = ? AND location = ? AND integration = ?`,
			key.Project, key.Location, key.Name)
		if err != nil {
			return err
		}
		execs, err := res.RowsAffected()
		if err != nil {
			return err
		}
		for _, table := range []string{"suspensions", "checkpoints"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE project = ? AND location = ? AND integration = ?`,
				key.Project, key.Location, key.Name); err != nil {
				return err
			}
		}
		// Versions go by ON DELETE CASCADE.
		res, err = tx.ExecContext(ctx,
			`DELETE FROM integrations WHERE project = ? AND location = ? AND name = ?`,
			key.Project, key.Location, key.Name)
		if err != nil {
			return err
		}
		ints, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if execs == 0 && ints == 0 {
			return fmt.Errorf("integration %s: %w", key.Name, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete integration: %w", err)
	}
	return nil
}
