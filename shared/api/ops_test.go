package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"orderhub/shared/auth"
	"orderhub/shared/order"
	"orderhub/shared/queue"
)

func TestStockCountsAdjustmentsAndAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := e.do("PUT", "/v1/stock/TEA-LJ-250", auth.Warehouse, map[string]any{"warehouse": "WH-HZ", "on_hand": 120, "reason": "盘点 stock count"})
	if r.status != 200 || !strings.Contains(string(r.body), `"available":120`) {
		t.Fatalf("count: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/v1/stock/TEA-LJ-250/adjust", auth.Supervisor, map[string]any{"warehouse": "WH-HZ", "delta": -20, "reason": "damaged in transit"})
	if r.status != 200 || !strings.Contains(string(r.body), `"on_hand":100`) {
		t.Fatalf("adjust: %d %s", r.status, r.body)
	}
	for name, body := range map[string]any{
		"no reason":    map[string]any{"warehouse": "WH-HZ", "on_hand": 1},
		"no warehouse": map[string]any{"on_hand": 1, "reason": "x"},
		"no quantity":  map[string]any{"warehouse": "WH-HZ", "reason": "x"},
		"negative":     map[string]any{"warehouse": "WH-HZ", "on_hand": -5, "reason": "x"},
		"both":         map[string]any{"warehouse": "WH-HZ", "on_hand": 1, "delta": 1, "reason": "x"},
	} {
		if r := e.do("PUT", "/v1/stock/TEA-LJ-250", auth.Warehouse, body); r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if r := e.do("POST", "/v1/stock/TEA-LJ-250/adjust", auth.Warehouse, map[string]any{"warehouse": "WH-HZ", "delta": -1000, "reason": "x"}); r.status != 400 {
		t.Errorf("adjust below zero: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", "/v1/stock/TEA-LJ-250", auth.CS, map[string]any{"warehouse": "WH-HZ", "on_hand": 1, "reason": "x"}); r.status != 403 {
		t.Errorf("cs may not count stock: %d", r.status)
	}
	r = e.do("GET", "/v1/stock/TEA-LJ-250", auth.CS, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"available":100`) {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/v1/stock?warehouse=WH-HZ", auth.Finance, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"sku":"TEA-LJ-250"`) {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/v1/stock/TEA-LJ-250/audit", auth.Finance, nil)
	if r.status != 200 || !strings.Contains(string(r.body), "damaged in transit") || !strings.Contains(string(r.body), "key:test-warehouse") {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/v1/stock/NOPE", auth.CS, nil); r.status != 404 {
		t.Fatalf("unknown SKU: %d", r.status)
	}
}

func TestRulesSaveRefusesErrorsWithPositionsAndDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := e.do("GET", "/v1/rules", auth.CS, nil)
	if r.status != 200 || !strings.Contains(string(r.body), "route-east") {
		t.Fatalf("default rules: %d %.200s", r.status, r.body)
	}
	bad := `version: 0
rules:
  - id: broken-tag
    kind: tag
    when: paid >=
    tags: [oops]
  - id: typo-field
    kind: tag
    when: colour == "red"
    tags: [red]
`
	r = e.do("PUT", "/v1/rules", auth.Supervisor, bad)
	if r.status != 422 || !strings.Contains(string(r.body), `"rule_id":"broken-tag"`) || !strings.Contains(string(r.body), `"rule_id":"typo-field"`) || !strings.Contains(string(r.body), `"line":1`) {
		t.Fatalf("invalid rules: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/v1/rules", auth.CS, nil); !strings.Contains(string(r.body), "route-east") {
		t.Fatal("a refused rule set replaced the one in force")
	}

	// An order the candidate would hold.
	id, _ := e.importOrder("DRY-1", v1, order.Paid)
	before := e.do("GET", "/v1/orders/"+id, auth.CS, nil).body
	candidate := `rules:
  - id: hold-wechat
    kind: hold
    when: shop == "wechat-group"
    hold: {code: manual_review, note: every WeChat order is checked}
  - id: route-all
    kind: route
    when: "true"
    route: {warehouse: WH-HZ}
`
	r = e.do("POST", "/v1/rules/dry-run?shop=wechat-group", auth.Supervisor, candidate)
	if r.status != 200 || !strings.Contains(string(r.body), `"changed":1`) || !strings.Contains(string(r.body), "manual_review") {
		t.Fatalf("dry run: %d %s", r.status, r.body)
	}
	if after := e.do("GET", "/v1/orders/"+id, auth.CS, nil).body; string(after) != string(before) {
		t.Fatal("a dry run changed an order")
	}

	r = e.do("PUT", "/v1/rules", auth.Supervisor, candidate)
	if r.status != 200 || !strings.Contains(string(r.body), `"version":2`) { // the default set is version 1
		t.Fatalf("save: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/v1/rules?format=yaml", auth.CS, nil); !strings.Contains(string(r.body), "hold-wechat") {
		t.Fatalf("saved set not in force: %s", r.body)
	}
	stale := "version: 1\n" + candidate // edited from the default set, which is no longer in force
	if r := e.do("PUT", "/v1/rules", auth.Supervisor, stale); r.status != 409 {
		t.Fatalf("a set edited from another version: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", "/v1/rules", auth.CS, candidate); r.status != 403 {
		t.Fatalf("cs may not change rules: %d", r.status)
	}
}

func TestDeadLettersCanBeListedAndReplayed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	q := e.hub.Queues
	if err := q.Send(ctx, "route", queue.Outgoing{Body: []byte(`{"order_id":"X"}`), Key: "X:1"}); err != nil {
		t.Fatal(err)
	}
	msgs, err := q.Receive(ctx, "route", queue.ReceiveOptions{Max: 1, Visibility: time.Minute})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive: %v %d", err, len(msgs))
	}
	// One attempt only (declared in newEnv): a failure makes it a dead letter.
	if err := q.Retry(ctx, "route", msgs[0].Receipt, 0, errors.New("handler failed")); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "/v1/queues", auth.Supervisor, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"dead":1`) {
		t.Fatalf("depths: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/v1/queues/route/dead", auth.Supervisor, nil)
	if r.status != 200 || !strings.Contains(string(r.body), msgs[0].ID) {
		t.Fatalf("dead letters: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/queues/route/dead/"+msgs[0].ID+"/replay", auth.Supervisor, nil); r.status != 202 {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/queues/route/dead/"+msgs[0].ID+"/replay", auth.Supervisor, nil); r.status != 404 {
		t.Fatalf("second replay: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/v1/queues/nope/dead", auth.Supervisor, nil); r.status != 404 {
		t.Fatalf("unknown queue: %d", r.status)
	}
	again, _ := q.Receive(ctx, "route", queue.ReceiveOptions{Max: 1, Visibility: time.Minute})
	if len(again) != 1 || string(again[0].Body) != `{"order_id":"X"}` {
		t.Fatalf("the replayed message is not back: %+v", again)
	}
}
