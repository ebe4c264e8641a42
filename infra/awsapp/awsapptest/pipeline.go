package awsapptest

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"orderhub/shared/money"
	"orderhub/shared/order"
	"orderhub/shared/queue"
	"orderhub/shared/queue/sqs"
)

// SampleOrderID is the order id in the sample events under events/route and events/stocklock.
// The hub names its orders, so a test stores an order and puts its id in the sample's place.
const SampleOrderID = "01KA5Q2M8X4YV3T9B7N6C5D2E1"

// PaidOrder returns a paid Tmall order to Zhejiang (the default rules route it to WH-HZ, falling
// back to WH-GZ) of qty units of sku at 268.00 CNY.
func PaidOrder(channelOrderID, sku string, qty int) order.Order {
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	price := int64(26800)
	total := price * int64(qty)
	return order.Order{Channel: order.Taobao, Shop: "tmall-flagship", ChannelOrderID: channelOrderID,
		ChannelStatus: "WAIT_SELLER_SEND_GOODS", Status: order.Paid, Version: t0, CreatedAt: t0, PaidAt: t0,
		Buyer: order.Buyer{Nick: "tea_lover_88"},
		Receiver: order.Receiver{Country: "CN", Province: "浙江省", City: "杭州市", District: "西湖区",
			DetailMasked: "文三路****", PhoneMasked: "139****1111", PhoneHash: "hash-" + channelOrderID},
		Lines: []order.Line{{ChannelSKU: sku, SKU: sku, Title: "西湖龙井 明前特级 250g", Quantity: qty,
			UnitPrice: money.New(price, "CNY"), Discount: money.New(0, "CNY")}},
		Amounts: order.Amounts{Goods: money.New(total, "CNY"), Shipping: money.New(0, "CNY"),
			Discount: money.New(0, "CNY"), Paid: money.New(total, "CNY")},
	}
}

// queueName is the deployment's name of the pipeline queue port (route, stock-lock).
func (e *Env) queueName(port string) string {
	u := e.QueueURLs[port]
	return u[strings.LastIndexByte(u, '/')+1:]
}

// arn is the ARN Lambda puts in the records of the queue's events.
func (e *Env) arn(port string) string {
	return "arn:aws:sqs:us-east-1:123456789012:" + e.queueName(port)
}

// SampleEvent reads the sample SQS event file (relative to the repository root, root given),
// points its records at the deployment's queue port and puts orderID where the sample has
// SampleOrderID.
func (e *Env) SampleEvent(t *testing.T, root, file, port, orderID string) events.SQSEvent {
	t.Helper()
	raw, err := os.ReadFile(root + "/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(raw), SampleOrderID, orderID)), &ev); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for i := range ev.Records {
		ev.Records[i].EventSourceARN = e.arn(port)
	}
	return ev
}

// Receive receives up to 10 messages of the queue port as Lambda's event source mapping does
// (long polling) and returns them as the SQS event Lambda would invoke with. It waits up to wait
// for want messages.
func (e *Env) Receive(t *testing.T, port string, want int, wait time.Duration) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	qs := sqs.New(e.SQS)
	deadline := time.Now().Add(wait)
	for len(ev.Records) < want && time.Now().Before(deadline) {
		msgs, err := qs.Receive(context.Background(), e.queueName(port), queue.ReceiveOptions{Max: want - len(ev.Records), Visibility: time.Minute, Wait: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			body, enc := queue.EncodeSQSBody(m.Body)
			attrs := map[string]events.SQSMessageAttribute{}
			if m.Key != "" {
				attrs[queue.SQSKeyAttribute] = events.SQSMessageAttribute{DataType: "String", StringValue: aws.String(m.Key)}
			}
			if enc != "" {
				attrs[queue.SQSEncodingAttribute] = events.SQSMessageAttribute{DataType: "String", StringValue: aws.String(enc)}
			}
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: m.ID, ReceiptHandle: m.Receipt, Body: body,
				Attributes:        map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.Attempt), "SentTimestamp": strconv.FormatInt(m.SentAt.UnixMilli(), 10)},
				MessageAttributes: attrs, EventSource: "aws:sqs", EventSourceARN: e.arn(port), AWSRegion: "us-east-1"})
		}
	}
	return ev
}

// Settle deletes the event's records that resp does not report as failed, as the event source
// mapping does after an invocation with ReportBatchItemFailures.
func (e *Env) Settle(t *testing.T, port string, ev events.SQSEvent, resp events.SQSEventResponse) {
	t.Helper()
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	for i, r := range ev.Records {
		if !failed[r.MessageId] {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(string(rune('a' + i))), ReceiptHandle: aws.String(r.ReceiptHandle)})
		}
	}
	if len(entries) == 0 {
		return
	}
	if _, err := e.SQS.DeleteMessageBatch(context.Background(), &sdksqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(e.QueueURLs[port]), Entries: entries}); err != nil {
		t.Fatal(err)
	}
}
