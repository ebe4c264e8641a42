// Command poller is the poller Lambda: an EventBridge schedule per shop invokes it with the
// schedule's constant input {"shop":"<channel>/<shop id>"}, and it pulls that shop's orders since
// its watermark into the hub, exactly as the embedded runtime's pollers do.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"orderhub/infra/awsapp"
)

func main() {
	app, err := awsapp.Wire(context.Background(), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "poller: init:", err) // Lambda reports the failed init; the schedule retries
		os.Exit(1)
	}
	lambda.Start(newHandler(app).Handle)
}
