package taobao

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/fault"
	"orderhub/shared/order"
	"orderhub/shared/pii"
)

var start = time.Date(2024, 3, 1, 8, 0, 0, 0, chanhttp.Beijing)

// setup starts a sandbox with cfg behind an httptest server and a connector for it; edit adjusts the
// shop before the connector is built.
func setup(t *testing.T, cfg SandboxConfig, edit func(*channel.Shop)) (*Sandbox, *Connector) {
	t.Helper()
	if cfg.Start.IsZero() {
		cfg.Start = start
	}
	sb := NewSandbox(cfg)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	shop := channel.Shop{Channel: order.Taobao, ID: "tb-1", BaseURL: srv.URL, Credentials: sb.Credentials()}
	if edit != nil {
		edit(&shop)
	}
	c, err := New(shop, channel.Deps{HTTP: srv.Client(), Hasher: pii.NewHasher([]byte("k")), Now: sb.Now})
	if err != nil {
		t.Fatal(err)
	}
	c.PageSize = 7
	return sb, c
}

type truth struct{ status, paid string }

// inWindow returns the sandbox's trades modified in w, keyed by tid.
func inWindow(t *testing.T, sb *Sandbox, w channel.Window) map[string]truth {
	t.Helper()
	want := map[string]truth{}
	for _, tr := range sb.Orders() {
		mod, err := chanhttp.ParseTime(tr.Modified)
		if err != nil {
			t.Fatal(err)
		}
		if chanhttp.InWindow(w, mod) {
			want[tr.ID()] = truth{tr.Status, tr.Payment.String()}
		}
	}
	return want
}

func TestPullReturnsExactlyTheSandboxWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		perHour float64
		window  channel.Window
		method  string
	}{
		{"three hours, md5", 30, channel.Window{From: start.Add(time.Hour), To: start.Add(4 * time.Hour)}, SignMD5},
		{"a day and a half in one-day queries, hmac", 4, channel.Window{From: start, To: start.Add(36 * time.Hour)}, SignHMAC},
		{"sub-second edges, hmac-sha256", 20, channel.Window{From: start.Add(90*time.Minute + 300*time.Millisecond), To: start.Add(5*time.Hour + 700*time.Millisecond)}, SignHMACSHA256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb, c := setup(t, SandboxConfig{Seed: 42, OrdersPerHour: tt.perHour}, func(s *channel.Shop) { s.Credentials["sign_method"] = tt.method })
			sb.Advance(tt.window.To.Sub(start) + time.Hour)
			w := tt.window
			want := inWindow(t, sb, w)
			if len(want) < 3*c.PageSize {
				t.Fatalf("only %d trades in the window: the test needs several pages", len(want))
			}
			var got chanhttp.Collector
			if err := c.Pull(context.Background(), w, got.Emit); err != nil {
				t.Fatal(err)
			}
			if len(got.Orders()) != len(want) || got.Emits() != len(want) {
				t.Fatalf("pulled %d trades in %d emits, sandbox has %d in the window", len(got.Orders()), got.Emits(), len(want))
			}
			for id, tr := range want {
				o, ok := got.Orders()[id]
				if !ok {
					t.Fatalf("trade %s missing", id)
				}
				if o.ChannelStatus != tr.status || chanhttp.Yuan(o.Amounts.Paid.Amount) != tr.paid {
					t.Errorf("trade %s: got %s %s, want %s %s", id, o.ChannelStatus, chanhttp.Yuan(o.Amounts.Paid.Amount), tr.status, tr.paid)
				}
				if err := o.Validate(); err != nil {
					t.Errorf("trade %s invalid: %v", id, err)
				}
			}
		})
	}
}

// TestPullWhileTradesChange pages a listing while the sandbox clock runs: trades modified during
// the pull leave the window, shifting the rest. Backward paging must not lose any trade that stays.
func TestPullWhileTradesChange(t *testing.T) {
	t.Parallel()
	sb, c := setup(t, SandboxConfig{Seed: 7, OrdersPerHour: 30, AdvancePerRequest: 3 * time.Minute}, nil)
	sb.Advance(6 * time.Hour)
	w := channel.Window{From: start, To: start.Add(5 * time.Hour)}
	before := inWindow(t, sb, w)
	var got chanhttp.Collector
	if err := c.Pull(context.Background(), w, got.Emit); err != nil {
		t.Fatal(err)
	}
	want := inWindow(t, sb, w) // after the pull: the trades that stayed in the window
	if len(want) >= len(before) {
		t.Fatalf("no trade left the window during the pull (%d before, %d after): the test proves nothing", len(before), len(want))
	}
	for id, tr := range want {
		o, ok := got.Orders()[id]
		if !ok {
			t.Fatalf("trade %s stayed in the window but was not pulled", id)
		}
		if o.ChannelStatus != tr.status {
			t.Errorf("trade %s: %s, want %s", id, o.ChannelStatus, tr.status)
		}
	}
}

func TestFailingPageFailsThePull(t *testing.T) {
	t.Parallel()
	sb, c := setup(t, SandboxConfig{Seed: 3, OrdersPerHour: 20}, nil)
	sb.Advance(3 * time.Hour)
	w := channel.Window{From: start, To: start.Add(3 * time.Hour)}
	sb.Faults.FailPage(2, 1)
	var got chanhttp.Collector
	err := c.Pull(context.Background(), w, got.Emit)
	if !errors.Is(err, channel.ErrPlatform) {
		t.Fatalf("err = %v, want ErrPlatform", err)
	}
	// The caller repeats the window; the fault fired once, so the repeat succeeds completely.
	got = chanhttp.Collector{}
	if err := c.Pull(context.Background(), w, got.Emit); err != nil {
		t.Fatal(err)
	}
	if len(got.Orders()) != len(inWindow(t, sb, w)) {
		t.Fatalf("repeat pulled %d", len(got.Orders()))
	}
}

