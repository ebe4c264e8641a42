package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"orderhub/shared/queue"
	"orderhub/shared/queue/queuetest"
	"orderhub/shared/store/sqlite"
)

var sqliteQueueFeatures = queuetest.Features{
	Tick:                 100 * time.Millisecond,
	StaleReceiptRejected: true,
	DeadLetterPaging:     true,
	RecordsLastError:     true,
	ExactDeadAttempts:    true,
	StableReplayID:       true,
}

func TestQueueConformance(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, func(t *testing.T) queuetest.Backend {
		return open(t, filepath.Join(t.TempDir(), "queues.db")).Queues()
	}, sqliteQueueFeatures)
}

// One file and one Queues value for every subtest, as in the embedded runtime.
func TestQueueConformanceSharedStore(t *testing.T) {
	t.Parallel()
	q := open(t, filepath.Join(t.TempDir(), "shared-queues.db")).Queues()
	queuetest.Run(t, func(*testing.T) queuetest.Backend { return q }, sqliteQueueFeatures)
}

// Messages are in the file: after a restart the unreceived ones are ready at once, the ones that
// were in flight come back when their visibility ends, and acknowledged ones never come back.
func TestQueueSurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "queues.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	q := s.Queues()
	if err := q.Declare(ctx, "route", queue.Options{MaxAttempts: 3}); err != nil {
		t.Fatal(err)
	}
	if err := q.Send(ctx, "route", msgs("m1", "m2", "m3", "m4")...); err != nil {
		t.Fatal(err)
	}
	const vis = 300 * time.Millisecond
	receivedAt := time.Now()
	got, err := q.Receive(ctx, "route", queue.ReceiveOptions{Max: 3, Visibility: vis})
	if err != nil || len(got) != 3 {
		t.Fatalf("Receive = %d messages, %v", len(got), err)
	}
	if err := q.Ack(ctx, "route", got[0].Receipt); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkRestart(t, open(t, path).Queues(), receivedAt, vis, map[string]int{"m4": 1, got[1].Key: 2, got[2].Key: 2})
}

// The same after a crash: a child process sends, receives and acknowledges, then dies without
// closing the database.
func TestQueueSurvivesCrash(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestQueueCrashChild$", "-test.count=1") //nolint:gosec // the test binary itself
	cmd.Env = append(os.Environ(), "ORDERHUB_QUEUE_CRASH_DB="+path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != crashExitCode {
		t.Fatalf("child = %v, want it to die with exit code %d; output:\n%s", err, crashExitCode, out)
	}
	var receivedNS int64
	if _, err := fmt.Sscanf(string(out), "received-at %d", &receivedNS); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	checkRestart(t, open(t, path).Queues(), time.Unix(0, receivedNS), crashVisibility, map[string]int{"m4": 1, "m2": 2, "m3": 2})
}

const (
	crashExitCode   = 3
	crashVisibility = 300 * time.Millisecond
)

// TestQueueCrashChild is the child of TestQueueSurvivesCrash; it does nothing on its own.
func TestQueueCrashChild(t *testing.T) {
	path := os.Getenv("ORDERHUB_QUEUE_CRASH_DB")
	if path == "" {
		t.Skip("only runs as the child of TestQueueSurvivesCrash")
	}
	ctx := context.Background()
	s, err := sqlite.Open(path)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	q := s.Queues()
	check := func(err error) {
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
	}
	check(q.Declare(ctx, "route", queue.Options{MaxAttempts: 3}))
	check(q.Send(ctx, "route", msgs("m1", "m2", "m3", "m4")...))
	receivedAt := time.Now()
	got, err := q.Receive(ctx, "route", queue.ReceiveOptions{Max: 3, Visibility: crashVisibility})
	check(err)
	if len(got) != 3 || got[0].Key != "m1" {
		fmt.Println("unexpected delivery", len(got))
		os.Exit(1)
	}
	check(q.Ack(ctx, "route", got[0].Receipt))
	fmt.Printf("received-at %d\n", receivedAt.UnixNano())
	os.Exit(crashExitCode) // no Close: the writer connection dies with the process
}

// checkRestart receives from a reopened file until every message in want has come with its
// attempt: the never-received ones at once, the in-flight ones only after their visibility.
func checkRestart(t *testing.T, q *sqlite.Queues, receivedAt time.Time, vis time.Duration, want map[string]int) {
	t.Helper()
	ctx := t.Context()
	seen := map[string]int{}
	deadline := time.Now().Add(10 * time.Second)
	for len(seen) < len(want) && time.Now().Before(deadline) {
		got, err := q.Receive(ctx, "route", queue.ReceiveOptions{Max: 10, Visibility: time.Minute, Wait: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range got {
			if _, dup := seen[m.Key]; dup {
				t.Fatalf("message %s delivered twice after the restart", m.Key)
			}
			seen[m.Key] = m.Attempt
			if m.Attempt > 1 && time.Since(receivedAt) < vis {
				t.Errorf("in-flight message %s came back %s after it was received, before its visibility of %s ended", m.Key, time.Since(receivedAt), vis)
			}
			if err := q.Ack(ctx, "route", m.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("after the restart received %v (key: attempt), want %v; the acknowledged m1 must not come back", seen, want)
	}
	if d, err := q.Depth(ctx, "route"); err != nil || d != (queue.Depth{}) {
		t.Fatalf("Depth = %+v, %v; want empty", d, err)
	}
}

func msgs(keys ...string) []queue.Outgoing {
	out := make([]queue.Outgoing, len(keys))
	for i, k := range keys {
		out[i] = queue.Outgoing{Body: []byte("body " + k), Key: k}
	}
	return out
}

// The hot path of the embedded pipeline: one message through Send, Receive and Ack.
func BenchmarkQueueRoundTrip(b *testing.B) {
	ctx := b.Context()
	q := open(b, filepath.Join(b.TempDir(), "bench.db")).Queues()
	if err := q.Declare(ctx, "bench", queue.Options{}); err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"order":"01JABCDEF","version":1}`)
	for b.Loop() {
		if err := q.Send(ctx, "bench", queue.Outgoing{Body: body, Key: "k"}); err != nil {
			b.Fatal(err)
		}
		got, err := q.Receive(ctx, "bench", queue.ReceiveOptions{Max: 1, Visibility: time.Minute})
		if err != nil || len(got) != 1 {
			b.Fatalf("Receive = %d, %v", len(got), err)
		}
		if err := q.Ack(ctx, "bench", got[0].Receipt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueueBatched sends, receives and acknowledges ten messages per call.
func BenchmarkQueueBatched(b *testing.B) {
	ctx := b.Context()
	q := open(b, filepath.Join(b.TempDir(), "bench.db")).Queues()
	if err := q.Declare(ctx, "bench", queue.Options{}); err != nil {
		b.Fatal(err)
	}
	batch := make([]queue.Outgoing, 10)
	for i := range batch {
		batch[i] = queue.Outgoing{Body: []byte(`{"order":"01JABCDEF","version":1}`), Key: "k"}
	}
	for b.Loop() {
		if err := q.Send(ctx, "bench", batch...); err != nil {
			b.Fatal(err)
		}
		got, err := q.Receive(ctx, "bench", queue.ReceiveOptions{Max: 10, Visibility: time.Minute})
		if err != nil || len(got) != 10 {
			b.Fatalf("Receive = %d, %v", len(got), err)
		}
		rs := make([]string, len(got))
		for i, m := range got {
			rs[i] = m.Receipt
		}
		if err := q.Ack(ctx, "bench", rs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "msgs/s")
}
