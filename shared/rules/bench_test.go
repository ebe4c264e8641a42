package rules_test

import (
	"testing"
	"time"

	"orderhub/shared/order"
	"orderhub/shared/rules"
)

// BenchmarkEvaluate runs the default rule set over a mix of realistic orders.
func BenchmarkEvaluate(b *testing.B) {
	c := mustDefault(b)
	orders := []order.Order{
		teaOrder(),
		teaOrder(withLines(line("TEA-PU-357", 2, "198.00"), line("CUP-CELADON", 4, "88.00"), gift("GIFT-SAMPLE"))),
		teaOrder(withLines(line("HOME-TABLE-01", 1, "1680.00")), func(o *order.Order) { o.Receiver.Province = "广东省" }),
		teaOrder(withLines(line("DS-IRONPOT", 1, "899.00")), func(o *order.Order) {
			o.Buyer.Nick, o.ShipBy = "茶友老王", t0.Add(5*time.Hour)
		}),
	}
	f := facts(2)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := c.Evaluate(orders[i%len(orders)], f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileDefault is the cost of a PUT /v1/rules with the default set.
func BenchmarkCompileDefault(b *testing.B) {
	set, err := rules.Default()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.Compile(set); err != nil {
			b.Fatal(err)
		}
	}
}
