package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"orderhub/shared/money"
	"orderhub/shared/order"
	"orderhub/shared/store"
)

func testCreateThenGet(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	in := f.sample(0)
	got, res, err := s.Upsert(f.ctx, in, "channel:taobao")
	if err != nil || res != order.Created {
		t.Fatalf("Upsert(new order) = %q, %v; want created", res, err)
	}
	if !isULID(got.ID) {
		t.Fatalf("created order id %q is not a 26-character ULID", got.ID)
	}
	if want := order.NewID(in.CreatedAt)[:10]; got.ID[:10] != want {
		t.Fatalf("id %s: time part %s, want %s (the order's CreatedAt) so that ids sort by creation", got.ID, got.ID[:10], want)
	}
	if got.Rev != 1 || got.UpdatedAt.IsZero() {
		t.Fatalf("created order: rev %d, updated_at %v; want rev 1 and an update time", got.Rev, got.UpdatedAt)
	}
	if len(got.Timeline) != 0 {
		t.Fatalf("Upsert returned %d timeline events; it returns the order without its timeline", len(got.Timeline))
	}
	want := in
	want.ID = got.ID
	sameOrder(t, "Upsert result", got, want)

	stored := f.get(got.ID)
	sameOrder(t, "Get", stored, want)
	if stored.Rev != 1 || !stored.UpdatedAt.Equal(got.UpdatedAt) {
		t.Fatalf("Get: rev %d updated_at %v; want rev 1 updated_at %v", stored.Rev, stored.UpdatedAt, got.UpdatedAt)
	}
	if len(stored.Timeline) != 1 {
		t.Fatalf("Get: timeline %v; want one ingested event", kinds(stored.Timeline))
	}
	if ev := stored.Timeline[0]; ev.Kind != "ingested" || ev.Actor != "channel:taobao" || ev.To != order.Paid || ev.At.IsZero() {
		t.Fatalf("ingested event = %+v", ev)
	}

	byKey, err := s.GetByKey(f.ctx, in.Key())
	if err != nil {
		t.Fatalf("GetByKey(%s) = %v", in.Key(), err)
	}
	sameOrder(t, "GetByKey", byKey, want)
	if byKey.Rev != 1 || len(byKey.Timeline) != 0 {
		t.Fatalf("GetByKey: rev %d, %d timeline events; want rev 1 and no timeline", byKey.Rev, len(byKey.Timeline))
	}

	_, err = s.Get(f.ctx, order.NewID(time.Now()))
	wantNotFound(t, "Get(unknown id)", err)
	_, err = s.Get(f.ctx, "")
	wantNotFound(t, "Get(empty id)", err)
	_, err = s.GetByKey(f.ctx, order.Key{Channel: order.Taobao, Shop: f.shop, ChannelOrderID: "missing"})
	wantNotFound(t, "GetByKey(unknown channel order id)", err)
	_, err = s.GetByKey(f.ctx, order.Key{Channel: order.JD, Shop: f.shop, ChannelOrderID: in.ChannelOrderID})
	wantNotFound(t, "GetByKey(same channel order id on another channel)", err)
}

func testUpsertRejectsInvalid(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	in := f.sample(0)
	in.Lines = nil
	_, _, err := s.Upsert(f.ctx, in, "channel:taobao")
	if !errors.Is(err, order.ErrInvalidOrder) {
		t.Fatalf("Upsert(order without lines) = %v, want order.ErrInvalidOrder", err)
	}
	_, err = s.GetByKey(f.ctx, in.Key())
	wantNotFound(t, "GetByKey after a refused upsert", err)
}

func testSameVersionIsDuplicate(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	in := f.sample(0)
	var first order.Order
	for i, want := range []order.MergeResult{order.Created, order.Duplicate, order.Duplicate} {
		got := f.upsert(in, want)
		if i == 0 {
			first = got
		}
		if got.ID != first.ID || got.Rev != 1 {
			t.Fatalf("upsert %d: id %s rev %d; want id %s rev 1", i+1, got.ID, got.Rev, first.ID)
		}
	}
	if p := f.list(store.Filter{Shop: f.shop}); len(p.Orders) != 1 {
		t.Fatalf("List(shop) after 3 upserts of one version: %d orders, want 1", len(p.Orders))
	}
	if got := f.get(first.ID); len(got.Timeline) != 1 || got.Rev != 1 {
		t.Fatalf("after duplicates: rev %d timeline %v; want rev 1 and [ingested]", got.Rev, kinds(got.Timeline))
	}
}

