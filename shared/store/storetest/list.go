package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"orderhub/shared/order"
	"orderhub/shared/store"
)

func sec(n float64) time.Time { return Epoch.Add(time.Duration(n * float64(time.Second))) }

func testListFilters(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	other := UniqueName(t, "shop-other")
	tracking := UniqueName(t, "SF")

	o1 := f.create(f.sample(1))
	o2 := f.create(f.sample(2))
	f.update(o2.ID, route(f.warehouse, ""))
	o3 := f.create(f.sample(3))
	f.update(o3.ID, hold("manual"))
	// x is in another shop and the same warehouse, placed between o3 and o4. A newer platform
	// version then moves its created_at: the id keeps sorting by the original, the filter uses the new.
	inX := f.sampleIn(other, 0)
	inX.CreatedAt = sec(3.5)
	x := f.create(inX)
	f.update(x.ID, route(f.warehouse, ""))
	inX.Version, inX.CreatedAt = inX.Version.Add(time.Minute), sec(4.5)
	x = f.upsert(inX, order.Updated)
	in4 := f.sample(4)
	in4.Status, in4.ChannelStatus, in4.PaidAt = order.PendingPayment, "WAIT_BUYER_PAY", time.Time{}
	o4 := f.create(in4)
	in5 := f.sample(5)
	in5.Channel = order.JD
	o5 := f.create(in5)
	f.update(o5.ID, route("", f.supplier))
	o6 := f.create(f.sample(6))
	f.update(o6.ID, func(o *order.Order) error {
		if err := route(f.warehouse, "")(o); err != nil {
			return err
		}
		if err := o.Transition(order.Reserved, "system:stock", "", Epoch); err != nil {
			return err
		}
		o.Shipments = append(o.Shipments, order.Shipment{Carrier: "SF", TrackingNo: tracking, Warehouse: f.warehouse, ShippedAt: Epoch})
		return o.Transition(order.Shipped, "system:outbound", "", Epoch)
	})

	tests := []struct {
		name   string
		filter store.Filter
		want   []order.Order
	}{
		{"shop", store.Filter{Shop: f.shop}, []order.Order{o6, o5, o4, o3, o2, o1}},
		{"other shop", store.Filter{Shop: other}, []order.Order{x}},
		{"statuses", store.Filter{Shop: f.shop, Statuses: []order.Status{order.Paid, order.Held, order.PendingPayment}}, []order.Order{o4, o3, o1}},
		{"one status", store.Filter{Shop: f.shop, Statuses: []order.Status{order.Shipped}}, []order.Order{o6}},
		{"status with no orders", store.Filter{Shop: f.shop, Statuses: []order.Status{order.Cancelled}}, nil},
		{"channel jd", store.Filter{Shop: f.shop, Channel: order.JD}, []order.Order{o5}},
		{"channel taobao", store.Filter{Shop: f.shop, Channel: order.Taobao}, []order.Order{o6, o4, o3, o2, o1}},
		{"warehouse across shops", store.Filter{Warehouse: f.warehouse}, []order.Order{o6, x, o2}},
		{"warehouse and shop", store.Filter{Warehouse: f.warehouse, Shop: f.shop}, []order.Order{o6, o2}},
		{"warehouse and status", store.Filter{Warehouse: f.warehouse, Statuses: []order.Status{order.Routed}}, []order.Order{x, o2}},
		{"supplier", store.Filter{Supplier: f.supplier}, []order.Order{o5}},
		{"created range", store.Filter{Shop: f.shop, CreatedFrom: sec(2), CreatedTo: sec(5)}, []order.Order{o4, o3, o2}},
		{"created from is inclusive", store.Filter{Shop: f.shop, CreatedFrom: sec(5)}, []order.Order{o6, o5}},
		{"created to is exclusive", store.Filter{Shop: f.shop, CreatedTo: sec(2)}, []order.Order{o1}},
		{"created range in another zone", store.Filter{Shop: f.shop, CreatedFrom: sec(6).In(time.FixedZone("CST", 8*3600))}, []order.Order{o6}},
		{"created range on the stored created_at", store.Filter{Warehouse: f.warehouse, CreatedFrom: sec(4.5), CreatedTo: sec(5)}, []order.Order{x}},
		{"query order id", store.Filter{Query: o3.ID}, []order.Order{o3}},
		{"query channel order id", store.Filter{Query: o4.ChannelOrderID}, []order.Order{o4}},
		{"query tracking number", store.Filter{Query: tracking}, []order.Order{o6}},
		{"query and another shop", store.Filter{Query: o3.ID, Shop: other}, nil},
		{"query unknown", store.Filter{Query: UniqueName(t, "nothing")}, nil},
	}
	for _, tc := range tests {
		p := f.list(tc.filter)
		if got, want := ids(p.Orders), ids(tc.want); !slices.Equal(got, want) {
			t.Errorf("%s: List(%+v) = %v, want %v (newest id first)", tc.name, tc.filter, got, want)
		}
		if p.Next != "" {
			t.Errorf("%s: Next = %q on the only page", tc.name, p.Next)
		}
	}

	// Listed orders are whole (apart from the timeline).
	p := f.list(store.Filter{Query: tracking})
	if len(p.Orders) != 1 {
		t.Fatalf("List(tracking) = %d orders", len(p.Orders))
	}
	got := p.Orders[0]
	if got.Status != order.Shipped || got.Warehouse != f.warehouse || len(got.Shipments) != 1 || got.Shipments[0].TrackingNo != tracking ||
		got.Rev != 2 || len(got.Lines) != 2 || got.Receiver.City != "杭州市" {
		t.Fatalf("listed order is incomplete: %+v", got)
	}
}

