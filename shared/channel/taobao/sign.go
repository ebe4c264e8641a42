package taobao

import (
	"crypto/md5" //nolint:gosec // TOP's hmac sign method is HMAC-MD5
	"crypto/sha256"

	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/fault"
)

// Sign methods TOP accepts in the sign_method parameter.
const (
	SignMD5        = "md5"         // md5(secret + sorted k+v + secret)
	SignHMAC       = "hmac"        // HMAC-MD5 keyed with the secret over sorted k+v
	SignHMACSHA256 = "hmac-sha256" // HMAC-SHA256 keyed with the secret over sorted k+v
)

// ErrSignMethod is returned for a sign_method TOP does not know.
var ErrSignMethod = fault.New(fault.Invalid, "unknown_sign_method", "unknown TOP sign_method (md5, hmac or hmac-sha256)")

// Sign returns the TOP signature of p with the app secret, as documented in "API调用方法详解"
// (open.taobao.com docId=101617): every parameter except sign and empty values, sorted by name in
// ASCII order, concatenated as name+value, digested with the sign method, hex in upper case.
func Sign(p chanhttp.Params, secret, method string) (string, error) {
	s := p.Concat()
	switch method {
	case SignMD5, "":
		return chanhttp.MD5Wrapped(secret, s), nil
	case SignHMAC:
		return chanhttp.HMACHex(md5.New, secret, s), nil
	case SignHMACSHA256:
		return chanhttp.HMACHex(sha256.New, secret, s), nil
	}
	return "", ErrSignMethod
}
