package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"orderhub/infra/awsapp"
	"orderhub/infra/awsapp/awsapptest"
	"orderhub/shared/order"
	"orderhub/shared/pipeline"
)

const root = "../.."

// The sample stock-lock events go through the handler main starts, wired as in Lambda, against
// DynamoDB Local and moto: a routed order is reserved and its units leave the DynamoDB stock; in a
// batch, the malformed record is reported as a batch item failure while the good one succeeds.
func TestStockLockSampleEventsOnTheEmulators(t *testing.T) {
	env := awsapptest.Start(t)
	ctx := context.Background()
	app, err := awsapp.Wire(ctx, env.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	reserve, err := app.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	handle := app.SQSHandler(reserve)
	route, err := app.Route()
	if err != nil {
		t.Fatal(err)
	}
	const sku = "TEA-LJ-250"
	if _, err := app.Pipeline.Stock.SetOnHand(ctx, sku, "WH-HZ", 10, "test", "opening count"); err != nil {
		t.Fatal(err)
	}
	// routed stores a paid order and routes it through the router stage, as the route queue would.
	routed := func(t *testing.T, channelOrderID string, qty int) order.Order {
		t.Helper()
		stored, _, err := env.Store.Upsert(ctx, awsapptest.PaidOrder(channelOrderID, sku, qty), "test")
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := app.SQSHandler(route)(ctx, env.SampleEvent(t, root, "events/route/route-order.json", pipeline.QueueRoute, stored.ID))
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("route: %+v", resp.BatchItemFailures)
		}
		env.Settle(t, pipeline.QueueStock, env.Receive(t, pipeline.QueueStock, 1, 10*time.Second), resp)
		return stored
	}
	available := func(t *testing.T) int64 {
		t.Helper()
		st, err := app.Pipeline.Stock.Get(ctx, sku)
		if err != nil {
			t.Fatal(err)
		}
		return st.Available()
	}

	t.Run("reserved and stock reduced", func(t *testing.T) {
		o := routed(t, "4012345678911", 3)
		before := available(t)
		resp, err := handle(ctx, env.SampleEvent(t, root, "events/stocklock/reserve-order.json", pipeline.QueueStock, o.ID))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("handler: %v, failures %+v", err, resp.BatchItemFailures)
		}
		got, err := env.Store.Get(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != order.Reserved || got.Warehouse != "WH-HZ" {
			t.Fatalf("order %s in %q, want reserved in WH-HZ (holds %+v)", got.Status, got.Warehouse, got.Holds)
		}
		if after := available(t); after != before-3 {
			t.Fatalf("available %d → %d, want 3 fewer", before, after)
		}
		// Redelivered: the reservation is not made twice.
		if resp, _ := handle(ctx, env.SampleEvent(t, root, "events/stocklock/reserve-order.json", pipeline.QueueStock, o.ID)); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("redelivery: %+v", resp.BatchItemFailures)
		}
		if after := available(t); after != before-3 {
			t.Fatalf("a redelivery reserved again: available %d → %d", before, after)
		}
	})

	t.Run("malformed record fails alone", func(t *testing.T) {
		o := routed(t, "4012345678912", 1)
		ev := env.SampleEvent(t, root, "events/stocklock/batch-with-malformed.json", pipeline.QueueStock, o.ID)
		resp, err := handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		var failed []string
		for _, f := range resp.BatchItemFailures {
			failed = append(failed, f.ItemIdentifier)
		}
		if want := []string{ev.Records[1].MessageId}; !slices.Equal(failed, want) {
			t.Fatalf("batch item failures %v, want %v", failed, want)
		}
		if got, err := env.Store.Get(ctx, o.ID); err != nil || got.Status != order.Reserved {
			t.Fatalf("the good record's order: %s %v", got.Status, err)
		}
	})
}
