package shops

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseAndResolve(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(`
shops:
  - channel: taobao
    id: tmall-flagship
    poll_interval: 1m
    credentials: {app_key: "env:TB_KEY", app_secret: "env:TB_SECRET", session: "env:TB_SESSION"}
  - channel: shopify
    id: global
    base_url: https://example.myshopify.com
    credentials: {access_token: "env:SHOPIFY_TOKEN", webhook_secret: "env:SHOPIFY_SECRET"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg) != 2 || cfg[0].PollInterval != time.Minute || cfg[1].PollInterval != 2*time.Minute || cfg[1].ShipByDefault != 48*time.Hour {
		t.Fatalf("parsed: %+v", cfg)
	}
	env := map[string]string{"TB_KEY": "k", "TB_SECRET": "s3cr3t-value", "TB_SESSION": "sess"}
	shop, err := cfg[0].Resolve(func(k string) string { return env[k] })
	if err != nil || shop.Credentials["app_secret"] != "s3cr3t-value" {
		t.Fatalf("resolve: %+v %v", shop, err)
	}
	delete(env, "TB_SECRET")
	_, err = cfg[0].Resolve(func(k string) string { return env[k] })
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "env:TB_SECRET") {
		t.Fatalf("missing variable: %v", err)
	}
}

func TestParseRefusesBadShopLists(t *testing.T) {
	t.Parallel()
	const secret = "plain-text-secret-123"
	tests := map[string]string{
		"unknown field":   "shops:\n  - {channel: taobao, id: a, colour: red}",
		"unknown channel": "shops:\n  - {channel: ebay, id: a}",
		"no id":           "shops:\n  - {channel: taobao}",
		"slash in id":     "shops:\n  - {channel: taobao, id: a/b}",
		"duplicate":       "shops:\n  - {channel: taobao, id: a}\n  - {channel: taobao, id: a}",
		"secret in file":  "shops:\n  - {channel: taobao, id: a, credentials: {app_secret: " + secret + "}}",
		"fast polling":    "shops:\n  - {channel: taobao, id: a, poll_interval: 1s}",
		"bad duration":    "shops:\n  - {channel: taobao, id: a, poll_interval: often}",
		"not yaml":        "shops: [",
	}
	for name, raw := range tests {
		_, err := Parse([]byte(raw))
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error repeats the secret: %v", name, err)
		}
	}
}
