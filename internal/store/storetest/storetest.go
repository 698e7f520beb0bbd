// Package storetest is a conformance suite for implementations of
// store.Store, in the manner of testing/fstest: a backend's own test calls
// Run with a function that opens an empty store.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/store"
)

// Run checks that the stores returned by open implement store.Store as its
// documentation describes. It calls open once per subtest and needs a new,
// empty store each time; open should arrange, with t.Cleanup, for the store
// to be closed when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateGetVersion", testCreateGetVersion},
		{"SnapshotNumbersNotReused", testSnapshotNumbersNotReused},
		{"ListVersions", testListVersions},
		{"UpdateVersion", testUpdateVersion},
		{"DeleteVersion", testDeleteVersion},
		{"PublishVersion", testPublishVersion},
		{"UnpublishVersion", testUnpublishVersion},
		{"Integrations", testIntegrations},
		{"DeleteIntegration", testDeleteIntegration},
		{"PutGetExecution", testPutGetExecution},
		{"RequestID", testRequestID},
		{"ListExecutionsFilters", testListExecutionsFilters},
		{"ListExecutionsPaging", testListExecutionsPaging},
		{"MalformedCursor", testMalformedCursor},
		{"Concurrency", testConcurrency},
		{"Jobs", testJobs},
		{"Suspensions", testSuspensions},
		{"JobKeys", testJobKeys},
		{"JobsConcurrentClaims", testJobsConcurrentClaims},
		{"AuthConfigCRUD", testAuthConfigCRUD},
		{"ListAuthConfigs", testListAuthConfigs},
		{"AuthConfigConcurrency", testAuthConfigConcurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

var (
	keyA     = store.IntegrationKey{Project: "p1", Location: "us-central1", Name: "alpha"}
	keyB     = store.IntegrationKey{Project: "p1", Location: "us-central1", Name: "beta"}
	keyC     = store.IntegrationKey{Project: "p1", Location: "us-central1", Name: "gamma"}
	keyOther = store.IntegrationKey{Project: "p1", Location: "europe-west1", Name: "alpha"}
	keyAll   = store.IntegrationKey{Project: "p1", Location: "us-central1", Name: "-"}

	// t0 has nanoseconds and a zone other than UTC, to check that times
	// keep sub-second precision and denote the same instant.
	t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("UTC+2", 2*60*60))
)

// id returns a UUID-shaped identifier; ids sort as their numbers do.
func id(n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n)
}

func at(d time.Duration) time.Time { return t0.Add(d) }

// wantErr reports an error unless errors.Is(err, want); want nil means no error.
func wantErr(t *testing.T, op string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: got error %v, want nil", op, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: got error %v, want %v", op, err, want)
	}
}

// mustNil stops the test if err is not nil.
func mustNil(t *testing.T, op string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: got error %v, want nil", op, err)
	}
}

func newVersion(key store.IntegrationKey, n int, state string, created time.Duration) *store.Version {
	return &store.Version{
		Key:         key,
		ID:          id(n),
		State:       state,
		UserLabel:   fmt.Sprintf("label-%d", n),
		Description: fmt.Sprintf("version %d", n),
		Content:     fmt.Appendf(nil, `{"triggerConfigs":[{"label":"t%d"}]}`, n),
		CreateTime:  at(created),
		UpdateTime:  at(created),
	}
}

func createVersion(t *testing.T, s store.Store, v *store.Version) *store.Version {
	t.Helper()
	mustNil(t, fmt.Sprintf("CreateVersion(%s)", v.ID), s.CreateVersion(t.Context(), v))
	return v
}

func getVersion(t *testing.T, s store.Store, key store.IntegrationKey, id string) *store.Version {
	t.Helper()
	v, err := s.GetVersion(t.Context(), key, id)
	mustNil(t, fmt.Sprintf("GetVersion(%s)", id), err)
	return v
}

// checkVersion compares every field of got with want.
func checkVersion(t *testing.T, op string, got, want *store.Version) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil version, want %s", op, want.ID)
		return
	}
	check := func(field string, ok bool, g, w any) {
		t.Helper()
		if !ok {
			t.Errorf("%s: %s: got %v, want %v", op, field, g, w)
		}
	}
	check("Key", got.Key == want.Key, got.Key, want.Key)
	check("ID", got.ID == want.ID, got.ID, want.ID)
	check("SnapshotNumber", got.SnapshotNumber == want.SnapshotNumber, got.SnapshotNumber, want.SnapshotNumber)
	check("State", got.State == want.State, got.State, want.State)
	check("UserLabel", got.UserLabel == want.UserLabel, got.UserLabel, want.UserLabel)
	check("Description", got.Description == want.Description, got.Description, want.Description)
	check("Content", bytes.Equal(got.Content, want.Content), string(got.Content), string(want.Content))
	check("ConfigParameters", bytes.Equal(got.ConfigParameters, want.ConfigParameters),
		string(got.ConfigParameters), string(want.ConfigParameters))
	check("CreateTime", got.CreateTime.Equal(want.CreateTime), got.CreateTime, want.CreateTime)
	check("UpdateTime", got.UpdateTime.Equal(want.UpdateTime), got.UpdateTime, want.UpdateTime)
}

func checkState(t *testing.T, s store.Store, key store.IntegrationKey, id, want string) {
	t.Helper()
	if got := getVersion(t, s, key, id).State; got != want {
		t.Errorf("GetVersion(%s).State: got %q, want %q", id, got, want)
	}
}

func checkActive(t *testing.T, s store.Store, key store.IntegrationKey, want string) {
	t.Helper()
	in, err := s.GetIntegration(t.Context(), key)
	mustNil(t, fmt.Sprintf("GetIntegration(%s)", key.Name), err)
	if in.ActiveVersion != want {
		t.Errorf("GetIntegration(%s).ActiveVersion: got %q, want %q", key.Name, in.ActiveVersion, want)
	}
}

