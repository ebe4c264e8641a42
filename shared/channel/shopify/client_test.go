package shopify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
	"orderhub/shared/order"
)

func collect(t *testing.T, c *Connector, w channel.Window) (map[string]order.Order, error) {
	t.Helper()
	got := map[string]order.Order{}
	err := c.Pull(context.Background(), w, func(_ context.Context, o order.Order) error {
		got[o.ChannelOrderID] = o
		return nil
	})
	return got, err
}

func TestNewChecksCredentials(t *testing.T) {
	t.Parallel()
	full := map[string]string{CredAccessToken: "shpat_secret_value", CredWebhookSecret: "whsec_value"}
	tests := []struct {
		name    string
		creds   map[string]string
		base    string
		missing string
	}{
		{"no token", map[string]string{CredWebhookSecret: "whsec_value"}, "https://x.myshopify.com", CredAccessToken},
		{"no secret", map[string]string{CredAccessToken: "shpat_secret_value"}, "https://x.myshopify.com", CredWebhookSecret},
		{"bad version", map[string]string{CredAccessToken: "a", CredWebhookSecret: "b", CredAPIVersion: "../x"}, "https://x.myshopify.com", ""},
		{"plain http", full, "http://x.myshopify.com", ""},
		{"no base", full, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(channel.Shop{ID: "s1", BaseURL: tc.base, Credentials: tc.creds}, channel.Deps{Hasher: testHasher})
			if fault.KindOf(err) != fault.Invalid {
				t.Fatalf("New = %v, want an invalid-input error", err)
			}
			msg := err.Error()
			if tc.missing != "" && !strings.Contains(msg, tc.missing) {
				t.Fatalf("error %q does not name %q", msg, tc.missing)
			}
			for _, v := range tc.creds {
				if len(v) > 2 && strings.Contains(msg, v) {
					t.Fatalf("error %q leaks a credential value", msg)
				}
			}
		})
	}
	c, err := New(channel.Shop{ID: "s1", BaseURL: "https://x.myshopify.com/admin", Credentials: full}, channel.Deps{Hasher: testHasher})
	if err != nil || c.version != DefaultAPIVersion || c.base != "https://x.myshopify.com" || c.MaxWindow() != 7*24*time.Hour {
		t.Fatalf("New = %+v, %v", c, err)
	}
}

func TestPullWindowAcrossPages(t *testing.T) {
	t.Parallel()
	sb := NewSandbox(SandboxConfig{Seed: 42, PageSize: 4, SelfFulfil: true})
	for range 40 {
		sb.Advance(7 * time.Minute)
	}
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		sb.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := New(sb.Shop("s1", srv.URL), channel.Deps{Hasher: testHasher})
	if err != nil {
		t.Fatal(err)
	}
	start := sb.Orders()[0].CreatedAt
	w := channel.Window{From: start.Add(70 * time.Minute), To: start.Add(3*time.Hour + 30*time.Second)}
	got, err := collect(t, c, w)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, o := range sb.Orders() {
		id := strconv.FormatInt(o.ID, 10)
		in := !o.UpdatedAt.Before(w.From) && o.UpdatedAt.Before(w.To)
		g, ok := got[id]
		switch {
		case in && !ok:
			t.Errorf("order %s updated %v is missing", id, o.UpdatedAt)
		case !in && ok:
			t.Errorf("order %s updated %v is outside the window", id, o.UpdatedAt)
		case in:
			want++
			if !g.Version.Equal(o.UpdatedAt) || g.ChannelStatus == "" {
				t.Errorf("order %s: version %v status %q, want %v", id, g.Version, g.ChannelStatus, o.UpdatedAt)
			}
		}
	}
	if want < 9 || len(got) != want {
		t.Fatalf("got %d orders, want %d (and enough for several pages)", len(got), want)
	}
	if n := requests.Load(); n < 3 {
		t.Fatalf("only %d requests: paging not exercised", n)
	}
	t.Logf("%d of %d orders in the window, %d requests", len(got), len(sb.Orders()), requests.Load())
}

