package woocommerce

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// VerifyPush checks X-WC-Webhook-Signature over the raw body with a constant-time compare. The one
// unsigned delivery accepted is the creation ping, recognised by its exact body and the absence of
// any webhook topic.
func (c *Connector) VerifyPush(r *http.Request, body []byte) error {
	sig := r.Header.Get(HeaderSignature)
	if strings.TrimSpace(sig) == "" && r.Header.Get(HeaderTopic) == "" && isPingBody(body) {
		return nil
	}
	return verify(c.hookKey, body, sig)
}

// ParsePush turns a verified webhook into a Push: order.created, order.updated and order.restored
// carry the whole order; order.deleted (the order went to the trash) carries only its id, so the
// order is fetched and maps to cancelled from its trash status.
func (c *Connector) ParsePush(r *http.Request, body []byte) (channel.Push, error) {
	if isPingBody(body) {
		return channel.Push{Ping: true}, nil
	}
	p := channel.Push{DeliveryID: strings.TrimSpace(r.Header.Get(HeaderDeliveryID))}
	if !json.Valid(body) {
		return channel.Push{}, fault.With(channel.ErrMalformedPush, "body is not JSON")
	}
	switch topic := strings.TrimSpace(r.Header.Get(HeaderTopic)); topic {
	case "":
		return channel.Push{}, fault.With(channel.ErrMalformedPush, "missing %s", HeaderTopic)
	case "order.created", "order.updated", "order.restored":
		var raw Order
		if err := json.Unmarshal(body, &raw); err != nil {
			return channel.Push{}, fault.With(channel.ErrMalformedPush, "order body: %v", err)
		}
		o, err := c.toOrder(raw)
		if err != nil {
			return channel.Push{}, fmt.Errorf("%w: %w", channel.ErrMalformedPush, err)
		}
		p.Orders = []order.Order{o}
	case "order.deleted":
		var ref struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(body, &ref); err != nil || ref.ID <= 0 {
			return channel.Push{}, fault.With(channel.ErrMalformedPush, "order.deleted without id")
		}
		p.Fetch = []string{strconv.FormatInt(ref.ID, 10)}
	default:
		// Products, coupons, customers and action hooks: the hub does not use them. Acknowledge,
		// or WooCommerce counts failures and disables the webhook after five.
		p.Ping = true
	}
	return p, nil
}

// PushAck is the reply WooCommerce expects: any 2xx; the body is ignored.
func (c *Connector) PushAck() (string, []byte) { return "application/json", []byte("{}") }
