package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
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
func Sign(secret string, body []byte) string {
	return base64.StdEncoding.EncodeToString(mac(secret, body))
}

func mac(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// verify checks header against the body's HMAC. The header is decoded and the raw digests are
// compared with hmac.Equal, so neither the length nor the content of a guess leaks through timing.
func verify(secret string, body []byte, header string) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return fault.With(channel.ErrBadSignature, "missing %s", HeaderHmac)
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		return fault.With(channel.ErrBadSignature, "%s is not base64", HeaderHmac)
	}
	if !hmac.Equal(got, mac(secret, body)) {
		return channel.ErrBadSignature
	}
	return nil
}
