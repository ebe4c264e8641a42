// Package storetest is the conformance suite of the order store port: every adapter of
// store.Orders (SQLite locally, DynamoDB on AWS) must pass Run.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"orderhub/shared/money"
	"orderhub/shared/order"
	"orderhub/shared/store"
)

// Epoch is the creation time of the suite's orders; listings place orders at Epoch plus whole seconds.
var Epoch = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// Run checks that an adapter keeps the store.Orders contract. newStore is called once per subtest
// with that subtest's t: it may return a fresh store each time or one store shared by all subtests,
// because every subtest runs in parallel with its own shop, keys, warehouse, supplier and tracking
// numbers.
func Run(t *testing.T, newStore func(t *testing.T) store.Orders) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Orders)
	}{
		{"Upsert/CreateThenGet", testCreateThenGet},
		{"Upsert/RejectsInvalidOrder", testUpsertRejectsInvalid},
		{"Upsert/SameVersionIsDuplicate", testSameVersionIsDuplicate},
		{"Upsert/OlderVersionIsStale", testOlderVersionIsStale},
		{"Upsert/NewerVersionKeepsHubFields", testNewerVersionKeepsHubFields},
		{"Upsert/ConcurrentVersionsKeepNewest", testConcurrentUpsertsKeepNewest},
		{"Update/PersistsChangesAndEvents", testUpdatePersists},
		{"Update/ErrorWritesNothing", testUpdateErrorWritesNothing},
		{"Update/UnknownID", testUpdateUnknown},
		{"Update/IdentityChange", testUpdateIdentityChange},
		{"Update/IllegalTransitionWritesNothing", testUpdateIllegalTransition},
		{"Update/ConcurrentLoseNothing", testConcurrentUpdates},
		{"Rev/CountsWrites", testRevCountsWrites},
		{"Timeline/OldestFirst", testTimelineOrder},
		{"List/Filters", testListFilters},
		{"List/Paging", testListPaging},
		{"List/PagingIgnoresNewerOrders", testListPagingIgnoresNewer},
		{"List/InvalidCursor", testListInvalidCursor},
		{"List/LimitCapped", testListLimitCapped},
		{"Counts/PerStatus", testCounts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

// SampleOrder returns a valid paid Taobao order in CNY with two lines (one a gift), placed at
// created and last modified by the platform a minute later.
func SampleOrder(shop, channelOrderID string, created time.Time) order.Order {
	created = created.UTC()
	return order.Order{
		Channel:        order.Taobao,
		Shop:           shop,
		ChannelOrderID: channelOrderID,
		ChannelStatus:  "WAIT_SELLER_SEND_GOODS",
		Status:         order.Paid,
		Version:        created.Add(time.Minute),
		CreatedAt:      created,
		PaidAt:         created.Add(30 * time.Second),
		ShipBy:         created.Add(48 * time.Hour),
		Buyer:          order.Buyer{Nick: "t**1", PhoneMasked: "138****5678", PhoneHash: "hash-buyer"},
		Receiver: order.Receiver{NameMasked: "张*", PhoneMasked: "138****5678", PhoneHash: "hash-recv",
			Province: "浙江省", City: "杭州市", District: "余杭区", DetailMasked: "文一西路****", AddressHash: "hash-addr", Token: "OAID-1"},
		Lines: []order.Line{
			{ChannelSKU: "5012345", SKU: "TEA-001", Title: "龙井 250g", Quantity: 2, UnitPrice: money.New(6800, "CNY"), Discount: money.New(600, "CNY")},
			{ChannelSKU: "gift-1", SKU: "CUP-01", Quantity: 1, UnitPrice: money.New(0, "CNY"), Gift: true},
		},
		Amounts: order.Amounts{Goods: money.New(13600, "CNY"), Shipping: money.New(0, "CNY"),
			Discount: money.New(600, "CNY"), Paid: money.New(13000, "CNY")},
	}
}

// UniqueName returns a name that no other test uses, readable from t's name: usable as a shop,
// warehouse, supplier or tracking number.
func UniqueName(t testing.TB, prefix string) string {
	name := strings.NewReplacer("/", ".", " ", "_").Replace(t.Name())
	if len(name) > 64 {
		name = name[len(name)-64:]
	}
	return prefix + "-" + name + "-" + strings.ToLower(rand.Text()[:10])
}

// fixture holds one subtest's store and unique names.
type fixture struct {
	t         *testing.T
	s         store.Orders
	ctx       context.Context
	shop      string
	warehouse string
	supplier  string
	n         atomic.Int64
}

// timeout bounds each subtest, so that an adapter that deadlocks fails instead of hanging the run.
const timeout = 2 * time.Minute

func newFixture(t *testing.T, s store.Orders) *fixture {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return &fixture{t: t, s: s, ctx: ctx,
		shop: UniqueName(t, "shop"), warehouse: UniqueName(t, "wh"), supplier: UniqueName(t, "sup")}
}

// sample returns a new order of the fixture's shop with a unique channel order id, placed at
// Epoch plus sec seconds.
func (f *fixture) sample(sec int) order.Order {
	return f.sampleIn(f.shop, sec)
}

func (f *fixture) sampleIn(shop string, sec int) order.Order {
	id := fmt.Sprintf("%s-%d", strings.ToLower(rand.Text()[:12]), f.n.Add(1))
	return SampleOrder(shop, id, Epoch.Add(time.Duration(sec)*time.Second))
}

// create upserts a new order and fails unless it was created.
func (f *fixture) create(o order.Order) order.Order {
	f.t.Helper()
	got, res, err := f.s.Upsert(f.ctx, o, "channel:"+string(o.Channel))
	if err != nil || res != order.Created {
		f.t.Fatalf("Upsert(new order %s) = %q, %v; want %q", o.Key(), res, err, order.Created)
	}
	return got
}

func (f *fixture) upsert(o order.Order, want order.MergeResult) order.Order {
	f.t.Helper()
	got, res, err := f.s.Upsert(f.ctx, o, "channel:"+string(o.Channel))
	if err != nil || res != want {
		f.t.Fatalf("Upsert(%s version %s) = %q, %v; want %q", o.Key(), o.Version.Format(time.RFC3339), res, err, want)
	}
	return got
}

func (f *fixture) update(id string, fn func(o *order.Order) error) order.Order {
	f.t.Helper()
	got, err := f.s.Update(f.ctx, id, fn)
	if err != nil {
		f.t.Fatalf("Update(%s) = %v", id, err)
	}
	return got
}

func (f *fixture) get(id string) order.Order {
	f.t.Helper()
	got, err := f.s.Get(f.ctx, id)
	if err != nil {
		f.t.Fatalf("Get(%s) = %v", id, err)
	}
	return got
}

func (f *fixture) list(flt store.Filter) store.Page {
	f.t.Helper()
	p, err := f.s.List(f.ctx, flt)
	if err != nil {
		f.t.Fatalf("List(%+v) = %v", flt, err)
	}
	for _, o := range p.Orders {
		if len(o.Timeline) != 0 {
			f.t.Fatalf("List(%+v): order %s carries %d timeline events; listed orders carry none", flt, o.ID, len(o.Timeline))
		}
	}
	return p
}

// note returns a timeline event of kind "note" for tests that append their own events.
func note(reason string) order.Event {
	return order.Event{At: Epoch, Actor: "test", Kind: "note", Reason: reason}
}

// route moves a paid order to routed, assigning the warehouse (or the supplier when warehouse is empty).
func route(warehouse, supplier string) func(o *order.Order) error {
	return func(o *order.Order) error {
		o.Warehouse, o.Supplier = warehouse, supplier
		return o.Transition(order.Routed, "system:router", "test", Epoch)
	}
}

func hold(code string) func(o *order.Order) error {
	return func(o *order.Order) error {
		return o.Hold(order.Hold{Code: code, By: "key:ops", At: Epoch, Note: "test"})
	}
}

// sameOrder fails unless got and want hold the same fields, ignoring the store-maintained Rev and
// UpdatedAt, the Timeline, and the time zone of times (stores keep instants, not locations).
func sameOrder(t *testing.T, what string, got, want order.Order) {
	t.Helper()
	g, w := canonical(got), canonical(want)
	if g != w {
		t.Fatalf("%s: order differs\n got: %s\nwant: %s", what, g, w)
	}
}

func canonical(o order.Order) string {
	o.Rev, o.UpdatedAt, o.Timeline = 0, time.Time{}, nil
	o.Version, o.CreatedAt, o.PaidAt, o.ShipBy = o.Version.UTC(), o.CreatedAt.UTC(), o.PaidAt.UTC(), o.ShipBy.UTC()
	o.Holds, o.Shipments = slices.Clone(o.Holds), slices.Clone(o.Shipments)
	for i := range o.Holds {
		o.Holds[i].At = o.Holds[i].At.UTC()
	}
	for i := range o.Shipments {
		o.Shipments[i].ShippedAt = o.Shipments[i].ShippedAt.UTC()
	}
	if len(o.Tags) == 0 {
		o.Tags = nil
	}
	b, err := json.Marshal(o)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// kinds returns the timeline's event kinds, with the reason of "note" events, for readable diffs.
func kinds(events []order.Event) []string {
	out := make([]string, 0, len(events))
	for _, e := range events {
		if e.Kind == "note" {
			out = append(out, "note:"+e.Reason)
			continue
		}
		out = append(out, e.Kind)
	}
	return out
}

func ids(orders []order.Order) []string {
	out := make([]string, 0, len(orders))
	for _, o := range orders {
		out = append(out, o.ID)
	}
	return out
}

// isULID reports whether id is a canonical 26-character ULID.
func isULID(id string) bool {
	_, err := ulid.ParseStrict(id)
	return err == nil && len(id) == 26
}

// wantNotFound fails unless err is store.ErrNotFound.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s: err = %v, want store.ErrNotFound", what, err)
	}
}
