package douyin

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strings"
)

// Sign methods the platform accepts for API calls (sign_method) and announces for pushes (sign-method).
// The docs recommend hmac-sha256 and say md5 is the default when none is given and is being retired.
const (
	SignHMACSHA256 = "hmac-sha256"
	SignMD5        = "md5"
)

// ParamJSON renders business parameters the way the platform signs them: object keys sorted at every depth,
// no insignificant whitespace and no HTML escaping (the official demo's "&<>='/ô汉😀" must stay as is).
// Numbers keep their literal text, so large ids are not rounded through float64.
func ParamJSON(params any) (string, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	if v == nil {
		return "{}", nil // the platform signs an empty parameter set as {}
	}
	// encoding/json writes map keys in sorted order, which is exactly the recursive sort the platform wants.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// SignBase is the string an API call's sign covers:
// app_secret + "app_key"+k + "method"+m + "param_json"+p + "timestamp"+t + "v2" + app_secret.
func SignBase(appKey, appSecret, method, paramJSON, timestamp string) string {
	var b strings.Builder
	b.Grow(len(appSecret)*2 + len(paramJSON) + len(method) + len(appKey) + len(timestamp) + 48)
	b.WriteString(appSecret)
	b.WriteString("app_key")
	b.WriteString(appKey)
	b.WriteString("method")
	b.WriteString(method)
	b.WriteString("param_json")
	b.WriteString(paramJSON)
	b.WriteString("timestamp")
	b.WriteString(timestamp)
	b.WriteString("v")
	b.WriteString("2")
	b.WriteString(appSecret)
	return b.String()
}

// Sign returns the lower-case hex sign of an API call: HMAC-SHA256 of SignBase keyed with the app secret,
// or, for sign method md5, the MD5 of SignBase.
func Sign(appKey, appSecret, method, paramJSON, timestamp, signMethod string) string {
	base := SignBase(appKey, appSecret, method, paramJSON, timestamp)
	return hex.EncodeToString(digest(signMethod, appSecret, []byte(base)))
}

// PushSign returns the lower-case hex event-sign of a push body: MD5(app_key + body + app_secret) as the
// message-push docs and SDKs give it, or, when the push announces sign-method hmac-sha256, HMAC-SHA256 of
// the same string keyed with the app secret.
func PushSign(appKey, appSecret string, body []byte, signMethod string) []byte {
	msg := make([]byte, 0, len(appKey)+len(body)+len(appSecret))
	msg = append(msg, appKey...)
	msg = append(msg, body...)
	msg = append(msg, appSecret...)
	return digest(signMethod, appSecret, msg)
}

func digest(signMethod, secret string, msg []byte) []byte {
	var h hash.Hash
	if strings.EqualFold(strings.TrimSpace(signMethod), SignHMACSHA256) {
		h = hmac.New(sha256.New, []byte(secret))
	} else {
		h = md5.New()
	}
	h.Write(msg)
	return h.Sum(nil)
}
