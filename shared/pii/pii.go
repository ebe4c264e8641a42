// Package pii turns personal data into what the hub may keep: a masked form for display and a keyed
// hash for matching (risk rules, dedup). The clear value is never stored or logged.
package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Hasher computes keyed hashes (HMAC-SHA256) so that equal values match without being recoverable
// by anyone who lacks the key, even for small spaces such as phone numbers.
type Hasher struct{ key []byte }

// NewHasher returns a Hasher for the secret key; the key must be kept out of logs and the store.
func NewHasher(key []byte) *Hasher {
	k := make([]byte, len(key))
	copy(k, key)
	return &Hasher{key: k}
}

// Phone returns the keyed hash of a phone number after normalisation, or "" for an empty number.
func (h *Hasher) Phone(phone string) string {
	n := NormalizePhone(phone)
	if n == "" {
		return ""
	}
	return h.sum("phone:" + n)
}

// Text returns the keyed hash of any other value (an address line, a name) after trimming and
// collapsing whitespace, or "" for an empty value.
func (h *Hasher) Text(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	return h.sum("text:" + s)
}

func (h *Hasher) sum(s string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

// NormalizePhone keeps the digits of a phone number and a leading '+', and strips the Chinese
// country code from mainland mobile numbers so that "+86 138-1234-5678" and "13812345678" match.
func NormalizePhone(phone string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(phone) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		}
	}
	n := b.String()
	for _, p := range []string{"+86", "0086"} {
		if rest, ok := strings.CutPrefix(n, p); ok && len(rest) == 11 && rest[0] == '1' {
			return rest
		}
	}
	return n
}

// MaskPhone keeps the first three and last four digits of a phone number: 138****5678.
// Short numbers keep only their last two digits.
func MaskPhone(phone string) string {
	n := NormalizePhone(phone)
	if n == "" {
		return ""
	}
	if len(n) < 8 {
		if len(n) <= 2 {
			return strings.Repeat("*", len(n))
		}
		return strings.Repeat("*", len(n)-2) + n[len(n)-2:]
	}
	return n[:3] + "****" + n[len(n)-4:]
}

// MaskAddress keeps the first characters of a detailed address (street-level words such as a road
// name) and hides the rest, including every digit: "建国路88号SOHO现代城2号楼1801" → "建国路****".
func MaskAddress(detail string) string {
	detail = strings.TrimSpace(detail)
	if detail == "" {
		return ""
	}
	var kept []rune
	for _, r := range detail {
		if unicode.IsDigit(r) || len(kept) >= 6 {
			break
		}
		kept = append(kept, r)
	}
	if len(kept) > utf8.RuneCountInString(detail)/2 {
		kept = kept[:utf8.RuneCountInString(detail)/2]
	}
	return string(kept) + "****"
}

// MaskName keeps the first character of a name: 张** / J***.
func MaskName(name string) string {
	r := []rune(strings.TrimSpace(name))
	if len(r) == 0 {
		return ""
	}
	if len(r) == 1 {
		return "*"
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}
