package woocommerce

import (
	"context"
	"encoding/json"
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
	full := map[string]string{CredConsumerKey: "ck_live_value", CredConsumerSecret: "cs_live_value", CredWebhookSecret: "hook_value"}
	without := func(k string) map[string]string {
		m := map[string]string{}
		for kk, v := range full {
			if kk != k {
				m[kk] = v
			}
		}
		return m
	}
	tests := []struct {
		name    string
		creds   map[string]string
		base    string
		missing string
	}{
		{"no consumer key", without(CredConsumerKey), "https://shop.example", CredConsumerKey},
		{"no consumer secret", without(CredConsumerSecret), "https://shop.example", CredConsumerSecret},
		{"no webhook secret", without(CredWebhookSecret), "https://shop.example", CredWebhookSecret},
		{"plain http", full, "http://shop.example", ""},
		{"credentials in the url", full, "https://ck:cs@shop.example", ""},
		{"no base", full, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(channel.Shop{ID: "w1", BaseURL: tc.base, Credentials: tc.creds}, channel.Deps{Hasher: testHasher})
			if fault.KindOf(err) != fault.Invalid {
				t.Fatalf("New = %v, want an invalid-input error", err)
			}
			if tc.missing != "" && !strings.Contains(err.Error(), tc.missing) {
				t.Fatalf("error %q does not name %q", err, tc.missing)
			}
			for _, v := range full {
				if strings.Contains(err.Error(), v) {
					t.Fatalf("error %q leaks a credential value", err)
				}
			}
		})
	}
	for base, want := range map[string]string{
		"https://shop.example":                "https://shop.example/wp-json/wc/v3",
		"https://shop.example/store/":         "https://shop.example/store/wp-json/wc/v3",
		"https://shop.example/wp-json/wc/v3/": "https://shop.example/wp-json/wc/v3",
		"http://127.0.0.1:8081":               "http://127.0.0.1:8081/wp-json/wc/v3",
	} {
		c, err := New(channel.Shop{ID: "w1", BaseURL: base, Credentials: full}, channel.Deps{Hasher: testHasher})
		if err != nil || c.api != want || c.MaxWindow() != 7*24*time.Hour {
			t.Errorf("New(%s): api %q, %v", base, c.api, err)
		}
	}
}

// countingServer serves sb and counts the order listing requests; after calls requests it runs hook once.
func countingServer(t *testing.T, sb *Sandbox, after int32, hook func()) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/orders") && n.Add(1) == after && hook != nil {
			hook()
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestPullWindowAcrossPages(t *testing.T) {
	t.Parallel()
	sb := NewSandbox(SandboxConfig{Seed: 42, SelfFulfil: true})
	for range 40 {
		sb.Advance(7 * time.Minute)
	}
	srv, requests := countingServer(t, sb, 0, nil)
	c, err := New(sb.Shop("w1", srv.URL), channel.Deps{Hasher: testHasher})
	if err != nil {
		t.Fatal(err)
	}
	c.perPage = 4
	start := sb.Orders()[0].DateCreatedGMT.Time
	w := channel.Window{From: start.Add(70 * time.Minute), To: start.Add(3*time.Hour + 30*time.Second)}
	got, err := collect(t, c, w)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, o := range sb.Orders() {
		id := strconv.FormatInt(o.ID, 10)
		m := o.DateModifiedGMT.Time
		in := !m.Before(w.From) && m.Before(w.To)
		g, ok := got[id]
		switch {
		case in && !ok:
			t.Errorf("order %s (%s) modified %v is missing", id, o.Status, m)
		case !in && ok:
			t.Errorf("order %s modified %v is outside the window", id, m)
		case in:
			want++
			if !g.Version.Equal(m) || g.ChannelStatus != o.Status {
				t.Errorf("order %s: version %v status %q, want %v %q", id, g.Version, g.ChannelStatus, m, o.Status)
			}
		}
	}
	if want < 9 || len(got) != want {
		t.Fatalf("got %d orders, want %d (and enough for several pages)", len(got), want)
	}
	t.Logf("%d of %d orders in the window, %d listing requests", len(got), len(sb.Orders()), requests.Load())
	if requests.Load() < 4 {
		t.Fatalf("only %d listing requests: paging not exercised", requests.Load())
	}
}

// TestPullWhileOrdersChange modifies orders between two page requests, which moves them out of a
// window that ended in the past and shifts the listing under the reader: every order that is still
// in the window afterwards must have been emitted.
func TestPullWhileOrdersChange(t *testing.T) {
	t.Parallel()
	for seed := range uint64(5) {
		sb := NewSandbox(SandboxConfig{Seed: 100 + seed, SelfFulfil: true, NewPerTick: 5})
		for range 30 {
			sb.Advance(5 * time.Minute)
		}
		w := channel.Window{From: sb.Now().Add(-3 * time.Hour), To: sb.Now().Add(-time.Minute)}
		srv, _ := countingServer(t, sb, 3, func() {
			for range 3 {
				sb.Advance(time.Minute)
			}
		})
		c, err := New(sb.Shop("w1", srv.URL), channel.Deps{Hasher: testHasher})
		if err != nil {
			t.Fatal(err)
		}
		c.perPage = 3
		got, err := collect(t, c, w)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range sb.Orders() {
			m := o.DateModifiedGMT.Time
			if _, ok := got[strconv.FormatInt(o.ID, 10)]; !ok && !m.Before(w.From) && m.Before(w.To) {
				t.Errorf("seed %d: order %d modified %v stayed in the window but was skipped", seed, o.ID, m)
			}
		}
	}
}

