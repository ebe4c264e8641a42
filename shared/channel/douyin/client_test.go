package douyin

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

// newSandbox returns a sandbox with half a day of orders, its server and a connector talking to it with
// small pages so that windows span several of them.
func newSandbox(t *testing.T, seed uint64) (*Sandbox, *httptest.Server, *Connector) {
	t.Helper()
	sb := NewSandbox(SandboxConfig{Seed: seed, Start: sandboxStart, OrdersPerHour: 40, MaxClockSkew: 10 * time.Minute})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	sb.Advance(12 * time.Hour)
	return sb, srv, connectorFor(t, sb, sb.Shop("dy1", srv.URL))
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

// collect returns an emit func keeping the latest version of every order.
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
	for _, missing := range []string{CredAppKey, CredAppSecret, CredAccessToken} {
		creds := map[string]string{CredAppKey: "k", CredAppSecret: "s3cr3t-value", CredAccessToken: "t0ken-value"}
		delete(creds, missing)
		_, err := New(channel.Shop{ID: "dy1", Credentials: creds}, channel.Deps{})
		if fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), missing) ||
			strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "t0ken") {
			t.Errorf("missing %s: err = %v", missing, err)
		}
	}
}

func TestPullWindowAgainstSandbox(t *testing.T) {
	t.Parallel()
	sb, _, c := newSandbox(t, 11)
	w := channel.Window{From: sandboxStart.Add(3 * time.Hour), To: sandboxStart.Add(9 * time.Hour)}
	want := sb.ModifiedIn(w)
	if len(want) < 3*c.pageSize {
		t.Fatalf("only %d orders in the window; the test needs several pages", len(want))
	}
	emit, got := collect()
	if err := c.Pull(context.Background(), w, emit); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("pulled %d orders, the sandbox has %d in the window", len(got), len(want))
	}
	for _, tr := range want {
		o, ok := got[tr.ID]
		if !ok {
			t.Fatalf("order %s missing", tr.ID)
		}
		if !o.Version.Equal(tr.Version) || o.ChannelStatus != tr.Status {
			t.Fatalf("order %s: got %v %s, sandbox has %v %s", tr.ID, o.Version, o.ChannelStatus, tr.Version, tr.Status)
		}
		if err := o.Validate(); err != nil || o.Shop != "dy1" || o.Channel != order.Douyin {
			t.Fatalf("order %s invalid: %v", tr.ID, err)
		}
	}
	// Different life stages make it through the mapper.
	seen := map[order.Status]bool{}
	for _, o := range got {
		seen[o.Status] = true
	}
	if !seen[order.Paid] || !seen[order.Shipped] && !seen[order.Completed] {
		t.Fatalf("statuses seen: %v", seen)
	}
}

func TestPullBisectsLargeWindows(t *testing.T) {
	t.Parallel()
	sb, _, c := newSandbox(t, 12)
	w := channel.Window{From: sandboxStart, To: sandboxStart.Add(12 * time.Hour)}
	want := sb.ModifiedIn(w)
	emit, got := collect()
	c.resultCap = 50 // pretend a query may page through only 50 orders
	if err := c.Pull(context.Background(), w, emit); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) <= 50 {
		t.Fatalf("pulled %d, want %d (>50)", len(got), len(want))
	}
}

