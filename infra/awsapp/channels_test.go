package awsapp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"orderhub/infra/awsapp"
	"orderhub/infra/awsapp/awsapptest"
	"orderhub/shared/channel/platforms"
	"orderhub/shared/channel/shopify"
	"orderhub/shared/order"
)

// gateway stands in for API Gateway's HTTP API: it turns each request into the payload 2.0 event
// API Gateway would send and answers with what the Lambda handler returns. It keeps every push
// it passed on, to be replayed.
type gateway struct {
	proxy  func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	mu     sync.Mutex
	pushes []captured
}

type captured struct {
	path   string
	header http.Header
	body   []byte
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/webhooks/") {
		g.mu.Lock()
		g.pushes = append(g.pushes, captured{path: r.URL.Path, header: r.Header.Clone(), body: body})
		g.mu.Unlock()
	}
	headers := map[string]string{"host": r.Host, "x-forwarded-proto": "http"}
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ",") // API Gateway joins repeated headers
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "ANY /{proxy+}", RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery, Headers: headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: r.Host, Stage: "$default", RequestID: "test",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7"}},
	}
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	resp, err := g.proxy(r.Context(), ev)
	if err != nil {
		http.Error(w, "lambda error", http.StatusBadGateway)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	out := []byte(resp.Body)
	if resp.IsBase64Encoded {
		out, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

// TestSignedPushesThroughTheAPIFunctionLandInDynamoDB sends every pushing sandbox's signed pushes
// through API Gateway's event format into the API function's handler as awsapp.Wire builds it,
// over DynamoDB Local (orders, delivery ids) with the shop list in SSM and the shops' credentials
// in Secrets Manager (moto).
func TestSignedPushesThroughTheAPIFunctionLandInDynamoDB(t *testing.T) {
	env := awsapptest.Start(t)
	ctx := context.Background()
	const history = 6 * time.Hour
	start := time.Now().Add(-history).Truncate(time.Second)
	var markets []*awsapptest.Marketplace
	var list strings.Builder
	list.WriteString("shops:\n")
	for i, p := range platforms.All() {
		m := env.SandboxShop(t, p, "hook-"+string(p.Channel), uint64(500+i), start, history)
		markets = append(markets, m)
		list.WriteString(m.Entry)
	}
	const broken = "  - channel: shopify\n    id: broken\n    credentials: {access_token: \"secret:orderhub/elsewhere/shops/x#access_token\", webhook_secret: \"env:NOT_SET\"}\n"
	list.WriteString(broken)
	env.PutShops(t, list.String())

	app, err := awsapp.Wire(ctx, env.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	gw := &gateway{proxy: httpadapter.NewV2(app.API()).ProxyWithContext}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	post := func(path string, header http.Header, body []byte) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, bytes.NewReader(body))
		req.Header = header.Clone()
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}

	pushed := 0
	for _, m := range markets {
		if !m.Sandbox.Pushes() {
			continue
		}
		n, err := m.Sandbox.PushAll(ctx, srv.Client(), srv.URL+"/webhooks/"+string(m.Shop.Channel)+"/"+m.Shop.ID)
		if err != nil || n == 0 {
			t.Fatalf("%s: pushed %d: %v", m.Key(), n, err)
		}
		pushed++
		truth := m.Truth(t)
		for id, o := range truth {
			if o.Channel == order.WooCommerce && o.ChannelStatus == "checkout-draft" {
				delete(truth, id) // WooCommerce sends no webhook for drafts: only polls bring them
			}
		}
		awsapptest.CheckOrders(t, m.Key(), env.Orders(t, m.Shop.Channel, m.Shop.ID), truth, 5)
	}
	if pushed != 4 {
		t.Fatalf("%d platforms pushed, want Douyin, Shopee, Shopify and WooCommerce", pushed)
	}

	// Delivery ids are in the channel table.
	seen := 0
	for _, c := range gw.pushes {
		if id := c.header.Get(shopify.HeaderWebhookID); id != "" && strings.HasPrefix(c.path, "/webhooks/shopify/") {
			key := strings.TrimPrefix(c.path, "/webhooks/") + "/" + id
			if ok, err := env.Store.Delivered(ctx, key); err != nil || !ok {
				t.Fatalf("delivery %s not recorded: %v", key, err)
			}
			seen++
		}
	}
	if seen == 0 {
		t.Fatal("no Shopify delivery id seen")
	}

	// Replays, newest first, are acknowledged and change nothing; a tampered push is refused.
	before := map[string]map[string]order.Order{}
	for _, m := range markets {
		before[m.Key()] = env.Orders(t, m.Shop.Channel, m.Shop.ID)
	}
	pushes := gw.pushes
	for i := len(pushes) - 1; i >= 0; i-- {
		if code := post(pushes[i].path, pushes[i].header, pushes[i].body); code != http.StatusOK {
			t.Fatalf("replay of %s: %d", pushes[i].path, code)
		}
	}
	for _, c := range []captured{pushes[0], pushes[len(pushes)-1]} {
		tampered := append(bytes.Clone(c.body[:len(c.body)-1]), c.body[len(c.body)-1]^1)
		if code := post(c.path, c.header, tampered); code != http.StatusUnauthorized {
			t.Fatalf("tampered push to %s: %d, want 401", c.path, code)
		}
	}
	if code := post("/webhooks/shopify/no-such-shop", pushes[0].header, pushes[0].body); code != http.StatusNotFound {
		t.Fatalf("unknown shop: %d", code)
	}
	for _, m := range markets {
		after := env.Orders(t, m.Shop.Channel, m.Shop.ID)
		if len(after) != len(before[m.Key()]) {
			t.Fatalf("%s: replays changed the order count", m.Key())
		}
		for id, o := range after {
			if before[m.Key()][id].Rev != o.Rev {
				t.Fatalf("%s: replays rewrote order %s", m.Key(), id)
			}
		}
	}

	// The shops' status: every shop listed, the broken one with its reason, no secret anywhere.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/shops", nil)
	req.Header.Set("Authorization", "Bearer "+env.AdminKey)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	var status struct {
		Shops []struct {
			Channel     string `json:"channel"`
			ID          string `json:"id"`
			Running     bool   `json:"running"`
			Error       string `json:"error"`
			WebhookPath string `json:"webhook_path"`
		} `json:"shops"`
	}
	if err := json.Unmarshal(body, &status); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/shops: %d %s", resp.StatusCode, body)
	}
	running := 0
	for _, s := range status.Shops {
		if s.Running {
			running++
		}
		if s.ID == "broken" && (s.Running || !strings.Contains(s.Error, "env:NOT_SET") || !strings.Contains(s.Error, "secret:orderhub/elsewhere/shops/x#access_token")) {
			t.Errorf("broken shop: %+v", s)
		}
	}
	if running != len(markets) || len(status.Shops) != len(markets)+1 {
		t.Fatalf("shops: %s", body)
	}
	for _, m := range markets {
		for _, v := range m.Shop.Credentials {
			if len(v) >= 8 && strings.Contains(string(body), v) {
				t.Fatalf("GET /v1/shops shows a credential of %s", m.Key())
			}
		}
	}
}
