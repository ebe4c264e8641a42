package stocktest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"orderhub/shared/fault"
	"orderhub/shared/stock"
)

// SeedEnv, when set to an integer, fixes the seed of the random sequence (to replay a failure).
const SeedEnv = "ORDERHUB_STOCK_SEED"

// model is the simplest possible stock store: maps, no shards, no concurrency. The property test
// runs the same random operations on it and on the adapter and compares every answer and level.
type model struct {
	items  map[string]*stock.Item // by "sku@warehouse"
	recs   map[string]stock.Record
	audits map[string][]stock.AuditRecord // by SKU, oldest first
}

func newModel() *model {
	return &model{items: map[string]*stock.Item{}, recs: map[string]stock.Record{}, audits: map[string][]stock.AuditRecord{}}
}

func itemKey(sku, wh string) string { return sku + "@" + wh }

func (m *model) level(sku, wh string) stock.Item {
	if it, ok := m.items[itemKey(sku, wh)]; ok {
		return *it
	}
	return stock.Item{SKU: sku, Warehouse: wh}
}

func (m *model) reserve(r stock.Reservation) stock.Result {
	rec, has := m.recs[r.OrderID]
	if has {
		switch {
		case rec.State == stock.Reserved || rec.State == stock.Consumed,
			rec.State == stock.Released && rec.Key == r.Key:
			return stock.Result{Record: rec, Replayed: true}
		}
	}
	var short []stock.Shortage
	for _, n := range r.Needs {
		it := m.level(n.SKU, r.Warehouse)
		if avail := it.OnHand - it.Safety - it.Reserved; avail < n.Quantity {
			short = append(short, stock.Shortage{SKU: n.SKU, Requested: n.Quantity, Available: max(0, avail)})
		}
	}
	if len(short) > 0 {
		return stock.Result{Record: rec, Short: short}
	}
	for _, n := range r.Needs {
		m.items[itemKey(n.SKU, r.Warehouse)].Reserved += n.Quantity
	}
	rec = stock.Record{OrderID: r.OrderID, Warehouse: r.Warehouse, Key: r.Key, State: stock.Reserved, Needs: r.Needs}
	m.recs[r.OrderID] = rec
	return stock.Result{Record: rec}
}

func (m *model) presale(r stock.Reservation) stock.Result {
	if rec, has := m.recs[r.OrderID]; has && (rec.State != stock.Released || rec.Key == r.Key) {
		return stock.Result{Record: rec, Replayed: true}
	}
	rec := stock.Record{OrderID: r.OrderID, Warehouse: r.Warehouse, Key: r.Key, State: stock.Presale, Needs: r.Needs}
	m.recs[r.OrderID] = rec
	return stock.Result{Record: rec}
}

func (m *model) release(id, reason string) (stock.Result, error) {
	rec, has := m.recs[id]
	switch {
	case !has:
		return stock.Result{}, stock.ErrNoReservation
	case rec.State == stock.Released:
		return stock.Result{Record: rec, Replayed: true}, nil
	case rec.State == stock.Consumed:
		return stock.Result{}, stock.ErrState
	case rec.State == stock.Reserved:
		for _, n := range rec.Needs {
			m.items[itemKey(n.SKU, rec.Warehouse)].Reserved -= n.Quantity
		}
	}
	rec.State, rec.Reason = stock.Released, reason
	m.recs[id] = rec
	return stock.Result{Record: rec}, nil
}

func (m *model) consume(id string) (stock.Result, error) {
	rec, has := m.recs[id]
	switch {
	case !has:
		return stock.Result{}, stock.ErrNoReservation
	case rec.State == stock.Consumed:
		return stock.Result{Record: rec, Replayed: true}, nil
	case rec.State != stock.Reserved:
		return stock.Result{}, stock.ErrState
	}
	for _, n := range rec.Needs {
		it := m.items[itemKey(n.SKU, rec.Warehouse)]
		it.Reserved -= n.Quantity
		it.OnHand -= n.Quantity
	}
	rec.State = stock.Consumed
	m.recs[id] = rec
	return stock.Result{Record: rec}, nil
}

