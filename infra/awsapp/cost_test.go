package awsapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	sdksqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"orderhub/infra/awsapp"
	"orderhub/infra/awsapp/awsapptest"
	"orderhub/shared/order"
	"orderhub/shared/pipeline"
)

// meter is a counting proxy in front of an emulator: it counts requests by operation (the
// X-Amz-Target header of DynamoDB's and SQS's JSON protocols) under the current phase, and for
// DynamoDB asks for ReturnConsumedCapacity TOTAL and adds up the capacity units DynamoDB Local
// reports (emulators do not check signatures, so changing the body is harmless).
type meter struct {
	mu     sync.Mutex
	phase  string
	phases map[string]*phaseCount
}

type phaseCount struct {
	Requests   map[string]int `json:"requests"` // "<service>.<operation>" → count
	ReadUnits  float64        `json:"dynamodb_read_units"`
	WriteUnits float64        `json:"dynamodb_write_units"`
}

func (m *meter) set(phase string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.phase = phase
	if m.phases[phase] == nil {
		m.phases[phase] = &phaseCount{Requests: map[string]int{}}
	}
}

var ddbReads = map[string]bool{"GetItem": true, "Query": true, "Scan": true, "BatchGetItem": true, "TransactGetItems": true}

var capacityOps = map[string]bool{"GetItem": true, "PutItem": true, "UpdateItem": true, "DeleteItem": true, "Query": true,
	"Scan": true, "BatchGetItem": true, "BatchWriteItem": true, "TransactGetItems": true, "TransactWriteItems": true}

