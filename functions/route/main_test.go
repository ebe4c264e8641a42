package main

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"orderhub/infra/awsapp"
	"orderhub/infra/awsapp/awsapptest"
	"orderhub/shared/order"
	"orderhub/shared/pipeline"
)

const root = "../.."

// The sample route events go through the handler main starts, wired as in Lambda, against
// DynamoDB Local and moto: a paid order is routed and handed to the stock-lock queue on SQS; in a
// batch, the malformed records are reported as batch item failures while the good one succeeds.
func TestRouteSampleEventsOnTheEmulators(t *testing.T) {
	env := awsapptest.Start(t)
	ctx := context.Background()
	app, err := awsapp.Wire(ctx, env.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	route, err := app.Route()
	if err != nil {
		t.Fatal(err)
	}
	handle := app.SQSHandler(route)

	t.Run("routed and sent to stock-lock", func(t *testing.T) {
		stored, _, err := env.Store.Upsert(ctx, awsapptest.PaidOrder("4012345678901", "TEA-LJ-250", 2), "test")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := handle(ctx, env.SampleEvent(t, root, "events/route/route-order.json", pipeline.QueueRoute, stored.ID))
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("handler: %v, failures %+v", err, resp.BatchItemFailures)
		}
		got, err := env.Store.Get(ctx, stored.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != order.Routed || got.Warehouse != "WH-HZ" {
			t.Fatalf("order %s in %q, want routed to WH-HZ (holds %+v)", got.Status, got.Warehouse, got.Holds)
		}
		next := env.Receive(t, pipeline.QueueStock, 1, 10*time.Second)
		if len(next.Records) != 1 {
			t.Fatalf("%d stock-lock messages on SQS, want 1", len(next.Records))
		}
		var msg struct {
			OrderID    string   `json:"order_id"`
			Warehouses []string `json:"warehouses"`
		}
		if err := json.Unmarshal([]byte(next.Records[0].Body), &msg); err != nil {
			t.Fatal(err)
		}
		if msg.OrderID != stored.ID || !slices.Equal(msg.Warehouses, []string{"WH-HZ", "WH-GZ"}) {
			t.Fatalf("stock-lock message %+v", msg)
		}
		// A redelivery of the same message changes nothing and sends nothing more.
		resp, _ = handle(ctx, env.SampleEvent(t, root, "events/route/route-order.json", pipeline.QueueRoute, stored.ID))
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("redelivery failed: %+v", resp.BatchItemFailures)
		}
		if again := env.Receive(t, pipeline.QueueStock, 1, 2*time.Second); len(again.Records) != 0 {
			t.Fatalf("a redelivered route message sent %d more stock-lock messages", len(again.Records))
		}
	})

	t.Run("malformed records fail alone", func(t *testing.T) {
		stored, _, err := env.Store.Upsert(ctx, awsapptest.PaidOrder("4012345678902", "TEA-LJ-250", 1), "test")
		if err != nil {
			t.Fatal(err)
		}
		ev := env.SampleEvent(t, root, "events/route/batch-with-malformed.json", pipeline.QueueRoute, stored.ID)
		resp, err := handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		var failed []string
		for _, f := range resp.BatchItemFailures {
			failed = append(failed, f.ItemIdentifier)
		}
		want := []string{ev.Records[1].MessageId, ev.Records[2].MessageId}
		if !slices.Equal(failed, want) {
			t.Fatalf("batch item failures %v, want the malformed records %v", failed, want)
		}
		if got, err := env.Store.Get(ctx, stored.ID); err != nil || got.Status != order.Routed {
			t.Fatalf("the good record's order: %s %v", got.Status, err)
		}
	})
}
