// Package stocktest is the conformance suite of the stock port: every adapter of stock.Store
// (SQLite locally, DynamoDB on AWS) must pass Run. It includes the oversell proof: many goroutines
// racing for one SKU never reserve more than it has, and a long random sequence of reservations,
// cancellations, shipments, counts and adjustments matches a simple in-memory model step by step.
package stocktest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/shared/stock"
)

// Features declares how a backend differs. Zero values select the full suite.
type Features struct {
	// Shards is set by backends that keep a sharded item's shards as separate records and report
	// them in Item.Pool (DynamoDB). The suite then also checks the pool: pre-allocation spreads
	// units evenly, and a sold-out item has every shard empty. Backends without it (SQLite keep
	// one row per item) still accept SetShards and must behave identically through the port.
	Shards bool
	// OversellOrders, OversellUnits and OversellWorkers scale the oversell tests: by default
	// 5,000 one-unit orders race from 64 goroutines for 1,000 units. An emulator too slow for
	// that may scale down (DynamoDB Local: 1,000 orders for 200 units); say so where it is used.
	OversellOrders, OversellUnits, OversellWorkers int
	// PropertySteps is the length of the random sequence (default 400).
	PropertySteps int
}

func (f Features) oversell() (orders, units, workers int) {
	orders, units, workers = 5000, 1000, 64
	if f.OversellOrders > 0 {
		orders = f.OversellOrders
	}
	if f.OversellUnits > 0 {
		units = f.OversellUnits
	}
	if f.OversellWorkers > 0 {
		workers = f.OversellWorkers
	}
	return orders, units, workers
}

func (f Features) steps() int {
	if f.PropertySteps > 0 {
		return f.PropertySteps
	}
	return 400
}

// Run checks that an adapter keeps the stock.Store contract. newStore is called once per subtest
// with that subtest's t; it may return one store shared by all subtests: every subtest runs in
// parallel with its own SKUs, warehouses and order ids.
func Run(t *testing.T, newStore func(t *testing.T) stock.Store, f Features) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, x *fixture)
	}{
		{"Reserve/AllOrNothing", testAllOrNothing},
		{"Reserve/SafetyStockIsKeptBack", testSafetyKeptBack},
		{"Reserve/IdempotentUnderRedelivery", testReserveIdempotent},
		{"Reserve/ReserveAgainAfterRelease", testReserveAgain},
		{"Reserve/SameOrderConcurrently", testSameOrderConcurrent},
		{"Reserve/InvalidRequests", testInvalidRequests},
		{"Release/Idempotent", testReleaseIdempotent},
		{"Consume/Idempotent", testConsumeIdempotent},
		{"Consume/WrongStates", testWrongStates},
		{"Presale/PoolAndPromotion", testPresale},
		{"Admin/AuditEveryChange", testAudit},
		{"Admin/AuditPaging", testAuditPaging},
		{"Admin/CountBelowReservedIsFlagged", testCountBelowReserved},
		{"Admin/SafetyCannotUndoPromises", testSafetyRaise},
		{"Admin/InvalidChanges", testInvalidChanges},
		{"Get/PerWarehouse", testGet},
		{"List/FiltersAndPaging", testList},
		{"Shards/BehaveLikeOneItem", testShardsBehave},
		{"Shards/Resize", testShardsResize},
		{"Oversell/OneSKU", func(t *testing.T, x *fixture) { testOversell(t, x, 1) }},
		{"Oversell/ShardedSKU", func(t *testing.T, x *fixture) { testOversell(t, x, 8) }},
		{"Oversell/Bundles", testOversellBundles},
		{"Property/RandomSequence", testProperty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newFixture(t, newStore(t), f))
		})
	}
}

// timeout bounds each subtest, so that an adapter that deadlocks fails instead of hanging the run.
const timeout = 3 * time.Minute

// fixture holds one subtest's store, features and unique names.
type fixture struct {
	t      *testing.T
	s      stock.Store
	f      Features
	ctx    context.Context
	prefix string
	n      atomic.Int64
	ledger *ledger
}

func newFixture(t *testing.T, s stock.Store, f Features) *fixture {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return &fixture{t: t, s: s, f: f, ctx: ctx, prefix: UniqueName(t, ""), ledger: newLedger()}
}

// UniqueName returns a name no other test uses, valid as a SKU, warehouse or order id, readable
// from t's name.
func UniqueName(t testing.TB, prefix string) string {
	name := t.Name()
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r == '#' || r == '|' || r == ' ' || r < 0x21 {
			return '_'
		}
		return r
	}, name)
	if len(name) > 40 {
		name = name[:40]
	}
	if prefix != "" {
		prefix += "-"
	}
	return prefix + name + "-" + strings.ToLower(rand.Text()[:8])
}

