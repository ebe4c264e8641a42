// Command api is the ops API Lambda: API Gateway HTTP API (payload 2.0) → the same http.Handler
// the embedded runtime serves, platform pushes at /webhooks/{platform}/{shop} included.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"orderhub/infra/awsapp"
)

func main() {
	app, err := awsapp.Wire(context.Background(), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "api: init:", err) // Lambda reports the failed init; nothing to serve
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(app.API()).ProxyWithContext)
}
