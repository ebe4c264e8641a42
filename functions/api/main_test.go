package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"orderhub/shared/api"
	"orderhub/shared/auth"
	"orderhub/shared/hub"
	"orderhub/shared/pii"
	"orderhub/shared/store"
	"orderhub/shared/store/sqlite"
)

// sampleKey is the key the sample events in events/api carry. It is a test fixture, not a secret.
const sampleKey = "ohk_sample_event_key_for_tests_only_0001"

// expected is what each sample event must produce; a sample without an entry fails the test, so
// that a new sample is never fed through unchecked.
var expected = map[string]struct {
	status int
	has    string
}{
	"healthz.json":            {200, `"status":"ok"`},
	"openapi.json":            {200, `"openapi": "3.0.3"`},
	"list-orders.json":        {200, `"orders":[`},
	"list-orders-no-key.json": {401, `"code":"unauthorized"`},
	"import-order.json":       {201, `"result":"created"`},
	"get-order-unknown.json":  {404, `"code":"not_found"`},
	"hold-order-unknown.json": {404, `"code":"not_found"`},
	"stats.json":              {200, `"by_stage"`},
}

func TestSampleEventsThroughTheLambdaHandler(t *testing.T) {
	t.Parallel()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k, _, _ := auth.NewKey("sample events", auth.Supervisor, "", "test", time.Now())
	k.Hash, k.ID = auth.Hash(sampleKey), "key_sample"
	if err := db.PutKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	h := &hub.Hub{Orders: db, Keys: db, Hasher: pii.NewHasher([]byte("sample-events-pii-key")), Now: time.Now, Log: log}
	proxy := httpadapter.NewV2(api.New(h, log)).ProxyWithContext

	files, err := filepath.Glob("../../events/api/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		want, ok := expected[name]
		if !ok {
			t.Errorf("%s has no expectation in this test", name)
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("%s is not an API Gateway v2 event: %v", name, err)
		}
		resp, err := proxy(context.Background(), ev)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp.StatusCode != want.status || !strings.Contains(resp.Body, want.has) {
			t.Errorf("%s: %d %.300s; want %d containing %s", name, resp.StatusCode, resp.Body, want.status, want.has)
		}
		if !strings.HasPrefix(resp.Headers["Content-Type"], "application/json") {
			t.Errorf("%s: content type %q", name, resp.Headers["Content-Type"])
		}
	}
	// The import sample carries a phone in clear on purpose: the stored order must not.
	page, err := h.List(context.Background(), auth.Principal{Role: auth.Admin}, store.Filter{Query: "WX-20261111-0001"})
	body, _ := json.Marshal(page)
	if err != nil || len(page.Orders) != 1 || strings.Contains(string(body), "13900001111") {
		t.Fatalf("imported sample: %v %s", err, body)
	}
}
