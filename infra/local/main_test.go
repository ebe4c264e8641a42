package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type running struct {
	addr   string
	stdout *lockedBuffer
	logs   *lockedBuffer
	stop   context.CancelFunc
	done   chan error
}

func start(t *testing.T, env map[string]string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &lockedBuffer{}, logs: &lockedBuffer{}, stop: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	getenv := func(k string) string { return env[k] }
	go func() { r.done <- run(ctx, getenv, r.stdout, r.logs, ready) }()
	select {
	case r.addr = <-ready:
	case err := <-r.done:
		t.Fatalf("run ended before serving: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("run did not start")
	}
	return r
}

func (r *running) shutdown(t *testing.T) {
	t.Helper()
	r.stop()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("shutdown hung")
	}
}

func get(t *testing.T, url, key string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

var printedKey = regexp.MustCompile(`ohk_[A-Za-z0-9_-]{43}`)

func TestFirstStartPrintsAdminKeyOnceAndServes(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ORDERHUB_ADDR": "127.0.0.1:0", "ORDERHUB_DATA": t.TempDir()}
	r := start(t, env)
	key := printedKey.FindString(r.stdout.String())
	if key == "" {
		t.Fatalf("no admin key printed: %q", r.stdout.String())
	}
	base := "http://" + r.addr
	if got := get(t, base+"/healthz", ""); got != 200 {
		t.Fatalf("healthz: %d", got)
	}
	if got := get(t, base+"/v1/orders", ""); got != 401 {
		t.Fatalf("no key: %d", got)
	}
	if got := get(t, base+"/v1/orders", key); got != 200 {
		t.Fatalf("admin key: %d", got)
	}
	r.shutdown(t)
	if strings.Contains(r.logs.String(), key) {
		t.Fatal("the admin key was logged")
	}
	if !strings.Contains(r.logs.String(), `"msg":"stopped"`) {
		t.Fatalf("no stop log: %s", r.logs.String())
	}

	again := start(t, env)
	defer again.shutdown(t)
	if printedKey.MatchString(again.stdout.String()) {
		t.Fatal("a second start printed another key")
	}
	if got := get(t, "http://"+again.addr+"/v1/orders", key); got != 200 {
		t.Fatalf("the first key after restart: %d", got)
	}
}

func TestAdminKeyFromEnvironment(t *testing.T) {
	t.Parallel()
	const key = "my-own-admin-secret-for-the-shop"
	r := start(t, map[string]string{"ORDERHUB_ADDR": "127.0.0.1:0", "ORDERHUB_DATA": t.TempDir(), "ORDERHUB_ADMIN_KEY": key})
	defer r.shutdown(t)
	if printedKey.MatchString(r.stdout.String()) {
		t.Fatal("a key was generated although ORDERHUB_ADMIN_KEY is set")
	}
	if got := get(t, "http://"+r.addr+"/v1/stats", key); got != 200 {
		t.Fatalf("env admin key: %d", got)
	}
}

// TestShutdownFinishesInFlightRequests sends half a request, asks the runtime to stop, then sends
// the rest: the request must still be served and stored, and run must return cleanly.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	const key = "in-flight-admin-secret-0123456789"
	dir := t.TempDir()
	r := start(t, map[string]string{"ORDERHUB_ADDR": "127.0.0.1:0", "ORDERHUB_DATA": dir, "ORDERHUB_ADMIN_KEY": key})
	body := `{"shop":"s1","channel_order_id":"INFLIGHT-1","version":"2026-11-11T00:00:00Z","lines":[{"sku":"A","quantity":1,"unit_price":"9.90"}]}`
	pr, pw := io.Pipe()
	req, _ := http.NewRequestWithContext(context.Background(), "POST", "http://"+r.addr+"/v1/orders/import", pr)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(body))
	type result struct {
		status int
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		_ = resp.Body.Close()
		res <- result{status: resp.StatusCode}
	}()
	if _, err := io.WriteString(pw, body[:20]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server is now reading the body
	r.stop()
	time.Sleep(200 * time.Millisecond) // shutdown has begun: the listener is closed
	if _, err := io.WriteString(pw, body[20:]); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	got := <-res
	if got.err != nil || got.status != 201 {
		t.Fatalf("in-flight request: %d %v", got.status, got.err)
	}
	if err := <-r.done; err != nil {
		t.Fatalf("run: %v", err)
	}

	// Nothing was lost: the order is there after a restart.
	again := start(t, map[string]string{"ORDERHUB_ADDR": "127.0.0.1:0", "ORDERHUB_DATA": dir, "ORDERHUB_ADMIN_KEY": key})
	defer again.shutdown(t)
	req2, _ := http.NewRequestWithContext(context.Background(), "GET", "http://"+again.addr+"/v1/orders?q=INFLIGHT-1", nil)
	req2.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `"channel_order_id":"INFLIGHT-1"`) {
		t.Fatalf("order lost across shutdown: %s", b)
	}
}

func TestBadConfigurationIsRefused(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"timeout":   {"ORDERHUB_SHUTDOWN_TIMEOUT": "soon"},
		"short key": {"ORDERHUB_ADMIN_KEY": "short"},
		"pii key":   {"ORDERHUB_PII_KEY": "not-hex"},
		"addr":      {"ORDERHUB_ADDR": "127.0.0.1:99999"},
	} {
		env["ORDERHUB_DATA"] = t.TempDir()
		if env["ORDERHUB_ADDR"] == "" {
			env["ORDERHUB_ADDR"] = "127.0.0.1:0"
		}
		err := run(context.Background(), func(k string) string { return env[k] }, io.Discard, io.Discard, nil)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if strings.Contains(fmt.Sprint(err), "short") && name == "short key" {
			t.Errorf("the error repeats the key: %v", err)
		}
	}
}