func (x *fixture) sku(name string) string { return x.prefix + "-" + name }
func (x *fixture) wh(name string) string  { return "wh-" + x.prefix + "-" + name }
func (x *fixture) order() string          { return fmt.Sprintf("o-%s-%d", x.prefix, x.n.Add(1)) }

const actor, why = "key:stocktest", "conformance"

func (x *fixture) setOnHand(sku, wh string, q int64) stock.Item {
	x.t.Helper()
	it, err := x.s.SetOnHand(x.ctx, sku, wh, q, actor, why)
	if err != nil {
		x.t.Fatalf("SetOnHand(%s@%s, %d) = %v", sku, wh, q, err)
	}
	return it
}

func (x *fixture) setShards(sku, wh string, k int) stock.Item {
	x.t.Helper()
	it, err := x.s.SetShards(x.ctx, sku, wh, k, actor, why)
	if err != nil {
		x.t.Fatalf("SetShards(%s@%s, %d) = %v", sku, wh, k, err)
	}
	if it.Shards != k {
		x.t.Fatalf("SetShards(%s@%s, %d) returned an item with %d shards", sku, wh, k, it.Shards)
	}
	return it
}

func req(orderID, wh string, needs ...stock.Need) stock.Reservation {
	return stock.Reservation{OrderID: orderID, Warehouse: wh, Needs: needs, Key: orderID + ":1"}
}

func need(sku string, q int64) stock.Need { return stock.Need{SKU: sku, Quantity: q} }

// reserve calls Reserve, notes the record and fails on an error.
func (x *fixture) reserve(r stock.Reservation) stock.Result {
	x.t.Helper()
	res, err := x.s.Reserve(x.ctx, r)
	if err != nil {
		x.t.Fatalf("Reserve(%s) = %v", r.OrderID, err)
	}
	x.ledger.note(res.Record)
	return res
}

func (x *fixture) mustReserve(r stock.Reservation) stock.Result {
	x.t.Helper()
	res := x.reserve(r)
	if !res.OK() || res.Replayed || len(res.Short) > 0 {
		x.t.Fatalf("Reserve(%s %v) = %+v; want a new reservation", r.OrderID, r.Needs, res)
	}
	return res
}

func (x *fixture) release(orderID, reason string) stock.Result {
	x.t.Helper()
	res, err := x.s.Release(x.ctx, orderID, reason)
	if err != nil {
		x.t.Fatalf("Release(%s) = %v", orderID, err)
	}
	x.ledger.note(res.Record)
	return res
}

func (x *fixture) consume(orderID string) stock.Result {
	x.t.Helper()
	res, err := x.s.Consume(x.ctx, orderID)
	if err != nil {
		x.t.Fatalf("Consume(%s) = %v", orderID, err)
	}
	x.ledger.note(res.Record)
	return res
}

func (x *fixture) item(sku, wh string) stock.Item {
	x.t.Helper()
	st, err := x.s.Get(x.ctx, sku)
	if err != nil {
		x.t.Fatalf("Get(%s) = %v", sku, err)
	}
	it, ok := st.Item(wh)
	if !ok {
		x.t.Fatalf("Get(%s) has no item in %s: %+v", sku, wh, st)
	}
	return it
}

// levels fails unless the item has these numbers.
func (x *fixture) levels(sku, wh string, onHand, reserved, safety int64) stock.Item {
	x.t.Helper()
	it := x.item(sku, wh)
	if it.OnHand != onHand || it.Reserved != reserved || it.Safety != safety {
		x.t.Fatalf("%s@%s: on hand %d, reserved %d, safety %d; want %d, %d, %d", sku, wh, it.OnHand, it.Reserved, it.Safety, onHand, reserved, safety)
	}
	if want := max(0, onHand-reserved-safety); it.Available() != want {
		x.t.Fatalf("%s@%s: available %d, want %d", sku, wh, it.Available(), want)
	}
	return it
}

func (x *fixture) noRecord(orderID string) {
	x.t.Helper()
	if r, err := x.s.Reservation(x.ctx, orderID); !errors.Is(err, stock.ErrNoReservation) {
		x.t.Fatalf("Reservation(%s) = %+v, %v; want stock.ErrNoReservation", orderID, r, err)
	}
}

func (x *fixture) record(orderID string) stock.Record {
	x.t.Helper()
	r, err := x.s.Reservation(x.ctx, orderID)
	if err != nil {
		x.t.Fatalf("Reservation(%s) = %v", orderID, err)
	}
	return r
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s = %v, want %v", what, err, want)
	}
}

// ledger remembers the last record the store returned for each order. Every change of a record
// goes through a call that returns it, so the ledger is the store's own account of its records;
// checkInvariant compares it with the items' reserved units, and the tests confirm it against
// Reservation reads.
type ledger struct {
	mu      sync.Mutex
	records map[string]stock.Record
}