func TestPullFailures(t *testing.T) {
	t.Parallel()
	w := func(sb *Sandbox) channel.Window {
		return channel.Window{From: sb.Now().Add(-24 * time.Hour), To: sb.Now().Add(time.Second)}
	}
	t.Run("failing page", func(t *testing.T) {
		t.Parallel()
		sb, c, _ := sandboxed(t, SandboxConfig{Seed: 1}, 10, 5*time.Minute)
		c.perPage = 3
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
		if !errors.As(err, &rl) || rl.RetryAfter != 10*time.Second {
			t.Fatalf("Pull = %v, want RateLimitedError of 10s", err)
		}
	})
	t.Run("bad credentials", func(t *testing.T) {
		t.Parallel()
		for _, k := range []string{CredConsumerKey, CredConsumerSecret} {
			sb, _, srv := sandboxed(t, SandboxConfig{Seed: 1}, 1, time.Minute)
			shop := sb.Shop("w1", srv.URL)
			shop.Credentials[k] += "x"
			c, err := New(shop, channel.Deps{Hasher: testHasher})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := collect(t, c, w(sb)); !errors.Is(err, channel.ErrBadCredential) {
				t.Fatalf("wrong %s: Pull = %v, want ErrBadCredential", k, err)
			}
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
	t.Run("store serving smaller pages", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-WP-Total", "250")
			w.Header().Set("X-WP-TotalPages", "25") // 10 per page although 100 were asked for
			_, _ = w.Write([]byte("[]"))
		}))
		defer srv.Close()
		c := newTestConnector(t, srv.URL, "s")
		if _, err := collect(t, c, channel.Window{From: time.Now().Add(-time.Hour), To: time.Now()}); !errors.Is(err, channel.ErrPlatform) {
			t.Fatalf("Pull = %v, want ErrPlatform", err)
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
		if o.ChannelOrderID != id || !o.Version.Equal(raw.DateModifiedGMT.Time) || o.ChannelStatus != raw.Status {
			t.Fatalf("Detail(%s) = %s %v %s", id, o.ChannelOrderID, o.Version, o.ChannelStatus)
		}
	}
	for _, id := range []string{"999999", "../orders", "", "0", "-1"} {
		if _, err := c.Detail(context.Background(), id); !errors.Is(err, ErrOrderNotFound) {
			t.Fatalf("Detail(%q) = %v, want ErrOrderNotFound", id, err)
		}
	}
}

func TestConfirmShipment(t *testing.T) {
	t.Parallel()
	sb, c, _ := sandboxed(t, SandboxConfig{Seed: 21}, 6, 10*time.Minute)
	var target, cancelled, pending string
	for _, o := range sb.Orders() {
		id := strconv.FormatInt(o.ID, 10)
		switch {
		case o.Status == "processing" && target == "":
			target = id
		case o.Status == "cancelled" && cancelled == "":
			cancelled = id
		case o.Status == "pending" && pending == "":
			pending = id
		}
	}
	if target == "" || pending == "" {
		t.Fatal("the sandbox lacks a processing or a pending order: pick another seed")
	}
	s := order.Shipment{Carrier: "SF Express", TrackingNo: "SF1234567890123", ShippedAt: sb.Now()}
	for i := range 3 {
		if err := c.ConfirmShipment(context.Background(), target, s); err != nil {
			t.Fatalf("ConfirmShipment #%d = %v", i+1, err)
		}
	}
	if got := sb.Shipments(); len(got) != 1 || got[0].OrderID != target || got[0].TrackingNo != s.TrackingNo || got[0].Carrier != s.Carrier {
		t.Fatalf("Shipments = %+v", got)
	}
	if notes := sb.Notes(target); len(notes) != 1 || !notes[0].CustomerNote || !strings.Contains(notes[0].Note, s.TrackingNo) {
		t.Fatalf("notes = %+v", notes)
	}
	o, err := c.Detail(context.Background(), target)
	if err != nil || o.Status != order.Shipped || o.ChannelStatus != "completed" {
		t.Fatalf("after shipment: %s %q %v", o.Status, o.ChannelStatus, err)
	}
	for _, raw := range sb.Orders() {
		if strconv.FormatInt(raw.ID, 10) != target {
			continue
		}
		var entries, shipments int
		for _, m := range raw.MetaData {
			if m.Key == metaShipments {
				entries++
				var list []shipmentMeta
				_ = json.Unmarshal(m.Value, &list)
				shipments = len(list)
			}
		}
		if entries != 1 || shipments != 1 {
			t.Fatalf("meta: %d %s entries holding %d shipments", entries, metaShipments, shipments)
		}
	}

	second := order.Shipment{Carrier: "YTO", TrackingNo: "YT0000001"}
	if err := c.ConfirmShipment(context.Background(), target, second); err != nil {
		t.Fatalf("a second parcel: %v", err)
	}
	if got := sb.Shipments(); len(got) != 2 || len(sb.Notes(target)) != 2 {
		t.Fatalf("after a second parcel: %+v, %d notes", got, len(sb.Notes(target)))
	}
	for _, id := range []string{cancelled, pending} {
		if id == "" {
			continue
		}
		if err := c.ConfirmShipment(context.Background(), id, s); !errors.Is(err, ErrShipmentRefused) || fault.KindOf(err) != fault.Conflict {
			t.Fatalf("shipment of order %s: %v, want ErrShipmentRefused", id, err)
		}
	}
	if err := c.ConfirmShipment(context.Background(), target, order.Shipment{Carrier: "SF"}); !errors.Is(err, ErrShipmentRefused) {
		t.Fatalf("shipment without tracking number: %v", err)
	}
}
