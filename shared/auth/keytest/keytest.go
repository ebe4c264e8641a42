// Package keytest is the conformance suite of the API key store port: every adapter of auth.Keys
// (SQLite locally, DynamoDB on AWS) must pass Run.
package keytest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/shared/auth"
	"orderhub/shared/fault"
)

// Epoch is the creation time of the suite's keys; tests place keys at Epoch plus whole seconds.
var Epoch = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// Run checks that an adapter keeps the auth.Keys contract. newKeys is called once per subtest with
// that subtest's t: it may return a fresh store each time or one store shared by all subtests (and
// by other suites), because every subtest runs in parallel and only looks at the keys it created.
func Run(t *testing.T, newKeys func(t *testing.T) auth.Keys) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, ks auth.Keys)
	}{
		{"PutThenGetByHash", testPutThenGet},
		{"UnknownHash", testUnknownHash},
		{"DuplicateID", testDuplicateID},
		{"DuplicateHash", testDuplicateHash},
		{"ListOldestFirst", testListOldestFirst},
		{"Revoke", testRevoke},
		{"RevokeUnknown", testRevokeUnknown},
		{"ConcurrentPuts", testConcurrentPuts},
		{"ConcurrentPutsOfOneKey", testConcurrentPutsOfOneKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newKeys(t))
		})
	}
}

// uniqueName returns a key name no other test uses, readable from t's name and at most 64 bytes.
func uniqueName(t testing.TB, prefix string) string {
	name := strings.NewReplacer("/", ".", " ", "_").Replace(t.Name())
	if room := 64 - len(prefix) - 10; len(name) > room {
		name = name[len(name)-max(room, 0):]
	}
	return prefix + "-" + name + "-" + strings.ToLower(rand.Text()[:8])
}

// newKey returns a valid key created at Epoch plus sec seconds, with a fresh id and hash.
func newKey(t testing.TB, prefix string, role auth.Role, sec int) auth.Key {
	t.Helper()
	supplier := ""
	if role == auth.Supplier {
		supplier = uniqueName(t, "sup")
	}
	k, secret, err := auth.NewKey(uniqueName(t, prefix), role, supplier, "key:admin", Epoch.Add(time.Duration(sec)*time.Second))
	if err != nil {
		t.Fatalf("auth.NewKey: %v", err)
	}
	if secret == "" || k.Hash != auth.Hash(secret) {
		t.Fatalf("auth.NewKey returned a key whose hash is not its secret's")
	}
	return k
}

func put(t *testing.T, ks auth.Keys, k auth.Key) {
	t.Helper()
	if err := ks.PutKey(t.Context(), k); err != nil {
		t.Fatalf("PutKey(%s) = %v", k.ID, err)
	}
}

// sameKey fails unless got and want hold the same fields, comparing times as instants.
func sameKey(t *testing.T, what string, got, want auth.Key) {
	t.Helper()
	if render(got) != render(want) {
		t.Fatalf("%s: key differs\n got: %s\nwant: %s", what, render(got), render(want))
	}
}

func render(k auth.Key) string {
	at := func(tm time.Time) string {
		if tm.IsZero() {
			return "-"
		}
		return tm.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("id=%s name=%q role=%s supplier=%q hash=%s created=%s by=%q revoked=%s",
		k.ID, k.Name, k.Role, k.Supplier, k.Hash, at(k.CreatedAt), k.CreatedBy, at(k.RevokedAt))
}

// own returns the keys of list whose ids are in ids, in list's order.
func own(list []auth.Key, ids ...string) []auth.Key {
	var out []auth.Key
	for _, k := range list {
		if slices.Contains(ids, k.ID) {
			out = append(out, k)
		}
	}
	return out
}

func wantConflict(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, auth.ErrKeyExists) || fault.KindOf(err) != fault.Conflict {
		t.Fatalf("%s = %v, want auth.ErrKeyExists", what, err)
	}
}

func testPutThenGet(t *testing.T, ks auth.Keys) {
	for _, role := range auth.Roles() {
		k := newKey(t, "get-"+string(role), role, 0)
		k.CreatedAt = k.CreatedAt.Add(123456789 * time.Nanosecond).In(time.FixedZone("CST", 8*3600)) // stores keep instants
		put(t, ks, k)
		got, err := ks.KeyByHash(t.Context(), k.Hash)
		if err != nil {
			t.Fatalf("KeyByHash(%s key) = %v", role, err)
		}
		sameKey(t, "KeyByHash", got, k)
		if !got.RevokedAt.IsZero() {
			t.Fatalf("KeyByHash: new key has RevokedAt %v", got.RevokedAt)
		}
	}
}

