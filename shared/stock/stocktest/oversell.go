package stocktest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/shared/money"
	"orderhub/shared/order"
	"orderhub/shared/stock"
)

func testShardsBehave(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a := x.sku("HOT")
	x.setOnHand(a, wh, 20)
	it := x.setShards(a, wh, 8)
	if x.f.Shards {
		p := it.Pool
		if p == nil || len(p.Free) != 8 || sum(p.Free) != 20 || slices.Max(p.Free)-slices.Min(p.Free) > 1 || p.Unallocated != 0 {
			t.Fatalf("pool after SetShards(8) of 20 units = %+v; want the units pre-allocated evenly", p)
		}
	}
	x.levels(a, wh, 20, 0, 0)

	// Twenty one-unit orders all succeed, although random starts keep hitting shards that ran dry.
	var orders []string
	for range 20 {
		o := x.order()
		x.mustReserve(req(o, wh, need(a, 1)))
		orders = append(orders, o)
	}
	if res := x.reserve(req(x.order(), wh, need(a, 1))); res.OK() || len(res.Short) != 1 || res.Short[0].Available != 0 {
		t.Fatalf("Reserve of a sold-out SKU = %+v; want short with 0 available", res)
	}
	it = x.levels(a, wh, 20, 20, 0)
	if x.f.Shards && (sum(it.Pool.Free) != 0 || it.Pool.Unallocated > 0) {
		t.Fatalf("sold out, but the pool is %+v; sold out means every shard is empty", it.Pool)
	}
	x.checkInvariant([]string{a}, nil)

	// Released units come back and serve one five-unit order, whichever shards they went to.
	for _, o := range orders[:5] {
		x.release(o, "cancelled")
	}
	x.levels(a, wh, 20, 15, 0)
	x.mustReserve(req(x.order(), wh, need(a, 5)))
	x.levels(a, wh, 20, 20, 0)

	// A restock serves an order larger than any one shard's slice.
	if _, err := x.s.Adjust(x.ctx, a, wh, 16, actor, "receipt"); err != nil {
		t.Fatal(err)
	}
	x.mustReserve(req(x.order(), wh, need(a, 13)))
	if res := x.reserve(req(x.order(), wh, need(a, 4))); res.OK() || res.Short[0].Available != 3 {
		t.Fatalf("Reserve(4 of 3) = %+v; want short with 3 available", res)
	}
	x.mustReserve(req(x.order(), wh, need(a, 3)))
	x.levels(a, wh, 36, 36, 0)
	for _, o := range orders[5:10] {
		x.consume(o)
	}
	x.levels(a, wh, 31, 31, 0)
	x.checkInvariant([]string{a}, nil)
}

func testShardsResize(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a := x.sku("HOT")
	x.setOnHand(a, wh, 40)
	x.setShards(a, wh, 8)
	var orders []string
	for range 12 {
		o := x.order()
		x.mustReserve(req(o, wh, need(a, 1)))
		orders = append(orders, o)
	}
	it := x.setShards(a, wh, 2)
	x.levels(a, wh, 40, 12, 0)
	if x.f.Shards {
		if len(it.Pool.Free) < 8 {
			t.Fatalf("pool after shrinking to 2 shards = %+v; retired shards keep their reservations", it.Pool)
		}
		for i, f := range it.Pool.Free[2:] {
			if f != 0 {
				t.Fatalf("retired shard %d still has %d free units: %+v", i+2, f, it.Pool)
			}
		}
	}
	// Reservations made on retired shards are released and shipped as usual.
	for _, o := range orders[:4] {
		x.release(o, "cancelled")
	}
	for _, o := range orders[4:8] {
		x.consume(o)
	}
	x.levels(a, wh, 36, 4, 0)
	x.checkInvariant([]string{a}, nil)
	x.setShards(a, wh, 1)
	x.mustReserve(req(x.order(), wh, need(a, 30)))
	x.setShards(a, wh, 16)
	x.mustReserve(req(x.order(), wh, need(a, 2)))
	if res := x.reserve(req(x.order(), wh, need(a, 1))); res.OK() {
		t.Fatalf("Reserve beyond the stock after resizing = %+v", res)
	}
	x.levels(a, wh, 36, 36, 0)
	x.checkInvariant([]string{a}, nil)
}

