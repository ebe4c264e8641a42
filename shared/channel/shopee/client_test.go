package shopee

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
	"orderhub/shared/order"
	"orderhub/shared/pii"
)

var sandboxStart = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// newSandbox returns a sandbox with half a day of orders, its server and a connector talking to it with small
// pages so that windows span several cursors.
func newSandbox(t *testing.T, seed uint64, currency string) (*Sandbox, *httptest.Server, *Connector) {
	t.Helper()
	sb := NewSandbox(SandboxConfig{Seed: seed, Start: sandboxStart, Currency: currency, OrdersPerHour: 40, MaxClockSkew: 5 * time.Minute})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	sb.Advance(12 * time.Hour)
	return sb, srv, connectorFor(t, sb, sb.Shop("sp1", srv.URL))
}

func connectorFor(t *testing.T, sb *Sandbox, shop channel.Shop) *Connector {
	t.Helper()
	c, err := New(shop, channel.Deps{HTTP: &http.Client{Timeout: 10 * time.Second}, Hasher: pii.NewHasher([]byte("k")), Now: sb.Now})
	if err != nil {
		t.Fatal(err)
	}
	c.pageSize = 7
	return c
}

func collect() (func(context.Context, order.Order) error, map[string]order.Order) {
	var mu sync.Mutex
	got := map[string]order.Order{}
	return func(_ context.Context, o order.Order) error {
		mu.Lock()
		defer mu.Unlock()
		if prev, ok := got[o.ChannelOrderID]; !ok || o.Version.After(prev.Version) {
			got[o.ChannelOrderID] = o
		}
		return nil
	}, got
}

func TestNewRequiresCredentials(t *testing.T) {
	t.Parallel()
	full := map[string]string{CredPartnerID: "2001887", CredPartnerKey: "s3cr3t-key", CredShopID: "14701711", CredAccessToken: "t0ken-value"}
	for _, missing := range []string{CredPartnerID, CredPartnerKey, CredShopID, CredAccessToken} {
		creds := map[string]string{}
		for k, v := range full {
			if k != missing {
				creds[k] = v
			}
		}
		_, err := New(channel.Shop{ID: "sp1", Credentials: creds}, channel.Deps{})
		if fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), missing) ||
			strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "t0ken") {
			t.Errorf("missing %s: err = %v", missing, err)
		}
	}
	bad := map[string]string{CredPartnerID: "p-20018", CredPartnerKey: "k", CredShopID: "14701711", CredAccessToken: "t"}
	if _, err := New(channel.Shop{ID: "sp1", Credentials: bad}, channel.Deps{}); fault.KindOf(err) != fault.Invalid || strings.Contains(err.Error(), "p-20018") {
		t.Errorf("non-numeric partner_id: %v", err)
	}
}

func TestPullWindowAgainstSandbox(t *testing.T) {
	t.Parallel()
	for _, cur := range []string{"SGD", "IDR", "VND"} {
		t.Run(cur, func(t *testing.T) {
			t.Parallel()
			sb, _, c := newSandbox(t, 11, cur)
			w := channel.Window{From: sandboxStart.Add(3 * time.Hour), To: sandboxStart.Add(9 * time.Hour)}
			want := sb.ModifiedIn(w)
			if len(want) < 3*c.pageSize || len(want) <= detailBatch {
				t.Fatalf("only %d orders in the window; the test needs several cursors and detail batches", len(want))
			}
			emit, got := collect()
			if err := c.Pull(context.Background(), w, emit); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("pulled %d orders, the sandbox has %d in the window", len(got), len(want))
			}
			for _, tr := range want {
				o, ok := got[tr.OrderSN]
				if !ok {
					t.Fatalf("order %s missing", tr.OrderSN)
				}
				if !o.Version.Equal(tr.Version) || o.ChannelStatus != tr.Status || o.Amounts.Paid.Currency != cur {
					t.Fatalf("order %s: got %v %s %s, sandbox has %v %s", tr.OrderSN, o.Version, o.ChannelStatus, o.Amounts.Paid.Currency, tr.Version, tr.Status)
				}
				if err := o.Validate(); err != nil || len(o.Lines) == 0 || o.Receiver.DetailMasked == "" {
					t.Fatalf("order %s incomplete: %v %+v", tr.OrderSN, err, o)
				}
			}
		})
	}
}

