package stocktest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"orderhub/shared/stock"
)

func testAudit(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a := x.sku("A")
	before := time.Now().Add(-time.Minute)
	if it, err := x.s.SetOnHand(x.ctx, a, wh, 20, "key:alice", "cycle count"); err != nil || it.OnHand != 20 || it.Shards != 1 {
		t.Fatalf("SetOnHand = %+v, %v", it, err)
	}
	x.mustReserve(req(x.order(), wh, need(a, 4)))
	if it, err := x.s.Adjust(x.ctx, a, wh, -3, "key:bob", "damaged in storage"); err != nil || it.OnHand != 17 || it.Reserved != 4 {
		t.Fatalf("Adjust = %+v, %v", it, err)
	}
	if it, err := x.s.SetSafety(x.ctx, a, wh, 2, "key:alice", "flash sale buffer"); err != nil || it.Safety != 2 {
		t.Fatalf("SetSafety = %+v, %v", it, err)
	}
	if it, err := x.s.SetShards(x.ctx, a, wh, 4, "key:ops", "flash sale"); err != nil || it.Shards != 4 || it.OnHand != 17 || it.Reserved != 4 || it.Safety != 2 {
		t.Fatalf("SetShards = %+v, %v", it, err)
	}
	if it, err := x.s.Adjust(x.ctx, a, wh, 5, "system:wms", "receipt PO-7"); err != nil || it.OnHand != 22 {
		t.Fatalf("Adjust(+5) = %+v, %v", it, err)
	}
	page, err := x.s.Audit(x.ctx, a, stock.Paging{})
	if err != nil {
		t.Fatal(err)
	}
	want := []stock.AuditRecord{
		{Op: stock.OpAdjust, Actor: "system:wms", Reason: "receipt PO-7", Delta: 5,
			Before: stock.Levels{OnHand: 17, Reserved: 4, Safety: 2, Shards: 4}, After: stock.Levels{OnHand: 22, Reserved: 4, Safety: 2, Shards: 4}},
		{Op: stock.OpSetShards, Actor: "key:ops", Reason: "flash sale", Delta: 3,
			Before: stock.Levels{OnHand: 17, Reserved: 4, Safety: 2, Shards: 1}, After: stock.Levels{OnHand: 17, Reserved: 4, Safety: 2, Shards: 4}},
		{Op: stock.OpSetSafety, Actor: "key:alice", Reason: "flash sale buffer", Delta: 2,
			Before: stock.Levels{OnHand: 17, Reserved: 4, Shards: 1}, After: stock.Levels{OnHand: 17, Reserved: 4, Safety: 2, Shards: 1}},
		{Op: stock.OpAdjust, Actor: "key:bob", Reason: "damaged in storage", Delta: -3,
			Before: stock.Levels{OnHand: 20, Reserved: 4, Shards: 1}, After: stock.Levels{OnHand: 17, Reserved: 4, Shards: 1}},
		{Op: stock.OpSetOnHand, Actor: "key:alice", Reason: "cycle count", Delta: 20,
			Before: stock.Levels{}, After: stock.Levels{OnHand: 20, Shards: 1}},
	}
	if len(page.Records) != len(want) || page.Next != "" {
		t.Fatalf("Audit = %d records (next %q), want %d: %+v", len(page.Records), page.Next, len(want), page.Records)
	}
	ids := map[string]bool{}
	for i, got := range page.Records {
		w := want[i]
		if got.Op != w.Op || got.Actor != w.Actor || got.Reason != w.Reason || got.Delta != w.Delta || got.Before != w.Before ||
			got.After != w.After || got.Flagged || got.SKU != a || got.Warehouse != wh {
			t.Errorf("audit record %d (newest first) = %+v\nwant %+v", i, got, w)
		}
		if got.At.Before(before) || got.At.After(time.Now().Add(time.Minute)) {
			t.Errorf("audit record %d at %v", i, got.At)
		}
		if got.ID == "" || ids[got.ID] {
			t.Errorf("audit record %d has id %q (empty or repeated)", i, got.ID)
		}
		ids[got.ID] = true
	}
	// Reservations, releases and shipments are not administrative changes: they are not audited.
	if page, err := x.s.Audit(x.ctx, x.sku("never"), stock.Paging{}); err != nil || len(page.Records) != 0 {
		t.Fatalf("Audit(unknown SKU) = %+v, %v; want an empty page", page, err)
	}
	x.checkInvariant([]string{a}, nil)
}

