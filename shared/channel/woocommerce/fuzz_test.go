package woocommerce

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func FuzzParsePush(f *testing.F) {
	f.Add("order.updated", []byte(fixture), true)
	f.Add("order.deleted", []byte(`{"id":727}`), true)
	f.Add("", []byte(`webhook_id=7`), false)
	f.Add("order.created", []byte(`{"id":1,"status":"refunded","date_created_gmt":"2026-01-01T00:00:00","date_modified_gmt":null,"line_items":[{"quantity":9223372036854775807,"subtotal":"92233720368547758.07"}]}`), true)
	c := newTestConnector(f, "https://shop.example", "secret")
	f.Fuzz(func(t *testing.T, topic string, body []byte, signed bool) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		r.Header.Set(HeaderTopic, topic)
		if signed {
			r.Header.Set(HeaderSignature, Sign("secret", body))
		}
		if err := c.VerifyPush(r, body); err != nil {
			if signed {
				t.Fatalf("VerifyPush of a correctly signed body: %v", err)
			}
			return
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
	f.Add([]byte(`{"id":2,"status":"completed","currency":"JPY","date_created_gmt":"2026-01-01T00:00:00Z","date_modified_gmt":"2026-01-01T00:00:00","date_completed_gmt":"2026-01-02T00:00:00","line_items":[{"quantity":3,"subtotal":"10","total":"-1"}]}`))
	m := mapper{shop: "w1", hasher: testHasher, shipBy: time.Hour}
	f.Fuzz(func(t *testing.T, body []byte) {
		var raw Order
		if json.Unmarshal(body, &raw) != nil {
			return
		}
		if o, err := m.toOrder(raw); err == nil {
			if _, err := o.LinesTotal(); err != nil {
				return
			}
		}
	})
}
