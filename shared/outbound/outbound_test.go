package outbound_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/shared/outbound"
)

var secret = []byte("wh-hz-secret-0123456789")

func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"order_id":"O1"}`)
	sig := outbound.Sign(secret, body)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Fatalf("signature %q", sig)
	}
	if err := outbound.Verify(secret, body, sig); err != nil {
		t.Fatalf("good signature refused: %v", err)
	}
	for name, c := range map[string]struct {
		secret, body []byte
		sig          string
	}{
		"other secret": {[]byte("other"), body, sig},
		"tampered":     {secret, []byte(`{"order_id":"O2"}`), sig},
		"no prefix":    {secret, body, strings.TrimPrefix(sig, "sha256=")},
		"not hex":      {secret, body, "sha256=zz"},
		"empty":        {secret, body, ""},
		"no secret":    {nil, body, outbound.Sign(nil, body)},
	} {
		if err := outbound.Verify(c.secret, c.body, c.sig); !errors.Is(err, outbound.ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
}

func instruction(id string) outbound.Instruction {
	return outbound.Instruction{OrderID: id, Channel: "taobao", Shop: "tmall", ChannelOrderID: "T" + id, Warehouse: "WH-HZ",
		Lines: []outbound.Line{{SKU: "TEA-LJ-250", Quantity: 2}}, Priority: "normal", IdempotencyKey: id + ":r1",
		Receiver: outbound.Receiver{NameMasked: "张*", PhoneMasked: "138****5678", Province: "浙江省", Token: "oaid-1"}}
}

func post(t *testing.T, url string, body []byte, sig, key string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "POST", url, bytes.NewReader(body))
	if sig != "" {
		req.Header.Set(outbound.HeaderSignature, sig)
	}
	if key != "" {
		req.Header.Set(outbound.HeaderIdempotency, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestSandboxVerifiesSignatureAndIdempotencyKey(t *testing.T) {
	t.Parallel()
	wms := outbound.NewSandbox(map[string][]byte{"WH-HZ": secret}, "")
	srv := httptest.NewServer(wms)
	defer srv.Close()
	in := instruction("O1")
	body, _ := json.Marshal(in)
	url := srv.URL + "/wms/WH-HZ"
	if got := post(t, url, body, outbound.Sign([]byte("wrong"), body), in.IdempotencyKey); got != 401 {
		t.Fatalf("bad signature: %d", got)
	}
	if got := post(t, url, body, "", in.IdempotencyKey); got != 401 {
		t.Fatalf("no signature: %d", got)
	}
	if got := post(t, url, body, outbound.Sign(secret, body), ""); got != 400 {
		t.Fatalf("no idempotency key: %d", got)
	}
	if got := post(t, url, body, outbound.Sign(secret, body), "other-key"); got != 400 {
		t.Fatalf("mismatched idempotency key: %d", got)
	}
	if got := post(t, srv.URL+"/wms/WH-XX", body, outbound.Sign(secret, body), in.IdempotencyKey); got != 404 {
		t.Fatalf("unknown warehouse: %d", got)
	}
	if n := len(wms.Instructions()); n != 0 {
		t.Fatalf("refused requests recorded %d instructions", n)
	}
	for range 3 {
		if got := post(t, url, body, outbound.Sign(secret, body), in.IdempotencyKey); got != 200 {
			t.Fatalf("good instruction: %d", got)
		}
	}
	got := wms.Instructions()
	if len(got) != 1 || got[0].Instruction.OrderID != "O1" || got[0].Destination != "WH-HZ" {
		t.Fatalf("a replayed key made a second instruction: %+v", got)
	}
}

func TestSenderSignsAndClassifiesAnswers(t *testing.T) {
	t.Parallel()
	var status atomic.Int32
	var calls atomic.Int32
	var lastKey atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body := new(bytes.Buffer)
		_, _ = body.ReadFrom(r.Body)
		if outbound.Verify(secret, body.Bytes(), r.Header.Get(outbound.HeaderSignature)) != nil || r.Header.Get(outbound.HeaderTimestamp) == "" {
			w.WriteHeader(401)
			return
		}
		lastKey.Store(r.Header.Get(outbound.HeaderIdempotency))
		if s := status.Load(); s == 0 {
			time.Sleep(300 * time.Millisecond)
		} else {
			w.WriteHeader(int(s))
		}
		_, _ = w.Write([]byte("reason\nwith a line break"))
	}))
	defer srv.Close()
	dir := outbound.NewDirectory(outbound.Destination{Kind: outbound.KindWarehouse, ID: "WH-HZ", URL: srv.URL, Secret: secret},
		outbound.Destination{Kind: outbound.KindSupplier, ID: "SUP-1", URL: srv.URL, Secret: []byte("other")})
	s := &outbound.Sender{Directory: dir, HTTP: &http.Client{Timeout: 100 * time.Millisecond}}
	ctx := context.Background()
	for _, c := range []struct {
		status    int32
		permanent bool
		ok        bool
	}{{200, false, true}, {204, false, true}, {400, true, false}, {422, true, false}, {429, false, false}, {500, false, false}, {503, false, false}, {0, false, false}} {
		status.Store(c.status)
		err := s.Send(ctx, instruction("O1"))
		if (err == nil) != c.ok || outbound.Permanent(err) != c.permanent {
			t.Errorf("status %d: err %v (permanent %v)", c.status, err, outbound.Permanent(err))
		}
		if err != nil && c.permanent && strings.Contains(err.Error(), "\n") {
			t.Errorf("status %d: the reason spans lines: %q", c.status, err)
		}
	}
	if lastKey.Load() != "O1:r1" {
		t.Fatalf("idempotency key %v", lastKey.Load())
	}
	in := instruction("O2")
	in.Warehouse = "WH-NONE"
	before := calls.Load()
	if err := s.Send(ctx, in); !outbound.Permanent(err) || calls.Load() != before {
		t.Fatalf("unknown warehouse: %v", err)
	}
	in.Supplier = "SUP-1" // signed with the supplier's secret, which this server does not know
	status.Store(200)
	if err := s.Send(ctx, in); !outbound.Permanent(err) {
		t.Fatalf("supplier: %v", err)
	}
}

func TestParseResolvesSecretsByReference(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WMS_HZ": "s3cret-value"}
	getenv := func(k string) string { return env[k] }
	dir, err := outbound.Parse([]byte(`
