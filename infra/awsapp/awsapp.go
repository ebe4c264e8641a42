// Package awsapp is the AWS runtime's one wiring function: it builds the hub over the DynamoDB
// adapters from the environment that template.yaml sets. Every Lambda main calls Wire.
package awsapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"orderhub/shared/auth"
	"orderhub/shared/hub"
	"orderhub/shared/pii"
	"orderhub/shared/store/dynamo"
)

// Environment variables Wire reads; template.yaml sets each of them (a test checks it).
const (
	EnvOrdersTable    = "ORDERHUB_ORDERS_TABLE"
	EnvKeysTable      = "ORDERHUB_KEYS_TABLE"
	EnvPIISecret      = "ORDERHUB_PII_SECRET_ARN"   // Secrets Manager secret: the key of phone/address hashes
	EnvAdminKeySecret = "ORDERHUB_ADMIN_SECRET_ARN" // Secrets Manager secret: the first admin API key
)

// App is what a Lambda handler needs.
type App struct {
	Hub *hub.Hub
	Log *slog.Logger
}

// Wire builds the application. getenv is os.Getenv in Lambda; tests pass their own. The AWS SDK
// reads credentials, region and endpoint overrides (AWS_ENDPOINT_URL_*) from the process environment.
func Wire(ctx context.Context, getenv func(string) string) (*App, error) {
	log := lambdacontext.NewLogger()
	need := func(name string) (string, error) {
		if v := getenv(name); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("awsapp: %s is not set", name)
	}
	ordersTable, err := need(EnvOrdersTable)
	if err != nil {
		return nil, err
	}
	keysTable, err := need(EnvKeysTable)
	if err != nil {
		return nil, err
	}
	piiSecret, err := need(EnvPIISecret)
	if err != nil {
		return nil, err
	}
	adminSecret, err := need(EnvAdminKeySecret)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("awsapp: aws config: %w", err)
	}
	secrets := secretsmanager.NewFromConfig(cfg)
	piiKey, err := secret(ctx, secrets, piiSecret)
	if err != nil {
		return nil, err
	}
	if len(piiKey) < 16 {
		return nil, errors.New("awsapp: the PII hashing secret must be at least 16 characters")
	}
	db := dynamo.New(dynamodb.NewFromConfig(cfg), dynamo.Tables{Orders: ordersTable, Keys: keysTable})
	h := &hub.Hub{Orders: db, Keys: db, Hasher: pii.NewHasher([]byte(piiKey)), Now: time.Now, Log: log}

	adminKey, err := secret(ctx, secrets, adminSecret)
	if err != nil {
		return nil, err
	}
	if err := auth.EnsureKey(ctx, db, adminKey, "admin (Secrets Manager)", auth.Admin, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("awsapp: admin key: %w", err)
	}
	return &App{Hub: h, Log: log}, nil
}

// secret reads a Secrets Manager secret's string. Its value is never logged or put in an error.
func secret(ctx context.Context, sm *secretsmanager.Client, id string) (string, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("awsapp: read secret %s: %w", id, err)
	}
	return aws.ToString(out.SecretString), nil
}