func testOlderVersionIsStale(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	newer := f.sample(0)
	newer.Version = newer.Version.Add(10 * time.Minute)
	created := f.create(newer)

	older := newer
	older.Version = newer.Version.Add(-time.Second)
	older.Status, older.ChannelStatus = order.Cancelled, "TRADE_CLOSED"
	older.Receiver.City = "宁波市"
	got := f.upsert(older, order.Stale)

	for what, o := range map[string]order.Order{"Upsert(stale) result": got, "Get after stale": f.get(created.ID)} {
		if o.ChannelStatus != "WAIT_SELLER_SEND_GOODS" || o.Status != order.Paid || o.Receiver.City != "杭州市" || !o.Version.Equal(newer.Version) {
			t.Fatalf("%s: channel status %q, status %s, city %q, version %v; the stale version must change nothing",
				what, o.ChannelStatus, o.Status, o.Receiver.City, o.Version)
		}
		if o.Rev != 1 {
			t.Fatalf("%s: rev %d, want 1", what, o.Rev)
		}
	}
	if tl := f.get(created.ID).Timeline; len(tl) != 1 {
		t.Fatalf("timeline after stale upsert: %v, want [ingested]", kinds(tl))
	}
}

func testNewerVersionKeepsHubFields(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	v1 := f.sample(0)
	created := f.create(v1)
	f.update(created.ID, func(o *order.Order) error {
		o.Warehouse = f.warehouse
		o.Tags = append(o.Tags, "vip")
		return o.Hold(order.Hold{Code: "manual", Note: "buyer asked to wait", By: "key:cs", At: Epoch})
	})

	v2 := v1
	v2.Version = v1.Version.Add(time.Hour)
	v2.ChannelStatus = "WAIT_SELLER_SEND_GOODS_PARTIAL"
	v2.Buyer.Nick = "t**2"
	v2.Receiver.City, v2.Receiver.District = "宁波市", "鄞州区"
	v2.Lines = []order.Line{{ChannelSKU: "5012345", SKU: "TEA-001", Quantity: 3, UnitPrice: money.New(6800, "CNY")}}
	v2.Amounts = order.Amounts{Goods: money.New(20400, "CNY"), Paid: money.New(20400, "CNY")}
	v2.Warehouse, v2.Tags = "smuggled", []string{"smuggled"} // the hub owns these: the platform cannot set them
	got := f.upsert(v2, order.Updated)

	for what, o := range map[string]order.Order{"Upsert(newer) result": got, "Get after newer": f.get(created.ID)} {
		if o.ID != created.ID || o.Rev != 3 {
			t.Fatalf("%s: id %s rev %d; want id %s rev 3 (create, update, upsert)", what, o.ID, o.Rev, created.ID)
		}
		if o.ChannelStatus != v2.ChannelStatus || !o.Version.Equal(v2.Version) || o.Buyer.Nick != "t**2" ||
			o.Receiver.City != "宁波市" || o.Receiver.District != "鄞州区" || len(o.Lines) != 1 || o.Lines[0].Quantity != 3 || o.Amounts.Paid.Amount != 20400 {
			t.Fatalf("%s: platform fields not replaced: %+v", what, o)
		}
		if o.Warehouse != f.warehouse || len(o.Tags) != 1 || o.Tags[0] != "vip" || len(o.Holds) != 1 || o.Holds[0].Code != "manual" || o.Status != order.Held {
			t.Fatalf("%s: hub fields lost: warehouse %q tags %v holds %+v status %s", what, o.Warehouse, o.Tags, o.Holds, o.Status)
		}
	}
	tl := f.get(created.ID).Timeline
	if want := []string{"ingested", "hold", "updated"}; fmt.Sprint(kinds(tl)) != fmt.Sprint(want) {
		t.Fatalf("timeline %v, want %v", kinds(tl), want)
	}
}

