package sqlite_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"orderhub/shared/stock"
	"orderhub/shared/stock/stocktest"
)

// SQLite keeps one row per item: Features.Shards is off, and the full oversell scale runs.
func TestStockConformance(t *testing.T) {
	t.Parallel()
	stocktest.Run(t, func(t *testing.T) stock.Store {
		return open(t, filepath.Join(t.TempDir(), "stock.db")).Stock()
	}, stocktest.Features{})
}

// The suite promises that its subtests can share one store; this keeps that promise honest.
func TestStockConformanceSharedStore(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "shared-stock.db")).Stock()
	stocktest.Run(t, func(*testing.T) stock.Store { return s }, stocktest.Features{PropertySteps: 200})
}

func TestStockSurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "stock.db")
	s := open(t, path)
	st := s.Stock()
	if _, err := st.SetOnHand(ctx, "TEA-001", "WH-HZ", 10, "key:ops", "count"); err != nil {
		t.Fatal(err)
	}
	res, err := st.Reserve(ctx, stock.Reservation{OrderID: "o-1", Warehouse: "WH-HZ", Needs: []stock.Need{{SKU: "TEA-001", Quantity: 3}}, Key: "o-1:1"})
	if err != nil || !res.OK() {
		t.Fatalf("Reserve = %+v, %v", res, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st = open(t, path).Stock()
	got, err := st.Get(ctx, "TEA-001")
	if err != nil || len(got.Items) != 1 || got.Items[0].Reserved != 3 || got.Items[0].Available() != 7 {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	if rec, err := st.Reservation(ctx, "o-1"); err != nil || rec.State != stock.Reserved {
		t.Fatalf("Reservation after reopen = %+v, %v", rec, err)
	}
}

// BenchmarkReserve reserves one unit per order from distinct SKUs, from parallel goroutines: the
// cost of one reservation on the single writer.
func BenchmarkReserve(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db")).Stock()
	ctx := b.Context()
	const skus = 1000
	for i := range skus {
		if _, err := st.SetOnHand(ctx, fmt.Sprintf("SKU-%04d", i), "WH", stock.MaxQuantity, "bench", "setup"); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			id := fmt.Sprintf("bench-%d", i)
			res, err := st.Reserve(ctx, stock.Reservation{OrderID: id, Warehouse: "WH", Key: id,
				Needs: []stock.Need{{SKU: fmt.Sprintf("SKU-%04d", i%skus), Quantity: 1}}})
			if err != nil || !res.OK() {
				b.Fatalf("Reserve = %+v, %v", res, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reservations/s")
}

// BenchmarkReserveHotSKU is a flash sale: parallel goroutines reserve one unit each of one SKU.
func BenchmarkReserveHotSKU(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db")).Stock()
	ctx := b.Context()
	if _, err := st.SetOnHand(ctx, "HOT", "WH", stock.MaxQuantity, "bench", "setup"); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("hot-%d", n.Add(1))
			res, err := st.Reserve(ctx, stock.Reservation{OrderID: id, Warehouse: "WH", Key: id,
				Needs: []stock.Need{{SKU: "HOT", Quantity: 1}}})
			if err != nil || !res.OK() {
				b.Fatalf("Reserve = %+v, %v", res, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reservations/s")
}
