package stocktest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"orderhub/shared/stock"
)

func testAllOrNothing(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a, b, c, missing := x.sku("A"), x.sku("B"), x.sku("C"), x.sku("missing")
	x.setOnHand(a, wh, 10)
	x.setOnHand(b, wh, 1)
	x.setOnHand(c, wh, 3)

	// One short line: nothing is reserved for any line, and nothing is recorded.
	o1 := x.order()
	res := x.reserve(req(o1, wh, need(a, 2), need(b, 2), need(c, 1)))
	if res.OK() || res.Replayed || res.Record.State != "" {
		t.Fatalf("Reserve with one short line = %+v; want short, no record", res)
	}
	if want := []stock.Shortage{{SKU: b, Requested: 2, Available: 1}}; !slices.Equal(res.Short, want) {
		t.Fatalf("Short = %+v, want %+v", res.Short, want)
	}
	x.levels(a, wh, 10, 0, 0)
	x.levels(b, wh, 1, 0, 0)
	x.levels(c, wh, 3, 0, 0)
	x.noRecord(o1)

	// Every short line is named; a SKU without an item has nothing available; a SKU of another
	// warehouse does not count.
	x.setOnHand(a, x.wh("other"), 100)
	res = x.reserve(req(x.order(), wh, need(missing, 1), need(a, 11), need(b, 1)))
	if res.OK() {
		t.Fatalf("Reserve = %+v; want short", res)
	}
	got := slices.Clone(res.Short)
	slices.SortFunc(got, func(p, q stock.Shortage) int { return strings.Compare(p.SKU, q.SKU) })
	want := []stock.Shortage{{SKU: a, Requested: 11, Available: 10}, {SKU: missing, Requested: 1, Available: 0}}
	slices.SortFunc(want, func(p, q stock.Shortage) int { return strings.Compare(p.SKU, q.SKU) })
	if !slices.Equal(got, want) {
		t.Fatalf("Short = %+v, want %+v", got, want)
	}
	x.levels(a, wh, 10, 0, 0)
	x.levels(b, wh, 1, 0, 0)

	// Lines of one SKU are summed: 1 + 1 of B is more than B has.
	res = x.reserve(req(x.order(), wh, need(b, 1), need(b, 1)))
	if res.OK() || len(res.Short) != 1 || res.Short[0].Requested != 2 {
		t.Fatalf("Reserve(B×1 + B×1 of 1) = %+v; want short of 2", res)
	}

	// When every line fits, every line is reserved, with the needs merged and sorted.
	o2 := x.order()
	res = x.mustReserve(req(o2, wh, need(c, 1), need(a, 2), need(b, 1), need(a, 1)))
	if r := res.Record; r.State != stock.Reserved || r.OrderID != o2 || r.Warehouse != wh || r.Key != o2+":1" ||
		!slices.Equal(r.Needs, []stock.Need{need(a, 3), need(b, 1), need(c, 1)}) || r.CreatedAt.IsZero() {
		t.Fatalf("record = %+v", r)
	}
	x.levels(a, wh, 10, 3, 0)
	x.levels(b, wh, 1, 1, 0)
	x.levels(c, wh, 3, 1, 0)
	x.levels(a, x.wh("other"), 100, 0, 0)
	if got := x.record(o2); got.State != stock.Reserved || !slices.Equal(got.Needs, res.Record.Needs) {
		t.Fatalf("Reservation(%s) = %+v", o2, got)
	}
	x.checkInvariant([]string{a, b, c, missing}, nil)
}

func testSafetyKeptBack(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a := x.sku("A")
	x.setOnHand(a, wh, 10)
	if _, err := x.s.SetSafety(x.ctx, a, wh, 3, actor, why); err != nil {
		t.Fatal(err)
	}
	it := x.levels(a, wh, 10, 0, 3)
	if it.Available() != 7 {
		t.Fatalf("available %d, want 7", it.Available())
	}
	if res := x.reserve(req(x.order(), wh, need(a, 8))); res.OK() || res.Short[0].Available != 7 {
		t.Fatalf("Reserve(8 of 10 with safety 3) = %+v; want short with 7 available", res)
	}
	x.mustReserve(req(x.order(), wh, need(a, 7)))
	x.levels(a, wh, 10, 7, 3)
	if res := x.reserve(req(x.order(), wh, need(a, 1))); res.OK() {
		t.Fatalf("Reserve into the safety stock = %+v; want short", res)
	}
	x.checkInvariant([]string{a}, nil)
}