func versionIDs(vs []*store.Version) []string {
	ids := make([]string, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	return ids
}

func testCreateGetVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	v1 := newVersion(keyA, 1, store.StateDraft, 0)
	want := *v1
	createVersion(t, s, v1)
	if v1.SnapshotNumber != 1 {
		t.Errorf("CreateVersion(%s): SnapshotNumber: got %d, want 1", v1.ID, v1.SnapshotNumber)
	}
	want.SnapshotNumber = 1
	checkVersion(t, "GetVersion(1)", getVersion(t, s, keyA, id(1)), &want)
	if got := getVersion(t, s, keyA, id(1)).ConfigParameters; got != nil {
		t.Errorf("GetVersion(1).ConfigParameters: got %q, want nil (never published)", got)
	}

	in, err := s.GetIntegration(ctx, keyA)
	mustNil(t, "GetIntegration", err)
	if in.Key != keyA || in.ActiveVersion != "" || in.CreateTime.IsZero() {
		t.Errorf("GetIntegration: got %+v, want key %v, no active version, a create time", in, keyA)
	}

	v2 := createVersion(t, s, newVersion(keyA, 2, store.StateDraft, time.Second))
	if v2.SnapshotNumber != 2 {
		t.Errorf("CreateVersion(2): SnapshotNumber: got %d, want 2", v2.SnapshotNumber)
	}
	// Numbers are per integration.
	b := createVersion(t, s, newVersion(keyB, 3, store.StateDraft, 0))
	if b.SnapshotNumber != 1 {
		t.Errorf("CreateVersion(beta): SnapshotNumber: got %d, want 1", b.SnapshotNumber)
	}
	other := createVersion(t, s, newVersion(keyOther, 4, store.StateDraft, 0))
	if other.SnapshotNumber != 1 {
		t.Errorf("CreateVersion(other location): SnapshotNumber: got %d, want 1", other.SnapshotNumber)
	}

	// A duplicate ID fails, and consumes no snapshot number.
	dup := newVersion(keyA, 1, store.StateDraft, 0)
	wantErr(t, "CreateVersion(duplicate)", s.CreateVersion(ctx, dup), store.ErrAlreadyExists)
	v5 := createVersion(t, s, newVersion(keyA, 5, store.StateDraft, 0))
	if v5.SnapshotNumber != 3 {
		t.Errorf("CreateVersion after a failed one: SnapshotNumber: got %d, want 3", v5.SnapshotNumber)
	}

	// Empty and nil payloads.
	bare := &store.Version{Key: keyA, ID: id(6), State: store.StateDraft, CreateTime: at(0), UpdateTime: at(0)}
	createVersion(t, s, bare)
	got := getVersion(t, s, keyA, id(6))
	if len(got.Content) != 0 || got.UserLabel != "" || got.Description != "" {
		t.Errorf("GetVersion(bare): got %+v, want empty fields", got)
	}

	for _, tc := range []struct {
		name string
		key  store.IntegrationKey
		id   string
	}{
		{"unknown id", keyA, id(99)},
		{"id of another integration", keyA, id(3)},
		{"unknown integration", keyC, id(1)},
		{"other location", keyOther, id(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.GetVersion(ctx, tc.key, tc.id)
			wantErr(t, "GetVersion", err, store.ErrNotFound)
		})
	}
	_, err = s.GetIntegration(ctx, keyC)
	wantErr(t, "GetIntegration(unknown)", err, store.ErrNotFound)
}

func testSnapshotNumbersNotReused(t *testing.T, s store.Store) {
	ctx := t.Context()
	for n := 1; n <= 3; n++ {
		createVersion(t, s, newVersion(keyA, n, store.StateDraft, 0))
	}
	mustNil(t, "DeleteVersion(3)", s.DeleteVersion(ctx, keyA, id(3)))
	if v := createVersion(t, s, newVersion(keyA, 4, store.StateDraft, 0)); v.SnapshotNumber != 4 {
		t.Errorf("after deleting the highest: SnapshotNumber: got %d, want 4", v.SnapshotNumber)
	}
	for _, n := range []int{1, 2, 4} {
		mustNil(t, fmt.Sprintf("DeleteVersion(%d)", n), s.DeleteVersion(ctx, keyA, id(n)))
	}
	if v := createVersion(t, s, newVersion(keyA, 5, store.StateDraft, 0)); v.SnapshotNumber != 5 {
		t.Errorf("after deleting every version: SnapshotNumber: got %d, want 5", v.SnapshotNumber)
	}
	// Reusing a deleted version's ID is allowed; it gets a new number.
	if v := createVersion(t, s, newVersion(keyA, 3, store.StateDraft, 0)); v.SnapshotNumber != 6 {
		t.Errorf("re-created ID: SnapshotNumber: got %d, want 6", v.SnapshotNumber)
	}
}

func testListVersions(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Creation times deliberately disagree with snapshot order.
	for _, v := range []struct {
		n       int
		state   string
		label   string
		created time.Duration
	}{
		{1, store.StateDraft, "blue", 5 * time.Second},
		{2, store.StateSnapshot, "green", 1 * time.Second},
		{3, store.StateDraft, "blue", 3 * time.Second},
		{4, store.StateArchived, "", 0},
		{5, store.StateDraft, "green", 4 * time.Second},
		{6, store.StateSnapshot, "blue", 2 * time.Second},
	} {
		nv := newVersion(keyA, v.n, v.state, v.created)
		nv.UserLabel = v.label
		createVersion(t, s, nv)
	}
	createVersion(t, s, newVersion(keyB, 7, store.StateDraft, 0))
	createVersion(t, s, newVersion(keyOther, 8, store.StateDraft, 0))

	ids := func(ns ...int) []string {
		out := []string{}
		for _, n := range ns {
			out = append(out, id(n))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		q     store.VersionQuery
		want  []string
		total int
	}{
		{"default order", store.VersionQuery{Key: keyA}, ids(6, 5, 4, 3, 2, 1), 6},
		{"snapshot_number", store.VersionQuery{Key: keyA, OrderBy: "snapshot_number"}, ids(6, 5, 4, 3, 2, 1), 6},
		{"create_time", store.VersionQuery{Key: keyA, OrderBy: "create_time"}, ids(1, 5, 3, 6, 2, 4), 6},
		{"one state", store.VersionQuery{Key: keyA, States: []string{store.StateDraft}}, ids(5, 3, 1), 3},
		{"two states", store.VersionQuery{Key: keyA, States: []string{store.StateDraft, store.StateArchived}}, ids(5, 4, 3, 1), 4},
		{"no such state", store.VersionQuery{Key: keyA, States: []string{store.StateActive}}, ids(), 0},
		{"label", store.VersionQuery{Key: keyA, UserLabel: new("blue")}, ids(6, 3, 1), 3},
		{"empty label", store.VersionQuery{Key: keyA, UserLabel: new("")}, ids(4), 1},
		{"snapshot number", store.VersionQuery{Key: keyA, SnapshotNumber: new(int64(2))}, ids(2), 1},
		{"unknown snapshot number", store.VersionQuery{Key: keyA, SnapshotNumber: new(int64(99))}, ids(), 0},
		{"limit", store.VersionQuery{Key: keyA, Limit: 2}, ids(6, 5), 6},
		{"offset and limit", store.VersionQuery{Key: keyA, Offset: 2, Limit: 2}, ids(4, 3), 6},
		{"last page", store.VersionQuery{Key: keyA, Offset: 4, Limit: 10}, ids(2, 1), 6},
		{"offset past the end", store.VersionQuery{Key: keyA, Offset: 6, Limit: 2}, ids(), 6},
		{"create_time paged", store.VersionQuery{Key: keyA, OrderBy: "create_time", Offset: 1, Limit: 2}, ids(5, 3), 6},
		{"filters and paging", store.VersionQuery{Key: keyA, States: []string{store.StateDraft}, UserLabel: new("blue"), Offset: 1, Limit: 1}, ids(1), 2},
		{"other integration", store.VersionQuery{Key: keyB}, ids(7), 1},
		{"other location", store.VersionQuery{Key: keyOther}, ids(8), 1},
		{"unknown integration", store.VersionQuery{Key: keyC}, ids(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, total, err := s.ListVersions(ctx, tc.q)
			mustNil(t, "ListVersions", err)
			if got := versionIDs(page); !slices.Equal(got, tc.want) {
				t.Errorf("ListVersions: got %v, want %v", got, tc.want)
			}
			if total != tc.total {
				t.Errorf("ListVersions: total: got %d, want %d", total, tc.total)
			}
		})
	}

	// Listed versions carry every field.
	page, _, err := s.ListVersions(ctx, store.VersionQuery{Key: keyB})
	mustNil(t, "ListVersions(beta)", err)
	if len(page) == 1 {
		want := newVersion(keyB, 7, store.StateDraft, 0)
		want.SnapshotNumber = 1
		checkVersion(t, "ListVersions(beta)", page[0], want)
	}
}

func testUpdateVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	orig := createVersion(t, s, newVersion(keyA, 1, store.StateDraft, 0))
	want := *orig

	upd := &store.Version{
		Key:            keyA,
		ID:             id(1),
		State:          store.StateArchived, // ignored
		SnapshotNumber: 42,                  // ignored
		UserLabel:      "new label",
		Description:    "new description",
		Content:        []byte(`{"updated":true}`),
		CreateTime:     at(time.Hour), // ignored
		UpdateTime:     at(time.Minute + 7),
	}
	mustNil(t, "UpdateVersion", s.UpdateVersion(ctx, upd))
	want.UserLabel, want.Description, want.Content = upd.UserLabel, upd.Description, upd.Content
	want.UpdateTime = at(time.Minute + 7)
	checkVersion(t, "GetVersion after update", getVersion(t, s, keyA, id(1)), &want)

	for _, tc := range []struct {
		name string
		key  store.IntegrationKey
		id   string
	}{
		{"unknown id", keyA, id(2)},
		{"unknown integration", keyB, id(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVersion(tc.key, 0, store.StateDraft, 0)
			v.ID = tc.id
			wantErr(t, "UpdateVersion", s.UpdateVersion(ctx, v), store.ErrNotFound)
		})
	}
	// A failed update changes nothing.
	checkVersion(t, "GetVersion after failed updates", getVersion(t, s, keyA, id(1)), &want)
}

func testDeleteVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	createVersion(t, s, newVersion(keyA, 1, store.StateDraft, 0))
	createVersion(t, s, newVersion(keyA, 2, store.StateDraft, 0))
	createVersion(t, s, newVersion(keyB, 3, store.StateDraft, 0))
	mustNil(t, "PublishVersion(2)", s.PublishVersion(ctx, keyA, id(2), nil))

	steps := []struct {
		name string
		key  store.IntegrationKey
		id   string
		want error
	}{
		{"draft", keyA, id(1), nil},
		{"again", keyA, id(1), store.ErrNotFound},
		{"active", keyA, id(2), store.ErrFailedPrecondition},
		{"id of another integration", keyA, id(3), store.ErrNotFound},
		{"unknown integration", keyC, id(1), store.ErrNotFound},
	}
	for _, st := range steps {
		wantErr(t, fmt.Sprintf("DeleteVersion(%s)", st.name), s.DeleteVersion(ctx, st.key, st.id), st.want)
	}
	_, err := s.GetVersion(ctx, keyA, id(1))
	wantErr(t, "GetVersion(deleted)", err, store.ErrNotFound)
	checkState(t, s, keyA, id(2), store.StateActive)
	getVersion(t, s, keyB, id(3))

	mustNil(t, "UnpublishVersion(2)", s.UnpublishVersion(ctx, keyA, id(2)))
	mustNil(t, "DeleteVersion(unpublished)", s.DeleteVersion(ctx, keyA, id(2)))
	page, total, err := s.ListVersions(ctx, store.VersionQuery{Key: keyA})
	mustNil(t, "ListVersions", err)
	if len(page) != 0 || total != 0 {
		t.Errorf("ListVersions after deleting all: got %v (total %d), want none", versionIDs(page), total)
	}
	// The integration outlives its versions.
	_, err = s.GetIntegration(ctx, keyA)
	wantErr(t, "GetIntegration without versions", err, nil)
}

func testPublishVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	createVersion(t, s, newVersion(keyA, 1, store.StateDraft, 0))
	createVersion(t, s, newVersion(keyA, 2, store.StateDraft, 0))
	createVersion(t, s, newVersion(keyA, 3, store.StateArchived, 0))
	createVersion(t, s, newVersion(keyB, 4, store.StateDraft, 0))
	createVersion(t, s, newVersion(keyC, 5, store.StateDraft, 0))
	createVersion(t, s, newVersion(keyOther, 6, store.StateDraft, 0))

	config1 := []byte(`{"url":{"stringValue":"https://a"}}`)
	mustNil(t, "PublishVersion(1)", s.PublishVersion(ctx, keyA, id(1), config1))
	v1 := getVersion(t, s, keyA, id(1))
	if v1.State != store.StateActive {
		t.Errorf("PublishVersion(1): State: got %q, want %q", v1.State, store.StateActive)
	}
	if !bytes.Equal(v1.ConfigParameters, config1) {
		t.Errorf("PublishVersion(1): ConfigParameters: got %s, want %s", v1.ConfigParameters, config1)
	}
	checkActive(t, s, keyA, id(1))

	config2 := []byte(`{"url":{"stringValue":"https://b"}}`)
	mustNil(t, "PublishVersion(2)", s.PublishVersion(ctx, keyA, id(2), config2))
	checkState(t, s, keyA, id(2), store.StateActive)
	checkState(t, s, keyA, id(1), store.StateSnapshot)
	checkActive(t, s, keyA, id(2))
	if got := getVersion(t, s, keyA, id(2)).ConfigParameters; !bytes.Equal(got, config2) {
		t.Errorf("PublishVersion(2): ConfigParameters: got %s, want %s", got, config2)
	}

	for _, tc := range []struct {
		name string
		key  store.IntegrationKey
		id   string
		want error
	}{
		{"archived", keyA, id(3), store.ErrFailedPrecondition},
		{"unknown id", keyA, id(99), store.ErrNotFound},
		{"unknown integration", store.IntegrationKey{Project: "p1", Location: "us-central1", Name: "nope"}, id(1), store.ErrNotFound},
		{"already active", keyA, id(2), nil},
		{"nil config", keyB, id(4), nil},
		{"other location", keyOther, id(6), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, "PublishVersion", s.PublishVersion(ctx, tc.key, tc.id, nil), tc.want)
		})
	}
	// Failed publications changed nothing.
	checkState(t, s, keyA, id(3), store.StateArchived)
	checkActive(t, s, keyA, id(2))

	// One ACTIVE version per integration.
	active, total, err := s.ListVersions(ctx, store.VersionQuery{Key: keyA, States: []string{store.StateActive}})
	mustNil(t, "ListVersions(ACTIVE)", err)
	if got := versionIDs(active); total != 1 || !slices.Equal(got, []string{id(2)}) {
		t.Errorf("ListVersions(ACTIVE): got %v (total %d), want [%s]", got, total, id(2))
	}

	for _, tc := range []struct {
		name string
		key  store.IntegrationKey
		want []string // "integration/version", sorted
	}{
		{"one integration", keyA, []string{"alpha/" + id(2)}},
		{"other integration", keyB, []string{"beta/" + id(4)}},
		{"none active", keyC, nil},
		{"unknown integration", store.IntegrationKey{Project: "p1", Location: "us-central1", Name: "nope"}, nil},
		{"all", keyAll, []string{"alpha/" + id(2), "beta/" + id(4)}},
		{"all, other location", store.IntegrationKey{Project: "p1", Location: "europe-west1", Name: "-"}, []string{"alpha/" + id(6)}},
		{"all, unknown project", store.IntegrationKey{Project: "p9", Location: "us-central1", Name: "-"}, nil},
		{"everywhere", store.IntegrationKey{}, []string{"alpha/" + id(2), "alpha/" + id(6), "beta/" + id(4)}},
	} {
		t.Run("ActiveVersions/"+tc.name, func(t *testing.T) {
			vs, err := s.ActiveVersions(ctx, tc.key)
			mustNil(t, "ActiveVersions", err)
			var got []string
			for _, v := range vs {
				if v.State != store.StateActive {
					t.Errorf("ActiveVersions: %s/%s: State: got %q, want %q", v.Key.Name, v.ID, v.State, store.StateActive)
				}
				got = append(got, v.Key.Name+"/"+v.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ActiveVersions: got %v, want %v", got, tc.want)
			}
		})
	}
}

