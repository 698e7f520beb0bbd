package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/store"
)

func acKey(loc string, n int) store.AuthConfigKey {
	return store.AuthConfigKey{Project: "p1", Location: loc, ID: id(n)}
}

func newAuthConfig(k store.AuthConfigKey, n int, credType string) *store.AuthConfig {
	return &store.AuthConfig{
		Key:            k,
		DisplayName:    fmt.Sprintf("config-%d", n),
		CredentialType: credType,
		Doc:            fmt.Appendf(nil, `{"description":"config %d"}`, n),
		// Any bytes: the store does not interpret them. A NUL and a high
		// byte check that they are kept as a BLOB.
		Credential: []byte{0x01, byte(n), 0x00, 0xff, 'x'},
		CreateTime: at(time.Duration(n) * time.Second),
		UpdateTime: at(time.Duration(n) * time.Second),
	}
}

// checkAuthConfig compares every field of got with want.
func checkAuthConfig(t *testing.T, op string, got, want *store.AuthConfig) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil auth config, want %s", op, want.Key.ID)
		return
	}
	if got.Key != want.Key || got.DisplayName != want.DisplayName || got.CredentialType != want.CredentialType ||
		!bytes.Equal(got.Doc, want.Doc) || !bytes.Equal(got.Credential, want.Credential) ||
		!got.CreateTime.Equal(want.CreateTime) || !got.UpdateTime.Equal(want.UpdateTime) {
		t.Errorf("%s: got %+v, want %+v", op, got, want)
	}
	if (got.Credential == nil) != (want.Credential == nil) {
		t.Errorf("%s: Credential: got %v, want %v (nil and empty differ)", op, got.Credential, want.Credential)
	}
}

func testAuthConfigCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	k := acKey("us-central1", 1)
	a := newAuthConfig(k, 1, "USERNAME_AND_PASSWORD")
	want := *a
	mustNil(t, "CreateAuthConfig", s.CreateAuthConfig(ctx, a))
	got, err := s.GetAuthConfig(ctx, k)
	mustNil(t, "GetAuthConfig", err)
	checkAuthConfig(t, "GetAuthConfig", got, &want)

	wantErr(t, "CreateAuthConfig(duplicate)", s.CreateAuthConfig(ctx, newAuthConfig(k, 1, "JWT")), store.ErrAlreadyExists)
	// The same ID elsewhere is another auth config.
	mustNil(t, "CreateAuthConfig(other location)", s.CreateAuthConfig(ctx, newAuthConfig(acKey("europe-west1", 1), 1, "JWT")))
	_, err = s.GetAuthConfig(ctx, acKey("us-central1", 2))
	wantErr(t, "GetAuthConfig(unknown)", err, store.ErrNotFound)
	wantErr(t, "CreateAuthConfig(empty id)", s.CreateAuthConfig(ctx, newAuthConfig(store.AuthConfigKey{Project: "p1", Location: "l"}, 9, "")), store.ErrInvalidArgument)

	// A zero time is set by the store.
	z := newAuthConfig(acKey("us-central1", 3), 3, "")
	z.CreateTime, z.UpdateTime, z.Credential = time.Time{}, time.Time{}, nil
	mustNil(t, "CreateAuthConfig(zero times, no credential)", s.CreateAuthConfig(ctx, z))
	if z.CreateTime.IsZero() || !z.UpdateTime.Equal(z.CreateTime) {
		t.Errorf("CreateAuthConfig(zero times): got create %v update %v, want now and equal", z.CreateTime, z.UpdateTime)
	}
	gz, err := s.GetAuthConfig(ctx, z.Key)
	mustNil(t, "GetAuthConfig(3)", err)
	checkAuthConfig(t, "GetAuthConfig(3)", gz, z)

	// Update replaces the mutable fields and keeps CreateTime.
	up := &store.AuthConfig{Key: k, DisplayName: "renamed", CredentialType: "AUTH_TOKEN",
		Doc: []byte(`{"description":"new"}`), Credential: []byte{0x01, 9, 9}, UpdateTime: at(time.Hour)}
	mustNil(t, "UpdateAuthConfig", s.UpdateAuthConfig(ctx, up))
	if !up.CreateTime.Equal(want.CreateTime) {
		t.Errorf("UpdateAuthConfig: CreateTime: got %v, want %v", up.CreateTime, want.CreateTime)
	}
	got, err = s.GetAuthConfig(ctx, k)
	mustNil(t, "GetAuthConfig after update", err)
	wantUp := *up
	wantUp.CreateTime = want.CreateTime
	checkAuthConfig(t, "GetAuthConfig after update", got, &wantUp)
	// Removing the credential stores NULL.
	up.Credential = nil
	mustNil(t, "UpdateAuthConfig(no credential)", s.UpdateAuthConfig(ctx, up))
	got, err = s.GetAuthConfig(ctx, k)
	mustNil(t, "GetAuthConfig after removing the credential", err)
	if got.Credential != nil {
		t.Errorf("GetAuthConfig after removing the credential: Credential = %v, want nil", got.Credential)
	}
	wantErr(t, "UpdateAuthConfig(unknown)", s.UpdateAuthConfig(ctx, newAuthConfig(acKey("us-central1", 8), 8, "")), store.ErrNotFound)

	mustNil(t, "DeleteAuthConfig", s.DeleteAuthConfig(ctx, k))
	_, err = s.GetAuthConfig(ctx, k)
	wantErr(t, "GetAuthConfig after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteAuthConfig again", s.DeleteAuthConfig(ctx, k), store.ErrNotFound)
	_, err = s.GetAuthConfig(ctx, acKey("europe-west1", 1))
	wantErr(t, "GetAuthConfig(other location) after delete", err, nil)
}