func TestPullErrors(t *testing.T) {
	t.Parallel()
	w := channel.Window{From: sandboxStart.Add(2 * time.Hour), To: sandboxStart.Add(8 * time.Hour)}
	t.Run("failing page", func(t *testing.T) {
		t.Parallel()
		sb, _, c := newSandbox(t, 21)
		sb.Faults.FailPage(2, 1)
		emit, _ := collect()
		err := c.Pull(context.Background(), w, emit)
		if !errors.Is(err, channel.ErrPlatform) {
			t.Fatalf("err = %v, want ErrPlatform", err)
		}
		emit, got := collect()
		if err := c.Pull(context.Background(), w, emit); err != nil || len(got) != len(sb.ModifiedIn(w)) {
			t.Fatalf("repeat: %v, %d orders", err, len(got))
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		t.Parallel()
		sb, _, c := newSandbox(t, 22)
		sb.Faults.RateLimitNext(1)
		emit, _ := collect()
		var rl *channel.RateLimitedError
		if err := c.Pull(context.Background(), w, emit); !errors.As(err, &rl) || rl.RetryAfter <= 0 {
			t.Fatalf("err = %v, want RateLimitedError", err)
		}
	})
	t.Run("bad credentials", func(t *testing.T) {
		t.Parallel()
		sb, srv, _ := newSandbox(t, 23)
		for _, k := range []string{CredAccessToken, CredAppSecret, CredAppKey} {
			shop := sb.Shop("dy1", srv.URL)
			shop.Credentials[k] = "wrong-value"
			emit, _ := collect()
			err := connectorFor(t, sb, shop).Pull(context.Background(), w, emit)
			if !errors.Is(err, channel.ErrBadCredential) || strings.Contains(err.Error(), "wrong-value") {
				t.Errorf("wrong %s: err = %v", k, err)
			}
		}
	})
	t.Run("stale timestamp", func(t *testing.T) {
		t.Parallel()
		sb, srv, _ := newSandbox(t, 24)
		c, _ := New(sb.Shop("dy1", srv.URL), channel.Deps{Now: func() time.Time { return sandboxStart.Add(-time.Hour) }})
		emit, _ := collect()
		if err := c.Pull(context.Background(), w, emit); !errors.Is(err, channel.ErrPlatform) {
			t.Fatalf("err = %v", err)
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
	t.Run("transport error hides the URL", func(t *testing.T) {
		t.Parallel()
		c := testConnector(t, nil)
		c.baseURL = "http://127.0.0.1:1"
		emit, _ := collect()
		err := c.Pull(context.Background(), w, emit)
		if err == nil || strings.Contains(err.Error(), "access_token") || strings.Contains(err.Error(), "tok") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("emit error stops the pull", func(t *testing.T) {
		t.Parallel()
		_, _, c := newSandbox(t, 25)
		boom := errors.New("store down")
		if err := c.Pull(context.Background(), w, func(context.Context, order.Order) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDetailAndConfirmShipment(t *testing.T) {
	t.Parallel()
	sb, _, c := newSandbox(t, 31)
	ctx := context.Background()
	id := sb.CreateOrder(true)
	o, err := c.Detail(ctx, id)
	if err != nil || o.ChannelOrderID != id || o.Status != order.Paid || o.Receiver.Token == "" {
		t.Fatalf("Detail = %+v, %v", o, err)
	}
	if _, err := c.Detail(ctx, "6999999999999999900"); err == nil {
		t.Fatal("Detail of an unknown order must fail")
	}
	ship := order.Shipment{Carrier: "zhongtong", TrackingNo: "ZT1234567890"}
	for range 2 {
		if err := c.ConfirmShipment(ctx, id, ship); err != nil {
			t.Fatalf("ConfirmShipment: %v", err)
		}
	}
	var mine []Shipment
	for _, s := range sb.Shipments() {
		if s.OrderID == id {
			mine = append(mine, s)
		}
	}
	if len(mine) != 1 || mine[0].TrackingNo != "ZT1234567890" || mine[0].Carrier != "zhongtong" {
		t.Fatalf("sandbox shipments for %s: %+v", id, mine)
	}
	if o, _ := c.Detail(ctx, id); o.Status != order.Shipped {
		t.Fatalf("after shipping: %s", o.Status)
	}
	if err := c.ConfirmShipment(ctx, id, order.Shipment{Carrier: "zhongtong", TrackingNo: "OTHER"}); !errors.Is(err, channel.ErrPlatform) {
		t.Fatalf("a second, different tracking number must be refused: %v", err)
	}
	if err := c.ConfirmShipment(ctx, id, order.Shipment{}); fault.KindOf(err) != fault.Invalid {
		t.Fatalf("empty shipment: %v", err)
	}
}

func TestPushEndToEnd(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"", SignHMACSHA256} {
		sb := NewSandbox(SandboxConfig{Seed: 41, Start: sandboxStart, PushSignMethod: method})
		c, _ := New(sb.Shop("dy1", "http://unused"), channel.Deps{Now: sb.Now})
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
		sb.Advance(2 * time.Hour)
		sb.Faults.DropPushes(0.3)
		sent, err := sb.PushAll(context.Background(), hook.Client(), hook.URL)
		if err != nil || sent == 0 || len(fetched) != sent || sent >= len(sb.Orders()) {
			t.Fatalf("method %q: sent %d of %d orders (err %v), fetched %d", method, sent, len(sb.Orders()), err, len(fetched))
		}
		id := sb.Orders()[0].ID
		forged, _ := sb.BadlySignedPushRequest(hook.URL, id)
		resp, err := hook.Client().Do(forged)
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("forged push: %v %v", resp, err)
		}
		_ = resp.Body.Close()
		good, _ := sb.PushRequest(hook.URL, id)
		resp, err = hook.Client().Do(good)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("good push: %v %v", resp, err)
		}
		_ = resp.Body.Close()
		hook.Close()
	}
}

// TestPullSurvivesAnOrderChangingWhilePaging changes an order of the first page while later pages are read:
// it leaves the window and the others shift one place towards the front; reading from the last page back
// and the first page again must still find every order that stayed in the window.
func TestPullSurvivesAnOrderChangingWhilePaging(t *testing.T) {
	t.Parallel()
	sb := NewSandbox(SandboxConfig{Seed: 51, Start: sandboxStart, OrdersPerHour: 40})
	sb.Advance(12 * time.Hour)
	w := channel.Window{From: sandboxStart.Add(3 * time.Hour), To: sandboxStart.Add(9 * time.Hour)}
	var listed []Truth
	for _, tr := range sb.Orders() {
		if !tr.Version.Before(w.From) && !tr.Version.After(w.To) {
			listed = append(listed, tr)
		}
	}
	slices.SortFunc(listed, func(a, b Truth) int {
		if c := a.Version.Compare(b.Version); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, at := range []int{3, len(listed) / 2} {
		mover := listed[at].ID
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/searchList") && calls.Add(1) == 3 {
				sb.mu.Lock()
				so := sb.orders[mover]
				sb.bump(so, so.tag) // a change now: update_time moves past the window
				sb.mu.Unlock()
			}
			sb.ServeHTTP(rw, r)
		}))
		c := connectorFor(t, sb, sb.Shop("dy1", srv.URL))
		emit, got := collect()
		if err := c.Pull(context.Background(), w, emit); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		want := sb.ModifiedIn(w)
		for _, tr := range want {
			if _, ok := got[tr.ID]; !ok {
				t.Fatalf("order %s lost while paging (mover at %d)", tr.ID, at)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("pulled %d, the window holds %d", len(got), len(want))
		}
	}
}
