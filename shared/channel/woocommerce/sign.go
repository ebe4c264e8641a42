package woocommerce

import (
	"strings"

	"orderhub/shared/channel/chanhttp"
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
func Sign(secret string, body []byte) string { return chanhttp.SignBase64HMAC(secret, body) }

// verify checks header against the body's HMAC (constant time; see chanhttp.VerifyBase64HMAC).
func verify(secret string, body []byte, header string) error {
	return chanhttp.VerifyBase64HMAC(secret, body, header, HeaderSignature)
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
