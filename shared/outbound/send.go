package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"orderhub/shared/fault"
)

// ErrRefused is a permanent failure: the destination answered 4xx (or none is configured), so
// sending the same instruction again cannot succeed until a person changes something.
var ErrRefused = fault.New(fault.Invalid, "outbound_refused", "the warehouse or supplier refused the instruction")

// ErrUnavailable is a transient failure: a 5xx, a timeout or no answer. Retry later.
var ErrUnavailable = fault.New(fault.Internal, "outbound_unavailable", "the warehouse or supplier could not take the instruction now")

// Sender posts instructions to their destinations.
type Sender struct {
	Directory *Directory
	HTTP      *http.Client // default: a client with a 15s timeout
	Now       func() time.Time
}

var defaultClient = &http.Client{Timeout: 15 * time.Second}

// Permanent reports whether err is a refusal that retrying cannot fix.
func Permanent(err error) bool { return errors.Is(err, ErrRefused) }

// Send delivers one instruction. A 2xx is success; a 4xx is ErrRefused with the status; anything
// else (5xx, timeouts, connection errors) is ErrUnavailable, for the queue to retry with backoff.
// Errors never carry the secret, the URL's query or the receiver.
func (s *Sender) Send(ctx context.Context, in Instruction) error {
	dest, err := s.Directory.For(in)
	if err != nil {
		return fault.With(ErrRefused, "%s", err.Error())
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dest.URL, bytes.NewReader(body))
	if err != nil {
		return fault.With(ErrRefused, "the endpoint of %s is not a valid URL", dest.ID)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	SignRequest(req, dest.Secret, body, in.IdempotencyKey, now())
	client := s.HTTP
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fault.With(ErrUnavailable, "%s did not answer", dest.ID)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout:
		return fault.With(ErrRefused, "%s answered %d: %s", dest.ID, resp.StatusCode, printable(snippet))
	}
	return fault.With(ErrUnavailable, "%s answered %d", dest.ID, resp.StatusCode)
}

// printable keeps a short, single-line, printable excerpt of an answer for the timeline.
func printable(b []byte) string {
	out := make([]rune, 0, len(b))
	for _, r := range string(b) {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			r = ' '
		}
		out = append(out, r)
	}
	return fmt.Sprintf("%.120s", string(bytes.TrimSpace([]byte(string(out)))))
}