func testListAuthConfigs(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Created out of ID order; IDs 1..6 in us-central1, 7 elsewhere.
	types := map[int]string{1: "JWT", 2: "AUTH_TOKEN", 3: "JWT", 4: "USERNAME_AND_PASSWORD", 5: "JWT", 6: "AUTH_TOKEN"}
	for _, n := range []int{4, 1, 6, 2, 5, 3} {
		a := newAuthConfig(acKey("us-central1", n), n, types[n])
		if n == 5 {
			a.DisplayName = "config-1" // display names need not be unique
		}
		mustNil(t, fmt.Sprintf("CreateAuthConfig(%d)", n), s.CreateAuthConfig(ctx, a))
	}
	mustNil(t, "CreateAuthConfig(7)", s.CreateAuthConfig(ctx, newAuthConfig(acKey("europe-west1", 7), 7, "JWT")))

	q := func(mod func(*store.AuthConfigQuery)) store.AuthConfigQuery {
		q := store.AuthConfigQuery{Project: "p1", Location: "us-central1"}
		mod(&q)
		return q
	}
	for _, tc := range []struct {
		name string
		q    store.AuthConfigQuery
		want []int
	}{
		{"all", q(func(*store.AuthConfigQuery) {}), []int{1, 2, 3, 4, 5, 6}},
		{"limit", q(func(q *store.AuthConfigQuery) { q.Limit = 2 }), []int{1, 2}},
		{"after", q(func(q *store.AuthConfigQuery) { q.After = id(2) }), []int{3, 4, 5, 6}},
		{"after and limit", q(func(q *store.AuthConfigQuery) { q.After = id(2); q.Limit = 3 }), []int{3, 4, 5}},
		{"after the last", q(func(q *store.AuthConfigQuery) { q.After = id(6) }), nil},
		{"display name", q(func(q *store.AuthConfigQuery) { q.DisplayName = "config-1" }), []int{1, 5}},
		{"credential type", q(func(q *store.AuthConfigQuery) { q.CredentialType = "JWT" }), []int{1, 3, 5}},
		{"type, after, limit", q(func(q *store.AuthConfigQuery) { q.CredentialType = "JWT"; q.After = id(1); q.Limit = 1 }), []int{3}},
		{"other location", store.AuthConfigQuery{Project: "p1", Location: "europe-west1"}, []int{7}},
		{"unknown project", store.AuthConfigQuery{Project: "p9", Location: "us-central1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as, err := s.ListAuthConfigs(ctx, tc.q)
			mustNil(t, "ListAuthConfigs", err)
			var got, want []string
			for _, a := range as {
				got = append(got, a.Key.ID)
			}
			for _, n := range tc.want {
				want = append(want, id(n))
			}
			if !slices.Equal(got, want) {
				t.Errorf("ListAuthConfigs(%+v): got %v, want %v", tc.q, got, want)
			}
		})
	}
	// Paging through everything with the keyset cursor.
	var seen []string
	after := ""
	for range 10 {
		page, err := s.ListAuthConfigs(ctx, q(func(q *store.AuthConfigQuery) { q.After = after; q.Limit = 4 }))
		mustNil(t, "ListAuthConfigs page", err)
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			seen = append(seen, a.Key.ID)
		}
		after = page[len(page)-1].Key.ID
	}
	if len(seen) != 6 || !slices.IsSorted(seen) {
		t.Errorf("paging: got %v, want the 6 IDs once each, in order", seen)
	}
}

func testAuthConfigConcurrency(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			a := newAuthConfig(acKey("us-central1", 100+i), i, "JWT")
			if err := s.CreateAuthConfig(ctx, a); err != nil {
				errs <- err
				return
			}
			a.DisplayName = "updated"
			errs <- s.UpdateAuthConfig(ctx, a)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		mustNil(t, "concurrent create and update", err)
	}
	as, err := s.ListAuthConfigs(ctx, store.AuthConfigQuery{Project: "p1", Location: "us-central1", DisplayName: "updated"})
	mustNil(t, "ListAuthConfigs", err)
	if len(as) != n {
		t.Errorf("ListAuthConfigs after concurrent updates: got %d, want %d", len(as), n)
	}
}
