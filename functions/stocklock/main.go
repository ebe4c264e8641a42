// Command stocklock is the stock-lock Lambda: the stock-lock queue's SQS event source invokes it
// with batches of routed orders, and it reserves every line of each order in one warehouse (the
// routed one, else its fallbacks) or holds the order as out_of_stock, exactly as the embedded
// runtime's stage does. Failed records are reported as batch item failures; a record failing 5
// times goes to the stock-lock dead-letter queue.
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
		fmt.Fprintln(os.Stderr, "stocklock: init:", err) // Lambda reports the failed init; the messages wait in the queue
		os.Exit(1)
	}
	handle, err := app.Reserve()
	if err != nil {
		fmt.Fprintln(os.Stderr, "stocklock: init:", err)
		os.Exit(1)
	}
	lambda.Start(app.SQSHandler(handle))
}