func testUnknownHash(t *testing.T, ks auth.Keys) {
	k := newKey(t, "known", auth.CS, 0)
	put(t, ks, k)
	_, other := auth.NewSecret()
	for _, hash := range []string{other, "", strings.ToUpper(k.Hash), k.Hash[:32]} {
		if _, err := ks.KeyByHash(t.Context(), hash); !errors.Is(err, auth.ErrUnknownKey) {
			t.Fatalf("KeyByHash(%q) = %v, want auth.ErrUnknownKey", hash, err)
		}
	}
}

func testDuplicateID(t *testing.T, ks auth.Keys) {
	k := newKey(t, "dup-id", auth.CS, 0)
	put(t, ks, k)
	dup := newKey(t, "dup-id-2", auth.Finance, 1)
	dup.ID = k.ID
	wantConflict(t, "PutKey(same id, another hash)", ks.PutKey(t.Context(), dup))
	if _, err := ks.KeyByHash(t.Context(), dup.Hash); !errors.Is(err, auth.ErrUnknownKey) {
		t.Fatalf("KeyByHash(hash of the refused key) = %v, want auth.ErrUnknownKey: a conflict stores nothing", err)
	}
	got, err := ks.KeyByHash(t.Context(), k.Hash)
	if err != nil {
		t.Fatalf("KeyByHash(first key) = %v", err)
	}
	sameKey(t, "first key after a refused duplicate id", got, k)
	list, err := ks.ListKeys(t.Context())
	if err != nil {
		t.Fatalf("ListKeys = %v", err)
	}
	if mine := own(list, k.ID); len(mine) != 1 {
		t.Fatalf("ListKeys has %d keys with id %s, want 1", len(mine), k.ID)
	}
}

func testDuplicateHash(t *testing.T, ks auth.Keys) {
	k := newKey(t, "dup-hash", auth.Warehouse, 0)
	put(t, ks, k)
	dup := newKey(t, "dup-hash-2", auth.Admin, 1)
	dup.Hash = k.Hash
	wantConflict(t, "PutKey(another id, same hash)", ks.PutKey(t.Context(), dup))
	got, err := ks.KeyByHash(t.Context(), k.Hash)
	if err != nil {
		t.Fatalf("KeyByHash = %v", err)
	}
	sameKey(t, "first key after a refused duplicate hash", got, k)
	list, err := ks.ListKeys(t.Context())
	if err != nil {
		t.Fatalf("ListKeys = %v", err)
	}
	if mine := own(list, dup.ID); len(mine) != 0 {
		t.Fatalf("ListKeys shows the refused key %s", dup.ID)
	}
	// The id of a refused key is still free.
	free := newKey(t, "dup-hash-3", auth.CS, 2)
	free.ID = dup.ID
	put(t, ks, free)
}

func testListOldestFirst(t *testing.T, ks auth.Keys) {
	var want []auth.Key // oldest first
	for sec := range 5 {
		want = append(want, newKey(t, "list", auth.Roles()[sec%len(auth.Roles())], sec))
	}
	want[3].CreatedAt = want[3].CreatedAt.Add(500 * time.Millisecond)
	order := []int{3, 0, 4, 1, 2} // stored in neither creation nor id order
	var ids []string
	for _, i := range order {
		put(t, ks, want[i])
		ids = append(ids, want[i].ID)
	}
	list, err := ks.ListKeys(t.Context())
	if err != nil {
		t.Fatalf("ListKeys = %v", err)
	}
	got := own(list, ids...)
	if len(got) != len(want) {
		t.Fatalf("ListKeys returned %d of the %d keys this test stored", len(got), len(want))
	}
	for i := range want {
		sameKey(t, fmt.Sprintf("ListKeys[%d] (oldest first)", i), got[i], want[i])
	}
	for i := 1; i < len(list); i++ {
		if list[i].CreatedAt.Before(list[i-1].CreatedAt) {
			t.Fatalf("ListKeys: %s (created %v) comes after %s (created %v); want oldest first",
				list[i].ID, list[i].CreatedAt, list[i-1].ID, list[i-1].CreatedAt)
		}
	}
}

