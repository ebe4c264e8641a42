package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	sdk "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"orderhub/shared/queue"
	"orderhub/shared/queue/queuetest"
)

// counter counts the HTTP requests the SDK sends per operation (every attempt, retries included,
// since each is billed; SQS bills every 64 KiB of a payload as one request, and the bodies here
// are small).
type counter struct {
	mu      sync.Mutex
	reqs    map[string]int
	ops     map[string]int // operations called (requests without the SDK's retries)
	retried map[string]int // operation → requests sent again
	failed  []string       // errors of attempts, for a test that wants to know why the SDK retried
}

type attemptsKey struct{}

func newCounter() *counter {
	return &counter{reqs: map[string]int{}, ops: map[string]int{}, retried: map[string]int{}}
}

// retries returns the requests the SDK sent again after a failed attempt, per operation.
func (c *counter) retries() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.retried)
}

func (c *counter) options(o *sdk.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("orderhubCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				c.ops[awsmiddleware.GetOperationName(ctx)]++
				c.mu.Unlock()
				return next.HandleInitialize(middleware.WithStackValue(ctx, attemptsKey{}, new(int)), in)
			}), middleware.After); err != nil {
			return err
		}
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("orderhubCount",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				op := awsmiddleware.GetOperationName(ctx)
				c.reqs[op]++
				if n, ok := middleware.GetStackValue(ctx, attemptsKey{}).(*int); ok {
					if *n++; *n > 1 {
						c.retried[op]++
					}
				}
				c.mu.Unlock()
				out, md, err := next.HandleFinalize(ctx, in)
				if err != nil {
					c.mu.Lock()
					c.failed = append(c.failed, op+": "+err.Error())
					c.mu.Unlock()
				}
				return out, md, err
			}), middleware.After)
	})
}

// take returns the requests sent (retries included: each is billed) and the operations called
// since the last take, and starts again.
func (c *counter) take() (reqs, ops map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reqs, ops = c.reqs, c.ops
	c.reqs, c.ops = map[string]int{}, map[string]int{}
	return reqs, ops
}

func format(reqs map[string]int, per int) string {
	var b strings.Builder
	total := 0
	for _, op := range slices.Sorted(maps.Keys(reqs)) {
		fmt.Fprintf(&b, "%s %d (%.2f/msg)  ", op, reqs[op], float64(reqs[op])/float64(per))
		total += reqs[op]
	}
	fmt.Fprintf(&b, "= %d requests, %.2f per message", total, float64(total)/float64(per))
	return b.String()
}

