package chanhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
)

// MaxBody caps a platform answer: a 100-order page with full details stays far below it, and a
// runaway or hostile endpoint cannot exhaust memory.
const MaxBody = 16 << 20

// defaultHTTP is used when a connector gets no client: the platforms answer within seconds, so a
// request that hangs longer is better failed and repeated with the window.
var defaultHTTP = &http.Client{Timeout: 60 * time.Second}

// Client returns c, or a client with a sane timeout when c is nil.
func Client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return defaultHTTP
}

// PostForm posts form to endpoint as application/x-www-form-urlencoded and returns the body of a 2xx
// answer. The three routers answer API errors with HTTP 200 and an error envelope, so a non-2xx
// status means the gateway itself failed: 429 becomes a RateLimitedError, anything else ErrPlatform.
// Errors never carry the form, which holds the secret-derived signature and the access token.
func PostForm(ctx context.Context, c *http.Client, endpoint string, form url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fault.With(channel.ErrPlatform, "bad endpoint for the shop")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	req.Header.Set("Accept", "application/json")
	resp, err := Client(c).Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fault.With(channel.ErrPlatform, "request failed: %s", transportReason(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, fault.With(channel.ErrPlatform, "reading the answer failed")
	}
	if len(data) > MaxBody {
		return nil, fault.With(channel.ErrPlatform, "answer larger than %d bytes", MaxBody)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, &channel.RateLimitedError{RetryAfter: RetryAfter(resp.Header.Get("Retry-After"), time.Now(), time.Second), Detail: "HTTP 429"}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, fault.With(channel.ErrPlatform, "HTTP %d", resp.StatusCode)
	}
	return data, nil
}

// transportReason keeps why a request failed, briefly. The form, which holds the access token and
// the signature, travels in the body and is never part of a transport error.
func transportReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timeout"
		}
		err = ue.Err
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

// RetryAfter reads an HTTP Retry-After header (seconds or an HTTP date) relative to now, falling
// back to def when it is missing or unreadable.
func RetryAfter(h string, now time.Time, def time.Duration) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return def
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
		return 0
	}
	return def
}

// Describe renders a platform error code for error messages: only the code and the platform's own
// short message, which never echo a secret.
func Describe(platform string, code any, sub, msg string) string {
	s := fmt.Sprintf("%s %v", platform, code)
	if sub != "" {
		s += " " + sub
	}
	if msg != "" {
		if r := []rune(msg); len(r) > 80 {
			msg = string(r[:80])
		}
		s += " (" + msg + ")"
	}
	return s
}
