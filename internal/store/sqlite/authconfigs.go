package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/integrationd/integrationd/internal/store"

	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const authConfigColumns = `project, location, id, display_name, credential_type, doc, credential, create_time, update_time`

func scanAuthConfig(sc scanner) (*store.AuthConfig, error) {
	var a store.AuthConfig
	var ct, ut int64
	err := sc.Scan(&a.Key.Project, &a.Key.Location, &a.Key.ID, &a.DisplayName, &a.CredentialType,
		&a.Doc, &a.Credential, &ct, &ut)
	if err != nil {
		return nil, err
	}
	a.CreateTime, a.UpdateTime = fromNanos(ct), fromNanos(ut)
	return &a, nil
}

func checkAuthConfigKey(k store.AuthConfigKey) error {
	if k.Project == "" || k.Location == "" || k.ID == "" {
		return fmt.Errorf("auth config key %q/%q/%q: %w", k.Project, k.Location, k.ID, store.ErrInvalidArgument)
	}
	return nil
}

// CreateAuthConfig stores a new auth config. A zero a.CreateTime or
// a.UpdateTime is set to the current time, in a too. ErrAlreadyExists if
// the key is taken.
func (s *Store) CreateAuthConfig(ctx context.Context, a *store.AuthConfig) error {
	if err := checkAuthConfigKey(a.Key); err != nil {
		return fmt.Errorf("sqlite: create auth config: %w", err)
	}
	ct, ut := a.CreateTime, a.UpdateTime
	if ct.IsZero() {
		ct = s.now().UTC()
	}
	if ut.IsZero() {
		ut = ct
	}
	k := a.Key
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO auth_configs (`+authConfigColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.Project, k.Location, k.ID, a.DisplayName, a.CredentialType, blob(a.Doc), blob(a.Credential), nanos(ct), nanos(ut))
		if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
			return fmt.Errorf("auth config %s: %w", k.ID, store.ErrAlreadyExists)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create auth config: %w", err)
	}
	a.CreateTime, a.UpdateTime = ct, ut
	return nil
}

// GetAuthConfig returns the auth config of key; ErrNotFound if there is none.
func (s *Store) GetAuthConfig(ctx context.Context, key store.AuthConfigKey) (*store.AuthConfig, error) {
	a, err := scanAuthConfig(s.r.QueryRowContext(ctx,
		`SELECT `+authConfigColumns+` FROM auth_configs WHERE project = ? AND location = ? AND id = ?`,
		key.Project, key.Location, key.ID))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("auth config %s: %w", key.ID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get auth config: %w", err)
	}
	return a, nil
}

// ListAuthConfigs returns the auth configs selected by q, ordered by ID, at
// most q.Limit of them (all when q.Limit <= 0).
func (s *Store) ListAuthConfigs(ctx context.Context, q store.AuthConfigQuery) ([]*store.AuthConfig, error) {
	query := `SELECT ` + authConfigColumns + ` FROM auth_configs WHERE project = ? AND location = ?`
	args := []any{q.Project, q.Location}
	if q.DisplayName != "" {
		query += ` AND display_name = ?`
		args = append(args, q.DisplayName)
	}
	if q.CredentialType != "" {
		query += ` AND credential_type = ?`
		args = append(args, q.CredentialType)
	}
	if q.After != "" {
		query += ` AND id > ?`
		args = append(args, q.After)
	}
	query += ` ORDER BY id`
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list auth configs: %w", err)
	}
	defer rows.Close()
	var out []*store.AuthConfig
	for rows.Next() {
		a, err := scanAuthConfig(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list auth configs: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list auth configs: %w", err)
	}
	return out, nil
}

// UpdateAuthConfig replaces the mutable fields of an existing auth config
// and sets its UpdateTime (to now when a.UpdateTime is zero). On success
// a.CreateTime and a.UpdateTime are those stored. ErrNotFound if it does
// not exist.
func (s *Store) UpdateAuthConfig(ctx context.Context, a *store.AuthConfig) error {
	ut := a.UpdateTime
	if ut.IsZero() {
		ut = s.now().UTC()
	}
	k := a.Key
	var ct int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx,
			`UPDATE auth_configs SET display_name = ?, credential_type = ?, doc = ?, credential = ?, update_time = ?
			WHERE project = ? AND location = ? AND id = ?
			RETURNING create_time`,
			a.DisplayName, a.CredentialType, blob(a.Doc), blob(a.Credential), nanos(ut),
			k.Project, k.Location, k.ID).Scan(&ct)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("auth config %s: %w", k.ID, store.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: update auth config: %w", err)
	}
	a.CreateTime, a.UpdateTime = fromNanos(ct), ut
	return nil
}

// DeleteAuthConfig removes an auth config; ErrNotFound if there is none.
func (s *Store) DeleteAuthConfig(ctx context.Context, key store.AuthConfigKey) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`DELETE FROM auth_configs WHERE project = ? AND location = ? AND id = ?`,
			key.Project, key.Location, key.ID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("auth config %s: %w", key.ID, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete auth config: %w", err)
	}
	return nil
}

// isPrimaryKeyViolation reports whether err is SQLite's PRIMARY KEY
// constraint failure.
func isPrimaryKeyViolation(err error) bool {
	var se *sqlitedriver.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
