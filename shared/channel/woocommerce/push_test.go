package woocommerce

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
	"orderhub/shared/order"
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
		{"order.created", 1, nil, false},
		{"order.updated", 1, nil, false},
		{"order.restored", 1, nil, false},
		{"order.deleted", 0, []string{id}, false},
		{"product.updated", 0, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.topic, func(t *testing.T) {
			t.Parallel()
			r, err := sb.WebhookRequest("http://hub.test/webhooks/woocommerce/w1", id, tc.topic)
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
			if p.DeliveryID == "" || p.DeliveryID != r.Header.Get(HeaderDeliveryID) {
				t.Fatalf("DeliveryID %q", p.DeliveryID)
			}
			if len(p.Orders) != tc.orders || strings.Join(p.Fetch, ",") != strings.Join(tc.fetch, ",") || p.Ping != tc.ping {
				t.Fatalf("push = %+v", p)
			}
			if tc.orders == 1 && (p.Orders[0].ChannelOrderID != id || !p.Orders[0].Version.Equal(o.DateModifiedGMT.Time)) {
				t.Fatalf("order %s version %v", p.Orders[0].ChannelOrderID, p.Orders[0].Version)
			}
		})
	}
	t.Run("badly signed", func(t *testing.T) {
		t.Parallel()
		r, err := sb.BadlySignedWebhookRequest("http://hub.test/", id, "order.updated")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.VerifyPush(r, readBody(t, r)); !errors.Is(err, channel.ErrBadSignature) {
			t.Fatalf("VerifyPush = %v", err)
		}
	})
	t.Run("creation ping", func(t *testing.T) {
		t.Parallel()
		r, err := sb.PingRequest("http://hub.test/")
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, r)
		if err := c.VerifyPush(r, body); err != nil {
			t.Fatalf("VerifyPush(ping) = %v", err)
		}
		p, err := c.ParsePush(r, body)
		if err != nil || !p.Ping || len(p.Orders)+len(p.Fetch) != 0 {
			t.Fatalf("ParsePush(ping) = %+v, %v", p, err)
		}
	})
}

func TestParsePushMalformed(t *testing.T) {
	t.Parallel()
	c := newTestConnector(t, "https://shop.example", "secret")
	tests := []struct{ name, topic, body string }{
		{"not json", "order.updated", `{"id": 1,`},
		{"empty", "order.created", ``},
		{"array", "order.created", `[1]`},
		{"wrong types", "order.updated", `{"id":"seven"}`},
		{"no id", "order.updated", `{"status":"processing"}`},
		{"legacy v3 payload", "order.updated", `{"order":{"id":1}}`},
		{"unknown status", "order.updated", `{"id":1,"status":"shipped","date_created_gmt":"2026-01-01T00:00:00","date_modified_gmt":"2026-01-01T00:00:00"}`},
		{"bad date", "order.updated", `{"id":1,"status":"processing","date_modified_gmt":"yesterday"}`},
		{"deleted without id", "order.deleted", `{}`},
		{"no topic", "", `{"id":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			if tc.topic != "" {
				r.Header.Set(HeaderTopic, tc.topic)
			}
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
	fetch := map[string]bool{}
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
		for _, id := range p.Fetch {
			fetch[id] = true
		}
		mu.Unlock()
		ct, ack := c.PushAck()
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(ack)
	}))
	defer hub.Close()

	for range 20 {
		sb.Advance(15 * time.Minute)
	}
	n, err := sb.PushAll(context.Background(), hub.Client(), hub.URL)
	if err != nil || n == 0 {
		t.Fatalf("PushAll = %d, %v", n, err)
	}
	for _, o := range sb.Orders() {
		id := strconv.FormatInt(o.ID, 10)
		switch {
		case o.Status == "checkout-draft":
			if _, pushed := versions[id]; pushed {
				t.Errorf("draft %s was pushed", id)
			}
		case o.Status == "trash":
			if !fetch[id] {
				t.Errorf("trashed order %s was not pushed for fetching", id)
			}
		default:
			if got := versions[id]; !got.Equal(o.DateModifiedGMT.Time) {
				t.Errorf("order %s (%s): pushed version %v, current %v", id, o.Status, got, o.DateModifiedGMT.Time)
			}
		}
	}
	if len(fetch) == 0 {
		t.Error("no order was trashed: pick another seed")
	}

	sb.Faults.DropPushes(1)
	sb.Advance(time.Hour)
	if n, err := sb.PushAll(context.Background(), hub.Client(), hub.URL); err != nil || n != 0 {
		t.Fatalf("with every push dropped: %d, %v", n, err)
	}
}

func TestTrashedOrderDetailIsCancelled(t *testing.T) {
	t.Parallel()
	sb, c, _ := sandboxed(t, SandboxConfig{Seed: 5}, 30, 15*time.Minute)
	for _, raw := range sb.Orders() {
		if raw.Status != "trash" {
			continue
		}
		o, err := c.Detail(context.Background(), strconv.FormatInt(raw.ID, 10))
		if err != nil || o.Status != order.Cancelled || o.ChannelStatus != "trash" {
			t.Fatalf("Detail(trashed) = %s %q %v", o.Status, o.ChannelStatus, err)
		}
		return
	}
	t.Fatal("no trashed order in the sandbox: pick another seed")
}
