package stock

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"
)

// EncodeCursor wraps an adapter's keyset position (the last row of a page) as an opaque cursor:
// base64url of {"after":"<pos>"}.
func EncodeCursor(pos string) string {
	b, _ := json.Marshal(struct { //nolint:errchkjson // a struct of one string always encodes
		After string `json:"after"`
	}{pos})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor returns the position in c; "" for the first page; ErrInvalidCursor for anything
// EncodeCursor did not make.
func DecodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	if len(c) > 1024 {
		return "", ErrInvalidCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", ErrInvalidCursor
	}
	var v struct {
		After string `json:"after"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil || dec.More() || v.After == "" || !utf8.ValidString(v.After) {
		return "", ErrInvalidCursor
	}
	return v.After, nil
}
