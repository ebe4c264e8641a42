package order

import (
	"errors"
	"strings"
	"testing"
	"time"

	"orderhub/shared/fault"
	"orderhub/shared/money"
)

var t0 = time.Date(2026, 11, 11, 0, 0, 5, 0, time.UTC)

func sample() Order {
	return Order{
		Channel: Taobao, Shop: "tmall-flagship", ChannelOrderID: "3921000112233",
		ChannelStatus: "WAIT_SELLER_SEND_GOODS", Status: Paid,
		Version: t0.Add(time.Minute), CreatedAt: t0, PaidAt: t0.Add(30 * time.Second), ShipBy: t0.Add(48 * time.Hour),
		Buyer:    Buyer{Nick: "t**1", PhoneMasked: "138****5678", PhoneHash: "ab12"},
		Receiver: Receiver{Province: "浙江省", City: "杭州市", District: "余杭区", DetailMasked: "文一西路****", Token: "OAID-1"},
		Lines: []Line{
			{ChannelSKU: "5012345", SKU: "TEA-001", Quantity: 2, UnitPrice: money.New(6800, "CNY"), Discount: money.New(600, "CNY")},
			{ChannelSKU: "gift-1", SKU: "CUP-01", Quantity: 1, UnitPrice: money.New(0, "CNY"), Gift: true},
		},
		Amounts: Amounts{Goods: money.New(13600, "CNY"), Shipping: money.New(0, "CNY"), Discount: money.New(600, "CNY"), Paid: money.New(13000, "CNY")},
	}
}

// allowed is the lifecycle written out by hand, independently of the transitions table, so that a
// change to the table that was not meant shows up here.
var allowed = map[[2]Status]bool{
	{PendingPayment, Paid}: true, {PendingPayment, Cancelled}: true,
	{Paid, Held}: true, {Paid, Routed}: true, {Paid, Cancelled}: true,
	{Held, Paid}: true, {Held, Cancelled}: true,
	{Routed, Reserved}: true, {Routed, Held}: true, {Routed, Cancelled}: true,
	{Reserved, Shipped}: true, {Reserved, Held}: true, {Reserved, Cancelled}: true,
	{Shipped, InTransit}: true, {Shipped, Delivered}: true, {Shipped, DeliveryException}: true, {Shipped, AfterSale}: true, {Shipped, Completed}: true,
	{InTransit, Delivered}: true, {InTransit, DeliveryException}: true, {InTransit, AfterSale}: true, {InTransit, Completed}: true,
	{DeliveryException, InTransit}: true, {DeliveryException, Delivered}: true, {DeliveryException, AfterSale}: true,
	{Delivered, Completed}: true, {Delivered, AfterSale}: true,
	{Completed, AfterSale}: true,
	{AfterSale, Returning}: true, {AfterSale, Refunded}: true, {AfterSale, Completed}: true,
	{Returning, Refunded}: true, {Returning, Completed}: true,
}

func TestEveryTransitionAllowedOrRefused(t *testing.T) {
	t.Parallel()
	count := 0
	for _, from := range Statuses() {
		for _, to := range Statuses() {
			o := sample()
			o.Status = from
			err := o.Transition(to, "test", "matrix", t0)
			if allowed[[2]Status{from, to}] {
				count++
				if err != nil {
					t.Errorf("%s → %s refused: %v", from, to, err)
					continue
				}
				if o.Status != to || len(o.Timeline) != 1 || o.Timeline[0].From != from || o.Timeline[0].To != to {
					t.Errorf("%s → %s: status %s, timeline %+v", from, to, o.Status, o.Timeline)
				}
				continue
			}
			if !errors.Is(err, ErrIllegalTransition) || fault.KindOf(err) != fault.Conflict {
				t.Errorf("%s → %s: err = %v, want ErrIllegalTransition", from, to, err)
			}
			if o.Status != from || len(o.Timeline) != 0 {
				t.Errorf("%s → %s refused but the order changed: %s %+v", from, to, o.Status, o.Timeline)
			}
		}
	}
	if count != len(allowed) {
		t.Fatalf("checked %d allowed transitions, the hand-written table has %d", count, len(allowed))
	}
	if !Refunded.Terminal() || !Cancelled.Terminal() || Paid.Terminal() {
		t.Fatal("terminal states wrong")
	}
}

