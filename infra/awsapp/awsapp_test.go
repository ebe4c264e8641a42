package awsapp_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"orderhub/infra/awsapp"
	"orderhub/infra/awsapp/awsapptest"
)

func TestWireServesTheAPIOnTheEmulators(t *testing.T) {
	env := awsapptest.Start(t) // no shop list yet: a fresh deployment
	ctx := context.Background()
	adminKey := env.AdminKey
	app, err := awsapp.Wire(ctx, env.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(app.Shops.All()); n != 0 {
		t.Fatalf("%d shops without a shop list", n)
	}
	// A second cold start finds the admin key already there.
	if _, err := awsapp.Wire(ctx, env.Getenv); err != nil {
		t.Fatalf("second cold start: %v", err)
	}
	proxy := httpadapter.NewV2(app.API()).ProxyWithContext
	send := func(file string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(root, "events/api", file))
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		if _, ok := ev.Headers["authorization"]; ok {
			ev.Headers["authorization"] = "Bearer " + adminKey
		}
		resp, err := proxy(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := send("list-orders-no-key.json"); r.StatusCode != 401 {
		t.Fatalf("no key: %d %s", r.StatusCode, r.Body)
	}
	if r := send("list-orders.json"); r.StatusCode != 200 {
		t.Fatalf("admin key from Secrets Manager: %d %s", r.StatusCode, r.Body)
	}
	for i, want := range []string{`"result":"created"`, `"result":"duplicate"`, `"result":"duplicate"`} {
		if r := send("import-order.json"); !strings.Contains(r.Body, want) {
			t.Fatalf("import %d: %d %.300s", i, r.StatusCode, r.Body)
		}
	}
	if r := send("stats.json"); !strings.Contains(r.Body, `"total":1`) {
		t.Fatalf("stats after three imports of one order: %s", r.Body)
	}

	short := map[string]string{}
	for k, v := range env.Vars {
		short[k] = v
	}
	short[awsapp.EnvPIISecret] = env.PutSecret(t, "short", "tooshort")
	if _, err := awsapp.Wire(ctx, func(k string) string { return short[k] }); err == nil || strings.Contains(err.Error(), "tooshort") {
		t.Fatalf("a short PII secret: %v", err)
	}

	// A function that serves no ops API (the poller) sets no admin secret: Wire then leaves the
	// keys table alone, which is what lets template.yaml give such functions no access to it.
	noAdmin := map[string]string{}
	for k, v := range env.Vars {
		noAdmin[k] = v
	}
	delete(noAdmin, awsapp.EnvAdminKeySecret)
	noAdmin[awsapp.EnvKeysTable] = "no-such-table"
	if _, err := awsapp.Wire(ctx, func(k string) string { return noAdmin[k] }); err != nil {
		t.Fatalf("without an admin secret: %v", err)
	}
	// Credentials from Secrets Manager: a plain secret, a key of a JSON secret, and env:NAME.
	env.PutSecret(t, "shops/tmall-key", "12345678")
	env.PutSecret(t, "shops/tmall", `{"app_secret":"app-secret-from-secrets-manager","sign_method":"hmac-sha256"}`)
	env.PutShops(t, "shops:\n  - channel: taobao\n    id: tmall\n    base_url: https://eco.taobao.com/router/rest\n    credentials:\n"+
		"      app_key: secret:"+env.SecretName("shops/tmall-key")+"\n"+
		"      app_secret: secret:"+env.SecretName("shops/tmall")+"#app_secret\n"+
		"      sign_method: secret:"+env.SecretName("shops/tmall")+"#sign_method\n"+
		"      session: env:TMALL_SESSION\n")
	withSession := func(k string) string {
		if k == "TMALL_SESSION" {
			return "session-from-the-environment"
		}
		return env.Getenv(k)
	}
	app, err = awsapp.Wire(ctx, withSession)
	if err != nil {
		t.Fatal(err)
	}
	all := app.Shops.All()
	if len(all) != 1 || all[0].Conn == nil || all[0].Err != "" {
		t.Fatalf("shop from SSM and Secrets Manager: %d shops, first %q", len(all), all[0].Err)
	}
	want := map[string]string{"app_key": "12345678", "app_secret": "app-secret-from-secrets-manager", "sign_method": "hmac-sha256", "session": "session-from-the-environment"}
	for k, v := range want {
		if all[0].Shop.Credentials[k] != v {
			t.Errorf("credential %s not resolved", k)
		}
	}

	// A shop list that does not parse fails the cold start loudly, naming the problem.
	env.PutShops(t, "shops:\n  - {channel: ebay, id: x}\n")
	if _, err := awsapp.Wire(ctx, env.Getenv); err == nil || !strings.Contains(err.Error(), "ebay") {
		t.Fatalf("a bad shop list: %v", err)
	}
}