func testUnpublishVersion(t *testing.T, s store.Store) {
	ctx := t.Context()
	createVersion(t, s, newVersion(keyA, 1, store.StateDraft, 0))
	createVersion(t, s, newVersion(keyA, 2, store.StateDraft, 0))
	mustNil(t, "PublishVersion(1)", s.PublishVersion(ctx, keyA, id(1), nil))

	for _, tc := range []struct {
		name string
		key  store.IntegrationKey
		id   string
		want error
	}{
		{"draft", keyA, id(2), store.ErrFailedPrecondition},
		{"unknown id", keyA, id(99), store.ErrNotFound},
		{"unknown integration", keyC, id(1), store.ErrNotFound},
		{"active", keyA, id(1), nil},
		{"again", keyA, id(1), store.ErrFailedPrecondition},
	} {
		wantErr(t, fmt.Sprintf("UnpublishVersion(%s)", tc.name), s.UnpublishVersion(ctx, tc.key, tc.id), tc.want)
	}
	checkState(t, s, keyA, id(1), store.StateSnapshot)
	checkState(t, s, keyA, id(2), store.StateDraft)
	checkActive(t, s, keyA, "")
	vs, err := s.ActiveVersions(ctx, keyAll)
	mustNil(t, "ActiveVersions", err)
	if len(vs) != 0 {
		t.Errorf("ActiveVersions after unpublish: got %v, want none", versionIDs(vs))
	}
	// It can be published again.
	mustNil(t, "PublishVersion(1) again", s.PublishVersion(ctx, keyA, id(1), nil))
	checkActive(t, s, keyA, id(1))
}

