package shopify

import (
	"orderhub/shared/channel/chanhttp"
)

// Webhook headers Shopify sends with every delivery.
const (
	HeaderHmac      = "X-Shopify-Hmac-Sha256"
	HeaderTopic     = "X-Shopify-Topic"
	HeaderWebhookID = "X-Shopify-Webhook-Id"
	HeaderShop      = "X-Shopify-Shop-Domain"
	HeaderVersion   = "X-Shopify-API-Version"
	HeaderEventID   = "X-Shopify-Event-Id"
	headerToken     = "X-Shopify-Access-Token"
)

// Sign returns the X-Shopify-Hmac-Sha256 value for a raw webhook body:
// base64(HMAC-SHA256(key = the app's client secret, message = the body bytes as received)).
func Sign(secret string, body []byte) string { return chanhttp.SignBase64HMAC(secret, body) }

// verify checks header against the body's HMAC (constant time; see chanhttp.VerifyBase64HMAC).
func verify(secret string, body []byte, header string) error {
	return chanhttp.VerifyBase64HMAC(secret, body, header, HeaderHmac)
}
