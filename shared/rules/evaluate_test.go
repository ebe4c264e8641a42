package rules_test

import (
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"orderhub/shared/fault"
	"orderhub/shared/money"
	"orderhub/shared/order"
	"orderhub/shared/rules"
)

func TestEvaluateDefaultSet(t *testing.T) {
	t.Parallel()
	c := mustDefault(t)
	east := &rules.RouteDecision{Warehouse: "WH-HZ", Fallback: []string{"WH-GZ"}, SplitAllowed: true, Rule: "route-east"}
	south := &rules.RouteDecision{Warehouse: "WH-GZ", Fallback: []string{"WH-HZ"}, SplitAllowed: true, Rule: "route-south"}
	anywhere := &rules.RouteDecision{Warehouse: "WH-HZ", Fallback: []string{"WH-GZ"}, SplitAllowed: true, Rule: "route-default"}
	normal := rules.PriorityDecision{Level: rules.PriorityNormal}
	tests := []struct {
		name     string
		order    order.Order
		phone    int
		tags     []string
		holds    []string
		route    *rules.RouteDecision
		priority rules.PriorityDecision
	}{
		{name: "two boxes of Longjing to Hangzhou", order: teaOrder(), phone: 1, route: east, priority: normal},
		{
			name:  "high value at exactly 2,000 CNY",
			order: teaOrder(withLines(line("TEA-LJ-250", 5, "400.00"))),
			tags:  []string{"high_value"}, route: east, priority: normal,
		},
		{
			name:  "1,999.99 CNY is not high value",
			order: teaOrder(withLines(line("TEA-LJ-250", 1, "1999.99"))),
			route: east, priority: normal,
		},
		{
			name:  "above 5,000 CNY is held for manual review",
			order: teaOrder(withLines(line("HOME-TEASET-ZISHA", 1, "5888.00"))),
			tags:  []string{"high_value"}, holds: []string{"manual_review"}, route: east, priority: normal,
		},
		{
			name:  "exactly 5,000 CNY is not held",
			order: teaOrder(withLines(line("HOME-TEASET-ZISHA", 1, "5000.00"))),
			tags:  []string{"high_value"}, route: east, priority: normal,
		},
		{
			name:  "VIP buyer gets the vip tag and high priority",
			order: teaOrder(func(o *order.Order) { o.Buyer.Nick = "茶友老王" }),
			tags:  []string{"vip"}, route: east, priority: rules.PriorityDecision{Level: rules.PriorityHigh, Rule: "priority-vip"},
		},
		{
			name:  "six orders on one phone in 24 h is a risk",
			order: teaOrder(), phone: 6,
			holds: []string{"risk_phone"}, route: east, priority: normal,
		},
		{
			name:  "five orders on one phone is fine",
			order: teaOrder(), phone: 5,
			route: east, priority: normal,
		},
		{
			name:  "presale Pu'er is tagged and held for the presale pool",
			order: teaOrder(withLines(line("TEA-PU-357", 2, "198.00"), line("TEA-LJ-250", 1, "368.00"))),
			tags:  []string{"presale"}, holds: []string{"presale"}, route: east, priority: normal,
		},
		{
			name: "Shopee Singapore is cross-border and routed by the default rule",
			order: teaOrder(func(o *order.Order) {
				o.Channel, o.Shop, o.ChannelOrderID = order.Shopee, "sg-tea", "250101ABCDEF"
				o.Receiver = order.Receiver{Country: "SG", City: "Singapore", PhoneMasked: "+65****4567"}
				sgd := money.MustParse("89.90", "SGD")
				o.Lines = []order.Line{{ChannelSKU: "LJ250", SKU: "TEA-LJ-250", Quantity: 1, UnitPrice: sgd}}
				o.Amounts = order.Amounts{Goods: sgd, Paid: sgd}
			}),
			tags: []string{"cross_border"}, route: anywhere, priority: normal,
		},
		{
			name: "a tea table to Guangdong goes to the bulky warehouse, not Guangzhou",
			order: teaOrder(withLines(line("HOME-TABLE-01", 1, "1680.00")), func(o *order.Order) {
				o.Receiver.Province, o.Receiver.City, o.Receiver.District = "广东省", "广州市", "天河区"
			}),
			tags:  []string{"bulky"},
			route: &rules.RouteDecision{Warehouse: "WH-BULKY", Fallback: []string{"WH-HZ"}, Rule: "route-bulky"}, priority: normal,
		},
		{
			name:  "iron kettles with a gift sample go to their dropship supplier",
			order: teaOrder(withLines(line("DS-IRONPOT", 1, "899.00"), line("DS-IRONPOT-S", 1, "599.00"), gift("GIFT-SAMPLE"))),
			tags:  []string{"gift"},
			route: &rules.RouteDecision{Supplier: "SUP-IRON", Rule: "route-dropship"}, priority: normal,
		},
		{
			name:  "two dropship suppliers in one order are routed by region",
			order: teaOrder(withLines(line("DS-IRONPOT", 1, "899.00"), line("DS-MAT", 1, "129.00"))),
			route: east, priority: normal,
		},
		{
			name:  "dropship with own stock is routed by region",
			order: teaOrder(withLines(line("DS-IRONPOT", 1, "899.00"), line("TEA-LJ-250", 1, "368.00"))),
			route: east, priority: normal,
		},
		{
			name: "Guangxi spelt in English goes to Guangzhou",
			order: teaOrder(func(o *order.Order) {
				o.Channel, o.Shop = order.Shopify, "global"
				o.Receiver.Province, o.Receiver.City = "Guangxi Zhuang Autonomous Region", "Nanning"
			}),
			route: south, priority: normal,
		},
		{
			name:  "Beijing falls through to the default route",
			order: teaOrder(func(o *order.Order) { o.Receiver.Province, o.Receiver.City = "北京市", "北京市" }),
			route: anywhere, priority: normal,
		},
		{
			name: "a 90 % discount is an amount anomaly",
			order: teaOrder(func(o *order.Order) {
				o.Amounts = order.Amounts{Goods: cny("736.00"), Discount: cny("662.40"), Paid: cny("73.60")}
			}),
			holds: []string{"amount_anomaly"}, route: east, priority: normal,
		},
		{
			name: "paid more than goods and shipping is an amount anomaly",
			order: teaOrder(func(o *order.Order) {
				o.Amounts = order.Amounts{Goods: cny("736.00"), Shipping: cny("10.00"), Paid: cny("7360.00")}
			}),
			tags: []string{"high_value"}, holds: []string{"amount_anomaly", "manual_review"}, route: east, priority: normal,
		},
		{
			name:  "ship-by within 12 hours is urgent, above a VIP's high",
			order: teaOrder(func(o *order.Order) { o.ShipBy = t0.Add(6 * time.Hour); o.Buyer.Nick = "tea_lover_88" }),
			tags:  []string{"vip"}, route: east, priority: rules.PriorityDecision{Level: rules.PriorityUrgent, Rule: "priority-ship-by"},
		},
		{
			name:  "celadon cups are fragile",
			order: teaOrder(withLines(line("CUP-CELADON", 4, "88.00"))),
			tags:  []string{"fragile"}, route: east, priority: normal,
		},
		{
			name:  "a SKU missing from the catalogue has no attributes",
			order: teaOrder(withLines(line("TEA-NEW-2026", 1, "128.00"))),
			route: east, priority: normal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.order.Validate(); err != nil {
				t.Fatalf("test order is invalid: %v", err)
			}
			d, err := c.Evaluate(tt.order, facts(tt.phone))
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if got := d.TagNames(); !slices.Equal(got, nonNil(tt.tags)) {
				t.Errorf("tags = %v, want %v", got, tt.tags)
			}
			if got := d.HoldCodes(); !slices.Equal(got, nonNil(tt.holds)) {
				t.Errorf("holds = %v, want %v", got, tt.holds)
			}
			if !reflect.DeepEqual(d.Route, tt.route) {
				t.Errorf("route = %+v, want %+v", d.Route, tt.route)
			}
			if d.Priority != tt.priority {
				t.Errorf("priority = %+v, want %+v", d.Priority, tt.priority)
			}
			if d.RuleSetVersion != 1 || d.Checksum == "" {
				t.Errorf("decision names version %d checksum %q", d.RuleSetVersion, d.Checksum)
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const accumulateYAML = `
rules:
  - {id: route-late, kind: route, order: 50, when: "true", route: {warehouse: WH-9}}
  - {id: tag-a, kind: tag, order: 10, when: "paid > 100", tags: [a]}
  - {id: tag-b, kind: tag, order: 20, when: '"a" in tags', tags: [b, a]}
  - {id: hold-1, kind: hold, order: 30, when: '"b" in tags', hold: {code: check, note: first}}
  - {id: hold-2, kind: hold, order: 31, when: "true", hold: {code: check, note: second}}
  - {id: hold-3, kind: hold, order: 32, when: "true", hold: {code: other}}
  - {id: route-first, kind: route, order: 40, when: '"b" in tags', route: {warehouse: WH-1, fallback: [WH-2, WH-3], split_allowed: true}}
  - {id: route-off, kind: route, order: 1, enabled: false, when: "true", route: {warehouse: WH-OFF}}
  - {id: tag-off, kind: tag, order: 2, enabled: false, when: "true", tags: [off]}
  - {id: prio-low, kind: priority, order: 60, when: "true", priority: low}
  - {id: prio-off, kind: priority, order: 61, enabled: false, when: "true", priority: urgent}
`

func TestTagsAndHoldsAccumulateFirstRouteWinsDisabledSkipped(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, mustParseYAML(t, accumulateYAML))
	d, err := c.Evaluate(teaOrder(), facts(1))
	if err != nil {
		t.Fatal(err)
	}
	wantTags := []rules.TagDecision{{Tag: "a", Rule: "tag-a"}, {Tag: "b", Rule: "tag-b"}}
	if !reflect.DeepEqual(d.Tags, wantTags) {
		t.Errorf("tags = %+v, want %+v", d.Tags, wantTags)
	}
	wantHolds := []rules.HoldDecision{{Code: "check", Note: "first", Rule: "hold-1"}, {Code: "other", Rule: "hold-3"}}
	if !reflect.DeepEqual(d.Holds, wantHolds) {
		t.Errorf("holds = %+v, want %+v", d.Holds, wantHolds)
	}
	wantRoute := &rules.RouteDecision{Warehouse: "WH-1", Fallback: []string{"WH-2", "WH-3"}, SplitAllowed: true, Rule: "route-first"}
	if !reflect.DeepEqual(d.Route, wantRoute) {
		t.Errorf("route = %+v, want %+v", d.Route, wantRoute)
	}
	if d.Priority != (rules.PriorityDecision{Level: rules.PriorityLow, Rule: "prio-low"}) {
		t.Errorf("priority = %+v, want low from prio-low (a matched low rule is not overridden by the default)", d.Priority)
	}

	// The trail lists every enabled rule in evaluation order (by order, not by position), and no
	// disabled one; the route rule after the winner is listed as skipped.
	type row struct {
		id      string
		matched bool
		skipped bool
	}
	want := []row{
		{"tag-a", true, false}, {"tag-b", true, false}, {"hold-1", true, false}, {"hold-2", true, false},
		{"hold-3", true, false}, {"route-first", true, false}, {"route-late", false, true}, {"prio-low", true, false},
	}
	var got []row
	for _, s := range d.Trail {
		got = append(got, row{s.Rule, s.Matched, s.Skipped != ""})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("trail = %+v\nwant    %+v", got, want)
	}
	if s := d.Trail[3]; s.Effect != "hold check already raised by rule hold-1" {
		t.Errorf("hold-2 effect = %q", s.Effect)
	}
	if s := d.Trail[6]; s.Skipped != "route already decided by rule route-first" {
		t.Errorf("route-late skipped = %q", s.Skipped)
	}
}

func TestTrailOfTheDefaultSetListsEveryRule(t *testing.T) {
	t.Parallel()
	c := mustDefault(t)
	d, err := c.Evaluate(teaOrder(func(o *order.Order) { o.Buyer.Nick = "西湖龙井控" }), facts(1))
	if err != nil {
		t.Fatal(err)
	}
	set := c.Set()
	if len(d.Trail) != len(set.Rules) {
		t.Fatalf("trail has %d steps, the set %d enabled rules", len(d.Trail), len(set.Rules))
	}
	matched := map[string]bool{}
	for _, s := range d.Trail {
		if s.Matched {
			matched[s.Rule] = true
		}
		if s.Matched && s.Effect == "" {
			t.Errorf("matched step %s has no effect", s.Rule)
		}
	}
	want := map[string]bool{"tag-vip": true, "route-east": true, "priority-vip": true}
	if !reflect.DeepEqual(matched, want) {
		t.Errorf("matched = %v, want %v", matched, want)
	}
	for _, s := range d.Trail {
		if (s.Rule == "route-south" || s.Rule == "route-default") && s.Skipped == "" {
			t.Errorf("%s should be skipped after route-east", s.Rule)
		}
	}
}

func TestRouteTargetExpressions(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, mustParseYAML(t, `
rules:
  - id: by-category
    kind: route
    when: "true"
    route:
      warehouse_expr: 'all(lines, .attrs.category == "tea") ? "WH-TEA" : ""'
      fallback: [WH-TEA, WH-HZ]
  - {id: rest, kind: route, when: "true", route: {warehouse: WH-HZ}}
`))
	d, err := c.Evaluate(teaOrder(), facts(1))
	if err != nil {
		t.Fatal(err)
	}
	want := &rules.RouteDecision{Warehouse: "WH-TEA", Fallback: []string{"WH-HZ"}, Rule: "by-category"}
	if !reflect.DeepEqual(d.Route, want) {
		t.Errorf("tea order: route = %+v, want %+v (the target is dropped from its own fallback)", d.Route, want)
	}
	d, err = c.Evaluate(teaOrder(withLines(line("CUP-CELADON", 1, "88.00"))), facts(1))
	if err != nil {
		t.Fatal(err)
	}
	if d.Route == nil || d.Route.Rule != "rest" || d.Trail[0].Matched || d.Trail[0].Effect == "" {
		t.Errorf("teaware: route = %+v, trail %+v; an empty target must pass to the next rule", d.Route, d.Trail)
	}
}

func TestRuntimeErrorsAreErrorsNotPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, when, supplierExpr string
		field                    string
		line, column             int
	}{
		{name: "integer division by zero", when: "paid_minor % (line_count - 1) == 0", field: "when", line: 1, column: 12},
		{name: "index out of range", when: `lines[3].sku == "TEA"`, field: "when", line: 1, column: 6},
		{name: "regular expression built from data", when: `"x" matches buyer_nick`, field: "when", line: 1, column: 5},
		{name: "route target out of range", when: "true", supplierExpr: "suppliers[0]", field: "route.supplier_expr", line: 1, column: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := rules.Rule{ID: "boom", Kind: rules.KindTag, Enabled: true, When: tt.when, Tags: []string{"x"}}
			if tt.supplierExpr != "" {
				r = rules.Rule{ID: "boom", Kind: rules.KindRoute, Enabled: true, When: tt.when, Route: &rules.RouteAction{SupplierExpr: tt.supplierExpr}}
			}
			c := mustCompile(t, rules.RuleSet{Rules: []rules.Rule{tagRule("before", "true"), r, tagRule("after", "true")}})
			d, err := c.Evaluate(teaOrder(func(o *order.Order) { o.Buyer.Nick = "[" }), facts(1))
			var ee *rules.EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("Evaluate = %v, want an *EvalError", err)
			}
			if ee.RuleID != "boom" || ee.Field != tt.field || ee.Line != tt.line || ee.Column != tt.column {
				t.Errorf("EvalError = %+v, want rule boom %s %d:%d", ee, tt.field, tt.line, tt.column)
			}
			if !errors.Is(err, rules.ErrRuleFailed) || fault.KindOf(err) != fault.Unprocessable {
				t.Errorf("err %v does not match ErrRuleFailed / Unprocessable", err)
			}
			if len(d.Trail) != 2 || d.Trail[1].Rule != "boom" || d.Trail[1].Error == "" {
				t.Errorf("trail = %+v, want before and the failing rule", d.Trail)
			}
		})
	}
}