func TestPullFailures(t *testing.T) {
	t.Parallel()
	w := func(sb *Sandbox) channel.Window {
		return channel.Window{From: sb.Now().Add(-24 * time.Hour), To: sb.Now().Add(time.Second)}
	}
	t.Run("failing page", func(t *testing.T) {
		t.Parallel()
		sb, c, _ := sandboxed(t, SandboxConfig{Seed: 1, PageSize: 3}, 10, 5*time.Minute)
		sb.Faults.FailPage(2, 1)
		if _, err := collect(t, c, w(sb)); !errors.Is(err, channel.ErrPlatform) {
			t.Fatalf("Pull = %v, want ErrPlatform", err)
		}
		if _, err := collect(t, c, w(sb)); err != nil {
			t.Fatalf("the repeated window must succeed: %v", err)
		}
	})
	t.Run("rate limited", func(t *testing.T) {
		t.Parallel()
		sb, c, _ := sandboxed(t, SandboxConfig{Seed: 1}, 3, 5*time.Minute)
		sb.Faults.RateLimitNext(1)
		_, err := collect(t, c, w(sb))
		var rl *channel.RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
			t.Fatalf("Pull = %v, want RateLimitedError of 2s", err)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		t.Parallel()
		sb, _, srv := sandboxed(t, SandboxConfig{Seed: 1}, 1, time.Minute)
		shop := sb.Shop("s1", srv.URL)
		shop.Credentials[CredAccessToken] = "shpat_wrong"
		c, err := New(shop, channel.Deps{Hasher: testHasher})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := collect(t, c, w(sb)); !errors.Is(err, channel.ErrBadCredential) {
			t.Fatalf("Pull = %v, want ErrBadCredential", err)
		}
	})
	t.Run("window too long", func(t *testing.T) {
		t.Parallel()
		_, c, _ := sandboxed(t, SandboxConfig{Seed: 1}, 0, 0)
		now := time.Now()
		if _, err := collect(t, c, channel.Window{From: now.Add(-8 * 24 * time.Hour), To: now}); fault.KindOf(err) != fault.Invalid {
			t.Fatalf("Pull = %v", err)
		}
	})
	t.Run("emit error stops", func(t *testing.T) {
		t.Parallel()
		sb, c, _ := sandboxed(t, SandboxConfig{Seed: 1}, 3, time.Minute)
		boom := errors.New("store down")
		err := c.Pull(context.Background(), w(sb), func(context.Context, order.Order) error { return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("Pull = %v", err)
		}
	})
}

func TestDetail(t *testing.T) {
	t.Parallel()
	sb, c, _ := sandboxed(t, SandboxConfig{Seed: 9, SelfFulfil: true}, 8, 10*time.Minute)
	for _, raw := range sb.Orders()[:5] {
		id := strconv.FormatInt(raw.ID, 10)
		o, err := c.Detail(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if o.ChannelOrderID != id || !o.Version.Equal(raw.UpdatedAt) {
			t.Fatalf("Detail(%s) = %s %v", id, o.ChannelOrderID, o.Version)
		}
	}
	for _, id := range []string{"1", "../orders", ""} {
		if _, err := c.Detail(context.Background(), id); !errors.Is(err, ErrOrderNotFound) {
			t.Fatalf("Detail(%q) = %v, want ErrOrderNotFound", id, err)
		}
	}
}

func TestConfirmShipment(t *testing.T) {
	t.Parallel()
	sb, c, _ := sandboxed(t, SandboxConfig{Seed: 21}, 6, 10*time.Minute)
	var target, cancelled string
	for _, o := range sb.Orders() {
		id := strconv.FormatInt(o.ID, 10)
		switch {
		case o.CancelledAt != nil && cancelled == "":
			cancelled = id
		case o.CancelledAt == nil && o.FinancialStatus == "paid" && o.FulfillmentStatus == nil && target == "":
			target = id
		}
	}
	if target == "" {
		t.Fatal("no paid unfulfilled order in the sandbox")
	}
	s := order.Shipment{Carrier: "SF Express", TrackingNo: "SF1234567890123", ShippedAt: sb.Now()}
	for i := range 3 {
		if err := c.ConfirmShipment(context.Background(), target, s); err != nil {
			t.Fatalf("ConfirmShipment #%d = %v", i+1, err)
		}
	}
	got := sb.Shipments()
	if len(got) != 1 || got[0].OrderID != target || got[0].TrackingNo != s.TrackingNo || got[0].Carrier != s.Carrier {
		t.Fatalf("Shipments = %+v", got)
	}
	o, err := c.Detail(context.Background(), target)
	if err != nil || o.Status != order.Shipped || o.ChannelStatus != "paid/fulfilled" {
		t.Fatalf("after shipment: %s %q %v", o.Status, o.ChannelStatus, err)
	}
	other := order.Shipment{Carrier: "YTO", TrackingNo: "YT0000001"}
	if err := c.ConfirmShipment(context.Background(), target, other); !errors.Is(err, ErrShipmentRefused) || fault.KindOf(err) != fault.Conflict {
		t.Fatalf("second tracking number on a fulfilled order: %v", err)
	}
	if cancelled != "" {
		if err := c.ConfirmShipment(context.Background(), cancelled, s); !errors.Is(err, ErrShipmentRefused) {
			t.Fatalf("shipment of a cancelled order: %v", err)
		}
	}
	if err := c.ConfirmShipment(context.Background(), target, order.Shipment{Carrier: "SF"}); !errors.Is(err, ErrShipmentRefused) {
		t.Fatalf("shipment without tracking number: %v", err)
	}
}

func TestNextPageInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		links []string
		want  string
	}{
		{"none", nil, ""},
		{"next only", []string{`<https://s.myshopify.com/admin/api/2025-10/orders.json?limit=250&page_info=abc123>; rel="next"`}, "abc123"},
		{"previous and next", []string{`<https://s.myshopify.com/admin/api/2025-10/orders.json?page_info=prev1&limit=3>; rel="previous", <https://s.myshopify.com/admin/api/2025-10/orders.json?page_info=next2&limit=3>; rel="next"`}, "next2"},
		{"previous only", []string{`<https://s.myshopify.com/orders.json?page_info=p>; rel="previous"`}, ""},
		{"fields with commas", []string{`<https://s/orders.json?fields=id,updated_at&page_info=x9>; rel=next`}, "x9"},
		{"garbage", []string{`<<>>;;rel=`}, ""},
	}
	for _, tc := range tests {
		if got := nextPageInfo(tc.links); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"2.0": 2 * time.Second, "5": 5 * time.Second, "0.5": 500 * time.Millisecond, "": defaultRetryAfter,
		"soon": defaultRetryAfter, "Thu, 01 Jan 2026 00:00:30 GMT": 30 * time.Second, "-3": defaultRetryAfter,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
