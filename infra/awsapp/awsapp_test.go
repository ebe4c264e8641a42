package awsapp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"orderhub/infra/awsapp"
	"orderhub/shared/api"
	"orderhub/shared/store/dynamo"
)

// emulators returns the DynamoDB Local and moto endpoints, or skips loudly (fails when
// ORDERHUB_REQUIRE_EMULATORS=1, as in make test).
func emulators(t *testing.T) (ddb, moto string) {
	t.Helper()
	ddb, moto = os.Getenv("ORDERHUB_DYNAMODB_ENDPOINT"), os.Getenv("ORDERHUB_MOTO_ENDPOINT")
	if ddb == "" || moto == "" {
		msg := "!!! AWS WIRING NOT TESTED: DynamoDB Local and moto are not running (ORDERHUB_DYNAMODB_ENDPOINT / ORDERHUB_MOTO_ENDPOINT unset): run make test"
		if os.Getenv("ORDERHUB_REQUIRE_EMULATORS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return ddb, moto
}

func TestWireServesTheAPIOnTheEmulators(t *testing.T) {
	ddb, moto := emulators(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", ddb)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprintf("%d", time.Now().UnixNano())
	tables := dynamo.Tables{Orders: "wire-orders-" + suffix, Keys: "wire-keys-" + suffix}
	db := dynamo.New(dynamodb.NewFromConfig(cfg), tables)
	if err := db.CreateTables(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.DeleteTables(context.Background()) })
	sm := secretsmanager.NewFromConfig(cfg)
	put := func(name, value string) string {
		out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name + suffix), SecretString: aws.String(value)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ARN)
	}
	const adminKey = "AdminKeyFromSecretsManager0123456789abcdef"
	env := map[string]string{
		awsapp.EnvOrdersTable:    tables.Orders,
		awsapp.EnvKeysTable:      tables.Keys,
		awsapp.EnvPIISecret:      put("pii-", "pii-hash-key-from-secrets-manager-0123456789"),
		awsapp.EnvAdminKeySecret: put("admin-", adminKey),
	}
	app, err := awsapp.Wire(ctx, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	// A second cold start finds the admin key already there.
	if _, err := awsapp.Wire(ctx, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("second cold start: %v", err)
	}
	proxy := httpadapter.NewV2(api.New(app.Hub, app.Log)).ProxyWithContext
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
	for k, v := range env {
		short[k] = v
	}
	short[awsapp.EnvPIISecret] = put("short-", "tooshort")
	if _, err := awsapp.Wire(ctx, func(k string) string { return short[k] }); err == nil || strings.Contains(err.Error(), "tooshort") {
		t.Fatalf("a short PII secret: %v", err)
	}
}