func testListPaging(t *testing.T, s store.Orders) {
	const n = 7
	f := newFixture(t, s)
	var all []order.Order // newest first
	for i := range n {
		o := f.create(f.sample(i))
		if i%2 == 1 {
			o = f.update(o.ID, hold("manual"))
		}
		all = append([]order.Order{o}, all...)
	}
	f.create(f.sampleIn(UniqueName(t, "shop-other"), 3))
	var held []order.Order
	for _, o := range all {
		if o.Status == order.Held {
			held = append(held, o)
		}
	}

	walk := func(flt store.Filter, want []order.Order) {
		t.Helper()
		var got []string
		pages := 0
		for {
			p := f.list(flt)
			pages++
			if len(p.Orders) > flt.Limit {
				t.Fatalf("limit %d: page %d has %d orders", flt.Limit, pages, len(p.Orders))
			}
			if len(p.Orders) == 0 && len(want) > 0 {
				t.Fatalf("limit %d: page %d is empty; the page before it should have been the last (Next = \"\")", flt.Limit, pages)
			}
			got = append(got, ids(p.Orders)...)
			if p.Next == "" {
				break
			}
			if pages > len(want)+1 {
				t.Fatalf("limit %d: still paging after %d pages", flt.Limit, pages)
			}
			flt.Cursor = p.Next
		}
		if !slices.Equal(got, ids(want)) {
			t.Fatalf("limit %d, statuses %v: paging returned %v, want %v (each order exactly once, newest first)", flt.Limit, flt.Statuses, got, ids(want))
		}
		if wantPages := max(1, (len(want)+flt.Limit-1)/flt.Limit); pages != wantPages {
			t.Fatalf("limit %d: %d pages for %d orders, want %d", flt.Limit, pages, len(want), wantPages)
		}
	}
	for _, limit := range []int{1, 2, 3, 6, 7, 8, 50} {
		walk(store.Filter{Shop: f.shop, Limit: limit}, all)
	}
	for _, limit := range []int{1, 2, 3} {
		walk(store.Filter{Shop: f.shop, Statuses: []order.Status{order.Held}, Limit: limit}, held)
	}
}

// A keyset cursor is stable: an order created while a client pages is not shown twice and does
// not push an order off a page.
func testListPagingIgnoresNewer(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	var all []order.Order
	for i := range 4 {
		all = append([]order.Order{f.create(f.sample(i))}, all...)
	}
	p1 := f.list(store.Filter{Shop: f.shop, Limit: 2})
	f.create(f.sample(10))
	p2 := f.list(store.Filter{Shop: f.shop, Limit: 2, Cursor: p1.Next})
	if got := append(ids(p1.Orders), ids(p2.Orders)...); !slices.Equal(got, ids(all)) || p2.Next != "" {
		t.Fatalf("pages %v then %v (next %q), want %v and no next page", ids(p1.Orders), ids(p2.Orders), p2.Next, ids(all))
	}
}

