// Command route is the router Lambda: the route queue's SQS event source invokes it with batches
// of messages, and it cleanses, tags, holds or routes each order exactly as the embedded runtime's
// router does, sending routed orders to the stock-lock queue. Failed records are reported as batch
// item failures; a record failing 5 times goes to the route dead-letter queue.
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
		fmt.Fprintln(os.Stderr, "route: init:", err) // Lambda reports the failed init; the messages wait in the queue
		os.Exit(1)
	}
	handle, err := app.Route()
	if err != nil {
		fmt.Fprintln(os.Stderr, "route: init:", err)
		os.Exit(1)
	}
	lambda.Start(app.SQSHandler(handle))
}