func testReserveIdempotent(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a, b := x.sku("A"), x.sku("B")
	x.setOnHand(a, wh, 10)
	x.setOnHand(b, wh, 10)
	o := x.order()
	first := x.mustReserve(req(o, wh, need(a, 2), need(b, 1)))

	// A redelivery, even one that (wrongly) asks for something else, returns the first reservation.
	for i, r := range []stock.Reservation{
		req(o, wh, need(a, 2), need(b, 1)),
		req(o, wh, need(a, 5)),
		{OrderID: o, Warehouse: x.wh("elsewhere"), Needs: []stock.Need{need(a, 1)}, Key: "another-key"},
	} {
		res := x.reserve(r)
		if !res.OK() || !res.Replayed || len(res.Short) != 0 || res.Record.Key != first.Record.Key ||
			!slices.Equal(res.Record.Needs, first.Record.Needs) || res.Record.Warehouse != wh {
			t.Fatalf("redelivery %d = %+v; want the first reservation, replayed", i, res)
		}
	}
	x.levels(a, wh, 10, 2, 0)
	x.levels(b, wh, 10, 1, 0)

	// A short reservation writes nothing, so its redelivery tries again and succeeds after a restock.
	o2 := x.order()
	if res := x.reserve(req(o2, wh, need(a, 9))); res.OK() || res.Replayed {
		t.Fatalf("Reserve(9 of 8 available) = %+v; want short", res)
	}
	x.noRecord(o2)
	x.setOnHand(a, wh, 11)
	if res := x.reserve(req(o2, wh, need(a, 9))); !res.OK() || res.Replayed {
		t.Fatalf("redelivered Reserve after a restock = %+v; want reserved", res)
	}
	x.levels(a, wh, 11, 11, 0)
	x.checkInvariant([]string{a, b}, nil)
}

func testReserveAgain(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a := x.sku("A")
	x.setOnHand(a, wh, 5)
	o := x.order()
	x.mustReserve(req(o, wh, need(a, 3)))
	rel := x.release(o, "hold: manual")
	if rel.Record.State != stock.Released || rel.Record.Reason != "hold: manual" || rel.Replayed {
		t.Fatalf("Release = %+v", rel)
	}
	x.levels(a, wh, 5, 0, 0)

	// The released attempt redelivered: no second effect.
	res := x.reserve(req(o, wh, need(a, 3)))
	if res.OK() || !res.Replayed || res.Record.State != stock.Released || len(res.Short) != 0 {
		t.Fatalf("redelivered Reserve of a released attempt = %+v; want the released record, replayed", res)
	}
	x.levels(a, wh, 5, 0, 0)

	// A new attempt (the order was routed again) reserves again, with its own needs.
	again := req(o, wh, need(a, 4))
	again.Key = o + ":2"
	res = x.mustReserve(again)
	if res.Record.Key != again.Key || !slices.Equal(res.Record.Needs, []stock.Need{need(a, 4)}) {
		t.Fatalf("second attempt = %+v", res)
	}
	x.levels(a, wh, 5, 4, 0)

	// A new attempt that is short leaves the released record as it was.
	x.release(o, "hold: again")
	third := req(o, wh, need(a, 6))
	third.Key = o + ":3"
	if res := x.reserve(third); res.OK() || len(res.Short) != 1 || res.Record.State != stock.Released || res.Record.Key != again.Key {
		t.Fatalf("short third attempt = %+v; want short with the released record", res)
	}
	x.levels(a, wh, 5, 0, 0)
	x.checkInvariant([]string{a}, nil)
	x.confirmLedger()
}

