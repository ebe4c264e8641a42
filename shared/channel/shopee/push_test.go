package shopee

import (
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"orderhub/shared/channel"
)

func testConnector(t *testing.T, creds map[string]string) *Connector {
	t.Helper()
	base := map[string]string{CredPartnerID: "2001887", CredPartnerKey: "test_partner_key", CredShopID: "14701711", CredAccessToken: "tok"}
	for k, v := range creds {
		base[k] = v
	}
	c, err := New(channel.Shop{ID: "sp1", Credentials: base}, channel.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const samplePush = `{"shop_id":14701711,"code":3,"timestamp":1740790805,"data":{"ordersn":"250301ABCD1234","status":"READY_TO_SHIP","update_time":1740790800}}`

func signed(url, body string) string {
	return hex.EncodeToString(PushSign("test_partner_key", url, []byte(body)))
}

func TestVerifyPush(t *testing.T) {
	t.Parallel()
	c := testConnector(t, nil)
	pinned := testConnector(t, map[string]string{CredPushURL: "https://hub.example/prod/webhooks/shopee/sp1"})
	modified := strings.Replace(samplePush, "READY_TO_SHIP", "READY_TO_SHIQ", 1) // one byte changed after signing
	tests := []struct {
		name    string
		c       *Connector
		target  string // the URL the request reached
		proto   string // X-Forwarded-Proto
		auth    string
		body    string
		wantErr bool
	}{
		{"good, plain http", c, "http://hub.example/webhooks/shopee/sp1", "", signed("http://hub.example/webhooks/shopee/sp1", samplePush), samplePush, false},
		{"good, TLS", c, "https://hub.example/webhooks/shopee/sp1", "", signed("https://hub.example/webhooks/shopee/sp1", samplePush), samplePush, false},
		{"good, behind a TLS-terminating proxy", c, "http://hub.example/webhooks/shopee/sp1", "https", signed("https://hub.example/webhooks/shopee/sp1", samplePush), samplePush, false},
		{"good, upper-case hex", c, "http://hub.example/webhooks/shopee/sp1", "", strings.ToUpper(signed("http://hub.example/webhooks/shopee/sp1", samplePush)), samplePush, false},
		{"good, callback URL with a query", c, "http://hub.example/hook?shop=sp1", "", signed("http://hub.example/hook?shop=sp1", samplePush), samplePush, false},
		{"good, pinned push_url", pinned, "http://10.0.0.7:8080/webhooks/shopee/sp1", "", signed("https://hub.example/prod/webhooks/shopee/sp1", samplePush), samplePush, false},
		{"signed for another URL", c, "http://hub.example/webhooks/shopee/sp2", "", signed("http://hub.example/webhooks/shopee/sp1", samplePush), samplePush, true},
		{"scheme mismatch", c, "http://hub.example/webhooks/shopee/sp1", "", signed("https://hub.example/webhooks/shopee/sp1", samplePush), samplePush, true},
		{"bad signature", c, "http://hub.example/webhooks/shopee/sp1", "", strings.Repeat("ab", 32), samplePush, true},
		{"missing header", c, "http://hub.example/webhooks/shopee/sp1", "", "", samplePush, true},
		{"not hex", c, "http://hub.example/webhooks/shopee/sp1", "", "Bearer xyz", samplePush, true},
		{"body modified by one byte", c, "http://hub.example/webhooks/shopee/sp1", "", signed("http://hub.example/webhooks/shopee/sp1", samplePush), modified, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, tc.target, strings.NewReader(tc.body))
			if strings.HasPrefix(tc.target, "https") && r.TLS == nil {
				r.TLS = &tls.ConnectionState{}
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.auth != "" {
				r.Header.Set(HeaderAuthorization, tc.auth)
			}
			err := tc.c.VerifyPush(r, []byte(tc.body))
			if tc.wantErr != (err != nil) || (err != nil && !errors.Is(err, channel.ErrBadSignature)) {
				t.Fatalf("VerifyPush = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}

func TestParsePush(t *testing.T) {
	t.Parallel()
	c := testConnector(t, nil)
	tests := []struct {
		name      string
		body      string
		wantFetch []string
		wantID    string
	}{
		{"order status", samplePush, []string{"250301ABCD1234"}, "14701711/3/250301ABCD1234/1740790800"},
		{"ids as strings, no update_time", `{"shop_id":"14701711","code":"3","timestamp":1740790805,"data":{"ordersn":"X2","status":"SHIPPED"}}`,
			[]string{"X2"}, "14701711/3/X2/1740790805"},
		{"another shop of the same partner", `{"shop_id":999,"code":3,"timestamp":1,"data":{"ordersn":"X3","status":"SHIPPED","update_time":5}}`, nil, "999/3/X3/5"},
		{"tracking number push", `{"shop_id":14701711,"code":4,"timestamp":7,"data":{"ordersn":"X4","tracking_no":"SPX1"}}`, nil, "14701711/4/7"},
		{"authorisation push", `{"code":1,"success":1,"timestamp":8,"data":{"more_info":"x"}}`, nil, "0/1/8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := c.ParsePush(nil, []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Fetch, tc.wantFetch) || p.DeliveryID != tc.wantID || p.Ping != (len(tc.wantFetch) == 0) {
				t.Fatalf("push = %+v", p)
			}
		})
	}
}

func TestParsePushMalformed(t *testing.T) {
	t.Parallel()
	c := testConnector(t, nil)
	for _, body := range []string{
		``, `{`, `null`, `[]`, `"x"`, `{"shop_id":1}`, `{"shop_id":1,"code":3,"data":{}}`, `{"shop_id":1,"code":3,"data":"x"}`,
		`{"shop_id":1,"code":"three","data":{}}`, `{"code":3,"data":{"ordersn":"A"}} {}`,
	} {
		if _, err := c.ParsePush(nil, []byte(body)); !errors.Is(err, channel.ErrMalformedPush) {
			t.Errorf("ParsePush(%q) = %v, want ErrMalformedPush", body, err)
		}
	}
}

func TestPushAck(t *testing.T) {
	t.Parallel()
	_, body := testConnector(t, nil).PushAck()
	if body == nil || len(body) != 0 {
		t.Fatalf("ack body = %q, want empty", body)
	}
}
