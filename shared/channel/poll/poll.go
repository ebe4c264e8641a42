// Package poll pulls a shop's orders incrementally so that none is missed: a per-shop watermark
// persisted in the store, windows inside the platform's limit that overlap, a window end that stays
// behind the platform's clock (an order modified into a page already read would be missed), rate
// limits honoured, and a watermark that only moves past a window whose every page was fetched.
package poll

import (
	"context"
	"errors"
	"fmt"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/order"
)

// State is what the hub remembers about pulling one shop; it doubles as the shop's status.
type State struct {
	Shop       string    `json:"shop"`      // channel/shop id
	Watermark  time.Time `json:"watermark"` // every order modified before this has been pulled
	LastRun    time.Time `json:"last_run,omitzero"`
	LastOK     time.Time `json:"last_ok,omitzero"`
	LastError  string    `json:"last_error,omitempty"` // client-safe: never a credential
	LastOrders int       `json:"last_orders"`          // orders emitted by the last run
}

// States persists poll state per shop.
type States interface {
	// PollState returns the shop's state, or a zero State with Shop set when it was never polled.
	PollState(ctx context.Context, shop string) (State, error)
	// PutPollState stores the shop's state.
	PutPollState(ctx context.Context, s State) error
}

// Poller pulls one shop.
type Poller struct {
	Shop   channel.Shop
	Conn   channel.Connector
	States States
	// Ingest receives every pulled order; it must be idempotent (the hub's versioned upsert is).
	Ingest func(context.Context, order.Order) error
	// Now is the platform's clock as the hub sees it (a sandbox's own clock in tests).
	Now func() time.Time
	// Overlap is how far each window reaches back before the previous one ended (default 5 min):
	// platforms index modified times late, and re-reading a few minutes costs only duplicates.
	Overlap time.Duration
	// Lag keeps a window's end behind now (default 1 min), so that no page is read while orders can
	// still be modified into it.
	Lag time.Duration
	// Lookback is where the first run of a shop starts (default 72 h before now).
	Lookback time.Duration
	// RateLimitRetries is how often one window is retried after a rate-limit answer (default 3);
	// waits longer than MaxRateWait (default 2 min) end the run instead, to be resumed later.
	RateLimitRetries int
	MaxRateWait      time.Duration
	// Sleep waits d or until ctx ends (tests replace it).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Result says what one run did.
type Result struct {
	Windows int
	Orders  int
	From    time.Time
	To      time.Time
}

func (p *Poller) defaults() {
	if p.Overlap == 0 {
		p.Overlap = 5 * time.Minute
	}
	if p.Lag == 0 {
		p.Lag = time.Minute
	}
	if p.Lookback == 0 {
		p.Lookback = 72 * time.Hour
	}
	if p.RateLimitRetries == 0 {
		p.RateLimitRetries = 3
	}
	if p.MaxRateWait == 0 {
		p.MaxRateWait = 2 * time.Minute
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
}

// Key names the shop in the state store.
func Key(s channel.Shop) string { return string(s.Channel) + "/" + s.ID }

// RunOnce pulls from the watermark up to now − Lag, window by window, and advances the watermark
// after each complete window. On an error the watermark stays at the last complete window, the
// error is recorded in the shop's state, and the next run repeats from there. Cancelling ctx
// (shutdown) stops the run at once and loses nothing for the same reason; it is not recorded as
// the shop's error.
func (p *Poller) RunOnce(ctx context.Context) (Result, error) {
	p.defaults()
	key := Key(p.Shop)
	st, err := p.States.PollState(ctx, key)
	if err != nil {
		return Result{}, err
	}
	st.Shop = key
	now := p.Now().UTC()
	end := now.Add(-p.Lag)
	from := st.Watermark.Add(-p.Overlap)
	if st.Watermark.IsZero() {
		from = now.Add(-p.Lookback)
	}
	step := p.Conn.MaxWindow()
	if step <= p.Overlap {
		return Result{}, fmt.Errorf("poll %s: the platform's window (%s) must be longer than the overlap (%s)", key, step, p.Overlap)
	}
	res := Result{From: from}
	st.LastRun, st.LastOrders = now, 0
	for from.Before(end) {
		w := channel.Window{From: from, To: minTime(from.Add(step), end)}
		n, err := p.pullWindow(ctx, w)
		res.Orders += n
		st.LastOrders += n
		if err != nil && ctx.Err() != nil {
			return res, ctx.Err()
		}
		if err != nil {
			st.LastError = channel.Describe(err)
			if perr := p.States.PutPollState(ctx, st); perr != nil {
				return res, errors.Join(err, perr)
			}
			return res, fmt.Errorf("poll %s window %s–%s: %w", key, w.From.Format(time.RFC3339), w.To.Format(time.RFC3339), err)
		}
		res.Windows++
		res.To = w.To
		if w.To.After(st.Watermark) {
			st.Watermark = w.To
		}
		st.LastError = ""
		if err := p.States.PutPollState(ctx, st); err != nil {
			return res, err
		}
		if !w.To.Before(end) {
			break
		}
		from = w.To.Add(-p.Overlap)
	}
	st.LastOK = now
	st.LastError = ""
	return res, p.States.PutPollState(ctx, st)
}

// pullWindow pulls one window, waiting out rate limits the platform announces.
func (p *Poller) pullWindow(ctx context.Context, w channel.Window) (int, error) {
	for attempt := 0; ; attempt++ {
		n := 0
		err := p.Conn.Pull(ctx, w, func(ctx context.Context, o order.Order) error {
			n++
			return p.Ingest(ctx, o)
		})
		var limited *channel.RateLimitedError
		if !errors.As(err, &limited) || attempt >= p.RateLimitRetries || limited.RetryAfter > p.MaxRateWait {
			return n, err
		}
		wait := limited.RetryAfter
		if wait <= 0 {
			wait = time.Second << attempt
		}
		if err := p.Sleep(ctx, wait); err != nil {
			return n, err
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
