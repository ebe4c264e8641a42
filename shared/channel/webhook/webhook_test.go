package webhook_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/channel/douyin"
	"orderhub/shared/channel/webhook"
	"orderhub/shared/hub"
	"orderhub/shared/order"
	"orderhub/shared/pii"
	"orderhub/shared/store"
	"orderhub/shared/store/sqlite"
)

type shops map[string]webhook.Shop

func (s shops) PushShop(p order.Channel, shop string) (webhook.Shop, bool) {
	sh, ok := s[string(p)+"/"+shop]
	return sh, ok
}

type env struct {
	market  *douyin.Sandbox
	hookURL string
	srv     *httptest.Server
	hub     *hub.Hub
	ingests int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{market: douyin.NewSandbox(douyin.SandboxConfig{Seed: 3, Start: time.Now().Add(-time.Hour).Truncate(time.Second)})}
	e.market.Advance(time.Hour)
	market := httptest.NewServer(e.market)
	t.Cleanup(market.Close)
	conn, err := douyin.New(e.market.Shop("s1", market.URL), channel.Deps{HTTP: market.Client(), Hasher: pii.NewHasher([]byte("k")), Now: e.market.Now})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	e.hub = &hub.Hub{Orders: db, Keys: db, Hasher: pii.NewHasher([]byte("k")), Log: slog.New(slog.DiscardHandler)}
	rc := &webhook.Receiver{Shops: shops{"douyin/s1": {Receiver: conn, Conn: conn}}, Deliveries: db, Log: slog.New(slog.DiscardHandler),
		Ingest: func(ctx context.Context, o order.Order, actor string) error {
			e.ingests++
			_, _, err := e.hub.Ingest(ctx, o, actor)
			return err
		}}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/{platform}/{shop}", rc)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.hookURL = e.srv.URL + "/webhooks/douyin/s1"
	return e
}

func (e *env) send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *env) count(t *testing.T) int {
	t.Helper()
	page, err := e.hub.Orders.List(context.Background(), store.Filter{Shop: "s1", Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Orders)
}

func firstOrder(t *testing.T, m *douyin.Sandbox) string {
	t.Helper()
	orders := m.Orders()
	if len(orders) == 0 {
		t.Fatal("the sandbox traded nothing")
	}
	return orders[0].ID
}

func TestSignedPushIsStoredOnceAndAcknowledgedExactly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := firstOrder(t, e.market)
	req, err := e.market.PushRequest(e.hookURL, id)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	for i := 0; i < 3; i++ {
		req.Body = io.NopCloser(bytes.NewReader(body))
		status, reply := e.send(t, req)
		if status != 200 || reply != `{"code":0,"msg":"success"}` {
			t.Fatalf("delivery %d: %d %s", i, status, reply)
		}
	}
	if e.count(t) != 1 || e.ingests != 1 {
		t.Fatalf("three deliveries of one push: %d orders, %d ingests (want 1, 1)", e.count(t), e.ingests)
	}
}

func TestBadPushesStoreNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := firstOrder(t, e.market)
	good := func() (*http.Request, []byte) {
		req, err := e.market.PushRequest(e.hookURL, id)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		return req, body
	}
	bad, err := e.market.BadlySignedPushRequest(e.hookURL, id)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := e.send(t, bad); status != 401 {
		t.Fatalf("bad signature: %d", status)
	}
	unsigned, _ := good()
	unsigned.Header.Del("event-sign")
	if status, _ := e.send(t, unsigned); status != 401 {
		t.Fatalf("missing signature: %d", status)
	}
	tampered, body := good()
	body[len(body)/2] ^= 1
	tampered.Body = io.NopCloser(bytes.NewReader(body))
	if status, _ := e.send(t, tampered); status != 401 {
		t.Fatalf("one byte changed: %d", status)
	}
	req, _ := good()
	req.URL.Path = "/webhooks/douyin/unknown-shop"
	if status, _ := e.send(t, req); status != 404 {
		t.Fatalf("unknown shop: %d", status)
	}
	huge, _ := http.NewRequestWithContext(context.Background(), "POST", e.hookURL, strings.NewReader(strings.Repeat("x", webhook.MaxBody+1)))
	if status, _ := e.send(t, huge); status != 413 {
		t.Fatalf("huge body: %d", status)
	}
	if n := e.count(t); n != 0 || e.ingests != 0 {
		t.Fatalf("bad pushes stored %d orders", n)
	}
}

// When the order a push names cannot be fetched, the push fails with 500 and is not remembered:
// the platform's redelivery is processed in full later.
func TestFailedProcessingIsNotMarkedDelivered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := firstOrder(t, e.market)
	req, _ := e.market.PushRequest(e.hookURL, id)
	body, _ := io.ReadAll(req.Body)
	e.market.Faults.RateLimitNext(1) // the detail fetch is refused once
	req.Body = io.NopCloser(bytes.NewReader(body))
	if status, reply := e.send(t, req); status != 500 || strings.Contains(reply, "access_token") {
		t.Fatalf("failed fetch: %d %s", status, reply)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if status, _ := e.send(t, req); status != 200 || e.count(t) != 1 {
		t.Fatalf("redelivery after a failure: %d, %d orders", status, e.count(t))
	}
}