func TestPullErrors(t *testing.T) {
	t.Parallel()
	w := channel.Window{From: sandboxStart.Add(2 * time.Hour), To: sandboxStart.Add(8 * time.Hour)}
	t.Run("failing page", func(t *testing.T) {
		t.Parallel()
		sb, _, c := newSandbox(t, 21, "MYR")
		sb.Faults.FailPage(2, 1)
		emit, _ := collect()
		if err := c.Pull(context.Background(), w, emit); !errors.Is(err, channel.ErrPlatform) {
			t.Fatalf("err = %v, want ErrPlatform", err)
		}
		emit, got := collect()
		if err := c.Pull(context.Background(), w, emit); err != nil || len(got) != len(sb.ModifiedIn(w)) {
			t.Fatalf("repeat: %v, %d orders", err, len(got))
		}
	})
	t.Run("rate limit honours Retry-After", func(t *testing.T) {
		t.Parallel()
		sb, _, c := newSandbox(t, 22, "SGD")
		sb.Faults.RateLimitNext(1)
		emit, _ := collect()
		var rl *channel.RateLimitedError
		if err := c.Pull(context.Background(), w, emit); !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
			t.Fatalf("err = %v, want RateLimitedError after 2s", err)
		}
	})
	t.Run("bad credentials", func(t *testing.T) {
		t.Parallel()
		sb, srv, _ := newSandbox(t, 23, "SGD")
		for k, v := range map[string]string{CredAccessToken: "wrong-value", CredPartnerKey: "wrong-value", CredShopID: "999", CredPartnerID: "999"} {
			shop := sb.Shop("sp1", srv.URL)
			shop.Credentials[k] = v
			emit, _ := collect()
			err := connectorFor(t, sb, shop).Pull(context.Background(), w, emit)
			if !errors.Is(err, channel.ErrBadCredential) || strings.Contains(err.Error(), "wrong-value") {
				t.Errorf("wrong %s: err = %v", k, err)
			}
		}
	})
	t.Run("window too long", func(t *testing.T) {
		t.Parallel()
		c := testConnector(t, nil)
		emit, _ := collect()
		long := channel.Window{From: sandboxStart, To: sandboxStart.Add(c.MaxWindow() + time.Second)}
		if err := c.Pull(context.Background(), long, emit); fault.KindOf(err) != fault.Invalid {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a full 15-day window with fractional bounds", func(t *testing.T) {
		t.Parallel()
		sb, _, c := newSandbox(t, 24, "SGD")
		from := sandboxStart.Add(-14*24*time.Hour + 500*time.Millisecond)
		full := channel.Window{From: from, To: from.Add(maxWindow)}
		emit, got := collect()
		if err := c.Pull(context.Background(), full, emit); err != nil || len(got) != len(sb.ModifiedIn(full)) {
			t.Fatalf("err %v, %d of %d", err, len(got), len(sb.ModifiedIn(full)))
		}
	})
	t.Run("transport error hides the URL", func(t *testing.T) {
		t.Parallel()
		c := testConnector(t, map[string]string{CredAccessToken: "secret-token-123"})
		c.baseURL = "http://127.0.0.1:1"
		emit, _ := collect()
		err := c.Pull(context.Background(), w, emit)
		if err == nil || strings.Contains(err.Error(), "secret-token-123") || strings.Contains(err.Error(), "sign=") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDetailAndConfirmShipment(t *testing.T) {
	t.Parallel()
	sb, _, c := newSandbox(t, 31, "SGD")
	ctx := context.Background()
	sn := sb.CreateOrder(true)
	o, err := c.Detail(ctx, sn)
	if err != nil || o.ChannelOrderID != sn || o.Status != order.Paid || len(o.Lines) == 0 || o.Amounts.Paid.IsZero() {
		t.Fatalf("Detail = %+v, %v", o, err)
	}
	if _, err := c.Detail(ctx, "NOPE"); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("unknown order: %v", err)
	}
	ship := order.Shipment{Carrier: "SPX", TrackingNo: "SPXSG0123456789"}
	for range 2 {
		if err := c.ConfirmShipment(ctx, sn, ship); err != nil {
			t.Fatalf("ConfirmShipment: %v", err)
		}
	}
	var mine []Shipment
	for _, s := range sb.Shipments() {
		if s.OrderSN == sn {
			mine = append(mine, s)
		}
	}
	if len(mine) != 1 || mine[0].TrackingNo != ship.TrackingNo {
		t.Fatalf("sandbox shipments for %s: %+v", sn, mine)
	}
	if o, _ := c.Detail(ctx, sn); o.Status != order.Shipped || o.ChannelStatus != "PROCESSED" {
		t.Fatalf("after shipping: %s %s", o.Status, o.ChannelStatus)
	}
	if err := c.ConfirmShipment(ctx, sn, order.Shipment{TrackingNo: "OTHER"}); !errors.Is(err, channel.ErrPlatform) {
		t.Fatalf("a different tracking number must be refused: %v", err)
	}
}

func TestPushEndToEnd(t *testing.T) {
	t.Parallel()
	sb := NewSandbox(SandboxConfig{Seed: 41, Start: sandboxStart})
	c, _ := New(sb.Shop("sp1", "http://unused"), channel.Deps{Now: sb.Now})
	var mu sync.Mutex
	fetched := map[string]bool{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := c.VerifyPush(r, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		p, err := c.ParsePush(r, body)
		if err != nil {
			http.Error(w, "malformed", http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, id := range p.Fetch {
			fetched[id] = true
		}
		mu.Unlock()
		ct, ack := c.PushAck()
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(ack)
	}))
	defer hook.Close()
	url := hook.URL + "/webhooks/shopee/sp1"
	sb.Advance(2 * time.Hour)
	sb.Faults.DropPushes(0.3)
	sent, err := sb.PushAll(context.Background(), hook.Client(), url)
	if err != nil || sent == 0 || len(fetched) != sent || sent >= len(sb.Orders()) {
		t.Fatalf("sent %d of %d (err %v), fetched %d", sent, len(sb.Orders()), err, len(fetched))
	}
	sn := sb.Orders()[0].OrderSN
	forged, _ := sb.BadlySignedPushRequest(url, sn)
	resp, err := hook.Client().Do(forged)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged push: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	good, _ := sb.PushRequest(url, sn)
	resp, err = hook.Client().Do(good)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("good push: %v %v", resp, err)
	}
	_ = resp.Body.Close()
}

// TestPullSurvivesAnOrderChangingWhilePaging changes an order of the first page while later pages are read:
// it leaves the window, the others shift one place towards the front past our cursor, and a second pass
// must still find every order that stayed in the window.
func TestPullSurvivesAnOrderChangingWhilePaging(t *testing.T) {
	t.Parallel()
	sb := NewSandbox(SandboxConfig{Seed: 51, Start: sandboxStart, OrdersPerHour: 40})
	sb.Advance(12 * time.Hour)
	w := channel.Window{From: sandboxStart.Add(3 * time.Hour), To: sandboxStart.Add(9 * time.Hour)}
	// The platform lists newest first; the fourth order of the first page will change.
	var listed []Truth
	for _, tr := range sb.Orders() {
		if !tr.Version.Before(w.From) && !tr.Version.After(w.To) {
			listed = append(listed, tr)
		}
	}
	slices.SortFunc(listed, func(a, b Truth) int {
		if c := b.Version.Compare(a.Version); c != 0 {
			return c
		}
		return strings.Compare(a.OrderSN, b.OrderSN)
	})
	mover := listed[3].OrderSN
	var lists atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == pathOrderList && lists.Add(1) == 2 {
			sb.mu.Lock()
			so := sb.orders[mover]
			sb.set(so, so.o.OrderStatus) // a change now: update_time moves past the window
			sb.mu.Unlock()
		}
		sb.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	c := connectorFor(t, sb, sb.Shop("sp1", srv.URL))
	emit, got := collect()
	if err := c.Pull(context.Background(), w, emit); err != nil {
		t.Fatal(err)
	}
	want := sb.ModifiedIn(w)
	if len(got) != len(want) {
		t.Fatalf("pulled %d, the window holds %d", len(got), len(want))
	}
	for _, tr := range want {
		if _, ok := got[tr.OrderSN]; !ok {
			t.Fatalf("order %s lost while paging", tr.OrderSN)
		}
	}
	if _, ok := got[mover]; ok {
		t.Fatal("the changed order's new version is outside the window")
	}
}