func newLedger() *ledger { return &ledger{records: map[string]stock.Record{}} }

func (l *ledger) note(r stock.Record) {
	if r.OrderID == "" || r.State == "" {
		return
	}
	l.mu.Lock()
	l.records[r.OrderID] = r
	l.mu.Unlock()
}

// reservedBy returns the units held by Reserved records, per SKU@warehouse.
func (l *ledger) reservedBy() map[string]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int64{}
	for _, r := range l.records {
		if r.State != stock.Reserved {
			continue
		}
		for _, n := range r.Needs {
			out[n.SKU+"@"+r.Warehouse] += n.Quantity
		}
	}
	return out
}

// checkInvariant checks, for every item of skus: reserved ≥ 0; reserved equals the units of the
// Reserved records in the ledger; reserved ≤ on hand − safety unless shortfallOK allows a
// shortfall for the item (a count below reserved); and, on backends with a pool, that the pool
// adds up to the item's numbers.
func (x *fixture) checkInvariant(skus []string, shortfallOK func(it stock.Item) bool) {
	x.t.Helper()
	held := x.ledger.reservedBy()
	for _, sku := range skus {
		st, err := x.s.Get(x.ctx, sku)
		if errors.Is(err, stock.ErrNotFound) {
			for k, n := range held {
				if strings.HasPrefix(k, sku+"@") && n != 0 {
					x.t.Fatalf("invariant: %s has no item but records hold %d units of it", k, n)
				}
			}
			continue
		}
		if err != nil {
			x.t.Fatalf("Get(%s) = %v", sku, err)
		}
		for _, it := range st.Items {
			name := it.SKU + "@" + it.Warehouse
			if it.Reserved < 0 {
				x.t.Fatalf("invariant: %s reserved %d < 0", name, it.Reserved)
			}
			if it.Reserved != held[name] {
				x.t.Fatalf("invariant: %s reserved %d, but its reserved records hold %d", name, it.Reserved, held[name])
			}
			if it.Reserved > it.OnHand-it.Safety && it.Reserved > 0 && (shortfallOK == nil || !shortfallOK(it)) {
				x.t.Fatalf("invariant: %s reserved %d > on hand %d − safety %d: OVERSOLD", name, it.Reserved, it.OnHand, it.Safety)
			}
			x.checkPool(it)
		}
	}
}

// checkPool checks a reported pool against the item's numbers.
func (x *fixture) checkPool(it stock.Item) {
	x.t.Helper()
	if !x.f.Shards {
		return
	}
	p := it.Pool
	if p == nil {
		x.t.Fatalf("%s@%s: the backend declares Features.Shards but reports no pool", it.SKU, it.Warehouse)
	}
	if len(p.Free) < it.Shards || len(p.Free) != len(p.Reserved) {
		x.t.Fatalf("%s@%s: pool %+v for %d shards", it.SKU, it.Warehouse, *p, it.Shards)
	}
	var res int64
	for i := range p.Free {
		if p.Free[i] < 0 || p.Reserved[i] < 0 {
			x.t.Fatalf("%s@%s: shard %d has free %d, reserved %d", it.SKU, it.Warehouse, i, p.Free[i], p.Reserved[i])
		}
		res += p.Reserved[i]
	}
	if res != it.Reserved {
		x.t.Fatalf("%s@%s: shards hold %d reserved, the item %d", it.SKU, it.Warehouse, res, it.Reserved)
	}
	if got := stock.Available(p.Free, p.Unallocated); got != it.Available() {
		x.t.Fatalf("%s@%s: the pool can give %d, the item's available is %d (pool %+v)", it.SKU, it.Warehouse, got, it.Available(), *p)
	}
	if it.OnHand-it.Safety != p.Unallocated+res+sum(p.Free) {
		x.t.Fatalf("%s@%s: on hand %d − safety %d ≠ unallocated %d + reserved %d + free %d", it.SKU, it.Warehouse, it.OnHand, it.Safety, p.Unallocated, res, sum(p.Free))
	}
}

func sum(xs []int64) int64 {
	var n int64
	for _, v := range xs {
		n += v
	}
	return n
}

// confirmLedger reads every order's record back and fails unless it is what the ledger holds.
func (x *fixture) confirmLedger() {
	x.t.Helper()
	x.ledger.mu.Lock()
	records := make([]stock.Record, 0, len(x.ledger.records))
	for _, r := range x.ledger.records {
		records = append(records, r)
	}
	x.ledger.mu.Unlock()
	for _, want := range records {
		got := x.record(want.OrderID)
		if got.State != want.State || got.Key != want.Key || got.Warehouse != want.Warehouse || fmt.Sprint(got.Needs) != fmt.Sprint(want.Needs) {
			x.t.Fatalf("Reservation(%s) = %+v; the store last returned %+v", want.OrderID, got, want)
		}
	}
}
