package shopify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
)

func readBody(t *testing.T, r *http.Request) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSandboxWebhooksVerifyAndParse(t *testing.T) {
	t.Parallel()
	sb, c, _ := sandboxed(t, SandboxConfig{Seed: 3}, 5, 10*time.Minute)
	o := sb.Orders()[0]
	id := strconv.FormatInt(o.ID, 10)

	tests := []struct {
		topic  string
		orders int
		fetch  []string
		ping   bool
	}{
		{"orders/create", 1, nil, false},
		{"orders/updated", 1, nil, false},
		{"orders/paid", 1, nil, false},
		{"orders/cancelled", 1, nil, false},
		{"orders/fulfilled", 1, nil, false},
		{"orders/partially_fulfilled", 1, nil, false},
		{"refunds/create", 0, []string{id}, false},
		{"fulfillments/create", 0, []string{id}, false},
		{"orders/delete", 0, nil, true},
		{"products/update", 0, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.topic, func(t *testing.T) {
			t.Parallel()
			r, err := sb.WebhookRequest("http://hub.test/webhooks/shopify/s1", id, tc.topic)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, r)
			if err := c.VerifyPush(r, body); err != nil {
				t.Fatalf("VerifyPush = %v", err)
			}
			p, err := c.ParsePush(r, body)
			if err != nil {
				t.Fatalf("ParsePush = %v", err)
			}
			if p.DeliveryID == "" || p.DeliveryID != r.Header.Get(HeaderWebhookID) {
				t.Fatalf("DeliveryID %q", p.DeliveryID)
			}
			if len(p.Orders) != tc.orders || strings.Join(p.Fetch, ",") != strings.Join(tc.fetch, ",") || p.Ping != tc.ping {
				t.Fatalf("push = %+v", p)
			}
			if tc.orders == 1 && (p.Orders[0].ChannelOrderID != id || !p.Orders[0].Version.Equal(o.UpdatedAt)) {
				t.Fatalf("order %s version %v, want %s %v", p.Orders[0].ChannelOrderID, p.Orders[0].Version, id, o.UpdatedAt)
			}
		})
	}

	t.Run("badly signed", func(t *testing.T) {
		t.Parallel()
		r, err := sb.BadlySignedWebhookRequest("http://hub.test/", id, "orders/updated")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.VerifyPush(r, readBody(t, r)); !errors.Is(err, channel.ErrBadSignature) {
			t.Fatalf("VerifyPush = %v", err)
		}
	})
}

func TestParsePushMalformed(t *testing.T) {
	t.Parallel()
	c := newTestConnector(t, "http://127.0.0.1:1", "secret", "tok")
	tests := []struct{ name, topic, body string }{
		{"not json", "orders/create", `{"id": 1,`},
		{"empty", "orders/create", ``},
		{"array", "orders/create", `[1,2]`},
		{"wrong types", "orders/create", `{"id":"one"}`},
		{"no id", "orders/updated", `{"financial_status":"paid"}`},
		{"unknown status", "orders/updated", `{"id":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","financial_status":"bartered","line_items":[]}`},
		{"refund without order", "refunds/create", `{"id":5}`},
		{"no topic", "", `{"id":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			r.Header.Set(HeaderTopic, tc.topic)
			_, err := c.ParsePush(r, []byte(tc.body))
			if !errors.Is(err, channel.ErrMalformedPush) || fault.KindOf(err) != fault.Invalid {
				t.Fatalf("ParsePush = %v, want ErrMalformedPush", err)
			}
		})
	}
	ct, body := c.PushAck()
	if ct != "application/json" || string(body) != "{}" {
		t.Fatalf("PushAck = %q %q", ct, body)
	}
}

func TestPushAllDeliversSignedWebhooks(t *testing.T) {
	t.Parallel()
	sb, c, _ := sandboxed(t, SandboxConfig{Seed: 5, SelfFulfil: true}, 0, 0)
	var mu sync.Mutex
	versions := map[string]time.Time{}
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := c.VerifyPush(r, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		p, err := c.ParsePush(r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, o := range p.Orders {
			if o.Version.After(versions[o.ChannelOrderID]) {
				versions[o.ChannelOrderID] = o.Version
			}
		}
		mu.Unlock()
		ct, ack := c.PushAck()
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(ack)
	}))
	defer hub.Close()

	for range 12 {
		sb.Advance(15 * time.Minute)
	}
	n, err := sb.PushAll(context.Background(), hub.Client(), hub.URL)
	if err != nil || n == 0 {
		t.Fatalf("PushAll = %d, %v", n, err)
	}
	// Every order's latest state was pushed (refund topics only name the order, but each refund
	// also sends orders/updated), so the receiver saw every order at its current version.
	for _, o := range sb.Orders() {
		if got := versions[strconv.FormatInt(o.ID, 10)]; !got.Equal(o.UpdatedAt) {
			t.Fatalf("order %d: pushed version %v, current %v", o.ID, got, o.UpdatedAt)
		}
	}

	sb.Faults.DropPushes(1)
	sb.Advance(time.Hour)
	if n, err := sb.PushAll(context.Background(), hub.Client(), hub.URL); err != nil || n != 0 {
		t.Fatalf("with every push dropped: %d, %v", n, err)
	}
}
