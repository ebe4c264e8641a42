package api_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"orderhub/shared/api"
	"orderhub/shared/auth"
	"orderhub/shared/order"
	"orderhub/shared/outbound"
)

// reserved imports a paid order and moves it to reserved in the store, as the pipeline would.
func (e *env) reserved(id string) string {
	e.t.Helper()
	oid, _ := e.importOrder(id, v1, order.Paid)
	_, err := e.hub.Orders.Update(e.t.Context(), oid, func(o *order.Order) error {
		o.Warehouse = "WH-HZ"
		if err := o.Transition(order.Routed, "test", "routed", time.Now()); err != nil {
			return err
		}
		return o.Transition(order.Reserved, "test", "reserved", time.Now())
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return oid
}

func TestShipConfirmsAReservedOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id := e.reserved("SHIP-1")
	ship := map[string]any{"carrier": "SF", "tracking_no": "SF1234567890"}
	for _, role := range []auth.Role{auth.CS, auth.Finance, auth.Supplier} {
		if r := e.do("POST", "/v1/orders/"+id+"/ship", role, ship); r.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", role, r.status)
		}
	}
	for name, body := range map[string]any{
		"no tracking":   map[string]any{"carrier": "SF"},
		"no carrier":    map[string]any{"tracking_no": "SF1"},
		"spaces":        map[string]any{"carrier": "SF", "tracking_no": "SF 1"},
		"unknown field": map[string]any{"carrier": "SF", "tracking_no": "SF1", "status": "delivered"},
		"not json":      "carrier=SF",
	} {
		r := e.do("POST", "/v1/orders/"+id+"/ship", auth.Warehouse, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, r.status, r.body)
		}
	}
	r := e.do("POST", "/v1/orders/"+id+"/ship", auth.Warehouse, ship)
	var o order.Order
	r.json(t, &o)
	if r.status != 200 || o.Status != order.Shipped || len(o.Shipments) != 1 || o.Shipments[0].Warehouse != "WH-HZ" {
		t.Fatalf("ship: %d %s", r.status, r.body)
	}
	// The same confirmation again is a replay; another tracking number is an illegal transition.
	r = e.do("POST", "/v1/orders/"+id+"/ship", auth.Supervisor, ship)
	var again order.Order
	r.json(t, &again)
	if r.status != 200 || again.Rev != o.Rev {
		t.Fatalf("replay: %d rev %d→%d", r.status, o.Rev, again.Rev)
	}
	if r := e.do("POST", "/v1/orders/"+id+"/ship", auth.Warehouse, map[string]any{"carrier": "SF", "tracking_no": "SF999"}); r.status != 409 || r.errorCode(t) != "illegal_transition" {
		t.Fatalf("second shipment: %d %s", r.status, r.body)
	}
	var page struct{ Orders []order.Order }
	e.do("GET", "/v1/orders?q=SF1234567890", auth.CS, nil).json(t, &page)
	if len(page.Orders) != 1 || page.Orders[0].ID != id {
		t.Fatalf("search by tracking number: %+v", page.Orders)
	}
}

func TestShipRefusesAnOrderThatIsNotReserved(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	id, _ := e.importOrder("SHIP-2", v1, order.Paid)
	before, _ := e.hub.Orders.Get(t.Context(), id)
	r := e.do("POST", "/v1/orders/"+id+"/ship", auth.Warehouse, map[string]any{"carrier": "SF", "tracking_no": "SF1"})
	if r.status != 409 || r.errorCode(t) != "illegal_transition" {
		t.Fatalf("ship a paid order: %d %s", r.status, r.body)
	}
	after, _ := e.hub.Orders.Get(t.Context(), id)
	if after.Rev != before.Rev || after.Status != order.Paid || len(after.Shipments) != 0 {
		t.Fatalf("a refused shipment changed the order: %+v", after)
	}
	if r := e.do("POST", "/v1/orders/NOPE/ship", auth.Warehouse, map[string]any{"carrier": "SF", "tracking_no": "SF1"}); r.status != 404 {
		t.Fatalf("unknown order: %d", r.status)
	}
}

func TestWMSCallbackIsVerifiedBeforeAnythingChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	secret := []byte("wms-secret-hz")
	dir := outbound.NewDirectory(outbound.Destination{Kind: outbound.KindWarehouse, ID: "WH-HZ", URL: "http://wms.invalid", Secret: secret},
		outbound.Destination{Kind: outbound.KindWarehouse, ID: "WH-GZ", URL: "http://wms.invalid", Secret: []byte("gz")})
	srv := api.New(e.hub, slog.New(slog.DiscardHandler), api.WithWMS(dir))
	id := e.reserved("SHIP-3")
	send := func(wh string, body []byte, sig string) int {
		req := httptest.NewRequest("POST", "/webhooks/wms/"+wh, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set(outbound.HeaderSignature, sig)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code
	}
	body, _ := json.Marshal(outbound.Confirmation{OrderID: id, Carrier: "ZTO", TrackingNo: "ZTO555"})
	before, _ := e.hub.Orders.Get(t.Context(), id)
	for name, c := range map[string]struct {
		wh, sig string
	}{
		"no signature":      {"WH-HZ", ""},
		"wrong secret":      {"WH-HZ", outbound.Sign([]byte("guess"), body)},
		"unknown warehouse": {"WH-XX", outbound.Sign(secret, body)},
		"other warehouse":   {"WH-GZ", outbound.Sign(secret, body)},
	} {
		if got := send(c.wh, body, c.sig); got != 401 {
			t.Errorf("%s: %d, want 401", name, got)
		}
	}
	if after, _ := e.hub.Orders.Get(t.Context(), id); after.Rev != before.Rev {
		t.Fatal("a refused callback changed the order")
	}
	if got := send("WH-HZ", []byte(`{"order_id":`), outbound.Sign(secret, []byte(`{"order_id":`))); got != 400 {
		t.Fatalf("malformed: %d", got)
	}
	if got := send("WH-HZ", body, outbound.Sign(secret, body)); got != 200 {
		t.Fatalf("good callback: %d", got)
	}
	shipped, _ := e.hub.Orders.Get(t.Context(), id)
	if shipped.Status != order.Shipped || shipped.Shipments[0].TrackingNo != "ZTO555" {
		t.Fatalf("after the callback: %+v", shipped)
	}
	if got := send("WH-HZ", body, outbound.Sign(secret, body)); got != 200 {
		t.Fatalf("replayed callback: %d", got)
	}
	if again, _ := e.hub.Orders.Get(t.Context(), id); again.Rev != shipped.Rev {
		t.Fatal("a replayed callback had a second effect")
	}
	// A confirmation for a paid order is refused with 409, and changes nothing.
	paid, _ := e.importOrder("SHIP-4", v1, order.Paid)
	body, _ = json.Marshal(outbound.Confirmation{OrderID: paid, Carrier: "ZTO", TrackingNo: "ZTO556"})
	if got := send("WH-HZ", body, outbound.Sign(secret, body)); got != 409 {
		t.Fatalf("callback for a paid order: %d", got)
	}
}