// TestRequestsPerMessage counts the SQS requests behind each way of moving messages, for the
// cost model in the README. Run with -v to see the table.
func TestRequestsPerMessage(t *testing.T) {
	t.Parallel()
	c := newCounter()
	q := newTracked(t, c.options)
	ctx := t.Context()
	name := queuetest.Name(t, "cost")
	if err := q.Declare(ctx, name, queue.Options{MaxAttempts: 3}); err != nil {
		t.Fatal(err)
	}
	_, _ = c.take()
	body := []byte(`{"orderId":"01JD5Y6Z3XK2V6Q8W9R4T1M0AB","version":"2026-11-11T00:00:01Z"}`)
	const n = 100

	// 1. A stage that emits many messages at once (poller page, batch import): one Send.
	out := make([]queue.Outgoing, n)
	for i := range out {
		out[i] = queue.Outgoing{Body: body, Key: fmt.Sprintf("o-%d#1", i)}
	}
	if err := q.Send(ctx, name, out...); err != nil {
		t.Fatal(err)
	}
	sendBatched, sendBatchedOps := c.take()

	// 2. The embedded runner consuming them (a long-running consumer on SQS would do the same).
	var handled atomic.Int64
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- queue.Run(rctx, q, name, func(context.Context, queue.Message) error { handled.Add(1); return nil },
			queue.RunOptions{Concurrency: 10, Visibility: 30 * time.Second, Wait: time.Second, Logger: slog.New(slog.DiscardHandler)})
	}()
	for handled.Load() < n {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil { // Run returns once its acknowledgements are sent
		t.Fatal(err)
	}
	consumeRunner, consumeRunnerOps := c.take()
	waitDepth(t, q, name, queue.Depth{})
	_, _ = c.take()

	// 3. One order at a time (a webhook push): Send one, Receive one, Ack one.
	const single = 20
	for i := range single {
		if err := q.Send(ctx, name, queue.Outgoing{Body: body, Key: fmt.Sprintf("s-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	sendSingle, sendSingleOps := c.take()
	for range single {
		m := receiveWithin(t, q, name, 10*time.Second)
		if err := q.Ack(ctx, name, m.Receipt); err != nil {
			t.Fatal(err)
		}
	}
	consumeSingle, consumeSingleOps := c.take()
	waitDepth(t, q, name, queue.Depth{})
	_, _ = c.take()

	// 4. A failing message: Retry until it is dead, then list and replay it.
	if err := q.Send(ctx, name, queue.Outgoing{Body: body, Key: "poison"}); err != nil {
		t.Fatal(err)
	}
	_, _ = c.take()
	for range 3 {
		m := receiveWithin(t, q, name, 10*time.Second)
		if m.Key != "poison" {
			t.Fatalf("received %s (attempt %d) instead of the poison message; SDK retries so far: %v", m.Key, m.Attempt, c.retries())
		}
		if err := q.Retry(ctx, name, m.Receipt, 0, errors.New("poison")); err != nil {
			t.Fatal(err)
		}
	}
	failing, failingOps := c.take()
	waitDepth(t, q, name, queue.Depth{Dead: 1}) // its next Receive moves it to the dead-letter queue
	_, _ = c.take()
	page, err := q.DeadLetters(ctx, name, 10, "")
	if err != nil || len(page.Letters) != 1 {
		t.Fatalf("DeadLetters = %+v, %v", page, err)
	}
	list, _ := c.take()
	if err := q.Replay(ctx, name, page.Letters[0].ID); err != nil {
		t.Fatal(err)
	}
	replay, _ := c.take()
	if _, err := q.Depth(ctx, name); err != nil {
		t.Fatal(err)
	}
	depth, depthOps := c.take()

	t.Logf("send %d in one Send:        %s", n, format(sendBatched, n))
	t.Logf("runner consumes %d:          %s", n, format(consumeRunner, n))
	t.Logf("send %d one by one:          %s", single, format(sendSingle, single))
	t.Logf("receive+ack %d one by one:   %s", single, format(consumeSingle, single))
	t.Logf("3 failed deliveries (Retry):  %s", format(failing, 1))
	t.Logf("list dead letters (1):        %s", format(list, 1))
	t.Logf("replay 1:                     %s", format(replay, 1))
	t.Logf("depth:                        %s", format(depth, 1))

	// The checks count operations: a request the SDK had to send again is billed (in the table)
	// but says nothing about the adapter.
	if got := sendBatchedOps["SendMessageBatch"]; got != n/10 {
		t.Errorf("%d messages took %d SendMessageBatch requests, want %d", n, got, n/10)
	}
	if got := sendSingleOps["SendMessageBatch"]; got != single {
		t.Errorf("%d single sends took %d requests, want one each", single, got)
	}
	if got := consumeSingleOps["DeleteMessageBatch"]; got != single {
		t.Errorf("%d single acks took %d requests", single, got)
	}
	if got := consumeRunnerOps["DeleteMessageBatch"]; got > n/2 {
		t.Errorf("the runner acknowledged %d messages with %d requests; it should batch", n, got)
	}
	if failingOps["ChangeMessageVisibility"] != 3 {
		t.Errorf("3 retries took %d ChangeMessageVisibility calls", failingOps["ChangeMessageVisibility"])
	}
	if depthOps["GetQueueAttributes"] != 2 {
		t.Errorf("Depth took %v, want 2 GetQueueAttributes (queue and dead-letter queue)", depthOps)
	}
}

func waitDepth(t *testing.T, q queue.Queues, name string, want queue.Depth) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := q.Depth(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Depth = %+v, want %+v", got, want)
		}
		// A dead-lettering happens at a Receive: poll the queue the way a consumer would.
		if want.Dead > 0 {
			if _, err := q.Receive(t.Context(), name, queue.ReceiveOptions{Max: 1, Visibility: time.Second}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}