// change applies an administrative change that passed its checks and records its audit.
func (m *model) change(sku, wh string, op stock.Op, apply func(it *stock.Item)) stock.Item {
	k := itemKey(sku, wh)
	it, ok := m.items[k]
	if !ok {
		it = &stock.Item{SKU: sku, Warehouse: wh, Shards: 1}
		m.items[k] = it
	}
	before := stock.LevelsOf(*it)
	if !ok {
		before.Shards = 0 // a new item had no levels at all
	}
	apply(it)
	after := stock.LevelsOf(*it)
	m.audits[sku] = append(m.audits[sku], stock.AuditRecord{SKU: sku, Warehouse: wh, Op: op, Delta: stock.DeltaOf(op, before, after),
		Before: before, After: after, Flagged: after.Shortfall() > 0})
	return *it
}

func (m *model) setOnHand(sku, wh string, q int64) (stock.Item, error) {
	return m.change(sku, wh, stock.OpSetOnHand, func(it *stock.Item) { it.OnHand = q }), nil
}

func (m *model) adjust(sku, wh string, d int64) (stock.Item, error) {
	if err := stock.CheckDelta(m.level(sku, wh).OnHand, d); err != nil {
		return stock.Item{}, err
	}
	return m.change(sku, wh, stock.OpAdjust, func(it *stock.Item) { it.OnHand += d }), nil
}

func (m *model) setSafety(sku, wh string, s int64) (stock.Item, error) {
	old := m.level(sku, wh)
	if err := stock.CheckSafetyRaise(old, s); err != nil {
		return stock.Item{}, err
	}
	return m.change(sku, wh, stock.OpSetSafety, func(it *stock.Item) { it.Safety = s }), nil
}

func (m *model) setShards(sku, wh string, k int) (stock.Item, error) {
	return m.change(sku, wh, stock.OpSetShards, func(it *stock.Item) { it.Shards = k }), nil
}

