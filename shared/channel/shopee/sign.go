package shopee

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// BaseString is the sign base string of a v2 call: partner_id, api path and timestamp, followed for shop
// APIs by access_token and shop_id (for merchant APIs, merchant_id). Public APIs pass empty token and id.
func BaseString(partnerID, apiPath string, timestamp int64, accessToken, shopID string) string {
	return partnerID + apiPath + strconv.FormatInt(timestamp, 10) + accessToken + shopID
}

// Sign returns the lower-case hex HMAC-SHA256 of a base string keyed with the partner key.
func Sign(partnerKey, base string) string {
	m := hmac.New(sha256.New, []byte(partnerKey))
	m.Write([]byte(base))
	return hex.EncodeToString(m.Sum(nil))
}

// PushBase is the base string of a push's Authorization header: the callback URL, "|", the raw body.
func PushBase(callbackURL string, body []byte) []byte {
	b := make([]byte, 0, len(callbackURL)+1+len(body))
	b = append(b, callbackURL...)
	b = append(b, '|')
	return append(b, body...)
}

// PushSign returns the HMAC-SHA256 of PushBase keyed with the partner key; the header carries it as hex.
func PushSign(partnerKey, callbackURL string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(partnerKey))
	m.Write(PushBase(callbackURL, body))
	return m.Sum(nil)
}
