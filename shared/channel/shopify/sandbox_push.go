package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"orderhub/shared/channel/sandbox"
	"orderhub/shared/fault"
)

// ErrSandbox is returned by sandbox helpers for requests they cannot build.
var ErrSandbox = fault.New(fault.Invalid, "sandbox", "sandbox request")

// WebhookRequest builds the webhook Shopify would send to url for the order's current state under
// topic, signed with the sandbox's client secret.
func (s *Sandbox) WebhookRequest(url, orderID, topic string) (*http.Request, error) {
	return s.webhookRequest(url, orderID, topic, s.cfg.WebhookSecret)
}

// BadlySignedWebhookRequest is WebhookRequest signed with the wrong secret, for negative tests.
func (s *Sandbox) BadlySignedWebhookRequest(url, orderID, topic string) (*http.Request, error) {
	return s.webhookRequest(url, orderID, topic, s.cfg.WebhookSecret+"-wrong")
}

func (s *Sandbox) webhookRequest(url, orderID, topic, secret string) (*http.Request, error) {
	s.mu.Lock()
	so, ok := s.lookup(orderID)
	var body []byte
	if ok {
		body = s.bodyFor(topic, so.o)
	}
	s.mu.Unlock()
	if !ok {
		return nil, fault.With(ErrSandbox, "no order %q", orderID)
	}
	return s.newWebhook(context.Background(), url, topic, body, secret)
}

// PushAll delivers every queued webhook to url in the order the events happened, each carrying the
// order as it was then; a share Faults.DropShare() is lost on the way, as real deliveries can be.
// It stops at the first failed delivery, which stays queued, and returns how many were delivered.
func (s *Sandbox) PushAll(ctx context.Context, client *http.Client, url string) (int, error) {
	if client == nil {
		client = http.DefaultClient
	}
	s.mu.Lock()
	batch := s.outbox
	s.outbox = nil
	s.mu.Unlock()
	sent := 0
	for i, d := range batch {
		if share := s.Faults.DropShare(); share > 0 && s.gen.Chance(share) {
			continue
		}
		req, err := s.newWebhook(ctx, url, d.topic, d.body, s.cfg.WebhookSecret)
		if err == nil {
			err = sandbox.Deliver(client, req)
		}
		if err != nil {
			s.mu.Lock()
			s.outbox = append(batch[i:len(batch):len(batch)], s.outbox...)
			s.mu.Unlock()
			return sent, err
		}
		sent++
	}
	return sent, nil
}

func (s *Sandbox) newWebhook(ctx context.Context, url, topic string, body []byte, secret string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fault.With(ErrSandbox, "webhook url: %v", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set(HeaderTopic, topic)
	h.Set(HeaderHmac, Sign(secret, body))
	h.Set(HeaderShop, s.cfg.Domain)
	h.Set(HeaderVersion, s.cfg.APIVersion)
	h.Set(HeaderWebhookID, s.uuid())
	h.Set(HeaderEventID, s.uuid())
	h.Set("X-Shopify-Triggered-At", s.Now().UTC().Format(time.RFC3339Nano))
	return req, nil
}

// bodyFor renders the webhook body Shopify sends for topic: the order itself for orders/* topics,
// the refund or fulfilment (naming the order) for theirs, only the id for orders/delete.
func (s *Sandbox) bodyFor(topic string, o Order) []byte {
	var v any = o
	switch topic {
	case "refunds/create":
		v = map[string]any{"id": 9_900_000_000 + o.ID%1_000_000, "order_id": o.ID, "created_at": o.UpdatedAt, "note": nil}
	case "fulfillments/create", "fulfillments/update":
		v = map[string]any{"id": 4_400_000_000 + o.ID%1_000_000, "order_id": o.ID, "status": "success"}
	case "orders/delete":
		v = map[string]any{"id": o.ID}
	}
	b, _ := json.Marshal(v) // plain data: cannot fail
	return b
}

// uuid returns a random-looking, seed-determined UUID for webhook and event ids.
func (s *Sandbox) uuid() string {
	g := s.gen
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", g.Intn(1<<31), g.Intn(1<<16), g.Intn(1<<12), 0x8000|g.Intn(1<<14), g.Intn(1<<47))
}