func testSameOrderConcurrent(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a, b := x.sku("A"), x.sku("B")
	x.setOnHand(a, wh, 100)
	x.setOnHand(b, wh, 100)
	const n = 16
	for round := range 3 {
		o := x.order()
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			fresh    int
			failures []string
		)
		for range n {
			wg.Go(func() {
				res, err := x.s.Reserve(x.ctx, req(o, wh, need(a, 2), need(b, 3)))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					failures = append(failures, err.Error())
				case !res.OK():
					failures = append(failures, fmt.Sprintf("%+v", res))
				case !res.Replayed:
					fresh++
				}
				x.ledger.note(res.Record)
			})
		}
		wg.Wait()
		if len(failures) > 0 || fresh != 1 {
			t.Fatalf("round %d: %d calls made a new reservation (want 1); failures: %v", round, fresh, failures)
		}
		x.levels(a, wh, 100, int64(2*(round+1)), 0)
		x.levels(b, wh, 100, int64(3*(round+1)), 0)
	}
	x.checkInvariant([]string{a, b}, nil)
}

func testInvalidRequests(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a := x.sku("A")
	x.setOnHand(a, wh, 10)
	many := make([]stock.Need, stock.MaxNeeds+1)
	for i := range many {
		many[i] = need(fmt.Sprintf("%s-%d", a, i), 1)
	}
	for name, r := range map[string]stock.Reservation{
		"no order id":      {Warehouse: wh, Needs: []stock.Need{need(a, 1)}, Key: "k"},
		"no warehouse":     {OrderID: x.order(), Needs: []stock.Need{need(a, 1)}, Key: "k"},
		"no key":           {OrderID: x.order(), Warehouse: wh, Needs: []stock.Need{need(a, 1)}},
		"no needs":         {OrderID: x.order(), Warehouse: wh, Key: "k"},
		"zero quantity":    req(x.order(), wh, need(a, 0)),
		"negative":         req(x.order(), wh, need(a, -1)),
		"huge":             req(x.order(), wh, need(a, stock.MaxQuantity+1)),
		"empty sku":        req(x.order(), wh, need("", 1)),
		"sku with a space": req(x.order(), wh, need("A 1", 1)),
		"sku with #":       req(x.order(), wh, need("A#1", 1)),
		"too many skus":    req(x.order(), wh, many...),
	} {
		if _, err := x.s.Reserve(x.ctx, r); !errors.Is(err, stock.ErrInvalid) {
			t.Errorf("Reserve(%s) = %v, want stock.ErrInvalid", name, err)
		}
		if _, err := x.s.Presale(x.ctx, r); !errors.Is(err, stock.ErrInvalid) {
			t.Errorf("Presale(%s) = %v, want stock.ErrInvalid", name, err)
		}
	}
	x.levels(a, wh, 10, 0, 0)
}

func testReleaseIdempotent(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a, b := x.sku("A"), x.sku("B")
	x.setOnHand(a, wh, 10)
	x.setOnHand(b, wh, 10)
	o := x.order()
	x.mustReserve(req(o, wh, need(a, 4), need(b, 2)))
	first := x.release(o, "cancelled")
	if first.Replayed || first.Record.State != stock.Released || first.Record.Reason != "cancelled" {
		t.Fatalf("Release = %+v", first)
	}
	for range 3 {
		res := x.release(o, "refunded")
		if !res.Replayed || res.Record.State != stock.Released || res.Record.Reason != "cancelled" {
			t.Fatalf("redelivered Release = %+v; want the first release, replayed", res)
		}
	}
	x.levels(a, wh, 10, 0, 0)
	x.levels(b, wh, 10, 0, 0)

	// Concurrent releases of one order give back its units once.
	o2 := x.order()
	x.mustReserve(req(o2, wh, need(a, 3)))
	x.mustReserve(req(x.order(), wh, need(a, 2)))
	var (
		wg    sync.WaitGroup
		fresh int
		mu    sync.Mutex
	)
	for range 8 {
		wg.Go(func() {
			res, err := x.s.Release(x.ctx, o2, "cancelled")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("Release = %v", err)
				return
			}
			x.ledger.note(res.Record)
			if !res.Replayed {
				fresh++
			}
		})
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("%d concurrent releases changed something, want 1", fresh)
	}
	x.levels(a, wh, 10, 2, 0)

	_, err := x.s.Release(x.ctx, x.order(), "cancelled")
	wantErr(t, "Release(unknown order)", err, stock.ErrNoReservation)
	_, err = x.s.Release(x.ctx, "", "cancelled")
	if !errors.Is(err, stock.ErrInvalid) && !errors.Is(err, stock.ErrNoReservation) {
		t.Fatalf("Release(\"\") = %v", err)
	}
	x.checkInvariant([]string{a, b}, nil)
}

