package shopify

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

// Webhook topics whose body is the full order.
var orderTopics = map[string]bool{
	"orders/create": true, "orders/updated": true, "orders/paid": true, "orders/cancelled": true,
	"orders/fulfilled": true, "orders/partially_fulfilled": true,
}

// Webhook topics whose body names the order in an order_id member: the order is fetched.
var fetchTopics = map[string]bool{
	"refunds/create": true, "fulfillments/create": true, "fulfillments/update": true,
}

// VerifyPush checks X-Shopify-Hmac-Sha256 over the raw body with a constant-time compare.
func (c *Connector) VerifyPush(r *http.Request, body []byte) error {
	return verify(c.secret, body, r.Header.Get(HeaderHmac))
}

// ParsePush turns a verified webhook into a Push: orders/* topics carry the whole order, refunds
// and fulfilments only name it, and topics the hub does not use are acknowledged as pings.
func (c *Connector) ParsePush(r *http.Request, body []byte) (channel.Push, error) {
	topic := strings.TrimSpace(r.Header.Get(HeaderTopic))
	p := channel.Push{DeliveryID: strings.TrimSpace(r.Header.Get(HeaderWebhookID))}
	if !json.Valid(body) {
		return channel.Push{}, fault.With(channel.ErrMalformedPush, "body is not JSON")
	}
	switch {
	case topic == "":
		return channel.Push{}, fault.With(channel.ErrMalformedPush, "missing %s", HeaderTopic)
	case orderTopics[topic]:
		o, err := c.parseOrder(body)
		if err != nil {
			return channel.Push{}, err
		}
		p.Orders = []order.Order{o}
	case fetchTopics[topic]:
		var ref struct {
			OrderID int64 `json:"order_id"`
		}
		if err := json.Unmarshal(body, &ref); err != nil || ref.OrderID <= 0 {
			return channel.Push{}, fault.With(channel.ErrMalformedPush, "%s without order_id", topic)
		}
		p.Fetch = []string{strconv.FormatInt(ref.OrderID, 10)}
	case topic == "orders/edited":
		var ref struct {
			OrderEdit struct {
				OrderID int64 `json:"order_id"`
			} `json:"order_edit"`
		}
		if err := json.Unmarshal(body, &ref); err != nil || ref.OrderEdit.OrderID <= 0 {
			return channel.Push{}, fault.With(channel.ErrMalformedPush, "orders/edited without order_edit.order_id")
		}
		p.Fetch = []string{strconv.FormatInt(ref.OrderEdit.OrderID, 10)}
	default:
		// orders/delete (Shopify only deletes orders already archived or cancelled, whose final state
		// the hub holds) and topics the hub did not subscribe to: acknowledge so Shopify stops retrying.
		p.Ping = true
	}
	return p, nil
}

// PushAck is the reply Shopify expects: any 2xx; the body is ignored.
func (c *Connector) PushAck() (string, []byte) { return "application/json", []byte("{}") }

func (c *Connector) parseOrder(body []byte) (order.Order, error) {
	var raw Order
	if err := json.Unmarshal(body, &raw); err != nil {
		return order.Order{}, fault.With(channel.ErrMalformedPush, "order body: %v", err)
	}
	o, err := c.toOrder(raw)
	if err != nil {
		return order.Order{}, fmt.Errorf("%w: %w", channel.ErrMalformedPush, err)
	}
	return o, nil
}
