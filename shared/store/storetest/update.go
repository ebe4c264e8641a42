package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"orderhub/shared/order"
	"orderhub/shared/store"
)

func testUpdatePersists(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	created := f.create(f.sample(0))

	got := f.update(created.ID, func(o *order.Order) error {
		if len(o.Timeline) != 0 {
			t.Errorf("fn got %d timeline events; Update loads the order without its timeline", len(o.Timeline))
		}
		o.Tags = append(o.Tags, "vip", "gift-wrap")
		o.Timeline = append(o.Timeline, note("routing by rule R1"))
		return route(f.warehouse, "")(o)
	})
	if got.Rev != 2 || got.Status != order.Routed || got.Warehouse != f.warehouse {
		t.Fatalf("Update result: rev %d status %s warehouse %q; want rev 2, routed, %q", got.Rev, got.Status, got.Warehouse, f.warehouse)
	}
	if want := []string{"note:routing by rule R1", "status"}; fmt.Sprint(kinds(got.Timeline)) != fmt.Sprint(want) {
		t.Fatalf("Update result timeline %v; want only the new events %v", kinds(got.Timeline), want)
	}

	stored := f.get(created.ID)
	want := got
	sameOrder(t, "Get after Update", stored, want)
	if stored.Rev != 2 || !stored.UpdatedAt.Equal(got.UpdatedAt) {
		t.Fatalf("Get after Update: rev %d updated_at %v; want 2, %v", stored.Rev, stored.UpdatedAt, got.UpdatedAt)
	}
	if want := []string{"ingested", "note:routing by rule R1", "status"}; fmt.Sprint(kinds(stored.Timeline)) != fmt.Sprint(want) {
		t.Fatalf("timeline %v, want %v", kinds(stored.Timeline), want)
	}
	if ev := stored.Timeline[2]; ev.From != order.Paid || ev.To != order.Routed || ev.Actor != "system:router" {
		t.Fatalf("status event = %+v", ev)
	}
}

func testUpdateErrorWritesNothing(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	created := f.create(f.sample(0))
	before := f.get(created.ID)

	boom := errors.New("boom")
	_, err := s.Update(f.ctx, created.ID, func(o *order.Order) error {
		o.Warehouse = f.warehouse
		o.Tags = append(o.Tags, "written-by-a-failed-update")
		o.Timeline = append(o.Timeline, note("must not be written"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update with failing fn = %v, want fn's error", err)
	}
	after := f.get(created.ID)
	sameOrder(t, "after a failed update", after, before)
	if after.Rev != before.Rev || len(after.Timeline) != len(before.Timeline) {
		t.Fatalf("after a failed update: rev %d timeline %v; want rev %d timeline %v",
			after.Rev, kinds(after.Timeline), before.Rev, kinds(before.Timeline))
	}
}

func testUpdateUnknown(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	called := false
	_, err := s.Update(f.ctx, order.NewID(time.Now()), func(*order.Order) error { called = true; return nil })
	wantNotFound(t, "Update(unknown id)", err)
	if called {
		t.Fatal("Update called fn for an unknown order")
	}
}

func testUpdateIdentityChange(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	created := f.create(f.sample(0))
	before := f.get(created.ID)
	for name, change := range map[string]func(*order.Order){
		"id":               func(o *order.Order) { o.ID = order.NewID(time.Now()) },
		"shop":             func(o *order.Order) { o.Shop += "-other" },
		"channel order id": func(o *order.Order) { o.ChannelOrderID += "-other" },
		"channel":          func(o *order.Order) { o.Channel = order.JD },
	} {
		_, err := s.Update(f.ctx, created.ID, func(o *order.Order) error { change(o); return nil })
		if !errors.Is(err, store.ErrIdentityChanged) {
			t.Errorf("Update changing the %s = %v, want store.ErrIdentityChanged", name, err)
		}
	}
	sameOrder(t, "after refused identity changes", f.get(created.ID), before)
}

func testUpdateIllegalTransition(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	created := f.create(f.sample(0))
	before := f.get(created.ID)

	_, err := s.Update(f.ctx, created.ID, func(o *order.Order) error {
		o.Tags = append(o.Tags, "partial")
		return o.Transition(order.Shipped, "key:ops", "paid orders cannot ship before routing", Epoch)
	})
	if !errors.Is(err, order.ErrIllegalTransition) {
		t.Fatalf("Update with an illegal transition = %v, want order.ErrIllegalTransition", err)
	}
	after := f.get(created.ID)
	sameOrder(t, "after an illegal transition", after, before)
	if after.Status != order.Paid || after.Rev != before.Rev || len(after.Timeline) != len(before.Timeline) {
		t.Fatalf("after an illegal transition: status %s rev %d timeline %v; nothing may change",
			after.Status, after.Rev, kinds(after.Timeline))
	}
}

func testConcurrentUpdates(t *testing.T, s store.Orders) {
	const n = 16
	f := newFixture(t, s)
	created := f.create(f.sample(0))

	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			tag := fmt.Sprintf("t-%02d", i)
			_, errs[i] = s.Update(f.ctx, created.ID, func(o *order.Order) error {
				o.Tags = append(o.Tags, tag)
				o.Timeline = append(o.Timeline, note(tag))
				return nil
			})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Update %d: %v", i, err)
		}
	}

	got := f.get(created.ID)
	var notes []string
	for _, e := range got.Timeline {
		if e.Kind == "note" {
			notes = append(notes, e.Reason)
		}
	}
	tags := slices.Sorted(slices.Values(got.Tags))
	slices.Sort(notes)
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("t-%02d", i))
	}
	if !slices.Equal(tags, want) {
		t.Fatalf("after %d concurrent updates: tags %v, want %v (an update was lost)", n, tags, want)
	}
	if !slices.Equal(notes, want) {
		t.Fatalf("after %d concurrent updates: note events %v, want %v", n, notes, want)
	}
	if got.Rev != n+1 || len(got.Timeline) != n+1 {
		t.Fatalf("after %d concurrent updates: rev %d, %d events; want %d and %d", n, got.Rev, len(got.Timeline), n+1, n+1)
	}
}

func testTimelineOrder(t *testing.T, s store.Orders) {
	f := newFixture(t, s)
	v1 := f.sample(0)
	created := f.create(v1)
	// Every appended event has the same time, so only the write order can order them.
	got := f.update(created.ID, func(o *order.Order) error {
		o.Timeline = append(o.Timeline, note("e1"), note("e2"))
		return nil
	})
	if len(got.Timeline) != 2 {
		t.Fatalf("Update returned timeline %v, want the two new events", kinds(got.Timeline))
	}
	f.update(created.ID, func(o *order.Order) error {
		o.Timeline = append(o.Timeline, note("e3"))
		return nil
	})
	v2 := v1
	v2.Version = v1.Version.Add(time.Minute)
	f.upsert(v2, order.Updated)
	f.update(created.ID, func(o *order.Order) error {
		o.Timeline = append(o.Timeline, note("e4"))
		return route(f.warehouse, "")(o)
	})

	want := []string{"ingested", "note:e1", "note:e2", "note:e3", "updated", "note:e4", "status"}
	if tl := f.get(created.ID).Timeline; fmt.Sprint(kinds(tl)) != fmt.Sprint(want) {
		t.Fatalf("timeline %v, want oldest first %v", kinds(tl), want)
	}
}