// testOversell races many one-unit orders from three channels for one SKU.
func testOversell(t *testing.T, x *fixture, shards int) {
	orders, units, workers := x.f.oversell()
	wh := x.wh("main")
	sku := x.sku("HOT")
	x.setOnHand(sku, wh, int64(units))
	if shards > 1 {
		x.setShards(sku, wh, shards)
	}
	// Three channels list the SKU under their own codes; the third sells it under the seller's code.
	m, err := stock.NewMapping(
		stock.Rule{Channel: order.Taobao, Code: "tb-9001", Components: []stock.Component{{SKU: sku, Quantity: 1}}},
		stock.Rule{Channel: order.JD, Code: "jd-77", Components: []stock.Component{{SKU: sku, Quantity: 1}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	channels := []order.Channel{order.Taobao, order.JD, order.Pinduoduo}
	lineOf := map[order.Channel]order.Line{
		order.Taobao:    {ChannelSKU: "tb-9001", Quantity: 1, UnitPrice: money.New(9900, "CNY")},
		order.JD:        {ChannelSKU: "jd-77", Quantity: 1, UnitPrice: money.New(9900, "CNY")},
		order.Pinduoduo: {ChannelSKU: "pdd-5", SKU: sku, Quantity: 1, UnitPrice: money.New(9900, "CNY")},
	}

	ids := make([]string, orders)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%s-%d", x.order(), channels[i%3], i)
	}
	answers := make([]byte, orders) // 'R' reserved, 'S' short
	var (
		reserved, short atomic.Int64
		errs            = make(chan error, orders)
		jobs            = make(chan int)
		wg              sync.WaitGroup
	)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				ch := channels[i%3]
				needs, err := stock.Expand([]order.Line{lineOf[ch]}, m.For(ch))
				if err != nil {
					errs <- err
					continue
				}
				res, err := x.s.Reserve(x.ctx, stock.Reservation{OrderID: ids[i], Warehouse: wh, Needs: needs, Key: ids[i] + ":1"})
				switch {
				case err != nil:
					errs <- fmt.Errorf("order %d: %w", i, err)
				case res.OK() && !res.Replayed:
					answers[i] = 'R'
					reserved.Add(1)
					x.ledger.note(res.Record)
				case !res.OK() && len(res.Short) == 1 && res.Short[0].SKU == sku && res.Record.State == "":
					answers[i] = 'S'
					short.Add(1)
				default:
					errs <- fmt.Errorf("order %d: an answer that is neither reserved nor short: %+v", i, res)
				}
			}
		})
	}
	for i := range orders {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d orders for %d units (%d shards) from %d goroutines in %v: %.0f reservations/s",
		orders, units, shards, workers, elapsed.Round(time.Millisecond), float64(orders)/elapsed.Seconds())
	if reserved.Load() != int64(units) || short.Load() != int64(orders-units) {
		t.Fatalf("%d reserved, %d short; want exactly %d reserved and %d short", reserved.Load(), short.Load(), units, orders-units)
	}
	for i, a := range answers {
		if a == 0 {
			t.Fatalf("order %d got no answer", i)
		}
	}
	it := x.levels(sku, wh, int64(units), int64(units), 0)
	if x.f.Shards && shards > 1 && (len(it.Pool.Free) != shards || sum(it.Pool.Free) != 0 || it.Pool.Unallocated > 0) {
		t.Fatalf("sold out, but the pool is %+v", it.Pool)
	}
	// None lost: the reserved orders hold exactly one unit each, the short ones nothing.
	for i, id := range ids {
		r, err := x.s.Reservation(x.ctx, id)
		switch answers[i] {
		case 'R':
			if err != nil || r.State != stock.Reserved || !slices.Equal(r.Needs, []stock.Need{need(sku, 1)}) {
				t.Fatalf("reserved order %s: Reservation = %+v, %v", id, r, err)
			}
		case 'S':
			if !errors.Is(err, stock.ErrNoReservation) {
				t.Fatalf("short order %s: Reservation = %+v, %v; want none", id, r, err)
			}
		}
	}
	x.checkInvariant([]string{sku}, nil)
}

// testOversellBundles races multi-line orders (a bundle of two SKUs, pairs of one, singles of the
// other) for two SKUs: every order gets all its lines or none, and neither SKU is oversold.
func testOversellBundles(t *testing.T, x *fixture) {
	orders, units, workers := x.f.oversell()
	orders, unitsA, unitsB := orders/4, int64(units/4), int64(units/16)
	wh := x.wh("main")
	a, b := x.sku("A"), x.sku("B")
	x.setOnHand(a, wh, unitsA)
	x.setOnHand(b, wh, unitsB)
	m, err := stock.NewMapping(stock.Rule{Code: "gift-box", Components: []stock.Component{{SKU: a, Quantity: 1}, {SKU: b, Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := [][]order.Line{
		{{ChannelSKU: "gift-box", Quantity: 1}},
		{{SKU: a, Quantity: 2}},
		{{SKU: b, Quantity: 1}, {SKU: a, Quantity: 1, Gift: true}},
	}
	var (
		wg   sync.WaitGroup
		jobs = make(chan int)
		mu   sync.Mutex
		got  = map[string]int64{}
	)
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				needs, err := stock.Expand(kinds[i%len(kinds)], m.For(order.Douyin))
				if err != nil {
					t.Error(err)
					continue
				}
				id := fmt.Sprintf("%s-%d", x.order(), i)
				res, err := x.s.Reserve(x.ctx, stock.Reservation{OrderID: id, Warehouse: wh, Needs: needs, Key: id})
				if err != nil || (!res.OK() && len(res.Short) == 0) {
					t.Errorf("order %d: %+v, %v", i, res, err)
					continue
				}
				if res.OK() {
					x.ledger.note(res.Record)
					if !slices.Equal(res.Record.Needs, needs) {
						t.Errorf("order %d reserved %v, asked %v", i, res.Record.Needs, needs)
					}
					mu.Lock()
					for _, n := range needs {
						got[n.SKU] += n.Quantity
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range orders {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ia, ib := x.item(a, wh), x.item(b, wh)
	if ia.Reserved != got[a] || ib.Reserved != got[b] || ia.Reserved > unitsA || ib.Reserved > unitsB {
		t.Fatalf("reserved A %d (orders hold %d, stock %d), B %d (orders hold %d, stock %d)", ia.Reserved, got[a], unitsA, ib.Reserved, got[b], unitsB)
	}
	if ib.Available() != 0 {
		t.Fatalf("B has %d available after %d orders competed for %d units; the test needs B to sell out", ib.Available(), orders, unitsB)
	}
	x.checkInvariant([]string{a, b}, nil)
}