func testRevoke(t *testing.T, ks auth.Keys) {
	k := newKey(t, "revoke", auth.Supplier, 0)
	other := newKey(t, "keep", auth.CS, 1)
	put(t, ks, k)
	put(t, ks, other)
	at := Epoch.Add(time.Hour + 987654321*time.Nanosecond).In(time.FixedZone("CST", 8*3600))
	if err := ks.RevokeKey(t.Context(), k.ID, at); err != nil {
		t.Fatalf("RevokeKey = %v", err)
	}
	want := k
	want.RevokedAt = at
	got, err := ks.KeyByHash(t.Context(), k.Hash)
	if err != nil {
		t.Fatalf("KeyByHash(revoked key) = %v; a revoked key is still returned, with RevokedAt set", err)
	}
	sameKey(t, "KeyByHash(revoked key)", got, want)

	list, err := ks.ListKeys(t.Context())
	if err != nil {
		t.Fatalf("ListKeys = %v", err)
	}
	mine := own(list, k.ID, other.ID)
	if len(mine) != 2 {
		t.Fatalf("ListKeys has %d of this test's 2 keys; revoked keys are listed too", len(mine))
	}
	sameKey(t, "ListKeys: revoked key", mine[0], want)
	sameKey(t, "ListKeys: key that was not revoked", mine[1], other)

	// Authentication refuses the revoked key and keeps accepting the other one.
	if got, err := ks.KeyByHash(t.Context(), other.Hash); err != nil || !got.RevokedAt.IsZero() {
		t.Fatalf("KeyByHash(other key) = %+v, %v; revoking one key must not touch another", got, err)
	}
}

func testRevokeUnknown(t *testing.T, ks auth.Keys) {
	k := newKey(t, "revoke-unknown", auth.CS, 0)
	if err := ks.RevokeKey(t.Context(), k.ID, Epoch); !errors.Is(err, auth.ErrKeyNotFound) {
		t.Fatalf("RevokeKey(unknown id) = %v, want auth.ErrKeyNotFound", err)
	}
	if err := ks.RevokeKey(t.Context(), "", Epoch); !errors.Is(err, auth.ErrKeyNotFound) {
		t.Fatalf("RevokeKey(empty id) = %v, want auth.ErrKeyNotFound", err)
	}
	// Revoking a key that does not exist must not create it.
	list, err := ks.ListKeys(t.Context())
	if err != nil {
		t.Fatalf("ListKeys = %v", err)
	}
	if len(own(list, k.ID)) != 0 {
		t.Fatalf("ListKeys shows %s after revoking it while unknown", k.ID)
	}
}

func testConcurrentPuts(t *testing.T, ks auth.Keys) {
	const n = 16
	keys := make([]auth.Key, n)
	ids := make([]string, n)
	for i := range keys {
		keys[i] = newKey(t, fmt.Sprintf("conc-%02d", i), auth.CS, i)
		ids[i] = keys[i].ID
	}
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = ks.PutKey(t.Context(), keys[i])
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent PutKey %d = %v", i, err)
		}
	}
	list, err := ks.ListKeys(t.Context())
	if err != nil {
		t.Fatalf("ListKeys = %v", err)
	}
	got := own(list, ids...)
	if len(got) != n {
		t.Fatalf("ListKeys has %d of the %d keys put concurrently", len(got), n)
	}
	for i := range keys {
		sameKey(t, fmt.Sprintf("ListKeys[%d]", i), got[i], keys[i])
		k, err := ks.KeyByHash(t.Context(), keys[i].Hash)
		if err != nil {
			t.Fatalf("KeyByHash(key %d) = %v", i, err)
		}
		sameKey(t, fmt.Sprintf("KeyByHash(key %d)", i), k, keys[i])
	}
}

// testConcurrentPutsOfOneKey races puts of one id and hash: exactly one wins, the rest conflict.
func testConcurrentPutsOfOneKey(t *testing.T, ks auth.Keys) {
	const n = 8
	k := newKey(t, "race", auth.CS, 0)
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = ks.PutKey(t.Context(), k)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			continue
		}
		wantConflict(t, fmt.Sprintf("racing PutKey %d", i), err)
	}
	if ok != 1 {
		t.Fatalf("%d of %d racing puts of one key succeeded, want exactly 1", ok, n)
	}
	got, err := ks.KeyByHash(t.Context(), k.Hash)
	if err != nil {
		t.Fatalf("KeyByHash = %v", err)
	}
	sameKey(t, "KeyByHash after racing puts", got, k)
}
