package awsapp

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"orderhub/shared/pipeline"
)

// The port's names must resolve to the queues, never to their dead-letter queues (both are keyed
// by the port's name in the environment), and the queues' own names to themselves, with no request.
func TestQueueURLsResolveWithoutRequests(t *testing.T) {
	t.Parallel()
	const base = "https://sqs.ap-southeast-1.amazonaws.com/123456789012/"
	env := readPipelineEnv(func(k string) string {
		return map[string]string{
			EnvRouteQueueURL: base + "orderhub-prod-route", EnvRouteDLQURL: base + "orderhub-prod-route-dlq",
			EnvStockQueueURL: base + "orderhub-prod-stock-lock", EnvStockDLQURL: base + "orderhub-prod-stock-lock-dlq",
		}[k]
	})
	for range 20 { // map iteration order varies: build the mapping again each time
		client := sdksqs.New(sdksqs.Options{Region: "ap-southeast-1", APIOptions: []func(*middleware.Stack) error{queueURLs(env)},
			BaseEndpoint: aws.String("http://127.0.0.1:1")}) // nothing listens: a request would fail
		for name, want := range map[string]string{
			pipeline.QueueRoute: base + "orderhub-prod-route", pipeline.QueueStock: base + "orderhub-prod-stock-lock",
			"orderhub-prod-route": base + "orderhub-prod-route", "orderhub-prod-stock-lock-dlq": base + "orderhub-prod-stock-lock-dlq",
		} {
			out, err := client.GetQueueUrl(context.Background(), &sdksqs.GetQueueUrlInput{QueueName: aws.String(name)})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := aws.ToString(out.QueueUrl); got != want {
				t.Fatalf("%s → %s, want %s", name, got, want)
			}
		}
	}
}
