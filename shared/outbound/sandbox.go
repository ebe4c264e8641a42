package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Sandbox is a WMS (and dropship supplier) for tests and local runs. It serves POST /wms/{id} for
// every destination it knows the secret of, verifies the signature over the raw body and the
// idempotency key, records each instruction once (a repeated key answers 200 and records nothing)
// and can ship an instruction by posting a signed confirmation to the hub's callback.
type Sandbox struct {
	// Secrets by destination id: what the hub signs instructions with and what confirmations are signed with.
	Secrets map[string][]byte
	// Callback is the hub's base URL; confirmations go to Callback + "/webhooks/wms/{id}".
	Callback string
	HTTP     *http.Client
	Now      func() time.Time
	Log      *slog.Logger

	mu       sync.Mutex
	received []Received
	byKey    map[string]int
	fail     []int // statuses to answer the next instructions with, in order
	seq      int
}

// Received is an instruction the sandbox accepted.
type Received struct {
	Destination string
	Instruction Instruction
	At          time.Time
	Shipped     *Confirmation
}

// NewSandbox returns a sandbox WMS for the given destination secrets.
func NewSandbox(secrets map[string][]byte, callback string) *Sandbox {
	return &Sandbox{Secrets: secrets, Callback: callback, byKey: map[string]int{}}
}

// FailNext answers the next instructions with these statuses (e.g. 503 then 422), one each.
func (s *Sandbox) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, statuses...)
}

// Instructions returns a copy of the instructions received, in order.
func (s *Sandbox) Instructions() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

func (s *Sandbox) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// ServeHTTP receives one instruction at /wms/{id} (the last path segment names the destination).
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, `{"error":"method not allowed"}`, http.StatusMethodNotAllowed)
		return
	}
	id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	secret, ok := s.Secrets[id]
	if !ok {
		http.Error(w, `{"error":"unknown warehouse"}`, http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, `{"error":"unreadable body"}`, http.StatusBadRequest)
		return
	}
	if Verify(secret, body, r.Header.Get(HeaderSignature)) != nil {
		http.Error(w, `{"error":"bad signature"}`, http.StatusUnauthorized)
		return
	}
	key := r.Header.Get(HeaderIdempotency)
	var in Instruction
	if err := json.Unmarshal(body, &in); err != nil || in.OrderID == "" || len(in.Lines) == 0 {
		http.Error(w, `{"error":"malformed instruction"}`, http.StatusBadRequest)
		return
	}
	if key == "" || key != in.IdempotencyKey {
		http.Error(w, `{"error":"missing or mismatched idempotency key"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if len(s.fail) > 0 {
		status := s.fail[0]
		s.fail = s.fail[1:]
		s.mu.Unlock()
		http.Error(w, fmt.Sprintf(`{"error":"sandbox fault %d"}`, status), status)
		return
	}
	if _, dup := s.byKey[key]; !dup {
		s.byKey[key] = len(s.received)
		s.received = append(s.received, Received{Destination: id, Instruction: in, At: s.now()})
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"accepted":true}`))
}

var carriers = []string{"SF", "ZTO", "YTO", "STO", "YUNDA"}

// Ship confirms the instruction with idempotency key key: it posts a signed confirmation to the
// hub's callback. Carrier and tracking number are made up when empty. Shipping twice sends the
// same confirmation again (the hub treats it as a replay).
func (s *Sandbox) Ship(ctx context.Context, key, carrier, tracking string) (Confirmation, error) {
	s.mu.Lock()
	i, ok := s.byKey[key]
	if !ok {
		s.mu.Unlock()
		return Confirmation{}, errors.New("sandbox wms: no instruction with this key")
	}
	rec := &s.received[i]
	if rec.Shipped == nil {
		s.seq++
		if carrier == "" {
			carrier = carriers[s.seq%len(carriers)]
		}
		if tracking == "" {
			tracking = fmt.Sprintf("%s%d%06d", carrier, s.now().Unix(), s.seq)
		}
		rec.Shipped = &Confirmation{OrderID: rec.Instruction.OrderID, Carrier: carrier, TrackingNo: tracking, ShippedAt: s.now(), IdempotencyKey: key}
	}
	conf, dest := *rec.Shipped, rec.Destination
	s.mu.Unlock()
	return conf, s.Confirm(ctx, dest, conf)
}

// Confirm posts a signed confirmation for destination id to the hub.
func (s *Sandbox) Confirm(ctx context.Context, id string, c Confirmation) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.Callback, "/")+"/webhooks/wms/"+id, bytes.NewReader(body))
	if err != nil {
		return err
	}
	SignRequest(req, s.Secrets[id], body, c.IdempotencyKey, s.now())
	client := s.HTTP
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox wms: callback: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sandbox wms: callback answered %d", resp.StatusCode)
	}
	return nil
}

// Run ships a share (0 to 1) of the instructions it receives, each after delay, until ctx ends.
// The others stay waiting, as parcels do in a real warehouse, for a person to ship them.
func (s *Sandbox) Run(ctx context.Context, share float64, delay time.Duration) {
	decided := map[string]bool{}
	tries := map[string]int{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, rec := range s.Instructions() {
			key := rec.Instruction.IdempotencyKey
			if tries[key] < 0 || tries[key] >= 5 || s.now().Sub(rec.At) < delay {
				continue
			}
			if _, seen := decided[key]; !seen {
				decided[key] = rand.Float64() < share //nolint:gosec // a sandbox's dice
			}
			if !decided[key] {
				continue
			}
			_, err := s.Ship(ctx, key, "", "")
			if err == nil {
				tries[key] = -1 // confirmed
				continue
			}
			tries[key]++
			if s.Log != nil {
				s.Log.Warn("sandbox wms: ship failed", slog.String("order_id", rec.Instruction.OrderID), slog.String("error", err.Error()))
			}
		}
	}
}