func testListInvalidCursor(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	f.create(f.sample(0))
	for _, cursor := range []string{"not a cursor!", "%%%", "Zm9v", "////", "\x00"} {
		_, err := s.List(f.ctx, store.Filter{Shop: f.shop, Cursor: cursor})
		if !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("List(cursor %q) = %v, want store.ErrInvalidCursor", cursor, err)
		}
	}
}

func testListLimitCapped(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	const n = store.MaxLimit + 1
	var (
		wg   sync.WaitGroup
		errs = make(chan error, n)
		next = make(chan int, n)
	)
	for i := range n {
		next <- i
	}
	close(next)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if _, _, err := s.Upsert(f.ctx, f.sample(i), "channel:taobao"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Upsert: %v", err)
	}

	for _, tc := range []struct {
		limit, want int
		next        bool
	}{
		{store.MaxLimit + 1000, store.MaxLimit, true},
		{0, store.DefaultLimit, true},
		{-5, store.DefaultLimit, true},
		{n, store.MaxLimit, true},
	} {
		p := f.list(store.Filter{Shop: f.shop, Limit: tc.limit})
		if len(p.Orders) != tc.want || (p.Next != "") != tc.next {
			t.Fatalf("List(limit %d) of %d orders = %d orders, next %q; want %d orders and a next page", tc.limit, n, len(p.Orders), p.Next, tc.want)
		}
	}
	first := f.list(store.Filter{Shop: f.shop, Limit: store.MaxLimit + 1000})
	rest := f.list(store.Filter{Shop: f.shop, Limit: store.MaxLimit + 1000, Cursor: first.Next})
	if len(rest.Orders) != n-store.MaxLimit || rest.Next != "" {
		t.Fatalf("second page: %d orders, next %q; want %d and no next page", len(rest.Orders), rest.Next, n-store.MaxLimit)
	}
}

func testCounts(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	statuses := []order.Status{order.Paid, order.Held, order.Paid, order.Routed, order.Held, order.PendingPayment, order.Paid}
	var heldID string
	for i, st := range statuses {
		in := f.sample(i)
		if st == order.PendingPayment {
			in.Status = order.PendingPayment
		}
		o := f.create(in)
		switch st {
		case order.Held:
			heldID = f.update(o.ID, hold("manual")).ID
		case order.Routed:
			f.update(o.ID, route(f.warehouse, ""))
		}
	}
	f.create(f.sampleIn(UniqueName(t, "shop-other"), 0))

	all := map[order.Status]int{order.Paid: 3, order.Held: 2, order.Routed: 1, order.PendingPayment: 1}
	tests := []struct {
		name   string
		filter store.Filter
		want   map[order.Status]int
	}{
		{"shop", store.Filter{Shop: f.shop}, all},
		{"statuses, cursor and limit are ignored", store.Filter{Shop: f.shop, Statuses: []order.Status{order.Held}, Cursor: "garbage", Limit: 1}, all},
		{"warehouse", store.Filter{Warehouse: f.warehouse}, map[order.Status]int{order.Routed: 1}},
		{"created range", store.Filter{Shop: f.shop, CreatedFrom: sec(1), CreatedTo: sec(5)}, map[order.Status]int{order.Held: 2, order.Paid: 1, order.Routed: 1}},
		{"query", store.Filter{Query: heldID}, map[order.Status]int{order.Held: 1}},
		{"channel", store.Filter{Shop: f.shop, Channel: order.JD}, map[order.Status]int{}},
		{"unknown shop", store.Filter{Shop: UniqueName(t, "shop-none")}, map[order.Status]int{}},
	}
	for _, tc := range tests {
		got, err := s.Counts(f.ctx, tc.filter)
		if err != nil {
			t.Errorf("%s: Counts(%+v) = %v", tc.name, tc.filter, err)
			continue
		}
		maps.DeleteFunc(got, func(_ order.Status, n int) bool { return n == 0 })
		if !maps.Equal(got, tc.want) {
			t.Errorf("%s: Counts = %v, want %v", tc.name, fmt.Sprint(got), fmt.Sprint(tc.want))
		}
	}
}