func testIntegrations(t *testing.T, s store.Store) {
	ctx := t.Context()
	n := 0
	for _, key := range []store.IntegrationKey{
		{Project: "p1", Location: "us-central1", Name: "gamma"},
		{Project: "p1", Location: "us-central1", Name: "alpha"},
		{Project: "p1", Location: "us-central1", Name: "zalp"},
		{Project: "p1", Location: "us-central1", Name: "beta"},
		{Project: "p1", Location: "us-central1", Name: "alphabet"},
		{Project: "p1", Location: "europe-west1", Name: "alpine"},
		{Project: "p2", Location: "us-central1", Name: "alps"},
	} {
		n++
		createVersion(t, s, newVersion(key, n, store.StateDraft, 0))
	}
	// Two versions of one integration still make one integration.
	n++
	createVersion(t, s, newVersion(keyA, n, store.StateDraft, 0))
	mustNil(t, "PublishVersion(beta)", s.PublishVersion(ctx, keyB, id(4), nil))

	in, err := s.GetIntegration(ctx, keyB)
	mustNil(t, "GetIntegration(beta)", err)
	if in.Key != keyB || in.ActiveVersion != id(4) {
		t.Errorf("GetIntegration(beta): got key %v, active %q, want %v, %q", in.Key, in.ActiveVersion, keyB, id(4))
	}
	if in.UpdateTime.Before(in.CreateTime) {
		t.Errorf("GetIntegration(beta): UpdateTime %v before CreateTime %v", in.UpdateTime, in.CreateTime)
	}
	_, err = s.GetIntegration(ctx, store.IntegrationKey{Project: "p1", Location: "us-central1", Name: "alpine"})
	wantErr(t, "GetIntegration(other location)", err, store.ErrNotFound)

	q := func(mod func(*store.IntegrationQuery)) store.IntegrationQuery {
		q := store.IntegrationQuery{Project: "p1", Location: "us-central1"}
		mod(&q)
		return q
	}
	for _, tc := range []struct {
		name string
		q    store.IntegrationQuery
		want []string
	}{
		{"all", q(func(*store.IntegrationQuery) {}), []string{"alpha", "alphabet", "beta", "gamma", "zalp"}},
		{"name equals", q(func(q *store.IntegrationQuery) { q.NameEquals = "alpha" }), []string{"alpha"}},
		{"name equals a prefix", q(func(q *store.IntegrationQuery) { q.NameEquals = "alp" }), nil},
		{"name contains", q(func(q *store.IntegrationQuery) { q.NameContains = "alp" }), []string{"alpha", "alphabet", "zalp"}},
		{"name contains no wildcard", q(func(q *store.IntegrationQuery) { q.NameContains = "%" }), nil},
		{"name contains underscore", q(func(q *store.IntegrationQuery) { q.NameContains = "_" }), nil},
		{"after", q(func(q *store.IntegrationQuery) { q.After = "alphabet" }), []string{"beta", "gamma", "zalp"}},
		{"limit", q(func(q *store.IntegrationQuery) { q.Limit = 2 }), []string{"alpha", "alphabet"}},
		{"after and limit", q(func(q *store.IntegrationQuery) { q.After = "beta"; q.Limit = 1 }), []string{"gamma"}},
		{"contains, after, limit", q(func(q *store.IntegrationQuery) { q.NameContains = "alp"; q.After = "alpha"; q.Limit = 1 }), []string{"alphabet"}},
		{"after the last", q(func(q *store.IntegrationQuery) { q.After = "zalp" }), nil},
		{"other location", store.IntegrationQuery{Project: "p1", Location: "europe-west1"}, []string{"alpine"}},
		{"unknown project", store.IntegrationQuery{Project: "p9", Location: "us-central1"}, nil},
	} {
		t.Run("ListIntegrations/"+tc.name, func(t *testing.T) {
			ins, err := s.ListIntegrations(ctx, tc.q)
			mustNil(t, "ListIntegrations", err)
			var got []string
			for _, in := range ins {
				got = append(got, in.Key.Name)
				if in.Key.Project != tc.q.Project || in.Key.Location != tc.q.Location {
					t.Errorf("ListIntegrations: key %v outside %s/%s", in.Key, tc.q.Project, tc.q.Location)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ListIntegrations: got %v, want %v", got, tc.want)
			}
		})
	}

	// Walking with a keyset cursor visits every integration once.
	var walked []string
	after := ""
	for range 10 {
		ins, err := s.ListIntegrations(ctx, store.IntegrationQuery{Project: "p1", Location: "us-central1", After: after, Limit: 2})
		mustNil(t, "ListIntegrations(walk)", err)
		if len(ins) == 0 {
			break
		}
		for _, in := range ins {
			walked = append(walked, in.Key.Name)
			if in.Key == keyB && in.ActiveVersion != id(4) {
				t.Errorf("ListIntegrations: beta: ActiveVersion: got %q, want %q", in.ActiveVersion, id(4))
			}
		}
		after = ins[len(ins)-1].Key.Name
	}
	if want := []string{"alpha", "alphabet", "beta", "gamma", "zalp"}; !slices.Equal(walked, want) {
		t.Errorf("ListIntegrations walk: got %v, want %v", walked, want)
	}
}

func testDeleteIntegration(t *testing.T, s store.Store) {
	ctx := t.Context()
	createVersion(t, s, newVersion(keyA, 1, store.StateDraft, 0))
	createVersion(t, s, newVersion(keyA, 2, store.StateDraft, 0))
	createVersion(t, s, newVersion(keyB, 3, store.StateDraft, 0))
	mustNil(t, "PublishVersion", s.PublishVersion(ctx, keyA, id(1), nil))
	mustNil(t, "PublishVersion", s.PublishVersion(ctx, keyB, id(3), nil))
	ea := newExecution(keyA, 10, 0)
	ea.RequestID = "req-1"
	eb := newExecution(keyB, 11, 0)
	eb.RequestID = "req-1"
	mustNil(t, "PutExecutions", s.PutExecutions(ctx, []*store.Execution{ea, newExecution(keyA, 12, time.Second), eb}))

	mustNil(t, "DeleteIntegration(alpha)", s.DeleteIntegration(ctx, keyA))
	wantErr(t, "DeleteIntegration(alpha) again", s.DeleteIntegration(ctx, keyA), store.ErrNotFound)
	wantErr(t, "DeleteIntegration(unknown)", s.DeleteIntegration(ctx, keyC), store.ErrNotFound)

	_, err := s.GetIntegration(ctx, keyA)
	wantErr(t, "GetIntegration(deleted)", err, store.ErrNotFound)
	for _, n := range []int{1, 2} {
		_, err := s.GetVersion(ctx, keyA, id(n))
		wantErr(t, fmt.Sprintf("GetVersion(%d) of deleted", n), err, store.ErrNotFound)
	}
	for _, n := range []int{10, 12} {
		_, err := s.GetExecution(ctx, keyA, id(n))
		wantErr(t, fmt.Sprintf("GetExecution(%d) of deleted", n), err, store.ErrNotFound)
	}
	_, err = s.FindExecutionByRequestID(ctx, keyA, "req-1")
	wantErr(t, "FindExecutionByRequestID of deleted", err, store.ErrNotFound)
	page, _, err := s.ListExecutions(ctx, store.ExecutionQuery{Key: keyA})
	mustNil(t, "ListExecutions(deleted)", err)
	if len(page) != 0 {
		t.Errorf("ListExecutions of deleted: got %d executions, want 0", len(page))
	}
	vs, err := s.ActiveVersions(ctx, keyAll)
	mustNil(t, "ActiveVersions", err)
	if got := versionIDs(vs); !slices.Equal(got, []string{id(3)}) {
		t.Errorf("ActiveVersions after delete: got %v, want [%s]", got, id(3))
	}

	// The other integration is untouched.
	checkActive(t, s, keyB, id(3))
	if _, err := s.GetExecution(ctx, keyB, id(11)); err != nil {
		t.Errorf("GetExecution(beta): got error %v, want nil", err)
	}
	if e, err := s.FindExecutionByRequestID(ctx, keyB, "req-1"); err != nil || e.ID != id(11) {
		t.Errorf("FindExecutionByRequestID(beta): got %v, %v, want %s", e, err, id(11))
	}

	// The name can be used again, request IDs included.
	createVersion(t, s, newVersion(keyA, 1, store.StateDraft, 0))
	again := newExecution(keyA, 13, 0)
	again.RequestID = "req-1"
	wantErr(t, "PutExecutions(reused request id)", s.PutExecutions(ctx, []*store.Execution{again}), nil)
}

func newExecution(key store.IntegrationKey, n int, created time.Duration) *store.Execution {
	return &store.Execution{
		Key:             key,
		ID:              id(n),
		VersionID:       id(1000 + n),
		TriggerID:       "api_trigger/test",
		State:           "SUCCEEDED",
		ExecutionMethod: "POST",
		Params:          map[string]string{"n": fmt.Sprint(n)},
		Request:         fmt.Appendf(nil, `{"n":%d}`, n),
		Response:        []byte(`{"ok":true}`),
		Details:         []byte(`{"attemptStats":[]}`),
		CreateTime:      at(created),
		UpdateTime:      at(created + time.Millisecond),
		ParentID:        fmt.Sprintf("parent-of-%d", n),
	}
}

// checkExecution compares every field of got with want.
func checkExecution(t *testing.T, op string, got, want *store.Execution) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil execution, want %s", op, want.ID)
		return
	}
	check := func(field string, ok bool, g, w any) {
		t.Helper()
		if !ok {
			t.Errorf("%s: %s: got %v, want %v", op, field, g, w)
		}
	}
	check("Key", got.Key == want.Key, got.Key, want.Key)
	check("ID", got.ID == want.ID, got.ID, want.ID)
	check("VersionID", got.VersionID == want.VersionID, got.VersionID, want.VersionID)
	check("TriggerID", got.TriggerID == want.TriggerID, got.TriggerID, want.TriggerID)
	check("RequestID", got.RequestID == want.RequestID, got.RequestID, want.RequestID)
	check("State", got.State == want.State, got.State, want.State)
	check("ExecutionMethod", got.ExecutionMethod == want.ExecutionMethod, got.ExecutionMethod, want.ExecutionMethod)
	check("ParentID", got.ParentID == want.ParentID, got.ParentID, want.ParentID)
	check("Params", maps.Equal(got.Params, want.Params), got.Params, want.Params)
	check("Request", bytes.Equal(got.Request, want.Request), string(got.Request), string(want.Request))
	check("Response", bytes.Equal(got.Response, want.Response), string(got.Response), string(want.Response))
	check("Details", bytes.Equal(got.Details, want.Details), string(got.Details), string(want.Details))
	check("CreateTime", got.CreateTime.Equal(want.CreateTime), got.CreateTime, want.CreateTime)
	check("UpdateTime", got.UpdateTime.Equal(want.UpdateTime), got.UpdateTime, want.UpdateTime)
}

func getExecution(t *testing.T, s store.Store, key store.IntegrationKey, id string) *store.Execution {
	t.Helper()
	e, err := s.GetExecution(t.Context(), key, id)
	mustNil(t, fmt.Sprintf("GetExecution(%s)", id), err)
	return e
}