func TestUnknownStatusIsInvalidInput(t *testing.T) {
	t.Parallel()
	o := sample()
	err := o.Transition("teleported", "test", "", t0)
	if !errors.Is(err, ErrUnknownStatus) || fault.KindOf(err) != fault.Invalid {
		t.Fatalf("err = %v", err)
	}
	if _, err := ParseStatus("nope"); err == nil {
		t.Fatal("ParseStatus accepted an unknown status")
	}
	if s, err := ParseStatus("held"); err != nil || s != Held {
		t.Fatalf("ParseStatus(held) = %v, %v", s, err)
	}
	for _, s := range Statuses() {
		if strings.HasPrefix(s.Stage(), "unknown") {
			t.Errorf("status %s has no stage", s)
		}
	}
}

func TestHoldAndRelease(t *testing.T) {
	t.Parallel()
	o := sample()
	if err := o.Hold(Hold{Code: "manual", Note: "buyer asked to wait", By: "key:cs-1", At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := o.Hold(Hold{Code: "risk_phone", By: "rule", Rule: "R7", At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := o.Hold(Hold{Code: "manual", By: "key:cs-2", At: t0}); err != nil {
		t.Fatal(err)
	}
	if o.Status != Held || len(o.Holds) != 2 || len(o.Timeline) != 2 {
		t.Fatalf("after holds: %s %d holds %d events", o.Status, len(o.Holds), len(o.Timeline))
	}
	if o.Timeline[1].Rule != "R7" {
		t.Fatalf("the rule that held is not on the timeline: %+v", o.Timeline[1])
	}
	if err := o.Release("manual", "key:cs-1", "", t0); !errors.Is(err, ErrReasonRequired) {
		t.Fatalf("release without reason: %v", err)
	}
	if err := o.Release("unknown", "key:cs-1", "x", t0); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("release of a hold that is not there: %v", err)
	}
	if err := o.Release("manual", "key:cs-1", "buyer confirmed", t0); err != nil {
		t.Fatal(err)
	}
	if o.Status != Held || len(o.Holds) != 1 {
		t.Fatalf("one release of two holds must keep the order held: %s %v", o.Status, o.Holds)
	}
	if err := o.Release("", "key:sup", "checked", t0); err != nil {
		t.Fatal(err)
	}
	if o.Status != Paid || len(o.Holds) != 0 {
		t.Fatalf("after the last release: %s %v", o.Status, o.Holds)
	}
	if len(o.Waived) != 2 || o.Waived[0] != "manual" || o.Waived[1] != "risk_phone" {
		t.Fatalf("released codes are not waived: %v", o.Waived)
	}
	if err := o.Release("", "key:sup", "again", t0); !errors.Is(err, ErrNotHeld) || fault.KindOf(err) != fault.Conflict {
		t.Fatalf("release of a paid order: %v", err)
	}
	if err := o.Hold(Hold{By: "x", At: t0}); !errors.Is(err, ErrReasonRequired) {
		t.Fatalf("hold without code: %v", err)
	}
	shipped := sample()
	shipped.Status = Shipped
	if err := shipped.Hold(Hold{Code: "manual", By: "x", At: t0}); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("hold of a shipped order: %v", err)
	}
	if shipped.Status != Shipped || len(shipped.Holds) != 0 {
		t.Fatal("a refused hold changed the order")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := sample()
	if err := good.Validate(); err != nil {
		t.Fatalf("sample invalid: %v", err)
	}
	tests := map[string]func(o *Order){
		"channel":       func(o *Order) { o.Channel = "ebay" },
		"shop":          func(o *Order) { o.Shop = " " },
		"shop slash":    func(o *Order) { o.Shop = "a/b" },
		"order id":      func(o *Order) { o.ChannelOrderID = "" },
		"long id":       func(o *Order) { o.ChannelOrderID = strings.Repeat("9", 129) },
		"status":        func(o *Order) { o.Status = "weird" },
		"version":       func(o *Order) { o.Version = time.Time{} },
		"created":       func(o *Order) { o.CreatedAt = time.Time{} },
		"no lines":      func(o *Order) { o.Lines = nil },
		"quantity":      func(o *Order) { o.Lines[0].Quantity = 0 },
		"no sku":        func(o *Order) { o.Lines[0].ChannelSKU, o.Lines[0].SKU = "", "" },
		"negative":      func(o *Order) { o.Amounts.Shipping = money.New(-1, "CNY") },
		"line currency": func(o *Order) { o.Lines[0].UnitPrice = money.New(1, "USD") },
		"currency":      func(o *Order) { o.Amounts.Paid.Currency = "" },
		"mixed":         func(o *Order) { o.Amounts.Goods = money.New(5, "USD") },
	}
	for name, mutate := range tests {
		o := sample()
		o.Lines = append([]Line(nil), o.Lines...)
		mutate(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalidOrder) {
			t.Errorf("%s: Validate = %v, want ErrInvalidOrder", name, err)
		}
	}
}

func TestLinesTotal(t *testing.T) {
	t.Parallel()
	o := sample()
	total, err := o.LinesTotal()
	if err != nil || total.Amount != 13000 {
		t.Fatalf("LinesTotal = %v, %v; want 130.00", total, err)
	}
}

func TestMergeNewOrder(t *testing.T) {
	t.Parallel()
	in := sample()
	in.Tags = []string{"smuggled"} // the hub owns tags: a platform cannot set them
	got, res, err := Merge(nil, in, "channel:taobao", t0.Add(time.Hour))
	if err != nil || res != Created {
		t.Fatalf("Merge = %v, %v", res, err)
	}
	if len(got.ID) != 26 || got.Tags != nil || len(got.Timeline) != 1 || got.Timeline[0].Kind != "ingested" {
		t.Fatalf("created order: id %q tags %v timeline %+v", got.ID, got.Tags, got.Timeline)
	}
	if !strings.HasPrefix(NewID(t0), got.ID[:10]) {
		t.Fatalf("id %s does not sort by the order's creation time", got.ID)
	}
	bad := sample()
	bad.Lines = nil
	if _, _, err := Merge(nil, bad, "x", t0); !errors.Is(err, ErrInvalidOrder) {
		t.Fatalf("invalid incoming accepted: %v", err)
	}
}

func TestMergeVersions(t *testing.T) {
	t.Parallel()
	stored, _, _ := Merge(nil, sample(), "channel:taobao", t0)
	stored.Status, stored.Warehouse, stored.Tags = Reserved, "WH-HZ", []string{"vip"}

	same := sample()
	if got, res, _ := Merge(&stored, same, "x", t0); res != Duplicate || got.Status != Reserved {
		t.Fatalf("same version: %v %s", res, got.Status)
	}
	older := sample()
	older.Version = stored.Version.Add(-time.Second)
	older.Status, older.ChannelStatus = Cancelled, "TRADE_CLOSED"
	if got, res, _ := Merge(&stored, older, "x", t0); res != Stale || got.Status != Reserved || got.ChannelStatus != "WAIT_SELLER_SEND_GOODS" {
		t.Fatalf("older version changed the order: %v %s %s", res, got.Status, got.ChannelStatus)
	}

	// A newer version that still says "paid" keeps the hub's progress and its decisions.
	newer := sample()
	newer.Version = stored.Version.Add(time.Minute)
	newer.Receiver.City = "宁波市"
	got, res, err := Merge(&stored, newer, "x", t0)
	if err != nil || res != Updated || got.Status != Reserved || got.Warehouse != "WH-HZ" || got.Receiver.City != "宁波市" || got.ID != stored.ID || !got.HasTag("vip") {
		t.Fatalf("newer version: %v %v %+v", res, err, got)
	}
	if len(got.Timeline) != 1 || got.Timeline[0].Kind != "updated" {
		t.Fatalf("newer version timeline: %+v", got.Timeline)
	}

	// A newer cancellation is applied.
	cancel := sample()
	cancel.Version = stored.Version.Add(2 * time.Minute)
	cancel.Status, cancel.ChannelStatus = Cancelled, "TRADE_CLOSED"
	got, _, _ = Merge(&stored, cancel, "x", t0)
	if got.Status != Cancelled || got.Timeline[len(got.Timeline)-1].To != Cancelled {
		t.Fatalf("cancellation not applied: %s %+v", got.Status, got.Timeline)
	}

	// A platform's "paid" never releases a hold; a platform "shipped" for a paid order is a recorded conflict.
	held := stored
	held.Status = Held
	got, _, _ = Merge(&held, newer, "x", t0)
	if got.Status != Held {
		t.Fatalf("platform paid released a hold: %s", got.Status)
	}
	paid := stored
	paid.Status = Paid
	shipped := sample()
	shipped.Version = stored.Version.Add(3 * time.Minute)
	shipped.Status, shipped.ChannelStatus = Shipped, "WAIT_BUYER_CONFIRM_GOODS"
	got, _, _ = Merge(&paid, shipped, "x", t0)
	if got.Status != Paid || got.Timeline[len(got.Timeline)-1].Kind != "status_conflict" {
		t.Fatalf("conflict not recorded: %s %+v", got.Status, got.Timeline)
	}

	// Payment arrives for an unpaid order.
	unpaid := stored
	unpaid.Status = PendingPayment
	got, _, _ = Merge(&unpaid, newer, "x", t0)
	if got.Status != Paid {
		t.Fatalf("payment not applied: %s", got.Status)
	}

	other := sample()
	other.ChannelOrderID = "other"
	other.Version = stored.Version.Add(time.Hour)
	if _, _, err := Merge(&stored, other, "x", t0); !errors.Is(err, ErrInvalidOrder) {
		t.Fatalf("merging another key: %v", err)
	}
}

func TestMergeRefusesHubOwnedStatusesAndNamesItsOwnOrders(t *testing.T) {
	t.Parallel()
	for _, s := range []Status{Held, Routed, Reserved} {
		in := sample()
		in.Status = s
		if _, _, err := Merge(nil, in, "x", t0); !errors.Is(err, ErrInvalidOrder) {
			t.Errorf("a channel created an order in %s: %v", s, err)
		}
	}
	in := sample()
	in.ID = "not-a-ulid"
	got, _, err := Merge(nil, in, "x", t0)
	if err != nil || got.ID == "not-a-ulid" || len(got.ID) != 26 {
		t.Fatalf("incoming id trusted: %q %v", got.ID, err)
	}
}

func TestLeavingHeldDropsTheHolds(t *testing.T) {
	t.Parallel()
	o := sample()
	if err := o.Hold(Hold{Code: "risk_phone", By: "rule", At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := o.Transition(Cancelled, "key:cs", "buyer cancelled", t0); err != nil {
		t.Fatal(err)
	}
	if len(o.Holds) != 0 {
		t.Fatalf("a cancelled order keeps holds: %+v", o.Holds)
	}

	stored, _, _ := Merge(nil, sample(), "x", t0)
	_ = stored.Hold(Hold{Code: "manual", By: "x", At: t0})
	cancel := sample()
	cancel.Version = stored.Version.Add(time.Minute)
	cancel.Status, cancel.ChannelStatus = Cancelled, "TRADE_CLOSED"
	got, _, _ := Merge(&stored, cancel, "x", t0)
	if got.Status != Cancelled || len(got.Holds) != 0 {
		t.Fatalf("platform cancellation of a held order: %s %+v", got.Status, got.Holds)
	}
}
