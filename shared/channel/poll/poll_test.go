package poll_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/channel/pdd"
	"orderhub/shared/channel/poll"
	"orderhub/shared/order"
	"orderhub/shared/pii"
	"orderhub/shared/store/sqlite"
)

// recorder wraps a real connector and records the windows it is asked for.
type recorder struct {
	channel.Connector
	mu      sync.Mutex
	windows []channel.Window
}

func (r *recorder) Pull(ctx context.Context, w channel.Window, emit func(context.Context, order.Order) error) error {
	r.mu.Lock()
	r.windows = append(r.windows, w)
	r.mu.Unlock()
	return r.Connector.Pull(ctx, w, emit)
}

func setup(t *testing.T) (*pdd.Sandbox, *recorder, *poll.Poller, *sqlite.Store, map[string]order.Order) {
	t.Helper()
	market := pdd.NewSandbox(pdd.SandboxConfig{Seed: 5, Start: time.Now().Add(-5 * time.Hour).Truncate(time.Second)})
	market.Advance(5 * time.Hour)
	srv := httptest.NewServer(market)
	t.Cleanup(srv.Close)
	shop := channel.Shop{Channel: order.Pinduoduo, ID: "p1", BaseURL: srv.URL, Credentials: market.Credentials()}
	conn, err := pdd.New(shop, channel.Deps{HTTP: srv.Client(), Hasher: pii.NewHasher([]byte("k")), Now: market.Now})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	rec := &recorder{Connector: conn}
	got := map[string]order.Order{}
	var mu sync.Mutex
	p := &poll.Poller{Shop: shop, Conn: rec, States: db, Now: market.Now, Lookback: 6 * time.Hour,
		Ingest: func(_ context.Context, o order.Order) error {
			mu.Lock()
			defer mu.Unlock()
			got[o.ChannelOrderID] = o
			return nil
		}}
	return market, rec, p, db, got
}

func TestWindowsStayInsideTheLimitOverlapAndLag(t *testing.T) {
	t.Parallel()
	market, rec, p, db, got := setup(t)
	res, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	end := market.Now().Add(-time.Minute)
	if res.Windows != len(rec.windows) || res.Windows < 12 {
		t.Fatalf("6 h in 30 min windows with overlap: %d windows", res.Windows)
	}
	for i, w := range rec.windows {
		if w.To.Sub(w.From) > 30*time.Minute {
			t.Errorf("window %d spans %s, over PDD's 30 min", i, w.To.Sub(w.From))
		}
		if w.To.After(end) {
			t.Errorf("window %d ends at %v, after now − lag %v", i, w.To, end)
		}
		if i > 0 && !w.From.Equal(rec.windows[i-1].To.Add(-5*time.Minute)) {
			t.Errorf("window %d starts at %v, not 5 min before the previous end %v", i, w.From, rec.windows[i-1].To)
		}
	}
	st, _ := db.PollState(context.Background(), "pdd/p1")
	if !st.Watermark.Equal(rec.windows[len(rec.windows)-1].To) || st.LastError != "" || st.LastOrders != res.Orders || len(got) == 0 {
		t.Fatalf("state after a full run: %+v (%d orders)", st, len(got))
	}

	// The next run starts from the watermark, overlapping by 5 minutes.
	market.Advance(20 * time.Minute)
	rec.windows = nil
	if _, err := p.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rec.windows) != 1 || !rec.windows[0].From.Equal(st.Watermark.Add(-5*time.Minute)) {
		t.Fatalf("second run windows: %+v (watermark %v)", rec.windows, st.Watermark)
	}
}

func TestAFailingWindowKeepsTheWatermarkAndTheNextRunRepeatsIt(t *testing.T) {
	t.Parallel()
	market, rec, p, db, _ := setup(t)
	if _, err := p.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	before, _ := db.PollState(context.Background(), "pdd/p1")
	market.Advance(10 * time.Minute)
	market.Faults.FailPage(1, 1)
	rec.windows = nil
	if _, err := p.RunOnce(context.Background()); err == nil {
		t.Fatal("a failing page did not fail the run")
	}
	failed, _ := db.PollState(context.Background(), "pdd/p1")
	if !failed.Watermark.Equal(before.Watermark) || failed.LastError == "" {
		t.Fatalf("after a failure: %+v", failed)
	}
	first := rec.windows[0]
	rec.windows = nil
	if _, err := p.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !rec.windows[0].From.Equal(first.From) {
		t.Fatalf("the failed window was not repeated: %v then %v", first.From, rec.windows[0].From)
	}
	ok, _ := db.PollState(context.Background(), "pdd/p1")
	if ok.LastError != "" || !ok.Watermark.After(before.Watermark) {
		t.Fatalf("after recovery: %+v", ok)
	}
}

func TestRateLimitsAreWaitedOutOrEndTheRun(t *testing.T) {
	t.Parallel()
	market, _, p, db, _ := setup(t)
	var waits []time.Duration
	p.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	market.Faults.RateLimitNext(2)
	if _, err := p.RunOnce(context.Background()); err != nil {
		t.Fatalf("two rate-limit answers within the retry budget: %v", err)
	}
	if len(waits) != 2 {
		t.Fatalf("waits: %v", waits)
	}
	market.Advance(10 * time.Minute)
	market.Faults.RateLimitNext(10)
	_, err := p.RunOnce(context.Background())
	var limited *channel.RateLimitedError
	if !errors.As(err, &limited) {
		t.Fatalf("a persistent rate limit: %v", err)
	}
	st, _ := db.PollState(context.Background(), "pdd/p1")
	if !strings.Contains(st.LastError, "rate limited") {
		t.Fatalf("state: %+v", st)
	}
}

// Shutdown cancels a run: it stops, records no error, and the next run repeats from the watermark.
func TestCancelledRunLosesNothingAndRecordsNoError(t *testing.T) {
	t.Parallel()
	_, rec, p, db, _ := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	inner := p.Ingest
	p.Ingest = func(c context.Context, o order.Order) error {
		calls++
		if calls == 3 {
			cancel() // shutdown in the middle of a window
		}
		return inner(c, o)
	}
	if _, err := p.RunOnce(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	cut := rec.windows[len(rec.windows)-1] // the window the cancellation interrupted
	st, _ := db.PollState(context.Background(), "pdd/p1")
	if st.LastError != "" || !st.Watermark.Before(cut.To) {
		t.Fatalf("after a cancelled window %v–%v: %+v", cut.From, cut.To, st)
	}
	rec.windows = nil
	p.Ingest = inner
	if _, err := p.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !rec.windows[0].From.Equal(cut.From) {
		t.Fatalf("the cut window was not repeated: %v then %v", cut.From, rec.windows[0].From)
	}
}
