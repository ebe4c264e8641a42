// Package chanhttp holds what the connectors of the Chinese marketplaces (Taobao, JD, Pinduoduo)
// genuinely share: request parameters signed as sorted key+value concatenations, the form-POST
// round trip to a router endpoint, JSON scalars that arrive as strings or numbers, Beijing-time
// timestamps, backward paging of newest-first listings, and the platform-neutral order life that
// their sandbox marketplaces render in each platform's own API shape.
package chanhttp

import (
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // the platforms' signature algorithm, not our choice
	"encoding/hex"
	"hash"
	"net/url"
	"sort"
	"strings"
)

// Params are the parameters of one platform request, signature included once it is computed.
type Params map[string]string

// Concat returns the parameters sorted by name in byte (ASCII) order, each name followed directly by
// its value, with no separator: the string all three platforms sign. Parameters with an empty value
// are left out, as the platforms' official SDKs do, and Form leaves them out too so that what is
// signed is exactly what is sent. The "sign" parameter itself is never part of the string.
func (p Params) Concat() string {
	keys := make([]string, 0, len(p))
	for k, v := range p {
		if k == "sign" || k == "" || v == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(p[k])
	}
	return b.String()
}

// Form returns the non-empty parameters as a form body.
func (p Params) Form() url.Values {
	f := make(url.Values, len(p))
	for k, v := range p {
		if k != "" && v != "" {
			f.Set(k, v)
		}
	}
	return f
}

// FromForm returns the first value of every form field, for sandboxes that verify a request.
func FromForm(f url.Values) Params {
	p := make(Params, len(f))
	for k, vs := range f {
		if len(vs) > 0 {
			p[k] = vs[0]
		}
	}
	return p
}

// MD5Wrapped returns upper-case hex md5(secret + s + secret), the "md5" signature of Taobao, JD and
// Pinduoduo alike.
func MD5Wrapped(secret, s string) string {
	sum := md5.Sum([]byte(secret + s + secret)) //nolint:gosec // mandated by the platforms
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// HMACHex returns the upper-case hex HMAC of s keyed with secret.
func HMACHex(h func() hash.Hash, secret, s string) string {
	m := hmac.New(h, []byte(secret))
	m.Write([]byte(s))
	return strings.ToUpper(hex.EncodeToString(m.Sum(nil)))
}

// SignatureEqual compares two hex signatures in constant time, ignoring case.
func SignatureEqual(got, want string) bool {
	return hmac.Equal([]byte(strings.ToUpper(got)), []byte(strings.ToUpper(want)))
}
