package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"orderhub/infra/awsapp"
	"orderhub/infra/awsapp/awsapptest"
	"orderhub/shared/channel/platforms"
	"orderhub/shared/order"
)

// expected says which shop each sample event in events/poller polls ("" for an event that must be
// refused); a sample without an entry fails the test, so that none is added unchecked.
var expected = map[string]string{
	"schedule-taobao-tmall-flagship.json": "taobao/tmall-flagship",
	"poll-now-shopify-global.json":        "shopify/global",
	"no-shop.json":                        "",
}

// shopIDs are the sample events' shops; the other platforms' sandbox shops get <channel>-main.
var shopIDs = map[order.Channel]string{order.Taobao: "tmall-flagship", order.Shopify: "global"}

func TestShopEventsPollTheSandboxesIntoDynamoDB(t *testing.T) {
	env := awsapptest.Start(t)
	ctx := context.Background()
	// Every sandbox traded for 8 hours, ending 2 minutes ago: the poller, on the wall clock, pulls
	// up to a minute ago, so it must end up holding every sandbox order.
	const history = 8 * time.Hour
	start := time.Now().Add(-history - 2*time.Minute).Truncate(time.Second)
	markets := map[string]*awsapptest.Marketplace{}
	var list strings.Builder
	list.WriteString("shops:\n")
	for i, p := range platforms.All() {
		id := shopIDs[p.Channel]
		if id == "" {
			id = string(p.Channel) + "-main"
		}
		m := env.SandboxShop(t, p, id, uint64(300+i), start, history)
		markets[m.Key()] = m
		list.WriteString(m.Entry)
	}
	// A shop whose secret does not exist is reported and leaves the others running.
	list.WriteString("  - channel: jd\n    id: broken\n    credentials: {app_key: \"secret:" + env.SecretName("shops/missing") +
		"#app_key\", app_secret: \"env:JD_SECRET_NOT_SET\"}\n")
	env.PutShops(t, list.String())

	app, err := awsapp.Wire(ctx, env.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	// Invoke exactly as lambda.Start would: raw event bytes in, JSON result or error out.
	invoke := lambda.NewHandler(newHandler(app).Handle).Invoke
	secrets := credentialValues(markets)
	run := func(what string, event []byte) (Result, error) {
		t.Helper()
		out, err := invoke(ctx, event)
		if err != nil {
			for _, v := range secrets {
				if strings.Contains(err.Error(), v) {
					t.Fatalf("%s: the error repeats a credential: %v", what, err)
				}
			}
			return Result{}, err
		}
		var res Result
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("%s: result %s: %v", what, out, err)
		}
		return res, nil
	}
	check := func(what, key string) {
		t.Helper()
		m := markets[key]
		awsapptest.CheckOrders(t, what, env.Orders(t, m.Shop.Channel, m.Shop.ID), m.Truth(t), 5)
		st, err := env.Store.PollState(ctx, key)
		if err != nil || st.LastError != "" || st.LastOK.IsZero() || st.Watermark.IsZero() {
			t.Errorf("%s: poll state %+v %v", what, st, err)
		}
	}

	files, err := filepath.Glob("../../events/poller/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	polled := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		shop, ok := expected[name]
		if !ok {
			t.Errorf("%s has no expectation in this test", name)
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := run(name, raw)
		if shop == "" {
			if err == nil || !strings.Contains(err.Error(), "names no shop") {
				t.Errorf("%s: %+v %v; want the event refused", name, res, err)
			}
			continue
		}
		if err != nil || res.Shop != shop || res.Orders == 0 || res.Windows == 0 {
			t.Fatalf("%s: %+v %v", name, res, err)
		}
		check(name, shop)
		polled[shop] = true
	}

	// Every other platform, through the same event shape the schedules send.
	keys := make([]string, 0, len(markets))
	for k := range markets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		if polled[key] {
			continue
		}
		if res, err := run(key, []byte(`{"shop":"`+key+`"}`)); err != nil || res.Orders == 0 {
			t.Fatalf("%s: %+v %v", key, res, err)
		}
		check(key, key)
	}

	// A failing page fails the invocation (so Lambda retries it and the DLQ keeps it), leaves the
	// watermark and records the error; the next run completes.
	taobao := markets["taobao/tmall-flagship"]
	before, _ := env.Store.PollState(ctx, taobao.Key())
	taobao.Sandbox.Faults().FailPage(1, 1)
	if _, err := run("failing page", []byte(`{"shop":"taobao/tmall-flagship"}`)); err == nil {
		t.Fatal("a failing page did not fail the invocation")
	}
	after, _ := env.Store.PollState(ctx, taobao.Key())
	if !after.Watermark.Equal(before.Watermark) || after.LastError == "" {
		t.Fatalf("after a failing page: %+v (before %+v)", after, before)
	}
	if _, err := run("after the failure", []byte(`{"shop":"taobao/tmall-flagship"}`)); err != nil {
		t.Fatal(err)
	}
	check("after the failure", taobao.Key())

	// Unknown and broken shops are errors, never silently skipped.
	if _, err := run("unknown", []byte(`{"shop":"taobao/no-such-shop"}`)); err == nil || !strings.Contains(err.Error(), "not in the shop list") {
		t.Fatalf("unknown shop: %v", err)
	}
	_, err = run("broken", []byte(`{"shop":"jd/broken"}`))
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") || !strings.Contains(err.Error(), "env:JD_SECRET_NOT_SET") {
		t.Fatalf("broken shop: %v", err)
	}
	for _, bad := range []string{`not json`, `{}`, `{"shop":"taobao"}`, `{"shop":"/x"}`} {
		if _, err := run(bad, []byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// credentialValues lists every sandbox credential longer than a few characters (short ones, like
// an API version, would match by chance).
func credentialValues(markets map[string]*awsapptest.Marketplace) []string {
	var out []string
	for _, m := range markets {
		for _, v := range m.Shop.Credentials {
			if len(v) >= 8 {
				out = append(out, v)
			}
		}
	}
	return out
}