warehouses:
  - {id: WH-HZ, url: "https://wms.example.com/hooks/hz", secret: "env:WMS_HZ"}
suppliers:
  - {id: SUP-HONEY, url: "https://honey.example.com/orders", secret: "env:WMS_HZ"}
`), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := dir.Warehouse("WH-HZ"); !ok || string(d.Secret) != "s3cret-value" {
		t.Fatalf("warehouse: %+v %v", d, ok)
	}
	if _, ok := dir.Supplier("SUP-HONEY"); !ok {
		t.Fatal("supplier missing")
	}
	body := []byte(`{"order_id":"O1"}`)
	if err := dir.Verify("SUP-HONEY", outbound.Sign([]byte("s3cret-value"), body), body); err != nil {
		t.Fatalf("supplier verify: %v", err)
	}
	if err := dir.Verify("WH-XX", outbound.Sign([]byte("s3cret-value"), body), body); err == nil {
		t.Fatal("unknown id verified")
	}
	for name, doc := range map[string]string{
		"value not ref": `warehouses: [{id: A, url: "https://x", secret: "plain-secret"}]`,
		"missing var":   `warehouses: [{id: A, url: "https://x", secret: "env:NOPE"}]`,
		"bad url":       `warehouses: [{id: A, url: "ftp://x", secret: "env:WMS_HZ"}]`,
		"duplicate":     `warehouses: [{id: A, url: "https://x", secret: "env:WMS_HZ"}, {id: A, url: "https://y", secret: "env:WMS_HZ"}]`,
		"unknown field": `warehouses: [{id: A, url: "https://x", secret: "env:WMS_HZ", token: "x"}]`,
	} {
		_, err := outbound.Parse([]byte(doc), getenv)
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "s3cret-value") || strings.Contains(err.Error(), "plain-secret") {
			t.Errorf("%s: the error shows a secret: %v", name, err)
		}
	}
}

func TestSandboxShipsThroughTheSignedCallback(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := new(bytes.Buffer)
		_, _ = body.ReadFrom(r.Body)
		if r.URL.Path != "/webhooks/wms/WH-HZ" || outbound.Verify(secret, body.Bytes(), r.Header.Get(outbound.HeaderSignature)) != nil {
			w.WriteHeader(401)
			return
		}
		var c outbound.Confirmation
		_ = json.Unmarshal(body.Bytes(), &c)
		got.Store(c)
	}))
	defer hub.Close()
	wms := outbound.NewSandbox(map[string][]byte{"WH-HZ": secret}, hub.URL)
	srv := httptest.NewServer(wms)
	defer srv.Close()
	s := &outbound.Sender{Directory: outbound.NewDirectory(outbound.Destination{Kind: outbound.KindWarehouse, ID: "WH-HZ", URL: srv.URL + "/wms/WH-HZ", Secret: secret})}
	if err := s.Send(context.Background(), instruction("O9")); err != nil {
		t.Fatal(err)
	}
	c, err := wms.Ship(context.Background(), "O9:r1", "SF", "SF1234567890")
	if err != nil {
		t.Fatal(err)
	}
	if seen, _ := got.Load().(outbound.Confirmation); seen.OrderID != "O9" || seen.TrackingNo != "SF1234567890" || seen != c {
		t.Fatalf("callback got %+v", seen)
	}
	if _, err := wms.Ship(context.Background(), "nope", "", ""); err == nil {
		t.Fatal("shipped an unknown instruction")
	}
}
