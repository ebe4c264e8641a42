package dynamo

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"orderhub/shared/order"
	"orderhub/shared/store"
)

// These tests need no emulator.

func TestCursorRoundTrip(t *testing.T) {
	id := order.NewID(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	got, err := decodeCursor(encodeCursor(id))
	if err != nil || got != id {
		t.Fatalf("decodeCursor(encodeCursor(%q)) = %q, %v", id, got, err)
	}
	if got, err := decodeCursor(""); got != "" || err != nil {
		t.Fatalf("decodeCursor(\"\") = %q, %v; want the first page", got, err)
	}
	for _, c := range []string{"not a cursor!", "%%%", "Zm9v", "////", "\x00", "e30", "eyJhZnRlciI6IiJ9", "eyJhZnRlciI6MX0",
		"eyJhZnRlciI6IngiLCJ4IjoxfQ", strings.Repeat("A", 2000)} {
		if _, err := decodeCursor(c); !errors.Is(err, store.ErrInvalidCursor) {
			t.Errorf("decodeCursor(%.20q) = %v, want store.ErrInvalidCursor", c, err)
		}
	}
}

func TestEventItemsChunkInOrder(t *testing.T) {
	var events []order.Event
	for i := range 200 {
		events = append(events, order.Event{Kind: "note", Reason: strings.Repeat(string(rune('a'+i%26)), 4000)})
	}
	items, err := eventItems("01J0000000000000000000000", 7, events)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) < 2 {
		t.Fatalf("%d items for 800 KB of events, want several", len(items))
	}
	var back []order.Event
	var sks []string
	for _, it := range items {
		if n := itemSize(it); n > 400<<10 {
			t.Fatalf("item of %d bytes exceeds DynamoDB's 400 KB", n)
		}
		evs, err := decodeEvents(it)
		if err != nil {
			t.Fatal(err)
		}
		back = append(back, evs...)
		sks = append(sks, strAttr(it, attrSK))
	}
	if !slices.IsSorted(sks) || len(back) != len(events) {
		t.Fatalf("sort keys %v, %d events back; want sorted keys and all %d events", sks, len(back), len(events))
	}
	for i := range events {
		if back[i].Reason != events[i].Reason {
			t.Fatalf("event %d out of order", i)
		}
	}
	if _, err := eventItems("x", 1, []order.Event{{Reason: strings.Repeat("x", 400<<10)}}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("one 400 KB event = %v, want ErrTooLarge", err)
	}
}

func TestSchemaDefinesEveryKey(t *testing.T) {
	for _, in := range Schema(Tables{Orders: "o", Keys: "k"}) {
		defined := map[string]bool{}
		for _, a := range in.AttributeDefinitions {
			defined[*a.AttributeName] = true
		}
		used := map[string]bool{}
		for _, k := range in.KeySchema {
			used[*k.AttributeName] = true
		}
		for _, g := range in.GlobalSecondaryIndexes {
			for _, k := range g.KeySchema {
				used[*k.AttributeName] = true
			}
		}
		for a := range defined {
			if !used[a] {
				t.Errorf("table %s defines %s but no key uses it (CreateTable rejects that)", *in.TableName, a)
			}
		}
		for a := range used {
			if !defined[a] {
				t.Errorf("table %s: key attribute %s is not defined", *in.TableName, a)
			}
		}
	}
}

func TestPlanFor(t *testing.T) {
	tests := []struct {
		f     store.Filter
		index string
		parts int
	}{
		{store.Filter{Supplier: "s", Warehouse: "w", Shop: "x"}, indexSupplier, 1},
		{store.Filter{Warehouse: "w", Statuses: []order.Status{order.Paid}}, indexWarehouse, 1},
		{store.Filter{Shop: "x", Statuses: []order.Status{order.Paid, order.Held, order.Paid}}, indexStatus, 2},
		{store.Filter{Shop: "x"}, indexShop, 1},
		{store.Filter{Channel: order.JD}, indexStatus, len(order.Statuses())},
	}
	for _, tc := range tests {
		p := planFor(tc.f, true)
		if p.index != tc.index || len(p.parts) != tc.parts {
			t.Errorf("planFor(%+v) = %s with %d partitions, want %s with %d", tc.f, p.index, len(p.parts), tc.index, tc.parts)
		}
	}
}

// Far-away filter bounds must not overflow into the wrong side of every order.
func TestNanosClamps(t *testing.T) {
	far, early := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	now := time.Now()
	if !(nanos(early) < nanos(now) && nanos(now) < nanos(far)) {
		t.Fatalf("nanos: %d, %d, %d are not ordered", nanos(early), nanos(now), nanos(far))
	}
	o := inUTC(order.Order{CreatedAt: now.In(time.FixedZone("CST", 8*3600)), Holds: []order.Hold{{At: now.In(time.FixedZone("X", 3600))}}})
	if o.CreatedAt.Location() != time.UTC || o.Holds[0].At.Location() != time.UTC || !o.CreatedAt.Equal(now) {
		t.Fatalf("inUTC left a zone: %v, %v", o.CreatedAt, o.Holds[0].At)
	}
}