func (m *meter) proxy(t *testing.T, service, target string) string {
	t.Helper()
	client := &http.Client{Timeout: time.Minute}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		amzTarget := r.Header.Get("X-Amz-Target")
		op := amzTarget[strings.LastIndexByte(amzTarget, '.')+1:]
		if service == "dynamodb" && capacityOps[op] {
			var in map[string]any
			if json.Unmarshal(body, &in) == nil {
				in["ReturnConsumedCapacity"] = "TOTAL"
				body, _ = json.Marshal(in)
			}
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		req.ContentLength = int64(len(body))
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		units := 0.0
		if service == "dynamodb" {
			var cc struct {
				ConsumedCapacity json.RawMessage
			}
			if json.Unmarshal(out, &cc) == nil && len(cc.ConsumedCapacity) > 0 {
				var one struct{ CapacityUnits float64 }
				var many []struct{ CapacityUnits float64 }
				if json.Unmarshal(cc.ConsumedCapacity, &many) == nil {
					for _, c := range many {
						units += c.CapacityUnits
					}
				} else if json.Unmarshal(cc.ConsumedCapacity, &one) == nil {
					units = one.CapacityUnits
				}
			}
		}
		m.mu.Lock()
		if p := m.phases[m.phase]; p != nil {
			p.Requests[service+"."+op]++
			if ddbReads[op] {
				p.ReadUnits += units
			} else {
				p.WriteUnits += units
			}
		}
		m.mu.Unlock()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// costRun is what one run of n orders through ingest → route → stock-lock caused.
type costRun struct {
	Orders int                    `json:"orders"`
	Phases map[string]*phaseCount `json:"phases"`
	Lambda map[string]int         `json:"lambda_invocations"`
	Total  map[string]float64     `json:"per_order"` // requests and units per order, all phases but cold_start
}

// TestCostPerOrder counts the AWS requests orders cause on their way through ingest (as the
// poller does it), the router and the stock-lock stage, with Lambda's SQS event source mapping
// played by the test (receive a batch, invoke, delete what succeeded): once for a single order
// and once for 10 orders arriving together (one batch per stage). With ORDERHUB_COST_REPORT set,
// it writes the counts to that file as JSON; docs/cost.md turns them into dollars.
func TestCostPerOrder(t *testing.T) {
	env := awsapptest.Start(t)
	m := &meter{phases: map[string]*phaseCount{}}
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", m.proxy(t, "dynamodb", os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")))
	t.Setenv("AWS_ENDPOINT_URL_SQS", m.proxy(t, "sqs", os.Getenv("AWS_ENDPOINT_URL_SQS")))
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env.SQS = sdksqs.NewFromConfig(cfg) // the event source mapping's requests are counted too

	m.set("cold_start")
	app, err := awsapp.Wire(ctx, env.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	m.set("setup")
	for _, wh := range []string{"WH-HZ", "WH-GZ"} {
		if _, err := app.Pipeline.Stock.SetOnHand(ctx, "TEA-LJ-250", wh, 1000, "test", "opening count"); err != nil {
			t.Fatal(err)
		}
	}
	route, err := app.Route()
	if err != nil {
		t.Fatal(err)
	}
	reserve, err := app.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	routeHandler, reserveHandler := app.SQSHandler(route), app.SQSHandler(reserve)

	runs := map[string]*costRun{}
	for _, n := range []int{1, 10} {
		m.phases = map[string]*phaseCount{"cold_start": m.phases["cold_start"]}
		run := &costRun{Orders: n, Lambda: map[string]int{}}
		var ids []string
		m.set("ingest")
		for i := range n {
			stored, _, err := app.Hub.Ingest(ctx, awsapptest.PaidOrder(fmt.Sprintf("C%d-%02d-%d", n, i, time.Now().UnixNano()), "TEA-LJ-250", 2), "system:poller")
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, stored.ID)
		}
		for _, stage := range []struct {
			port   string
			handle func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
		}{{pipeline.QueueRoute, routeHandler}, {pipeline.QueueStock, reserveHandler}} {
			for left := n; left > 0; {
				m.set(stage.port + "_event_source")
				ev := env.Receive(t, stage.port, min(left, 10), 10*time.Second)
				if len(ev.Records) == 0 {
					t.Fatalf("%s: %d messages never arrived", stage.port, left)
				}
				m.set(stage.port + "_function")
				run.Lambda[stage.port]++
				resp, err := stage.handle(ctx, ev)
				if err != nil || len(resp.BatchItemFailures) > 0 {
					t.Fatalf("%s: %v %+v", stage.port, err, resp.BatchItemFailures)
				}
				m.set(stage.port + "_event_source")
				env.Settle(t, stage.port, ev, resp)
				left -= len(ev.Records)
			}
		}
		m.set("check")
		for _, id := range ids {
			if o, err := env.Store.Get(ctx, id); err != nil || o.Status != order.Reserved {
				t.Fatalf("order %s: %s %v", id, o.Status, err)
			}
		}
		delete(m.phases, "check")
		for _, port := range []string{pipeline.QueueRoute, pipeline.QueueStock} {
			// Lambda's event source mapping addresses the queue by its ARN; only the test's stand-in
			// for it resolves the queue's URL (once per run).
			delete(m.phases[port+"_event_source"].Requests, "sqs.GetQueueUrl")
		}
		run.Phases = m.phases
		run.Total = map[string]float64{}
		for name, p := range m.phases {
			if name == "cold_start" {
				continue
			}
			for op, c := range p.Requests {
				run.Total[op] += float64(c) / float64(n)
			}
			run.Total["dynamodb_read_units"] += p.ReadUnits / float64(n)
			run.Total["dynamodb_write_units"] += p.WriteUnits / float64(n)
		}
		for stage, c := range run.Lambda {
			run.Total["lambda."+stage] = float64(c) / float64(n)
		}
		runs[fmt.Sprintf("batch_of_%d", n)] = run
		keys := make([]string, 0, len(run.Total))
		for k := range run.Total {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.Logf("%d order(s): per order %-32s %.2f", n, k, run.Total[k])
		}
	}
	if path := os.Getenv("ORDERHUB_COST_REPORT"); path != "" {
		raw, err := json.MarshalIndent(runs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(raw, '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
