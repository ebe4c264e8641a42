package woocommerce

import (
	"net/http/httptest"
	"testing"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/order"
	"orderhub/shared/pii"
)

var testHasher = pii.NewHasher([]byte("test-pii-key"))

func newTestConnector(t testing.TB, baseURL, hookSecret string) *Connector {
	t.Helper()
	c, err := New(channel.Shop{
		Channel: order.WooCommerce, ID: "w1", BaseURL: baseURL,
		Credentials: map[string]string{CredConsumerKey: "ck_x", CredConsumerSecret: "cs_x", CredWebhookSecret: hookSecret},
	}, channel.Deps{Hasher: testHasher})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sandboxed starts a sandbox that has run for ticks×step and a connector pointed at it.
func sandboxed(t *testing.T, cfg SandboxConfig, ticks int, step time.Duration) (*Sandbox, *Connector, *httptest.Server) {
	t.Helper()
	sb := NewSandbox(cfg)
	for range ticks {
		sb.Advance(step)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	c, err := New(sb.Shop("w1", srv.URL), channel.Deps{HTTP: srv.Client(), Hasher: testHasher})
	if err != nil {
		t.Fatal(err)
	}
	return sb, c, srv
}