func testConcurrentUpsertsKeepNewest(t *testing.T, s store.Orders) {
	const n = 16
	f := newFixture(t, s)
	base := f.sample(0)
	versions := make([]order.Order, n)
	for i := range versions {
		v := base
		v.Version = base.Version.Add(time.Duration(i) * time.Second)
		v.ChannelStatus = fmt.Sprintf("STATUS_%02d", i)
		v.Receiver.City = fmt.Sprintf("city-%02d", i)
		versions[i] = v
	}
	rand.Shuffle(n, func(i, j int) { versions[i], versions[j] = versions[j], versions[i] })

	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]order.MergeResult, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			_, results[i], errs[i] = s.Upsert(f.ctx, versions[i], "channel:taobao")
		})
	}
	close(start)
	wg.Wait()

	count := map[order.MergeResult]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Upsert of version %s: %v", versions[i].ChannelStatus, err)
		}
		count[results[i]]++
	}
	if count[order.Created] != 1 || count[order.Created]+count[order.Updated]+count[order.Stale] != n || count[order.Duplicate] != 0 {
		t.Fatalf("results %v; want exactly one created and the rest updated or stale", count)
	}
	p := f.list(store.Filter{Shop: f.shop})
	if len(p.Orders) != 1 {
		t.Fatalf("List(shop) after %d concurrent upserts of one key: %d orders, want 1", n, len(p.Orders))
	}
	got := f.get(p.Orders[0].ID)
	newest := base.Version.Add((n - 1) * time.Second)
	if !got.Version.Equal(newest) || got.ChannelStatus != fmt.Sprintf("STATUS_%02d", n-1) || got.Receiver.City != fmt.Sprintf("city-%02d", n-1) {
		t.Fatalf("after concurrent upserts: version %v status %q city %q; want the newest version %v, STATUS_%02d, city-%02d",
			got.Version, got.ChannelStatus, got.Receiver.City, newest, n-1, n-1)
	}
	if want := int64(1 + count[order.Updated]); got.Rev != want {
		t.Fatalf("rev %d, want %d (one create and %d updates)", got.Rev, want, count[order.Updated])
	}
	if want := 1 + count[order.Updated]; len(got.Timeline) != want {
		t.Fatalf("timeline has %d events, want %d (ingested plus one per update)", len(got.Timeline), want)
	}
}

func testRevCountsWrites(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	v1 := f.sample(0)
	v0, v2 := v1, v1
	v0.Version = v1.Version.Add(-time.Minute)
	v2.Version = v1.Version.Add(time.Minute)
	var id string
	boom := errors.New("boom")
	steps := []struct {
		name    string
		do      func() error
		wantRev int64
	}{
		{"create", func() error { id = f.create(v1).ID; return nil }, 1},
		{"duplicate", func() error { f.upsert(v1, order.Duplicate); return nil }, 1},
		{"stale", func() error { f.upsert(v0, order.Stale); return nil }, 1},
		{"newer version", func() error { f.upsert(v2, order.Updated); return nil }, 2},
		{"update", func() error {
			f.update(id, func(o *order.Order) error { o.Tags = append(o.Tags, "a"); return nil })
			return nil
		}, 3},
		{"update without changes", func() error { f.update(id, func(*order.Order) error { return nil }); return nil }, 4},
		{"failed update", func() error {
			if _, err := s.Update(f.ctx, id, func(*order.Order) error { return boom }); !errors.Is(err, boom) {
				return fmt.Errorf("Update returned %v, want fn's error", err)
			}
			return nil
		}, 4},
		{"duplicate after updates", func() error { f.upsert(v2, order.Duplicate); return nil }, 4},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := f.get(id).Rev; got != st.wantRev {
			t.Fatalf("after %s: rev %d, want %d", st.name, got, st.wantRev)
		}
	}
}
