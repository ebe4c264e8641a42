package rules_test

import (
	"reflect"
	"slices"
	"testing"

	"orderhub/shared/order"
	"orderhub/shared/rules"
)

// dryRunOrders builds the same stored orders every time it is called, so that a second copy can
// prove the first was not touched.
func dryRunOrders() []order.Order {
	withID := func(id string) func(*order.Order) {
		return func(o *order.Order) { o.ID, o.ChannelOrderID = id, "tb-"+id }
	}
	return []order.Order{
		teaOrder(withID("01-plain"), withLines(line("TEA-LJ-250", 2, "368.00"))),
		teaOrder(withID("02-guangzhou"), withLines(line("TEA-LJ-250", 1, "300.00")), func(o *order.Order) {
			o.Receiver.Province, o.Receiver.City, o.Receiver.District = "广东省", "深圳市", "南山区"
		}),
		teaOrder(withID("03-busy-phone"), withLines(line("TEA-LJ-250", 1, "300.00"))),
		teaOrder(withID("04-unchanged"), withLines(line("TEA-LJ-250", 1, "300.00")), func(o *order.Order) {
			o.Receiver.Province, o.Receiver.City = "北京市", "北京市"
		}),
		teaOrder(withID("05-vip"), withLines(line("TEA-LJ-250", 1, "300.00")), func(o *order.Order) {
			o.Buyer.Nick = "zen_homeware"
			o.Tags = []string{"repeat_buyer"}
		}),
		teaOrder(withID("06-big"), withLines(line("HOME-TEASET-ZISHA", 1, "6800.00"))),
		teaOrder(withID("07-boom"), withLines(line("TEA-LJ-250", 1, "300.00")), func(o *order.Order) { o.Buyer.Nick = "boom" }),
	}
}

// candidateSet is the default set as a seller might edit it.
func candidateSet(t *testing.T) rules.RuleSet {
	set, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	set.Rules = slices.Clone(set.Rules)
	edit := func(id string, fn func(*rules.Rule)) {
		i := slices.IndexFunc(set.Rules, func(r rules.Rule) bool { return r.ID == id })
		if i < 0 {
			t.Fatalf("no rule %s in the default set", id)
		}
		r := set.Rules[i]
		fn(&r)
		set.Rules[i] = r
	}
	edit("tag-high-value", func(r *rules.Rule) { r.When = `currency == "CNY" && paid >= 500` })
	edit("hold-risk-phone", func(r *rules.Rule) { r.When = "phone_orders_24h > 3" })
	edit("hold-manual-review", func(r *rules.Rule) { r.When = `currency == "CNY" && paid > 10000` })
	edit("route-south", func(r *rules.Rule) { r.Enabled = false })
	edit("priority-vip", func(r *rules.Rule) { r.Priority = rules.PriorityUrgent })
	set.Rules = append(set.Rules, rules.Rule{ID: "tag-boom", Kind: rules.KindTag, Enabled: true, Order: 80,
		When: `buyer_nick == "boom" && paid_minor % (line_count - 1) == 0`, Tags: []string{"boom"}})
	return set
}

func TestDryRunChangesNothingAndReportsDiffs(t *testing.T) {
	t.Parallel()
	current := mustDefault(t)
	candidate := mustCompile(t, candidateSet(t))
	orders := dryRunOrders()
	factsFor := func(o order.Order) rules.Facts {
		f := facts(1)
		if o.ID == "03-busy-phone" {
			f.PhoneOrders24h = 4
		}
		return f
	}

	diffs := rules.DryRun(candidate, current, orders, factsFor)

	if !reflect.DeepEqual(orders, dryRunOrders()) {
		t.Fatal("DryRun changed the orders it was given")
	}
	byID := map[string]rules.Diff{}
	for _, d := range diffs {
		byID[d.OrderID] = d
		if !d.Changed() {
			t.Errorf("DryRun returned an unchanged order %s", d.OrderID)
		}
	}
	if _, ok := byID["04-unchanged"]; ok || len(diffs) != 6 {
		t.Errorf("diffs for %d orders: %+v; want 6, none for 04-unchanged", len(diffs), diffs)
	}
	east := &rules.RouteDecision{Warehouse: "WH-HZ", Fallback: []string{"WH-GZ"}, SplitAllowed: true, Rule: "route-default"}
	want := map[string]rules.Diff{
		"01-plain": {TagsAdded: []string{"high_value"}},
		"02-guangzhou": {Route: &rules.RouteChange{
			From: &rules.RouteDecision{Warehouse: "WH-GZ", Fallback: []string{"WH-HZ"}, SplitAllowed: true, Rule: "route-south"},
			To:   east,
		}},
		"03-busy-phone": {HoldsAdded: []rules.HoldDecision{{Code: "risk_phone", Note: "the same receiver phone placed more than 5 orders in 24 hours", Rule: "hold-risk-phone"}}},
		"05-vip":        {Priority: &rules.PriorityChange{From: rules.PriorityHigh, To: rules.PriorityUrgent}},
		"06-big":        {HoldsRemoved: []rules.HoldDecision{{Code: "manual_review", Note: "orders above 5,000 CNY are checked by a person", Rule: "hold-manual-review"}}},
	}
	for id, w := range want {
		got, ok := byID[id]
		if !ok {
			t.Errorf("no diff for %s", id)
			continue
		}
		w.OrderID, w.Error = id, ""
		w.Key = got.Key
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: diff = %+v\nwant %+v", id, got, w)
		}
	}
	if d := byID["07-boom"]; d.Error == "" || d.CurrentError != "" || d.Key.ChannelOrderID != "tb-07-boom" {
		t.Errorf("07-boom: %+v; want the candidate's error", d)
	}
}

func TestDryRunAgainstNoRulesAndNilFacts(t *testing.T) {
	t.Parallel()
	candidate := mustDefault(t)
	orders := dryRunOrders()[:1]
	diffs := rules.DryRun(candidate, nil, orders, nil)
	if len(diffs) != 1 || diffs[0].Route == nil || diffs[0].Route.From != nil || diffs[0].Route.To.Warehouse != "WH-HZ" {
		t.Fatalf("diffs = %+v", diffs)
	}
	if got := rules.DryRun(candidate, candidate, orders, nil); len(got) != 0 {
		t.Fatalf("the same set twice: %+v", got)
	}
}