func testAuditPaging(t *testing.T, x *fixture) {
	a := x.sku("A")
	for i := range 7 {
		wh := x.wh("a")
		if i%2 == 1 {
			wh = x.wh("b")
		}
		if _, err := x.s.Adjust(x.ctx, a, wh, int64(i+1), actor, "receipt"); err != nil {
			t.Fatal(err)
		}
	}
	var deltas []int64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 4 {
			t.Fatal("Audit paging does not end")
		}
		p, err := x.s.Audit(x.ctx, a, stock.Paging{Cursor: cursor, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records) > 3 {
			t.Fatalf("page of %d records with limit 3", len(p.Records))
		}
		for _, r := range p.Records {
			deltas = append(deltas, r.Delta)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if !slices.Equal(deltas, []int64{7, 6, 5, 4, 3, 2, 1}) {
		t.Fatalf("audit deltas over pages = %v, want 7…1 (newest first, each once)", deltas)
	}
	if _, err := x.s.Audit(x.ctx, a, stock.Paging{Cursor: "not-a-cursor"}); !errors.Is(err, stock.ErrInvalidCursor) {
		t.Fatalf("Audit(bad cursor) = %v, want stock.ErrInvalidCursor", err)
	}
}

func testCountBelowReserved(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a := x.sku("A")
	x.setOnHand(a, wh, 10)
	o1, o2 := x.order(), x.order()
	x.mustReserve(req(o1, wh, need(a, 5)))
	x.mustReserve(req(o2, wh, need(a, 3)))

	// The count is a fact: applied, flagged, and the item promises nothing.
	it, err := x.s.SetOnHand(x.ctx, a, wh, 5, "system:wms", "cycle count")
	if err != nil {
		t.Fatalf("SetOnHand below reserved = %v; a count must be applied", err)
	}
	if it.OnHand != 5 || it.Reserved != 8 || it.Shortfall() != 3 || it.Available() != 0 {
		t.Fatalf("after the count: %+v (shortfall %d)", it, it.Shortfall())
	}
	p, err := x.s.Audit(x.ctx, a, stock.Paging{Limit: 1})
	if err != nil || len(p.Records) != 1 {
		t.Fatalf("Audit = %+v, %v", p, err)
	}
	if r := p.Records[0]; !r.Flagged || r.Op != stock.OpSetOnHand || r.Delta != -5 || r.Before.OnHand != 10 || r.After.OnHand != 5 || r.After.Reserved != 8 {
		t.Fatalf("audit of the count = %+v; want flagged, 10 → 5 with 8 reserved", r)
	}
	shortfallOK := func(it stock.Item) bool { return it.SKU == a }
	x.checkInvariant([]string{a}, shortfallOK)
	if res := x.reserve(req(x.order(), wh, need(a, 1))); res.OK() || len(res.Short) != 1 || res.Short[0].Available != 0 {
		t.Fatalf("Reserve during a shortfall = %+v; want short with nothing available", res)
	}
	// A write-off is applied and flagged the same way, as long as on hand stays ≥ 0.
	if it, err := x.s.Adjust(x.ctx, a, wh, -1, "key:bob", "broken"); err != nil || it.OnHand != 4 || it.Shortfall() != 4 {
		t.Fatalf("Adjust(-1) during a shortfall = %+v, %v", it, err)
	}
	// Releasing an order shrinks the shortfall; the units it gave back are not promised again.
	x.release(o2, "cancelled: out of stock")
	it = x.levels(a, wh, 4, 5, 0)
	if it.Shortfall() != 1 {
		t.Fatalf("shortfall %d after the release, want 1", it.Shortfall())
	}
	if res := x.reserve(req(x.order(), wh, need(a, 1))); res.OK() {
		t.Fatalf("Reserve during a shortfall = %+v; want short", res)
	}
	x.checkInvariant([]string{a}, shortfallOK)
	// A restock ends it, and only the units beyond the reserved ones are available.
	x.setOnHand(a, wh, 7)
	it = x.levels(a, wh, 7, 5, 0)
	if it.Shortfall() != 0 || it.Available() != 2 {
		t.Fatalf("after the restock: %+v", it)
	}
	if p, _ := x.s.Audit(x.ctx, a, stock.Paging{Limit: 1}); len(p.Records) != 1 || p.Records[0].Flagged {
		t.Fatalf("the restock's audit record = %+v; want not flagged", p.Records)
	}
	x.mustReserve(req(x.order(), wh, need(a, 2)))
	if res := x.reserve(req(x.order(), wh, need(a, 1))); res.OK() {
		t.Fatalf("Reserve beyond the stock = %+v", res)
	}
	// Shipping the big order during a shortfall can take on hand below zero only when the count
	// was wrong; here it stays consistent: 7 − 5 = 2 on hand, 2 reserved.
	x.consume(o1)
	x.levels(a, wh, 2, 2, 0)
	x.checkInvariant([]string{a}, nil)
}

func testSafetyRaise(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a := x.sku("A")
	// Safety stock may be set before any stock arrives: nothing is promised yet.
	if it, err := x.s.SetSafety(x.ctx, a, wh, 5, actor, "policy"); err != nil || it.Safety != 5 || it.OnHand != 0 || it.Available() != 0 {
		t.Fatalf("SetSafety on a new item = %+v, %v", it, err)
	}
	x.setOnHand(a, wh, 10)
	x.mustReserve(req(x.order(), wh, need(a, 5)))
	_, err := x.s.SetSafety(x.ctx, a, wh, 6, actor, "more buffer")
	wantErr(t, "SetSafety into reserved units", err, stock.ErrOvercommit)
	x.levels(a, wh, 10, 5, 5)
	if p, _ := x.s.Audit(x.ctx, a, stock.Paging{Limit: 1}); len(p.Records) != 1 || p.Records[0].Op != stock.OpAdjust && p.Records[0].Op != stock.OpSetOnHand {
		t.Fatalf("a refused change was audited: %+v", p.Records)
	}
	if _, err := x.s.SetSafety(x.ctx, a, wh, 1, actor, "less buffer"); err != nil {
		t.Fatalf("lowering the safety stock = %v", err)
	}
	x.levels(a, wh, 10, 5, 1)
	x.mustReserve(req(x.order(), wh, need(a, 4)))
	x.checkInvariant([]string{a}, nil)
}

func testInvalidChanges(t *testing.T, x *fixture) {
	wh := x.wh("a")
	a := x.sku("A")
	x.setOnHand(a, wh, 3)
	calls := map[string]func() error{
		"SetOnHand negative": func() error { _, err := x.s.SetOnHand(x.ctx, a, wh, -1, actor, why); return err },
		"SetOnHand huge":     func() error { _, err := x.s.SetOnHand(x.ctx, a, wh, stock.MaxQuantity+1, actor, why); return err },
		"SetOnHand no actor": func() error { _, err := x.s.SetOnHand(x.ctx, a, wh, 1, "", why); return err },
		"SetOnHand no why":   func() error { _, err := x.s.SetOnHand(x.ctx, a, wh, 1, actor, " "); return err },
		"SetOnHand bad sku":  func() error { _, err := x.s.SetOnHand(x.ctx, "a|b", wh, 1, actor, why); return err },
		"SetOnHand no wh":    func() error { _, err := x.s.SetOnHand(x.ctx, a, "", 1, actor, why); return err },
		"Adjust zero":        func() error { _, err := x.s.Adjust(x.ctx, a, wh, 0, actor, why); return err },
		"Adjust below zero":  func() error { _, err := x.s.Adjust(x.ctx, a, wh, -4, actor, why); return err },
		"Adjust new below 0": func() error { _, err := x.s.Adjust(x.ctx, x.sku("new"), wh, -1, actor, why); return err },
		"SetSafety negative": func() error { _, err := x.s.SetSafety(x.ctx, a, wh, -1, actor, why); return err },
		"SetShards zero":     func() error { _, err := x.s.SetShards(x.ctx, a, wh, 0, actor, why); return err },
		"SetShards too many": func() error { _, err := x.s.SetShards(x.ctx, a, wh, stock.MaxShards+1, actor, why); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, stock.ErrInvalid) {
			t.Errorf("%s = %v, want stock.ErrInvalid", name, err)
		}
	}
	x.levels(a, wh, 3, 0, 0)
	if _, err := x.s.Get(x.ctx, x.sku("new")); !errors.Is(err, stock.ErrNotFound) {
		t.Fatalf("a refused change created an item: %v", err)
	}
	if p, err := x.s.Audit(x.ctx, a, stock.Paging{}); err != nil || len(p.Records) != 1 {
		t.Fatalf("Audit after refused changes = %+v, %v; want only the first count", p, err)
	}
}

func testGet(t *testing.T, x *fixture) {
	a := x.sku("A")
	w1, w2 := x.wh("1"), x.wh("2")
	if _, err := x.s.Get(x.ctx, a); !errors.Is(err, stock.ErrNotFound) {
		t.Fatalf("Get(unknown) = %v, want stock.ErrNotFound", err)
	}
	x.setOnHand(a, w2, 7)
	x.setOnHand(a, w1, 5)
	if _, err := x.s.SetSafety(x.ctx, a, w1, 1, actor, why); err != nil {
		t.Fatal(err)
	}
	x.mustReserve(req(x.order(), w1, need(a, 2)))
	st, err := x.s.Get(x.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if st.SKU != a || len(st.Items) != 2 || st.Items[0].Warehouse != w1 || st.Items[1].Warehouse != w2 {
		t.Fatalf("Get = %+v; want %s then %s", st, w1, w2)
	}
	if st.Available() != 2+7 || st.Items[0].UpdatedAt.IsZero() || st.Items[0].Shards != 1 {
		t.Fatalf("Get = %+v; want 9 available in all", st)
	}
	x.checkInvariant([]string{a}, nil)
}

func testList(t *testing.T, x *fixture) {
	w1, w2 := x.wh("1"), x.wh("2")
	var all []string
	for _, s := range []string{"B", "A", "C", "AB"} {
		for _, wh := range []string{w2, w1} {
			x.setOnHand(x.sku(s), wh, 3)
			all = append(all, x.sku(s)+" "+wh)
		}
	}
	slices.Sort(all)
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 8 {
			t.Fatal("List paging does not end")
		}
		p, err := x.s.List(x.ctx, stock.Filter{SKUPrefix: x.prefix + "-", Cursor: cursor, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > 3 {
			t.Fatalf("page of %d with limit 3", len(p.Items))
		}
		for _, it := range p.Items {
			got = append(got, it.SKU+" "+it.Warehouse)
			if it.OnHand != 3 || it.Available() != 3 {
				t.Fatalf("listed item %+v", it)
			}
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if !slices.Equal(got, all) {
		t.Fatalf("List over pages = %v\nwant %v", got, all)
	}
	p, err := x.s.List(x.ctx, stock.Filter{SKUPrefix: x.sku("A"), Warehouse: w2})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range p.Items {
		names = append(names, it.SKU+" "+it.Warehouse)
	}
	if want := []string{x.sku("A") + " " + w2, x.sku("AB") + " " + w2}; !slices.Equal(names, want) || p.Next != "" {
		t.Fatalf("List(prefix A, %s) = %v, want %v", w2, names, want)
	}
	p, err = x.s.List(x.ctx, stock.Filter{Warehouse: w1, Limit: stock.MaxLimit + 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 4 || !strings.HasPrefix(p.Items[0].SKU, x.prefix) {
		t.Fatalf("List(%s) = %+v; want its 4 items", w1, p)
	}
	if _, err := x.s.List(x.ctx, stock.Filter{Cursor: "%%%"}); !errors.Is(err, stock.ErrInvalidCursor) {
		t.Fatalf("List(bad cursor) = %v", err)
	}
}
