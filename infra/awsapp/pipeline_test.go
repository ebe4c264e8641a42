package awsapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"orderhub/infra/awsapp"
	"orderhub/infra/awsapp/awsapptest"
	"orderhub/shared/pipeline"
)

// Ingest (the poller's and the API's) notifies the router on SQS, and the ops API reads the
// pipeline queues' depths and dead letters through the URLs the template sets.
func TestWireConnectsThePipelineOnTheEmulators(t *testing.T) {
	env := awsapptest.Start(t)
	ctx := context.Background()
	app, err := awsapp.Wire(ctx, env.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	stored, _, err := app.Hub.Ingest(ctx, awsapptest.PaidOrder("4012345678999", "TEA-LJ-250", 1), "system:poller")
	if err != nil {
		t.Fatal(err)
	}
	ev := env.Receive(t, pipeline.QueueRoute, 1, 10*time.Second)
	if len(ev.Records) != 1 || !strings.Contains(ev.Records[0].Body, stored.ID) {
		t.Fatalf("route queue after ingest: %+v", ev.Records)
	}

	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/queues", nil)
	req.Header.Set("Authorization", "Bearer "+env.AdminKey)
	rec := httptest.NewRecorder()
	app.API().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /v1/queues: %d %s", rec.Code, rec.Body)
	}
	var raw any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{pipeline.QueueRoute, pipeline.QueueStock} {
		if !strings.Contains(rec.Body.String(), `"`+q+`"`) {
			t.Errorf("GET /v1/queues does not list %s: %s", q, rec.Body)
		}
	}
	dead := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/queues/route/dead", nil)
	dead.Header.Set("Authorization", "Bearer "+env.AdminKey)
	rec = httptest.NewRecorder()
	app.API().ServeHTTP(rec, dead)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /v1/queues/route/dead: %d %s", rec.Code, rec.Body)
	}
}

// A stage started without what it needs fails at cold start with a clear error, not later.
func TestStageWithoutItsQueuesFailsAtInit(t *testing.T) {
	env := awsapptest.Start(t)
	delete(env.Vars, awsapp.EnvStockQueueURL)
	app, err := awsapp.Wire(context.Background(), env.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Route(); !errors.Is(err, awsapp.ErrStageNotConfigured) || !strings.Contains(err.Error(), pipeline.QueueStock) {
		t.Fatalf("Route without the stock-lock queue: %v", err)
	}
	delete(env.Vars, awsapp.EnvStockTable)
	if app, err = awsapp.Wire(context.Background(), env.Getenv); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Reserve(); !errors.Is(err, awsapp.ErrStageNotConfigured) || !strings.Contains(err.Error(), awsapp.EnvStockTable) {
		t.Fatalf("Reserve without the stock table: %v", err)
	}
}
