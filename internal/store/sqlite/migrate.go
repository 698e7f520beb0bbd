package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
)

// A migration is one step of the schema's history. Steps are applied in
// order, each in its own transaction that also sets PRAGMA user_version to
// the step's 1-based position, so the database records how many steps it
// has. Released steps are never edited: a schema change is a new step
// appended to migrations.
type migration struct {
	name  string
	stmts []string
}

// migrations is the schema history; len(migrations) is the current version.
var migrations = []migration{
	{
		name: "initial schema",
		stmts: []string{
			// last_snapshot is the highest snapshot number ever assigned in
			// the integration, so numbers of deleted versions are not reused.
			// The active version is not stored here: it is the version in
			// state ACTIVE, of which versions_active allows one.
			`CREATE TABLE integrations (
				project       TEXT    NOT NULL,
				location      TEXT    NOT NULL,
				name          TEXT    NOT NULL,
				description   TEXT    NOT NULL DEFAULT '',
				last_snapshot INTEGER NOT NULL DEFAULT 0,
				create_time   INTEGER NOT NULL,
				update_time   INTEGER NOT NULL,
				PRIMARY KEY (project, location, name)
			) WITHOUT ROWID`,

			`CREATE TABLE versions (
				project           TEXT    NOT NULL,
				location          TEXT    NOT NULL,
				integration       TEXT    NOT NULL,
				id                TEXT    NOT NULL,
				snapshot_number   INTEGER NOT NULL,
				state             TEXT    NOT NULL,
				user_label        TEXT    NOT NULL DEFAULT '',
				description       TEXT    NOT NULL DEFAULT '',
				content           BLOB,
				config_parameters BLOB,
				create_time       INTEGER NOT NULL,
				update_time       INTEGER NOT NULL,
				PRIMARY KEY (project, location, integration, id),
				UNIQUE (project, location, integration, snapshot_number),
				FOREIGN KEY (project, location, integration)
					REFERENCES integrations (project, location, name) ON DELETE CASCADE
			)`,
			`CREATE UNIQUE INDEX versions_active
				ON versions (project, location, integration) WHERE state = 'ACTIVE'`,
			`CREATE INDEX versions_create_time
				ON versions (project, location, integration, create_time)`,

			// Executions have no foreign key to integrations: the group-commit
			// writer must not lose a batch because an integration was deleted
			// meanwhile. DeleteIntegration removes them explicitly.
			`CREATE TABLE executions (
				seq              INTEGER PRIMARY KEY,
				project          TEXT    NOT NULL,
				location         TEXT    NOT NULL,
				integration      TEXT    NOT NULL,
				id               TEXT    NOT NULL,
				version_id       TEXT    NOT NULL DEFAULT '',
				trigger_id       TEXT    NOT NULL DEFAULT '',
				request_id       TEXT    NOT NULL DEFAULT '',
				state            TEXT    NOT NULL DEFAULT '',
				execution_method TEXT    NOT NULL DEFAULT '',
				params           BLOB,
				request          BLOB,
				response         BLOB,
				details          BLOB,
				create_time      INTEGER NOT NULL,
				update_time      INTEGER NOT NULL
			)`,
			`CREATE UNIQUE INDEX executions_key
				ON executions (project, location, integration, id)`,
			`CREATE UNIQUE INDEX executions_request_id
				ON executions (project, location, integration, request_id) WHERE request_id <> ''`,
			// Keyset order of ListExecutions, per integration and per location.
			`CREATE INDEX executions_integration_order
				ON executions (project, location, integration, create_time DESC, id DESC)`,
			`CREATE INDEX executions_location_order
				ON executions (project, location, create_time DESC, id DESC, integration DESC)`,

			// execution_params serves the parameter filters of
			// ListExecutions; executions.params keeps the map for reading.
			`CREATE TABLE execution_params (
				execution INTEGER NOT NULL REFERENCES executions (seq) ON DELETE CASCADE,
				key       TEXT    NOT NULL,
				value     TEXT    NOT NULL,
				PRIMARY KEY (execution, key)
			) WITHOUT ROWID`,
			`CREATE INDEX execution_params_key_value ON execution_params (key, value)`,
			`CREATE INDEX execution_params_value ON execution_params (value)`,
		},
	},
	{
		name: "parameter filters read the params column",
		stmts: []string{
			`DROP TABLE execution_params`,
		},
	},
	{
		name: "sub-executions record their parent",
		stmts: []string{
			`ALTER TABLE executions ADD COLUMN parent_id TEXT NOT NULL DEFAULT ''`,
			`CREATE INDEX executions_parent ON executions (project, location, parent_id) WHERE parent_id <> ''`,
		},
	},
	{
		name: "durable jobs",
		stmts: []string{
			// A free job has lease_until 0; a held one the end of its lease.
			`CREATE TABLE jobs (
				id          INTEGER PRIMARY KEY,
				kind        TEXT    NOT NULL,
				key         TEXT,
				payload     BLOB,
				run_at      INTEGER NOT NULL,
				attempt     INTEGER NOT NULL DEFAULT 0,
				owner       TEXT    NOT NULL DEFAULT '',
				lease_until INTEGER NOT NULL DEFAULT 0,
				last_error  TEXT    NOT NULL DEFAULT ''
			)`,
			`CREATE UNIQUE INDEX jobs_key ON jobs (key) WHERE key IS NOT NULL`,
			`CREATE INDEX jobs_due ON jobs (run_at, id)`,
			`CREATE INDEX jobs_owner ON jobs (owner) WHERE owner <> ''`,
			// job_keys remembers the keys of jobs, done ones included, so
			// that a cron tick or a request is enqueued once.
			`CREATE TABLE job_keys (
				key  TEXT    PRIMARY KEY,
				used INTEGER NOT NULL
			) WITHOUT ROWID`,
			`CREATE INDEX job_keys_used ON job_keys (used)`,
		},
	},
	{
		name: "auth configs",
		stmts: []string{
			// credential is the sealed secret (internal/secrets), never
			// plaintext; doc holds the non-secret fields as JSON.
			`CREATE TABLE auth_configs (
				project         TEXT    NOT NULL,
				location        TEXT    NOT NULL,
				id              TEXT    NOT NULL,
				display_name    TEXT    NOT NULL DEFAULT '',
				credential_type TEXT    NOT NULL DEFAULT '',
				doc             BLOB,
				credential      BLOB,
				create_time     INTEGER NOT NULL,
				update_time     INTEGER NOT NULL,
				PRIMARY KEY (project, location, id)
			) WITHOUT ROWID`,
			`CREATE INDEX auth_configs_display_name ON auth_configs (project, location, display_name)`,
		},
	},
	{
		name: "suspensions and checkpoints",
		stmts: []string{
			`CREATE TABLE suspensions (
				project      TEXT    NOT NULL,
				location     TEXT    NOT NULL,
				integration  TEXT    NOT NULL,
				execution_id TEXT    NOT NULL,
				id           TEXT    NOT NULL,
				task_id      TEXT    NOT NULL DEFAULT '',
				kind         TEXT    NOT NULL DEFAULT '',
				state        TEXT    NOT NULL DEFAULT '',
				doc          BLOB,
				create_time  INTEGER NOT NULL,
				update_time  INTEGER NOT NULL,
				PRIMARY KEY (project, location, integration, execution_id, id)
			) WITHOUT ROWID`,
			`CREATE TABLE checkpoints (
				project      TEXT NOT NULL,
				location     TEXT NOT NULL,
				integration  TEXT NOT NULL,
				execution_id TEXT NOT NULL,
				data         BLOB NOT NULL,
				PRIMARY KEY (project, location, integration, execution_id)
			) WITHOUT ROWID`,
		},
	},
}

// migrate brings the database on db up to len(migrations), one transaction
// per step. It is a no-op on an up-to-date database and refuses a database
// whose schema is newer than this binary knows.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	for {
		done, err := migrateStep(ctx, db, log)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the first pending migration, if any, and reports
// whether the schema was already current.
func migrateStep(ctx context.Context, db *sql.DB, log *slog.Logger) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()

	// Read inside the write transaction so that two processes opening the
	// same file cannot apply the same step twice.
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return false, fmt.Errorf("migrate: read schema version: %w", err)
	}
	switch {
	case version == len(migrations):
		return true, nil
	case version > len(migrations) || version < 0:
		return false, fmt.Errorf("migrate: schema version %d is newer than this binary's %d", version, len(migrations))
	}

	m := migrations[version]
	for _, stmt := range m.stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("migrate: step %d (%s): %w", version+1, m.name, err)
		}
	}
	// PRAGMA takes no bound parameters; the value is a small integer from
	// this package, not input.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version+1)); err != nil {
		return false, fmt.Errorf("migrate: step %d (%s): set schema version: %w", version+1, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate: step %d (%s): commit: %w", version+1, m.name, err)
	}
	log.Info("sqlite: applied schema migration", "version", version+1, "name", m.name)
	return false, nil
}