// testProperty runs a seeded random sequence of reservations, redeliveries, presales,
// promotions, cancellations, shipments, counts, adjustments, safety stock and shard changes on the
// store and on the model, comparing every answer, every level and the invariant after each step.
func testProperty(t *testing.T, x *fixture) {
	seed := rand.Uint64()
	if s := os.Getenv(SeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", SeedEnv, s, err)
		}
	}
	t.Logf("seed %d (set %s=%d to replay)", seed, SeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	m := newModel()
	skus := []string{x.sku("A"), x.sku("B"), x.sku("C")}
	whs := []string{x.wh("1"), x.wh("2")}
	var (
		sent   []stock.Reservation // every request sent, for redeliveries
		isPre  = map[string]bool{} // request index → sent with Presale
		orders []string
		keys   = map[string]int{}
	)
	newRequest := func() stock.Reservation {
		id := x.order()
		orders = append(orders, id)
		keys[id] = 1
		var needs []stock.Need
		for _, i := range rng.Perm(len(skus))[:1+rng.IntN(3)] {
			needs = append(needs, need(skus[i], 1+rng.Int64N(4)))
		}
		needs, _ = stock.Merge(needs)
		return stock.Reservation{OrderID: id, Warehouse: whs[rng.IntN(len(whs))], Needs: needs, Key: id + ":1"}
	}
	pickOrder := func() string {
		if len(orders) == 0 || rng.IntN(20) == 0 {
			return x.order() // sometimes an order the store never saw
		}
		return orders[rng.IntN(len(orders))]
	}
	shortfallOK := func(it stock.Item) bool { return m.level(it.SKU, it.Warehouse).Shortfall() > 0 }

	steps := x.f.steps()
	for step := range steps {
		var (
			what      string
			got, want stock.Result
			gotErr    error
			wantErr   error
			item      *[2]stock.Item
		)
		switch op := rng.IntN(100); {
		case op < 25:
			r := newRequest()
			what = fmt.Sprintf("Reserve(%s %s %v)", r.OrderID, r.Warehouse, r.Needs)
			sent = append(sent, r)
			got, gotErr = x.s.Reserve(x.ctx, r)
			want = m.reserve(r)
		case op < 35 && len(sent) > 0:
			i := rng.IntN(len(sent))
			r := sent[i]
			if isPre[r.OrderID+r.Key] {
				what = fmt.Sprintf("redelivered Presale(%s)", r.OrderID)
				got, gotErr = x.s.Presale(x.ctx, r)
				want = m.presale(r)
			} else {
				what = fmt.Sprintf("redelivered Reserve(%s key %s)", r.OrderID, r.Key)
				got, gotErr = x.s.Reserve(x.ctx, r)
				want = m.reserve(r)
			}
		case op < 40:
			r := newRequest()
			what = fmt.Sprintf("Presale(%s %v)", r.OrderID, r.Needs)
			sent = append(sent, r)
			isPre[r.OrderID+r.Key] = true
			got, gotErr = x.s.Presale(x.ctx, r)
			want = m.presale(r)
		case op < 46:
			// A new attempt for an order: a promotion of a presale order, a re-reservation of a
			// released one, or a redelivery in any other state.
			id := pickOrder()
			base, ok := m.recs[id]
			if !ok {
				continue
			}
			keys[id]++
			r := stock.Reservation{OrderID: id, Warehouse: base.Warehouse, Needs: base.Needs, Key: fmt.Sprintf("%s:%d", id, keys[id])}
			what = fmt.Sprintf("Reserve(%s new key %s, was %s)", id, r.Key, base.State)
			sent = append(sent, r)
			got, gotErr = x.s.Reserve(x.ctx, r)
			want = m.reserve(r)
		case op < 60:
			id := pickOrder()
			what = fmt.Sprintf("Release(%s)", id)
			got, gotErr = x.s.Release(x.ctx, id, "step "+strconv.Itoa(step))
			want, wantErr = m.release(id, "step "+strconv.Itoa(step))
		case op < 72:
			id := pickOrder()
			what = fmt.Sprintf("Consume(%s)", id)
			got, gotErr = x.s.Consume(x.ctx, id)
			want, wantErr = m.consume(id)
		default:
			sku, wh := skus[rng.IntN(len(skus))], whs[rng.IntN(len(whs))]
			var g, w stock.Item
			switch op2 := rng.IntN(4); op2 {
			case 0:
				q := rng.Int64N(26)
				what = fmt.Sprintf("SetOnHand(%s@%s, %d)", sku, wh, q)
				g, gotErr = x.s.SetOnHand(x.ctx, sku, wh, q, actor, what)
				w, wantErr = m.setOnHand(sku, wh, q)
			case 1:
				d := rng.Int64N(19) - 6
				if d == 0 {
					d = 1
				}
				what = fmt.Sprintf("Adjust(%s@%s, %+d)", sku, wh, d)
				g, gotErr = x.s.Adjust(x.ctx, sku, wh, d, actor, what)
				w, wantErr = m.adjust(sku, wh, d)
			case 2:
				s := rng.Int64N(7)
				what = fmt.Sprintf("SetSafety(%s@%s, %d)", sku, wh, s)
				g, gotErr = x.s.SetSafety(x.ctx, sku, wh, s, actor, what)
				w, wantErr = m.setSafety(sku, wh, s)
			default:
				k := 1 + rng.IntN(8)
				what = fmt.Sprintf("SetShards(%s@%s, %d)", sku, wh, k)
				g, gotErr = x.s.SetShards(x.ctx, sku, wh, k, actor, what)
				w, wantErr = m.setShards(sku, wh, k)
			}
			if wantErr == nil {
				m.audits[sku][len(m.audits[sku])-1].Reason = what
			}
			item = &[2]stock.Item{g, w}
		}
		where := fmt.Sprintf("step %d (seed %d): %s", step, seed, what)
		if !sameErr(gotErr, wantErr) {
			t.Fatalf("%s: error %v, want %v", where, gotErr, wantErr)
		}
		if gotErr == nil {
			if item != nil {
				g, w := item[0], item[1]
				if g.OnHand != w.OnHand || g.Reserved != w.Reserved || g.Safety != w.Safety || g.Shards != w.Shards {
					t.Fatalf("%s: returned %+v, model %+v", where, g, w)
				}
			} else {
				if !sameResult(got, want) {
					t.Fatalf("%s:\n got %+v\nwant %+v", where, got, want)
				}
				x.ledger.note(got.Record)
			}
		}
		x.compareItems(where, m, skus, whs)
		x.checkInvariant(skus, shortfallOK)
		if step%50 == 49 {
			x.confirmLedger()
		}
	}
	x.confirmLedger()
	for _, id := range orders {
		if _, ok := m.recs[id]; !ok {
			x.noRecord(id)
		}
	}
	// The audit holds every change that was applied, newest first, and nothing else.
	for _, sku := range skus {
		var got []stock.AuditRecord
		cursor := ""
		for {
			p, err := x.s.Audit(x.ctx, sku, stock.Paging{Cursor: cursor, Limit: stock.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p.Records...)
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		want := slices.Clone(m.audits[sku])
		slices.Reverse(want)
		if len(got) != len(want) {
			t.Fatalf("Audit(%s): %d records, the model %d", sku, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.Op != w.Op || g.Warehouse != w.Warehouse || g.Delta != w.Delta || g.Before != w.Before || g.After != w.After ||
				g.Flagged != w.Flagged || g.Reason != w.Reason || g.Actor != actor {
				t.Fatalf("Audit(%s) record %d (newest first):\n got %+v\nwant %+v", sku, i, g, w)
			}
		}
	}
	t.Logf("%d steps, %d orders, %d audit records", steps, len(orders), len(m.audits[skus[0]])+len(m.audits[skus[1]])+len(m.audits[skus[2]]))
}

// compareItems fails unless the store's items are exactly the model's.
func (x *fixture) compareItems(where string, m *model, skus, whs []string) {
	x.t.Helper()
	for _, sku := range skus {
		st, err := x.s.Get(x.ctx, sku)
		if err != nil && !errors.Is(err, stock.ErrNotFound) {
			x.t.Fatalf("%s: Get(%s) = %v", where, sku, err)
		}
		for _, wh := range whs {
			w, exists := m.items[itemKey(sku, wh)]
			g, found := st.Item(wh)
			switch {
			case exists != found:
				x.t.Fatalf("%s: %s@%s exists in the store: %v, in the model: %v", where, sku, wh, found, exists)
			case exists && (g.OnHand != w.OnHand || g.Reserved != w.Reserved || g.Safety != w.Safety || g.Shards != w.Shards):
				x.t.Fatalf("%s: %s@%s is on hand %d reserved %d safety %d shards %d; the model says %d %d %d %d",
					where, sku, wh, g.OnHand, g.Reserved, g.Safety, g.Shards, w.OnHand, w.Reserved, w.Safety, w.Shards)
			}
		}
	}
}

func sameErr(got, want error) bool {
	if want == nil || got == nil {
		return want == got
	}
	if w, ok := fault.As(want); ok {
		g, ok := fault.As(got)
		return ok && g.Kind == w.Kind && g.Code == w.Code
	}
	return errors.Is(got, want)
}

func sameResult(got, want stock.Result) bool {
	if got.OK() != want.OK() || got.Replayed != want.Replayed || len(got.Short) != len(want.Short) {
		return false
	}
	g, w := got.Record, want.Record
	if g.State != w.State || g.OrderID != w.OrderID || g.Key != w.Key || g.Warehouse != w.Warehouse || g.Reason != w.Reason ||
		!slices.Equal(g.Needs, w.Needs) {
		return false
	}
	gs, ws := slices.Clone(got.Short), slices.Clone(want.Short)
	less := func(a, b stock.Shortage) int { return strings.Compare(a.SKU, b.SKU) }
	slices.SortFunc(gs, less)
	slices.SortFunc(ws, less)
	return slices.Equal(gs, ws)
}
