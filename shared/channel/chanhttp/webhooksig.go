package chanhttp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
)

// SignBase64HMAC returns base64(HMAC-SHA256(secret, body)): the webhook signature of Shopify
// (X-Shopify-Hmac-Sha256) and WooCommerce (X-WC-Webhook-Signature) alike.
func SignBase64HMAC(secret string, body []byte) string {
	return base64.StdEncoding.EncodeToString(hmacSHA256(secret, body))
}

// VerifyBase64HMAC checks a base64 HMAC-SHA256 header over the raw body. The header is decoded
// and the raw digests compared with hmac.Equal, so neither the length nor the content of a guess
// leaks through timing. header names the header in the error.
func VerifyBase64HMAC(secret string, body []byte, value, header string) error {
	value = strings.TrimSpace(value)
	if value == "" {
		return fault.With(channel.ErrBadSignature, "missing %s", header)
	}
	got, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return fault.With(channel.ErrBadSignature, "%s is not base64", header)
	}
	if !hmac.Equal(got, hmacSHA256(secret, body)) {
		return channel.ErrBadSignature
	}
	return nil
}

func hmacSHA256(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}