func TestRateLimitAnswer(t *testing.T) {
	t.Parallel()
	sb, c := setup(t, SandboxConfig{Seed: 3}, nil)
	sb.Advance(time.Hour)
	sb.Faults.RateLimitNext(1)
	err := c.Pull(context.Background(), channel.Window{From: start, To: start.Add(time.Hour)}, (&chanhttp.Collector{}).Emit)
	var rl *channel.RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v, want RateLimitedError", err)
	}
	if rl.RetryAfter != 71*time.Second || !strings.Contains(rl.Detail, "7") {
		t.Fatalf("retry after %v (%s), want 71s from the ban message", rl.RetryAfter, rl.Detail)
	}
}

func TestBadCredentials(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*channel.Shop){
		"wrong session":    func(s *channel.Shop) { s.Credentials["session"] = "expired" },
		"wrong app secret": func(s *channel.Shop) { s.Credentials["app_secret"] = "not-the-secret" },
		"wrong app key":    func(s *channel.Shop) { s.Credentials["app_key"] = "87654321" },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, c := setup(t, SandboxConfig{Seed: 1}, edit)
			_, err := c.Detail(context.Background(), "3861000000000007919")
			if !errors.Is(err, channel.ErrBadCredential) {
				t.Fatalf("err = %v, want ErrBadCredential", err)
			}
			if strings.Contains(err.Error(), "not-the-secret") || strings.Contains(err.Error(), "expired") {
				t.Fatalf("error leaks a credential: %v", err)
			}
		})
	}
}

func TestNewNamesMissingCredentials(t *testing.T) {
	t.Parallel()
	creds := map[string]string{"app_key": "k", "app_secret": "very-secret-value", "session": "s"}
	for _, missing := range []string{"app_key", "app_secret", "session"} {
		c := map[string]string{}
		for k, v := range creds {
			if k != missing {
				c[k] = v
			}
		}
		_, err := New(channel.Shop{ID: "x", BaseURL: "http://127.0.0.1", Credentials: c}, channel.Deps{Hasher: pii.NewHasher([]byte("k"))})
		if fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), missing) || strings.Contains(err.Error(), "very-secret-value") {
			t.Errorf("missing %s: %v", missing, err)
		}
	}
	creds["sign_method"] = "sha1"
	if _, err := New(channel.Shop{ID: "x", BaseURL: "http://127.0.0.1", Credentials: creds}, channel.Deps{Hasher: pii.NewHasher([]byte("k"))}); err == nil {
		t.Error("unknown sign_method accepted")
	}
	creds["access_token"], creds["sign_method"] = creds["session"], ""
	delete(creds, "session")
	if _, err := New(channel.Shop{ID: "x", BaseURL: "http://127.0.0.1", Credentials: creds}, channel.Deps{Hasher: pii.NewHasher([]byte("k"))}); err != nil {
		t.Errorf("access_token as the session alias: %v", err)
	}
}

func TestDetail(t *testing.T) {
	t.Parallel()
	sb, c := setup(t, SandboxConfig{Seed: 5}, nil)
	sb.Advance(2 * time.Hour)
	trades := sb.Orders()
	tr := trades[len(trades)/2]
	o, err := c.Detail(context.Background(), tr.ID())
	if err != nil {
		t.Fatal(err)
	}
	if o.ChannelOrderID != tr.ID() || o.ChannelStatus != tr.Status || chanhttp.Yuan(o.Amounts.Paid.Amount) != tr.Payment.String() {
		t.Fatalf("detail %s %s %v, sandbox %s %s %s", o.ChannelOrderID, o.ChannelStatus, o.Amounts.Paid, tr.ID(), tr.Status, tr.Payment)
	}
	if _, err := c.Detail(context.Background(), "1"); !errors.Is(err, chanhttp.ErrOrderNotFound) {
		t.Fatalf("unknown tid: %v", err)
	}
}

func TestConfirmShipmentIsIdempotent(t *testing.T) {
	t.Parallel()
	sb, c := setup(t, SandboxConfig{Seed: 9, OrdersPerHour: 60}, nil)
	sb.Advance(90 * time.Minute)
	var paid string
	for _, tr := range sb.Orders() {
		if tr.Status == "WAIT_SELLER_SEND_GOODS" && tr.Orders.Order[0].RefundStatus == "NO_REFUND" {
			paid = tr.ID()
			break
		}
	}
	if paid == "" {
		t.Fatal("no paid trade to ship")
	}
	s := order.Shipment{Carrier: "yto", TrackingNo: "YT1234567890"}
	for i := range 2 {
		if err := c.ConfirmShipment(context.Background(), paid, s); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if ships := sb.Shipments(); len(ships) != 1 || ships[0].OrderID != paid || ships[0].Carrier != "YTO" || ships[0].TrackingNo != s.TrackingNo {
		t.Fatalf("shipments %+v", ships)
	}
	o, err := c.Detail(context.Background(), paid)
	if err != nil || o.Status != order.Shipped {
		t.Fatalf("after writeback: %v %v", o.Status, err)
	}
	if err := c.ConfirmShipment(context.Background(), paid, order.Shipment{Carrier: "SF", TrackingNo: "SF000"}); !errors.Is(err, channel.ErrPlatform) {
		t.Fatalf("another tracking number on a shipped trade: %v", err)
	}
}
