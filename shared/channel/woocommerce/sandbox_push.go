package woocommerce

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // only shapes a sandbox delivery id like WooCommerce's wp_hash
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"orderhub/shared/channel/sandbox"
	"orderhub/shared/fault"
)

// ErrSandbox is returned by sandbox helpers for requests they cannot build.
var ErrSandbox = fault.New(fault.Invalid, "sandbox", "sandbox request")

// WebhookRequest builds the webhook WooCommerce would send to url for the order's current state
// under topic (order.created, order.updated, order.deleted, order.restored), signed with the
// sandbox's webhook secret.
func (s *Sandbox) WebhookRequest(url, orderID, topic string) (*http.Request, error) {
	return s.webhookRequest(url, orderID, topic, s.cfg.WebhookSecret)
}

// BadlySignedWebhookRequest is WebhookRequest signed with the wrong secret, for negative tests.
func (s *Sandbox) BadlySignedWebhookRequest(url, orderID, topic string) (*http.Request, error) {
	return s.webhookRequest(url, orderID, topic, s.cfg.WebhookSecret+"-wrong")
}

// PingRequest builds the unsigned ping WooCommerce posts to a webhook's URL when it is created.
func (s *Sandbox) PingRequest(url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader("webhook_id="+strconv.Itoa(webhookID)))
	if err != nil {
		return nil, fault.With(ErrSandbox, "webhook url: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", userAgent)
	return req, nil
}

const userAgent = "WooCommerce/9.8.5 Hookshot (WordPress/6.8.1)"

func (s *Sandbox) webhookRequest(url, orderID, topic, secret string) (*http.Request, error) {
	s.mu.Lock()
	o, ok := s.lookup(orderID)
	var body []byte
	if ok {
		body, _ = json.Marshal(o)
		if topic == "order.deleted" {
			body = fmt.Appendf(nil, `{"id":%d}`, o.ID)
		}
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
	resource, event, _ := strings.Cut(topic, ".")
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	h.Set(HeaderSource, s.cfg.SiteURL)
	h.Set(HeaderTopic, topic)
	h.Set(HeaderResource, resource)
	h.Set(HeaderEvent, event)
	h.Set(HeaderSignature, Sign(secret, body))
	h.Set(HeaderWebhookID, strconv.Itoa(webhookID))
	h.Set(HeaderDeliveryID, s.deliveryID())
	return req, nil
}

// deliveryID looks like WooCommerce's wp_hash(webhook id + time): 32 hex digits, unique per delivery.
func (s *Sandbox) deliveryID() string {
	sum := md5.Sum(fmt.Appendf(nil, "%d-%d-%d", webhookID, s.Now().UnixNano(), s.gen.Seq()))
	return hex.EncodeToString(sum[:])
}
