package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/integrationd/integrationd/internal/store"
)

const executionColumns = `project, location, integration, id, version_id, trigger_id, request_id,
	state, execution_method, params, request, response, details, create_time, update_time, parent_id`

func scanExecution(sc scanner) (*store.Execution, error) {
	var e store.Execution
	var params []byte
	var ct, ut int64
	err := sc.Scan(&e.Key.Project, &e.Key.Location, &e.Key.Name, &e.ID, &e.VersionID, &e.TriggerID, &e.RequestID,
		&e.State, &e.ExecutionMethod, &params, &e.Request, &e.Response, &e.Details, &ct, &ut, &e.ParentID)
	if err != nil {
		return nil, err
	}
	if params != nil {
		if err := json.Unmarshal(params, &e.Params); err != nil {
			return nil, fmt.Errorf("execution %s: decode params: %w", e.ID, err)
		}
	}
	e.CreateTime, e.UpdateTime = fromNanos(ct), fromNanos(ut)
	return &e, nil
}

// upsertExecution inserts an execution or replaces every column of the
// existing one with the same key and id, keeping its seq (and so its place
// among rows of equal create time).
const upsertExecution = `INSERT INTO executions (` + executionColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (project, location, integration, id) DO UPDATE SET
		version_id = excluded.version_id,
		trigger_id = excluded.trigger_id,
		request_id = excluded.request_id,
		state = excluded.state,
		execution_method = excluded.execution_method,
		params = excluded.params,
		request = excluded.request,
		response = excluded.response,
		details = excluded.details,
		create_time = excluded.create_time,
		update_time = excluded.update_time,
		parent_id = excluded.parent_id`

// PutExecutions inserts or replaces executions (by Key and ID) in one
// transaction: either all of es are stored or none is. ErrAlreadyExists if
// an execution's non-empty RequestID is already used by another execution
// of the same integration, ErrInvalidArgument if an execution has no ID or
// an incomplete key. A later element of es replaces an earlier one with the
// same key and ID.
func (s *Store) PutExecutions(ctx context.Context, es []*store.Execution) error {
	if len(es) == 0 {
		return nil
	}
	return s.Commit(ctx, es, nil, nil)
}

func checkExecutions(es []*store.Execution) error {
	for _, e := range es {
		if err := checkKey(e.Key); err != nil {
			return err
		}
		if e.ID == "" {
			return fmt.Errorf("empty execution id: %w", store.ErrInvalidArgument)
		}
	}
	return nil
}

// putExecutions upserts es in tx.
func putExecutions(ctx context.Context, tx *sql.Tx, es []*store.Execution) error {
	if len(es) == 0 {
		return nil
	}
	up, err := tx.PrepareContext(ctx, upsertExecution)
	if err != nil {
		return err
	}
	defer up.Close()
	for _, e := range es {
		var params any // NULL when there are none
		if len(e.Params) > 0 {
			b, err := json.Marshal(e.Params)
			if err != nil {
				return fmt.Errorf("execution %s: encode params: %w", e.ID, err)
			}
			params = b
		}
		_, err := up.ExecContext(ctx,
			e.Key.Project, e.Key.Location, e.Key.Name, e.ID, e.VersionID, e.TriggerID, e.RequestID,
			e.State, e.ExecutionMethod, params, blob(e.Request), blob(e.Response), blob(e.Details),
			nanos(e.CreateTime), nanos(e.UpdateTime), e.ParentID)
		if isUniqueViolation(err) {
			// The key and id conflict is resolved by the upsert: this is
			// executions_request_id.
			return fmt.Errorf("execution %s: request id %q: %w", e.ID, e.RequestID, store.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("execution %s: %w", e.ID, err)
		}
	}
	return nil
}

// GetExecution returns execution id of key; ErrNotFound if there is none.
func (s *Store) GetExecution(ctx context.Context, key store.IntegrationKey, id string) (*store.Execution, error) {
	e, err := scanExecution(s.r.QueryRowContext(ctx,
		`SELECT `+executionColumns+` FROM executions
		WHERE project = ? AND location = ? AND integration = ? AND id = ?`,
		key.Project, key.Location, key.Name, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("execution %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get execution: %w", err)
	}
	return e, nil
}

// FindExecutionByRequestID returns the execution of key with this
// requestId; ErrNotFound if there is none or requestID is empty.
func (s *Store) FindExecutionByRequestID(ctx context.Context, key store.IntegrationKey, requestID string) (*store.Execution, error) {
	if requestID == "" {
		return nil, fmt.Errorf("sqlite: find execution: empty request id: %w", store.ErrNotFound)
	}
	e, err := scanExecution(s.r.QueryRowContext(ctx,
		`SELECT `+executionColumns+` FROM executions
		WHERE project = ? AND location = ? AND integration = ? AND request_id = ?
		AND request_id <> ''`, // lets the planner use the partial index executions_request_id
		key.Project, key.Location, key.Name, requestID))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("request id %q: %w", requestID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: find execution: %w", err)
	}
	return e, nil
}

// cursor is the position after the last execution of a page in the order
// of ListExecutions: create time, id, then integration name (which breaks
// ties between integrations when listing with "-"), all descending.
type cursor struct {
	CreateTime  int64  `json:"t"`
	ID          string `json:"i"`
	Integration string `json:"n"`
}

func (c cursor) encode() string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // cannot happen: ints and strings only
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, fmt.Errorf("cursor %q: %w", s, store.ErrInvalidArgument)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() || c.ID == "" || c.Integration == "" {
		return c, fmt.Errorf("cursor %q: %w", s, store.ErrInvalidArgument)
	}
	return c, nil
}

// ListExecutions returns the executions selected by q, newest first
// (CreateTime descending, then ID descending), at most q.Limit of them (all
// when q.Limit <= 0), and the cursor of the next page ("" when none).
// ErrInvalidArgument if q.After is not a cursor this store returned.
func (s *Store) ListExecutions(ctx context.Context, q store.ExecutionQuery) ([]*store.Execution, string, error) {
	where := []string{"project = ?", "location = ?"}
	args := []any{q.Key.Project, q.Key.Location}
	if q.Key.Name != "-" {
		where = append(where, "integration = ?")
		args = append(args, q.Key.Name)
	}
	if q.ExecutionID != "" {
		where = append(where, "id = ?")
		args = append(args, q.ExecutionID)
	}
	if q.ParentID != "" {
		where = append(where, "parent_id = ?")
		args = append(args, q.ParentID)
	}
	if q.TriggerID != "" {
		where = append(where, "trigger_id = ?")
		args = append(args, q.TriggerID)
	}
	if len(q.States) > 0 {
		where = append(where, "state IN ("+placeholders(len(q.States))+")")
		for _, st := range q.States {
			args = append(args, st)
		}
	}
	if !q.CreatedAfter.IsZero() {
		where = append(where, "create_time > ?")
		args = append(args, nanos(q.CreatedAfter))
	}
	if !q.CreatedBefore.IsZero() {
		where = append(where, "create_time < ?")
		args = append(args, nanos(q.CreatedBefore))
	}
	switch {
	// Parameter filters read the params column (a JSON object of key to
	// text) of the executions the other conditions select. Indexing every
	// parameter made each execution's write about a quarter dearer, for
	// a filter that is rarely used.
	case q.ParamKey != "" && q.ParamValue != "":
		where = append(where, "EXISTS (SELECT 1 FROM json_each(params) WHERE key = ? AND value = ?)")
		args = append(args, q.ParamKey, q.ParamValue)
	case q.ParamKey != "":
		where = append(where, "EXISTS (SELECT 1 FROM json_each(params) WHERE key = ?)")
		args = append(args, q.ParamKey)
	case q.ParamValue != "":
		where = append(where, "EXISTS (SELECT 1 FROM json_each(params) WHERE value = ?)")
		args = append(args, q.ParamValue)
	}
	if q.After != "" {
		c, err := decodeCursor(q.After)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: list executions: %w", err)
		}
		where = append(where, "(create_time, id, integration) < (?, ?, ?)")
		args = append(args, c.CreateTime, c.ID, c.Integration)
	}
	query := `SELECT ` + executionColumns + ` FROM executions WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY create_time DESC, id DESC, integration DESC`
	if q.Limit > 0 {
		// One more than the page tells whether there is a next page.
		query += ` LIMIT ?`
		args = append(args, q.Limit+1)
	}

	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: list executions: %w", err)
	}
	defer rows.Close()
	var page []*store.Execution
	for rows.Next() {
		e, err := scanExecution(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: list executions: %w", err)
		}
		page = append(page, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: list executions: %w", err)
	}
	var next string
	if q.Limit > 0 && len(page) > q.Limit {
		page = page[:q.Limit]
		last := page[len(page)-1]
		next = cursor{CreateTime: nanos(last.CreateTime), ID: last.ID, Integration: last.Key.Name}.encode()
	}
	return page, next, nil
}