func testConsumeIdempotent(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a, b := x.sku("A"), x.sku("B")
	x.setOnHand(a, wh, 10)
	x.setOnHand(b, wh, 5)
	if _, err := x.s.SetSafety(x.ctx, a, wh, 2, actor, why); err != nil {
		t.Fatal(err)
	}
	o := x.order()
	x.mustReserve(req(o, wh, need(a, 3), need(b, 5)))
	x.mustReserve(req(x.order(), wh, need(a, 1)))
	res := x.consume(o)
	if res.Replayed || res.Record.State != stock.Consumed || !res.OK() {
		t.Fatalf("Consume = %+v", res)
	}
	x.levels(a, wh, 7, 1, 2)
	x.levels(b, wh, 0, 0, 0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			res, err := x.s.Consume(x.ctx, o)
			if err != nil || !res.Replayed || res.Record.State != stock.Consumed {
				t.Errorf("redelivered Consume = %+v, %v; want replayed", res, err)
			}
		})
	}
	wg.Wait()
	x.levels(a, wh, 7, 1, 2)
	x.levels(b, wh, 0, 0, 0)
	// A redelivered Reserve of a shipped order does not reserve again.
	if res := x.reserve(req(o, wh, need(a, 3), need(b, 5))); !res.Replayed || res.Record.State != stock.Consumed {
		t.Fatalf("Reserve after Consume = %+v; want the consumed record, replayed", res)
	}
	x.levels(a, wh, 7, 1, 2)
	x.checkInvariant([]string{a, b}, nil)
}

func testWrongStates(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a := x.sku("A")
	x.setOnHand(a, wh, 10)
	shipped, cancelled, waiting := x.order(), x.order(), x.order()
	x.mustReserve(req(shipped, wh, need(a, 1)))
	x.consume(shipped)
	x.mustReserve(req(cancelled, wh, need(a, 1)))
	x.release(cancelled, "cancelled")
	if _, err := x.s.Presale(x.ctx, req(waiting, wh, need(a, 1))); err != nil {
		t.Fatal(err)
	}

	_, err := x.s.Release(x.ctx, shipped, "refund")
	wantErr(t, "Release(consumed)", err, stock.ErrState)
	_, err = x.s.Consume(x.ctx, cancelled)
	wantErr(t, "Consume(released)", err, stock.ErrState)
	_, err = x.s.Consume(x.ctx, waiting)
	wantErr(t, "Consume(presale)", err, stock.ErrState)
	_, err = x.s.Consume(x.ctx, x.order())
	wantErr(t, "Consume(unknown)", err, stock.ErrNoReservation)
	_, err = x.s.Reservation(x.ctx, x.order())
	wantErr(t, "Reservation(unknown)", err, stock.ErrNoReservation)
	x.levels(a, wh, 9, 0, 0)
}

