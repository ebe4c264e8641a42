package douyin

import (
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
	base := map[string]string{CredAppKey: "7000000000000000001", CredAppSecret: "test_secret", CredAccessToken: "tok"}
	for k, v := range creds {
		base[k] = v
	}
	c, err := New(channel.Shop{ID: "dy1", Credentials: base}, channel.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const pushBody = `[{"tag":"101","msg_id":"7300000000000000001","data":"{\"p_id\":6920000000000000001,\"shop_id\":12345}"}]`

func TestVerifyPush(t *testing.T) {
	t.Parallel()
	c := testConnector(t, nil)
	md5Sign := hex.EncodeToString(PushSign("7000000000000000001", "test_secret", []byte(pushBody), SignMD5))
	hmacSign := hex.EncodeToString(PushSign("7000000000000000001", "test_secret", []byte(pushBody), SignHMACSHA256))
	modified := []byte(pushBody)
	modified[len(modified)-3] ^= 0x01 // one byte of the body changed after signing
	tests := []struct {
		name    string
		headers map[string]string
		body    []byte
		wantErr bool
	}{
		{"good md5 (default)", map[string]string{HeaderEventSign: md5Sign, HeaderAppID: "7000000000000000001"}, []byte(pushBody), false},
		{"good md5, upper-case hex", map[string]string{HeaderEventSign: strings.ToUpper(md5Sign)}, []byte(pushBody), false},
		{"good hmac-sha256", map[string]string{HeaderEventSign: hmacSign, HeaderSignMethod: "hmac-sha256"}, []byte(pushBody), false},
		{"hmac sign announced as md5", map[string]string{HeaderEventSign: hmacSign, HeaderSignMethod: "md5"}, []byte(pushBody), true},
		{"bad sign", map[string]string{HeaderEventSign: strings.Repeat("0", 32)}, []byte(pushBody), true},
		{"missing header", map[string]string{}, []byte(pushBody), true},
		{"not hex", map[string]string{HeaderEventSign: "zz"}, []byte(pushBody), true},
		{"body modified by one byte", map[string]string{HeaderEventSign: md5Sign}, modified, true},
		{"another app", map[string]string{HeaderEventSign: md5Sign, HeaderAppID: "7000000000000000002"}, []byte(pushBody), true},
		{"unknown sign method", map[string]string{HeaderEventSign: md5Sign, HeaderSignMethod: "sha1"}, []byte(pushBody), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "https://hub.example/webhooks/douyin/dy1", strings.NewReader(string(tc.body)))
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			err := c.VerifyPush(r, tc.body)
			if tc.wantErr != (err != nil) || (err != nil && !errors.Is(err, channel.ErrBadSignature)) {
				t.Fatalf("VerifyPush = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}

func TestParsePush(t *testing.T) {
	t.Parallel()
	c := testConnector(t, map[string]string{CredShopID: "12345"})
	tests := []struct {
		name      string
		body      string
		wantFetch []string
		wantID    string
		wantPing  bool
	}{
		{"one paid message", pushBody, []string{"6920000000000000001"}, "7300000000000000001", false},
		{"batch, ids deduplicated, ids sorted", `[
			{"tag":"102","msg_id":"9","data":"{\"p_id\":\"6920000000000000002\",\"shop_id\":12345}"},
			{"tag":106,"msg_id":"10","data":{"p_id":6920000000000000003,"shop_id":"12345"}},
			{"tag":"206","msg_id":"11","data":"{\"p_id\":6920000000000000002,\"s_id\":6920000000000000021,\"aftersale_id\":7,\"shop_id\":12345}"}]`,
			[]string{"6920000000000000002", "6920000000000000003"}, "10,11,9", false},
		{"another shop of the same app is ignored", `[{"tag":"100","msg_id":"5","data":"{\"p_id\":1,\"shop_id\":999}"}]`, nil, "5", true},
		{"non-order tag", `[{"tag":"0","msg_id":"1","data":"{}"}]`, nil, "1", true},
		{"order tag without p_id", `[{"tag":"101","msg_id":"1","data":"{}"}]`, nil, "1", true},
		{"empty batch", `[]`, nil, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := c.ParsePush(nil, []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Fetch, tc.wantFetch) || p.DeliveryID != tc.wantID || p.Ping != tc.wantPing || len(p.Orders) != 0 {
				t.Fatalf("push = %+v", p)
			}
		})
	}
	// A redelivery of the same messages in another order has the same delivery id.
	a, _ := c.ParsePush(nil, []byte(`[{"tag":"101","msg_id":"2","data":"{\"p_id\":1}"},{"tag":"101","msg_id":"1","data":"{\"p_id\":2}"}]`))
	b, _ := c.ParsePush(nil, []byte(`[{"tag":"101","msg_id":"1","data":"{\"p_id\":2}"},{"tag":"101","msg_id":"2","data":"{\"p_id\":1}"}]`))
	if a.DeliveryID != b.DeliveryID {
		t.Fatalf("delivery ids differ: %q %q", a.DeliveryID, b.DeliveryID)
	}
}

func TestParsePushMalformed(t *testing.T) {
	t.Parallel()
	c := testConnector(t, nil)
	for _, body := range []string{
		``, `{`, `null`, `{"tag":"101"}`, `[{"tag":"101","msg_id":"1","data":"not json"}]`,
		`[{"msg_id":"1","data":"{}"}]`, `[{"tag":"x","msg_id":"1"}]`,
		`[{"tag":"101","data":"{\"p_id\":1}"}]`, `[] []`, `[1]`,
	} {
		if _, err := c.ParsePush(nil, []byte(body)); !errors.Is(err, channel.ErrMalformedPush) {
			t.Errorf("ParsePush(%q) = %v, want ErrMalformedPush", body, err)
		}
	}
}

func TestPushAck(t *testing.T) {
	t.Parallel()
	ct, body := testConnector(t, nil).PushAck()
	if ct != "application/json" || string(body) != `{"code":0,"msg":"success"}` {
		t.Fatalf("ack = %q %q", ct, body)
	}
}