func executionIDs(es []*store.Execution) []string {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

func testPutGetExecution(t *testing.T, s store.Store) {
	ctx := t.Context()
	e1 := newExecution(keyA, 1, 0)
	e1.RequestID = "req-1"
	e1.Params = map[string]string{"order": "42", "customer": "acme", "empty": ""}
	mustNil(t, "PutExecutions(1)", s.PutExecutions(ctx, []*store.Execution{e1}))
	checkExecution(t, "GetExecution(1)", getExecution(t, s, keyA, id(1)), e1)

	// Replacing keeps one row and replaces every field, params included.
	r1 := &store.Execution{
		Key: keyA, ID: id(1), VersionID: id(1001), TriggerID: "api_trigger/test", RequestID: "req-1",
		State: "FAILED", ExecutionMethod: "POST",
		Params:     map[string]string{"order": "43"},
		Request:    e1.Request,
		Response:   []byte(`{"error":"boom"}`),
		Details:    []byte(`{"attemptStats":[{"startTime":"x"}]}`),
		CreateTime: e1.CreateTime,
		UpdateTime: at(time.Hour),
	}
	mustNil(t, "PutExecutions(replace)", s.PutExecutions(ctx, []*store.Execution{r1}))
	checkExecution(t, "GetExecution(replaced)", getExecution(t, s, keyA, id(1)), r1)
	page, _, err := s.ListExecutions(ctx, store.ExecutionQuery{Key: keyA})
	mustNil(t, "ListExecutions", err)
	if got := executionIDs(page); !slices.Equal(got, []string{id(1)}) {
		t.Errorf("ListExecutions after replace: got %v, want [%s]", got, id(1))
	}
	for _, tc := range []struct{ key, value string }{{"customer", ""}, {"", "acme"}, {"order", "42"}} {
		page, _, err := s.ListExecutions(ctx, store.ExecutionQuery{Key: keyA, ParamKey: tc.key, ParamValue: tc.value})
		mustNil(t, "ListExecutions(old param)", err)
		if len(page) != 0 {
			t.Errorf("ListExecutions(param %q=%q) after replace: got %v, want none", tc.key, tc.value, executionIDs(page))
		}
	}

	// A batch; the same ID in another integration is another execution; a
	// later element of a batch replaces an earlier one.
	e2 := newExecution(keyA, 2, time.Second)
	e3 := newExecution(keyA, 3, 2*time.Second)
	eB := newExecution(keyB, 1, 0)
	e2b := newExecution(keyA, 2, time.Second)
	e2b.State = "CANCELLED"
	e2b.Params = nil
	mustNil(t, "PutExecutions(batch)", s.PutExecutions(ctx, []*store.Execution{e2, e3, eB, e2b}))
	checkExecution(t, "GetExecution(2)", getExecution(t, s, keyA, id(2)), e2b)
	checkExecution(t, "GetExecution(3)", getExecution(t, s, keyA, id(3)), e3)
	checkExecution(t, "GetExecution(beta 1)", getExecution(t, s, keyB, id(1)), eB)
	checkExecution(t, "GetExecution(alpha 1)", getExecution(t, s, keyA, id(1)), r1)

	// Minimal execution: nil payloads and params.
	bare := &store.Execution{Key: keyA, ID: id(4), State: "PENDING", CreateTime: at(3 * time.Second), UpdateTime: at(3 * time.Second)}
	mustNil(t, "PutExecutions(bare)", s.PutExecutions(ctx, []*store.Execution{bare}))
	checkExecution(t, "GetExecution(bare)", getExecution(t, s, keyA, id(4)), bare)

	mustNil(t, "PutExecutions(empty batch)", s.PutExecutions(ctx, nil))

	for _, tc := range []struct {
		name string
		key  store.IntegrationKey
		id   string
	}{
		{"unknown id", keyA, id(99)},
		{"id of another integration", keyB, id(2)},
		{"other location", keyOther, id(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.GetExecution(ctx, tc.key, tc.id)
			wantErr(t, "GetExecution", err, store.ErrNotFound)
		})
	}
}

func testRequestID(t *testing.T, s store.Store) {
	ctx := t.Context()
	put := func(es ...*store.Execution) error { return s.PutExecutions(ctx, es) }
	withReq := func(key store.IntegrationKey, n int, req string) *store.Execution {
		e := newExecution(key, n, time.Duration(n)*time.Second)
		e.RequestID = req
		return e
	}

	e1 := withReq(keyA, 1, "req-1")
	mustNil(t, "PutExecutions(1)", put(e1))
	for _, tc := range []struct {
		name string
		es   []*store.Execution
		want error
	}{
		{"taken", []*store.Execution{withReq(keyA, 2, "req-1")}, store.ErrAlreadyExists},
		{"taken in a batch", []*store.Execution{withReq(keyA, 3, "req-3"), withReq(keyA, 4, "req-1")}, store.ErrAlreadyExists},
		{"twice in a batch", []*store.Execution{withReq(keyA, 5, "req-5"), withReq(keyA, 6, "req-5")}, store.ErrAlreadyExists},
		{"replace the owner", []*store.Execution{withReq(keyA, 1, "req-1")}, nil},
		{"other integration", []*store.Execution{withReq(keyB, 7, "req-1")}, nil},
		{"other location", []*store.Execution{withReq(keyOther, 8, "req-1")}, nil},
		{"no request ids", []*store.Execution{withReq(keyA, 9, ""), withReq(keyA, 10, "")}, nil},
		{"more without", []*store.Execution{withReq(keyA, 11, "")}, nil},
	} {
		wantErr(t, fmt.Sprintf("PutExecutions(%s)", tc.name), put(tc.es...), tc.want)
	}
	// Failed batches stored nothing.
	for _, n := range []int{2, 3, 4, 5, 6} {
		_, err := s.GetExecution(ctx, keyA, id(n))
		wantErr(t, fmt.Sprintf("GetExecution(%d) of a failed batch", n), err, store.ErrNotFound)
	}
	_, err := s.FindExecutionByRequestID(ctx, keyA, "req-3")
	wantErr(t, "FindExecutionByRequestID(req-3) of a failed batch", err, store.ErrNotFound)

	for _, tc := range []struct {
		name   string
		key    store.IntegrationKey
		req    string
		wantID string
		want   error
	}{
		{"alpha", keyA, "req-1", id(1), nil},
		{"beta", keyB, "req-1", id(7), nil},
		{"other location", keyOther, "req-1", id(8), nil},
		{"unknown", keyA, "req-404", "", store.ErrNotFound},
		{"unknown integration", keyC, "req-1", "", store.ErrNotFound},
		{"empty", keyA, "", "", store.ErrNotFound},
	} {
		t.Run("FindExecutionByRequestID/"+tc.name, func(t *testing.T) {
			e, err := s.FindExecutionByRequestID(ctx, tc.key, tc.req)
			wantErr(t, "FindExecutionByRequestID", err, tc.want)
			if tc.want == nil && err == nil {
				if e.ID != tc.wantID || e.Key != tc.key || e.RequestID != tc.req {
					t.Errorf("FindExecutionByRequestID: got %v/%s (request %q), want %v/%s", e.Key, e.ID, e.RequestID, tc.key, tc.wantID)
				}
			}
		})
	}
	checkExecution(t, "FindExecutionByRequestID(req-1)", func() *store.Execution {
		e, _ := s.FindExecutionByRequestID(ctx, keyA, "req-1")
		return e
	}(), e1)

	// Once the owner drops its request ID, another execution may take it.
	e1.RequestID = ""
	mustNil(t, "PutExecutions(release)", put(e1))
	wantErr(t, "PutExecutions(take released)", put(withReq(keyA, 12, "req-1")), nil)
}

func testListExecutionsFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	type row struct {
		key     store.IntegrationKey
		name    string
		trigger string
		state   string
		created time.Duration
		params  map[string]string
	}
	rows := []row{
		{keyA, "a1", "api_1", "SUCCEEDED", 1 * time.Second, map[string]string{"order": "42", "customer": "acme"}},
		{keyA, "a2", "api_1", "FAILED", 2 * time.Second, map[string]string{"order": "43"}},
		{keyA, "a3", "cron_1", "SUCCEEDED", 3 * time.Second, map[string]string{"customer": "42"}},
		{keyA, "a4", "api_2", "PROCESSING", 4 * time.Second, nil},
		{keyA, "a5", "api_1", "CANCELLED", 6 * time.Second, map[string]string{"order": "44", "customer": "42"}},
		{keyB, "b1", "api_1", "SUCCEEDED", 2500 * time.Millisecond, map[string]string{"order": "42"}},
		{keyOther, "o1", "api_1", "SUCCEEDED", 5 * time.Second, map[string]string{"order": "42"}},
	}
	// Executions are put in an order unrelated to their creation times.
	byName := map[string]string{}
	var batch []*store.Execution
	for i, r := range rows {
		e := newExecution(r.key, 100-i, r.created)
		e.TriggerID, e.State, e.Params = r.trigger, r.state, r.params
		e.ParentID = ""
		if r.name == "a3" || r.name == "b1" || r.name == "o1" {
			e.ParentID = id(100) // a1
		}
		byName[e.ID] = r.name
		batch = append(batch, e)
	}
	mustNil(t, "PutExecutions", s.PutExecutions(ctx, batch[4:]))
	mustNil(t, "PutExecutions", s.PutExecutions(ctx, batch[:4]))

	for _, tc := range []struct {
		name string
		q    store.ExecutionQuery
		want []string
	}{
		{"integration", store.ExecutionQuery{Key: keyA}, []string{"a5", "a4", "a3", "a2", "a1"}},
		{"all integrations", store.ExecutionQuery{Key: keyAll}, []string{"a5", "a4", "a3", "b1", "a2", "a1"}},
		{"other location", store.ExecutionQuery{Key: keyOther}, []string{"o1"}},
		{"unknown integration", store.ExecutionQuery{Key: keyC}, nil},
		{"execution id", store.ExecutionQuery{Key: keyA, ExecutionID: id(99)}, []string{"a2"}},
		{"execution id of another integration", store.ExecutionQuery{Key: keyA, ExecutionID: id(95)}, nil},
		{"execution id, all integrations", store.ExecutionQuery{Key: keyAll, ExecutionID: id(95)}, []string{"b1"}},
		{"trigger", store.ExecutionQuery{Key: keyA, TriggerID: "api_1"}, []string{"a5", "a2", "a1"}},
		{"trigger, all integrations", store.ExecutionQuery{Key: keyAll, TriggerID: "api_1"}, []string{"a5", "b1", "a2", "a1"}},
		{"state", store.ExecutionQuery{Key: keyA, States: []string{"SUCCEEDED"}}, []string{"a3", "a1"}},
		{"states", store.ExecutionQuery{Key: keyAll, States: []string{"SUCCEEDED", "FAILED"}}, []string{"a3", "b1", "a2", "a1"}},
		{"created after (exclusive)", store.ExecutionQuery{Key: keyA, CreatedAfter: at(2 * time.Second)}, []string{"a5", "a4", "a3"}},
		{"created before (exclusive)", store.ExecutionQuery{Key: keyA, CreatedBefore: at(3 * time.Second)}, []string{"a2", "a1"}},
		{"created between", store.ExecutionQuery{Key: keyAll, CreatedAfter: at(1 * time.Second), CreatedBefore: at(4 * time.Second)}, []string{"a3", "b1", "a2"}},
		{"created after, sub-second", store.ExecutionQuery{Key: keyAll, CreatedAfter: at(2*time.Second + 499*time.Millisecond), CreatedBefore: at(2*time.Second + 501*time.Millisecond)}, []string{"b1"}},
		{"param key", store.ExecutionQuery{Key: keyA, ParamKey: "order"}, []string{"a5", "a2", "a1"}},
		{"param value", store.ExecutionQuery{Key: keyA, ParamValue: "42"}, []string{"a5", "a3", "a1"}},
		{"param key and value", store.ExecutionQuery{Key: keyA, ParamKey: "order", ParamValue: "42"}, []string{"a1"}},
		{"param key and value, all integrations", store.ExecutionQuery{Key: keyAll, ParamKey: "order", ParamValue: "42"}, []string{"b1", "a1"}},
		{"param customer=42", store.ExecutionQuery{Key: keyA, ParamKey: "customer", ParamValue: "42"}, []string{"a5", "a3"}},
		{"unknown param", store.ExecutionQuery{Key: keyA, ParamKey: "nope"}, nil},
		{"param value is not a prefix match", store.ExecutionQuery{Key: keyA, ParamValue: "4"}, nil},
		{"combined", store.ExecutionQuery{Key: keyA, TriggerID: "api_1", States: []string{"SUCCEEDED"}, ParamKey: "customer"}, []string{"a1"}},
		{"combined with limit", store.ExecutionQuery{Key: keyAll, TriggerID: "api_1", Limit: 2}, []string{"a5", "b1"}},
		{"parent", store.ExecutionQuery{Key: keyAll, ParentID: id(100)}, []string{"a3", "b1"}},
		{"parent, one integration", store.ExecutionQuery{Key: keyB, ParentID: id(100)}, []string{"b1"}},
		{"parent without children", store.ExecutionQuery{Key: keyAll, ParentID: id(99)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, _, err := s.ListExecutions(ctx, tc.q)
			mustNil(t, "ListExecutions", err)
			var got []string
			for _, e := range page {
				got = append(got, byName[e.ID])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ListExecutions: got %v, want %v", got, tc.want)
			}
		})
	}

	// Listed executions carry every field.
	page, _, err := s.ListExecutions(ctx, store.ExecutionQuery{Key: keyB})
	mustNil(t, "ListExecutions(beta)", err)
	if len(page) == 1 {
		checkExecution(t, "ListExecutions(beta)", page[0], batch[5])
	}
}

