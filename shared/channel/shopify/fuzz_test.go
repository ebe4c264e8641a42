package shopify

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func FuzzParsePush(f *testing.F) {
	f.Add("orders/create", []byte(fixture))
	f.Add("orders/updated", []byte(`{"id":1,"financial_status":"paid","line_items":[{"price":1e400}]}`))
	f.Add("refunds/create", []byte(`{"order_id":-1}`))
	f.Add("orders/edited", []byte(`{"order_edit":{"order_id":9}}`))
	f.Add("", []byte(`null`))
	c := newTestConnector(f, "http://127.0.0.1:1", "secret", "tok")
	f.Fuzz(func(t *testing.T, topic string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		r.Header.Set(HeaderTopic, topic)
		r.Header.Set(HeaderHmac, Sign("secret", body))
		if err := c.VerifyPush(r, body); err != nil {
			t.Fatalf("VerifyPush of a correctly signed body: %v", err)
		}
		p, err := c.ParsePush(r, body)
		if err == nil {
			for _, o := range p.Orders {
				_ = o.Validate()
			}
		}
	})
}

func FuzzMapper(f *testing.F) {
	f.Add([]byte(fixture))
	f.Add([]byte(`{"id":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","financial_status":"refunded","fulfillment_status":"partial","cancelled_at":"2026-01-01T00:00:00Z","currency":"JPY","line_items":[{"price":"100","quantity":-1,"discount_allocations":[{"amount":"9e9"}]}]}`))
	m := mapper{shop: "s1", hasher: testHasher, shipBy: time.Hour}
	f.Fuzz(func(t *testing.T, body []byte) {
		var raw Order
		if json.Unmarshal(body, &raw) != nil {
			return
		}
		_, _ = m.toOrder(raw)
	})
}