func testPresale(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a, b := x.sku("A"), x.sku("B") // A: the presale SKU, not in stock yet
	x.setOnHand(b, wh, 10)
	o1, o2, o3 := x.order(), x.order(), x.order()
	for i, o := range []string{o1, o2, o3} {
		res, err := x.s.Presale(x.ctx, req(o, wh, need(a, int64(i+1)), need(b, 1)))
		if err != nil || res.Record.State != stock.Presale || res.Replayed || res.OK() {
			t.Fatalf("Presale(%s) = %+v, %v", o, res, err)
		}
		x.ledger.note(res.Record)
	}
	// The pool holds no stock: B is untouched and A does not even exist.
	x.levels(b, wh, 10, 0, 0)
	if _, err := x.s.Get(x.ctx, a); !errors.Is(err, stock.ErrNotFound) {
		t.Fatalf("Get(presale SKU) = %v, want stock.ErrNotFound", err)
	}
	// A redelivered presale changes nothing.
	if res, err := x.s.Presale(x.ctx, req(o1, wh, need(a, 1), need(b, 1))); err != nil || !res.Replayed || res.Record.State != stock.Presale {
		t.Fatalf("redelivered Presale = %+v, %v", res, err)
	}
	wl, err := x.s.Waitlist(x.ctx, a, stock.Paging{})
	if err != nil {
		t.Fatal(err)
	}
	if got := waitingIDs(wl); !slices.Equal(got, []string{o1, o2, o3}) || wl.Orders[1].Quantity != 2 || wl.Orders[0].Warehouse != wh || wl.Orders[0].Since.IsZero() {
		t.Fatalf("Waitlist(A) = %+v; want %s, %s, %s oldest first", wl, o1, o2, o3)
	}
	page, err := x.s.Waitlist(x.ctx, a, stock.Paging{Limit: 2})
	if err != nil || len(page.Orders) != 2 || page.Next == "" {
		t.Fatalf("Waitlist(limit 2) = %+v, %v", page, err)
	}
	rest, err := x.s.Waitlist(x.ctx, a, stock.Paging{Cursor: page.Next, Limit: 2})
	if err != nil || !slices.Equal(waitingIDs(rest), []string{o3}) || rest.Next != "" {
		t.Fatalf("Waitlist page 2 = %+v, %v", rest, err)
	}

	// Promotion before the stock arrives: short, still waiting.
	res := x.reserve(req(o1, wh, need(a, 1), need(b, 1)))
	if res.OK() || res.Record.State != stock.Presale || len(res.Short) != 1 || res.Short[0].SKU != a {
		t.Fatalf("Reserve(presale order, no stock) = %+v; want short and still presale", res)
	}
	x.levels(b, wh, 10, 0, 0)

	// The stock arrives: promotion reserves and takes the order out of the pool.
	x.setOnHand(a, wh, 2)
	res = x.mustReserve(req(o1, wh, need(a, 1), need(b, 1)))
	if res.Record.State != stock.Reserved {
		t.Fatalf("promotion = %+v", res)
	}
	x.levels(a, wh, 2, 1, 0)
	x.levels(b, wh, 10, 1, 0)
	// Cancelling a waiting order takes it out of the pool.
	if rel := x.release(o2, "cancelled"); rel.Record.State != stock.Released || rel.Replayed {
		t.Fatalf("Release(presale) = %+v", rel)
	}
	x.levels(a, wh, 2, 1, 0)
	wl, err = x.s.Waitlist(x.ctx, a, stock.Paging{})
	if err != nil || !slices.Equal(waitingIDs(wl), []string{o3}) {
		t.Fatalf("Waitlist after promotion and cancel = %+v, %v; want only %s", wl, err, o3)
	}
	if wl, err := x.s.Waitlist(x.ctx, b, stock.Paging{}); err != nil || !slices.Equal(waitingIDs(wl), []string{o3}) {
		t.Fatalf("Waitlist(B) = %+v, %v", wl, err)
	}
	// A presale of an order that is already reserved returns the reservation.
	if res, err := x.s.Presale(x.ctx, req(o1, wh, need(a, 1))); err != nil || !res.Replayed || res.Record.State != stock.Reserved {
		t.Fatalf("Presale(reserved order) = %+v, %v", res, err)
	}
	if _, err := x.s.Waitlist(x.ctx, a, stock.Paging{Cursor: "bogus"}); !errors.Is(err, stock.ErrInvalidCursor) {
		t.Fatalf("Waitlist(bad cursor) = %v", err)
	}
	x.checkInvariant([]string{a, b}, nil)
	x.confirmLedger()
}

func waitingIDs(p stock.WaitPage) []string {
	out := make([]string, 0, len(p.Orders))
	for _, w := range p.Orders {
		out = append(out, w.OrderID)
	}
	return out
}