// execRef identifies an execution across integrations.
type execRef struct{ name, id string }

// walk lists every page of q and returns the executions in order, failing
// the test on a repeat, on an empty or short page that is not the last, or
// on a page out of order.
func walk(t *testing.T, s store.Store, q store.ExecutionQuery) ([]*store.Execution, int) {
	t.Helper()
	var all []*store.Execution
	seen := map[execRef]bool{}
	pages := 0
	for {
		page, next, err := s.ListExecutions(t.Context(), q)
		mustNil(t, fmt.Sprintf("ListExecutions(page %d)", pages+1), err)
		pages++
		if len(page) == 0 && pages > 1 {
			t.Fatalf("ListExecutions: page %d is empty, want the previous page to return no cursor", pages)
		}
		if q.Limit > 0 && len(page) > q.Limit {
			t.Fatalf("ListExecutions: page %d has %d executions, want at most %d", pages, len(page), q.Limit)
		}
		if next != "" && q.Limit > 0 && len(page) < q.Limit {
			t.Fatalf("ListExecutions: short page %d (%d of %d) has a next cursor", pages, len(page), q.Limit)
		}
		for _, e := range page {
			r := execRef{e.Key.Name, e.ID}
			if seen[r] {
				t.Fatalf("ListExecutions: %v repeated on page %d", r, pages)
			}
			seen[r] = true
			if n := len(all); n > 0 && !newestFirst(all[n-1], e) {
				t.Fatalf("ListExecutions: page %d: %v (%v) listed after %v (%v)", pages, r, e.CreateTime, all[n-1].ID, all[n-1].CreateTime)
			}
			all = append(all, e)
		}
		if next == "" {
			return all, pages
		}
		if pages > 1000 {
			t.Fatalf("ListExecutions: more than 1000 pages")
		}
		q.After = next
	}
}

// newestFirst reports whether a may precede b: CreateTime descending, then
// ID descending.
func newestFirst(a, b *store.Execution) bool {
	if !a.CreateTime.Equal(b.CreateTime) {
		return a.CreateTime.After(b.CreateTime)
	}
	return a.ID >= b.ID
}

func testListExecutionsPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	// 30 executions of alpha in groups of four sharing a CreateTime, with
	// IDs unrelated to insertion order; 12 of beta, some sharing both the
	// CreateTime and the ID of one of alpha's.
	var es []*store.Execution
	for i := range 30 {
		es = append(es, newExecution(keyA, (i*7)%30+1, time.Duration(i/4)*time.Second))
	}
	for i := range 12 {
		es = append(es, newExecution(keyB, (i*7)%30+1, time.Duration(i/4)*time.Second))
	}
	for i := 0; i < len(es); i += 10 {
		mustNil(t, "PutExecutions", s.PutExecutions(ctx, es[i:min(i+10, len(es))]))
	}
	for _, e := range es[:30] {
		if e.ID == id(2) || e.ID == id(3) {
			e.State = "FAILED"
			mustNil(t, "PutExecutions(failed)", s.PutExecutions(ctx, []*store.Execution{e}))
		}
	}

	for _, tc := range []struct {
		name      string
		q         store.ExecutionQuery
		want      int
		minPages  int
		wantPages int // 0: not checked
	}{
		{"limit 1", store.ExecutionQuery{Key: keyA, Limit: 1}, 30, 3, 30},
		{"limit 3", store.ExecutionQuery{Key: keyA, Limit: 3}, 30, 3, 10},
		{"limit 4", store.ExecutionQuery{Key: keyA, Limit: 4}, 30, 3, 8},
		{"limit 7", store.ExecutionQuery{Key: keyA, Limit: 7}, 30, 3, 5},
		{"limit 10 (exact pages)", store.ExecutionQuery{Key: keyA, Limit: 10}, 30, 3, 3},
		{"one page", store.ExecutionQuery{Key: keyA, Limit: 100}, 30, 1, 1},
		{"no limit", store.ExecutionQuery{Key: keyA}, 30, 1, 1},
		{"all integrations, limit 5", store.ExecutionQuery{Key: keyAll, Limit: 5}, 42, 3, 9},
		{"all integrations, limit 4", store.ExecutionQuery{Key: keyAll, Limit: 4}, 42, 3, 11},
		{"filtered", store.ExecutionQuery{Key: keyA, States: []string{"SUCCEEDED"}, Limit: 3}, 28, 3, 10},
		{"filtered, all integrations", store.ExecutionQuery{Key: keyAll, CreatedBefore: at(2 * time.Second), Limit: 3}, 16, 3, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all, pages := walk(t, s, tc.q)
			if len(all) != tc.want {
				t.Errorf("ListExecutions: got %d executions in all, want %d", len(all), tc.want)
			}
			if pages < tc.minPages || (tc.wantPages > 0 && pages != tc.wantPages) {
				t.Errorf("ListExecutions: got %d pages, want %d", pages, tc.wantPages)
			}
		})
	}

	// The whole listing is the expected order.
	all, _ := walk(t, s, store.ExecutionQuery{Key: keyA, Limit: 3})
	want := slices.Clone(es[:30])
	slices.SortFunc(want, func(a, b *store.Execution) int {
		if c := b.CreateTime.Compare(a.CreateTime); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if got, want := executionIDs(all), executionIDs(want); !slices.Equal(got, want) {
		t.Errorf("ListExecutions order: got %v, want %v", got, want)
	}

	// Executions created while paging do not shift later pages.
	page1, next, err := s.ListExecutions(ctx, store.ExecutionQuery{Key: keyA, Limit: 4})
	mustNil(t, "ListExecutions(page 1)", err)
	mustNil(t, "PutExecutions(newer)", s.PutExecutions(ctx, []*store.Execution{newExecution(keyA, 500, time.Hour)}))
	rest, _ := walk(t, s, store.ExecutionQuery{Key: keyA, Limit: 4, After: next})
	if got, want := append(executionIDs(page1), executionIDs(rest)...), executionIDs(all); !slices.Equal(got, want) {
		t.Errorf("ListExecutions with an insert between pages: got %v, want %v", got, want)
	}
}

func testMalformedCursor(t *testing.T, s store.Store) {
	ctx := t.Context()
	for n := range 3 {
		mustNil(t, "PutExecutions", s.PutExecutions(ctx, []*store.Execution{newExecution(keyA, n+1, 0)}))
	}
	for _, after := range []string{
		"%%%",
		"not a cursor",
		"Zm9v", // base64 of "foo"
		"////////",
		"\x00\xff",
	} {
		t.Run(fmt.Sprintf("%q", after), func(t *testing.T) {
			page, next, err := s.ListExecutions(ctx, store.ExecutionQuery{Key: keyA, After: after, Limit: 2})
			wantErr(t, "ListExecutions", err, store.ErrInvalidArgument)
			if len(page) != 0 || next != "" {
				t.Errorf("ListExecutions: got %d executions and cursor %q with the error, want none", len(page), next)
			}
		})
	}
	// A cursor the store issued is accepted.
	_, next, err := s.ListExecutions(ctx, store.ExecutionQuery{Key: keyA, Limit: 2})
	mustNil(t, "ListExecutions", err)
	if next == "" {
		t.Fatalf("ListExecutions(limit 2 of 3): got no cursor, want one")
	}
	page, _, err := s.ListExecutions(ctx, store.ExecutionQuery{Key: keyA, Limit: 2, After: next})
	mustNil(t, "ListExecutions(issued cursor)", err)
	if len(page) != 1 {
		t.Errorf("ListExecutions(issued cursor): got %d executions, want 1", len(page))
	}
}

func testConcurrency(t *testing.T, s store.Store) {
	ctx := t.Context()
	const (
		writers   = 16
		batches   = 4
		batchSize = 8
		creators  = 12
	)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	record := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
				if _, _, err := s.ListExecutions(ctx, store.ExecutionQuery{Key: keyAll, Limit: 10}); err != nil {
					record(fmt.Errorf("ListExecutions: %w", err))
					return
				}
				if _, err := s.GetExecution(ctx, keyA, id(1)); err != nil && !errors.Is(err, store.ErrNotFound) {
					record(fmt.Errorf("GetExecution: %w", err))
					return
				}
			}
		})
	}
	for w := range writers {
		wg.Go(func() {
			key := keyA
			if w%2 == 1 {
				key = keyB
			}
			for b := range batches {
				es := make([]*store.Execution, batchSize)
				for i := range es {
					n := 1 + (w*batches+b)*batchSize + i
					es[i] = newExecution(key, n, time.Duration(n)*time.Millisecond)
					es[i].RequestID = fmt.Sprintf("req-%d", n)
				}
				if err := s.PutExecutions(ctx, es); err != nil {
					record(fmt.Errorf("PutExecutions(writer %d, batch %d): %w", w, b, err))
					return
				}
			}
		})
	}
	numbers := make(chan int64, creators)
	for c := range creators {
		wg.Go(func() {
			v := newVersion(keyC, 10_000+c, store.StateDraft, 0)
			if err := s.CreateVersion(ctx, v); err != nil {
				record(fmt.Errorf("CreateVersion(%d): %w", c, err))
				return
			}
			numbers <- v.SnapshotNumber
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(numbers)
	for _, err := range errs {
		t.Errorf("concurrent use: got error %v, want nil", err)
	}

	all, _, err := s.ListExecutions(ctx, store.ExecutionQuery{Key: keyAll})
	mustNil(t, "ListExecutions", err)
	if got, want := len(all), writers*batches*batchSize; got != want {
		t.Errorf("ListExecutions after concurrent puts: got %d executions, want %d", got, want)
	}
	var got []int64
	for n := range numbers {
		got = append(got, n)
	}
	slices.Sort(got)
	var want []int64
	for n := range int64(creators) {
		want = append(want, n+1)
	}
	if !slices.Equal(got, want) {
		t.Errorf("concurrent CreateVersion snapshot numbers: got %v, want %v", got, want)
	}
}
