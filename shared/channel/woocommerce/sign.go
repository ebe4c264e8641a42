package woocommerce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
)

// Webhook headers WooCommerce sends with every delivery (the creation ping sends none of them).
const (
	HeaderSignature  = "X-WC-Webhook-Signature"
	HeaderTopic      = "X-WC-Webhook-Topic"
	HeaderResource   = "X-WC-Webhook-Resource"
	HeaderEvent      = "X-WC-Webhook-Event"
	HeaderWebhookID  = "X-WC-Webhook-ID"
	HeaderDeliveryID = "X-WC-Webhook-Delivery-ID"
	HeaderSource     = "X-WC-Webhook-Source"
)

// Sign returns the X-WC-Webhook-Signature value for a raw webhook body:
// base64(HMAC-SHA256(key = the webhook's secret, message = the body bytes as sent)).
// WooCommerce signs with the secret after decoding HTML entities (wp_specialchars_decode), i.e.
// the secret as the merchant typed it, which is the form the shop configuration holds.
func Sign(secret string, body []byte) string {
	return base64.StdEncoding.EncodeToString(mac(secret, body))
}

func mac(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// verify checks header against the body's HMAC, comparing the raw digests with hmac.Equal.
func verify(secret string, body []byte, header string) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return fault.With(channel.ErrBadSignature, "missing %s", HeaderSignature)
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		return fault.With(channel.ErrBadSignature, "%s is not base64", HeaderSignature)
	}
	if !hmac.Equal(got, mac(secret, body)) {
		return channel.ErrBadSignature
	}
	return nil
}

// isPingBody reports whether body is WooCommerce's creation ping, which posts the form body
// "webhook_id=<id>" and nothing else, unsigned (WC_Webhook::deliver_ping). It carries no order, so
// taking it unsigned cannot inject data; a body that differs by one byte is not the ping.
func isPingBody(body []byte) bool {
	id, ok := strings.CutPrefix(string(body), "webhook_id=")
	if !ok || len(id) == 0 || len(id) > 19 || id[0] == '0' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}
