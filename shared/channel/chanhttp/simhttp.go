package chanhttp

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strconv"
)

// Yuan writes an amount in fen as a yuan decimal with two places ("12.30"), as the platforms do.
func Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return sign + strconv.FormatInt(fen/100, 10) + "." + strconv.FormatInt(100+fen%100, 10)[1:]
}

// IntOr reads a sandbox request's integer parameter: def when absent, -1 when unreadable.
func IntOr(s string, def int) int {
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// StableID derives a platform-looking numeric id (an item or SKU id) from a name, so that a sandbox
// gives the same product the same id every time.
func StableID(name string, base int64) int64 {
	sum := sha256.Sum256([]byte(name))
	var n int64
	for _, b := range sum[:5] {
		n = n<<8 | int64(b)
	}
	return base + n%base
}

// WriteJSON writes v as a sandbox's JSON answer with HTTP 200, as the platforms' routers answer
// errors too.
func WriteJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}
