package outbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"orderhub/shared/fault"
)

// Headers of a signed webhook, both directions.
const (
	HeaderSignature   = "X-Orderhub-Signature"
	HeaderTimestamp   = "X-Orderhub-Timestamp"
	HeaderIdempotency = "Idempotency-Key"
)

// ErrBadSignature is returned for a missing or wrong signature.
var ErrBadSignature = fault.New(fault.Unauthorized, "bad_signature", "missing or invalid signature")

// Sign returns the signature header value of body: sha256=<hex HMAC-SHA256 of body with secret>.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header value over the raw body, in constant time.
func Verify(secret, body []byte, signature string) error {
	got, ok := strings.CutPrefix(strings.TrimSpace(signature), "sha256=")
	if !ok || len(secret) == 0 {
		return ErrBadSignature
	}
	raw, err := hex.DecodeString(got)
	if err != nil {
		return ErrBadSignature
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	if !hmac.Equal(raw, m.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// SignRequest sets the signature, timestamp and (when key is not empty) idempotency headers.
func SignRequest(r *http.Request, secret, body []byte, key string, now time.Time) {
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(HeaderSignature, Sign(secret, body))
	r.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	if key != "" {
		r.Header.Set(HeaderIdempotency, key)
	}
}