func TestEvaluateLeavesTheOrderAlone(t *testing.T) {
	t.Parallel()
	c := mustDefault(t)
	o := teaOrder(withLines(line("TEA-PU-357", 1, "2198.00")))
	o.Tags = make([]string, 1, 8) // spare capacity: appending to it would write into the order
	o.Tags[0] = "seen"
	before := teaOrder(withLines(line("TEA-PU-357", 1, "2198.00")))
	before.ID, before.Tags = o.ID, []string{"seen"}
	d, err := c.Evaluate(o, facts(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Tags) != 2 || o.Tags[:cap(o.Tags)][1] != "" {
		t.Fatalf("tags %v; the order's spare capacity was written: %q", d.TagNames(), o.Tags[:cap(o.Tags)])
	}
	o.Tags = slices.Clip(o.Tags)
	if !reflect.DeepEqual(o, before) {
		t.Fatalf("Evaluate changed the order")
	}
}

func TestEvaluateIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	c := mustDefault(t)
	orders := []order.Order{
		teaOrder(),
		teaOrder(withLines(line("HOME-TABLE-01", 1, "1680.00"))),
		teaOrder(withLines(line("DS-IRONPOT", 1, "899.00"))),
		teaOrder(func(o *order.Order) { o.Buyer.Nick = "茶友老王" }),
	}
	want := make([]rules.Decision, len(orders))
	for i, o := range orders {
		want[i], _ = c.Evaluate(o, facts(1))
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(orders)
				got, err := c.Evaluate(orders[k], facts(1))
				if err != nil || !reflect.DeepEqual(got, want[k]) {
					t.Errorf("goroutine %d: %v, decision differs", g, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestFactsTimeAndZone(t *testing.T) {
	t.Parallel()
	c := mustCompile(t, mustParseYAML(t, `
rules:
  - {id: morning-cst, kind: tag, when: "hour == 10 && weekday == 2", tags: [cst]}
  - {id: morning-utc, kind: tag, when: "hour == 2", tags: [utc]}
  - {id: paid-recently, kind: tag, when: 'now - paid_at < duration("10m")', tags: [fresh]}
  - {id: no-deadline, kind: tag, when: "!has_ship_by && hours_to_ship_by == 0", tags: [no_deadline]}
`))
	f := facts(1)
	d, _ := c.Evaluate(teaOrder(), f)
	if got := d.TagNames(); !slices.Equal(got, []string{"cst", "fresh"}) {
		t.Errorf("China time: tags = %v", got)
	}
	f.Location = time.UTC
	d, _ = c.Evaluate(teaOrder(func(o *order.Order) { o.ShipBy = time.Time{} }), f)
	if got := d.TagNames(); !slices.Equal(got, []string{"utc", "fresh", "no_deadline"}) {
		t.Errorf("UTC: tags = %v", got)
	}
}

func TestNilCompiledIsAnEmptySet(t *testing.T) {
	t.Parallel()
	var c *rules.Compiled
	d, err := c.Evaluate(teaOrder(), rules.Facts{})
	if err != nil || d.Route != nil || len(d.Tags)+len(d.Holds)+len(d.Trail) != 0 || d.Priority.Level != rules.PriorityNormal {
		t.Fatalf("nil set: %+v, %v", d, err)
	}
}

func TestDecisionHoldsAndEventsReachTheTimeline(t *testing.T) {
	t.Parallel()
	c := mustDefault(t)
	o := teaOrder(withLines(line("TEA-PU-357", 10, "698.00")), func(o *order.Order) { o.ShipBy = t0.Add(3 * time.Hour) })
	d, err := c.Evaluate(o, facts(7))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range d.OrderHolds("system:router", t0) {
		if err := o.Hold(h); err != nil {
			t.Fatal(err)
		}
	}
	o.Timeline = append(o.Timeline, d.Events("system:router", t0)...)
	rulesOnTimeline := map[string]string{}
	for _, ev := range o.Timeline {
		if ev.Rule == "" {
			t.Errorf("event %+v names no rule", ev)
		}
		rulesOnTimeline[ev.Rule] = ev.Kind
	}
	want := map[string]string{
		"hold-risk-phone": "hold", "hold-manual-review": "hold", "hold-presale": "hold",
		"tag-high-value": "tag", "tag-presale": "tag", "route-east": "route", "priority-ship-by": "priority",
	}
	if !reflect.DeepEqual(rulesOnTimeline, want) {
		t.Errorf("timeline rules = %v\nwant %v", rulesOnTimeline, want)
	}
	if o.Status != order.Held || len(o.Holds) != 3 {
		t.Errorf("status %s with %d holds", o.Status, len(o.Holds))
	}
}

func TestProvinceShort(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"浙江省": "浙江", "浙江": "浙江", "上海市": "上海", "广西壮族自治区": "广西", "新疆维吾尔自治区": "新疆",
		"内蒙古自治区": "内蒙古", "香港特别行政区": "香港", "Zhejiang": "浙江", "zhejiang province": "浙江",
		"Guangxi Zhuang Autonomous Region": "广西", " Shanghai Shi ": "上海", "Inner Mongolia": "内蒙古",
		"Selangor": "Selangor", "": "",
	} {
		if got := rules.ProvinceShort(in); got != want {
			t.Errorf("ProvinceShort(%q) = %q, want %q", in, got, want)
		}
	}
}
