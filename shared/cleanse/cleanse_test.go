package cleanse_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"orderhub/shared/cleanse"
	"orderhub/shared/money"
	"orderhub/shared/order"
)

var t0 = time.Date(2025, 11, 11, 2, 30, 0, 0, time.UTC)

func cny(s string) money.Money { return money.MustParse(s, "CNY") }

// paidOrder is a clean Taobao order to Hangzhou; mods adjust it.
func paidOrder(mods ...func(*order.Order)) order.Order {
	o := order.Order{
		ID:             "01JCX0000000000000000000B",
		Channel:        order.Taobao,
		Shop:           "tea-flagship",
		ChannelOrderID: "3812345678901234567",
		ChannelStatus:  "WAIT_SELLER_SEND_GOODS",
		Status:         order.Paid,
		Version:        t0,
		CreatedAt:      t0,
		Buyer:          order.Buyer{Nick: "品茶小白"},
		Receiver: order.Receiver{
			NameMasked: "张**", PhoneMasked: "138****5678", PhoneHash: "h1",
			Province: "浙江省", City: "杭州市", District: "西湖区", DetailMasked: "龙井路****",
		},
		Lines:   []order.Line{{ChannelSKU: "c-LJ", SKU: "TEA-LJ-250", Title: "明前西湖龙井 250g", Quantity: 2, UnitPrice: cny("368.00")}},
		Amounts: order.Amounts{Goods: cny("736.00"), Paid: cny("736.00")},
	}
	for _, m := range mods {
		m(&o)
	}
	return o
}

func TestCheck(t *testing.T) {
	t.Parallel()
	markers := cleanse.DefaultTestMarkers()
	markers.Shops = []string{"sandbox-shop"}
	markers.SKUs = []string{"INTERNAL-SAMPLE"}
	recv := func(fn func(r *order.Receiver)) func(*order.Order) { return func(o *order.Order) { fn(&o.Receiver) } }
	tests := []struct {
		name  string
		order order.Order
		codes []string
		note  string // substring of the first reason's note
	}{
		{name: "clean order", order: paidOrder()},
		{name: "test nick", order: paidOrder(func(o *order.Order) { o.Buyer.Nick = "测试账号" }), codes: []string{"test_order"}, note: `buyer nick "测试账号"`},
		{name: "nick containing 测试", order: paidOrder(func(o *order.Order) { o.Buyer.Nick = "运营小王测试" }), codes: []string{"test_order"}, note: "contains"},
		{name: "nick is matched without case", order: paidOrder(func(o *order.Order) { o.Buyer.Nick = "TEST" }), codes: []string{"test_order"}},
		{name: "test shop", order: paidOrder(func(o *order.Order) { o.Shop = "Sandbox-Shop" }), codes: []string{"test_order"}, note: "shop"},
		{name: "test SKU prefix on the channel SKU", order: paidOrder(func(o *order.Order) { o.Lines[0].ChannelSKU = "test-001" }), codes: []string{"test_order"}, note: "SKU prefix"},
		{name: "test SKU", order: paidOrder(func(o *order.Order) { o.Lines[0].SKU = "INTERNAL-SAMPLE" }), codes: []string{"test_order"}, note: `SKU "INTERNAL-SAMPLE"`},
		{name: "do-not-buy listing", order: paidOrder(func(o *order.Order) { o.Lines[0].Title = "补差价链接 请勿拍" }), codes: []string{"test_order"}, note: "请勿拍"},
		{
			name:  "one fen order",
			order: paidOrder(func(o *order.Order) { o.Amounts = order.Amounts{Goods: cny("0.01"), Paid: cny("0.01")} }),
			codes: []string{"test_order"}, note: "paid 0.01 CNY",
		},
		{name: "two fen is a real order", order: paidOrder(func(o *order.Order) { o.Amounts = order.Amounts{Goods: cny("0.02"), Paid: cny("0.02")} })},
		{
			name:  "one cent in a currency without a marker is real",
			order: paidOrder(func(o *order.Order) { o.Amounts = order.Amounts{Paid: money.New(1, "EUR")} }),
		},
		{name: "missing phone", order: paidOrder(recv(func(r *order.Receiver) { r.PhoneMasked, r.PhoneHash = "", "" })), codes: []string{"invalid_phone"}, note: "missing"},
		{
			name:  "no phone but a platform receiver token",
			order: paidOrder(recv(func(r *order.Receiver) { r.PhoneMasked, r.PhoneHash, r.Token = "", "", "oaid-1b2c3d" })),
		},
		{name: "12x is no mainland mobile", order: paidOrder(recv(func(r *order.Receiver) { r.PhoneMasked = "123****8901" })), codes: []string{"invalid_phone"}, note: "mainland mobile"},
		{name: "mask of a 5-digit number", order: paidOrder(recv(func(r *order.Receiver) { r.PhoneMasked = "***45" })), codes: []string{"invalid_phone"}, note: "too short"},
		{name: "mask without digits", order: paidOrder(recv(func(r *order.Receiver) { r.PhoneMasked = "***********" })), codes: []string{"invalid_phone"}, note: "no visible digits"},
		{name: "letters in a phone", order: paidOrder(recv(func(r *order.Receiver) { r.PhoneMasked = "call****me" })), codes: []string{"invalid_phone"}, note: "characters"},
		{name: "platform mask", order: paidOrder(recv(func(r *order.Receiver) { r.PhoneMasked = "*******5678" }))},
		{name: "full-width mask", order: paidOrder(recv(func(r *order.Receiver) { r.PhoneMasked = "138＊＊＊＊5678" }))},
		{name: "fixed-line mask", order: paidOrder(recv(func(r *order.Receiver) { r.PhoneMasked = "010****5678" }))},
		{name: "clear number that is invalid", order: paidOrder(recv(func(r *order.Receiver) { r.PhoneMasked = "1381234567" })), codes: []string{"invalid_phone"}, note: "not a valid number"},
		{
			name: "Singapore mask and address without a city",
			order: paidOrder(recv(func(r *order.Receiver) {
				*r = order.Receiver{Country: "SG", PhoneMasked: "+65****4567", DetailMasked: "Blk ****"}
			})),
		},
		{name: "no district", order: paidOrder(recv(func(r *order.Receiver) { r.District = " " })), codes: []string{"incomplete_address"}, note: "no district"},
		{name: "Dongguan has no districts", order: paidOrder(recv(func(r *order.Receiver) { r.Province, r.City, r.District = "广东省", "东莞市", "" }))},
		{
			name:  "no province and no city",
			order: paidOrder(recv(func(r *order.Receiver) { r.Province, r.City = "", "" })),
			codes: []string{"incomplete_address"}, note: "no province, city",
		},
		{
			name: "US address without a city",
			order: paidOrder(recv(func(r *order.Receiver) {
				*r = order.Receiver{Country: "US", Province: "CA", PhoneMasked: "415****0100", DetailMasked: "1450 ****"}
			})),
			codes: []string{"incomplete_address"}, note: "no city",
		},
		{name: "no street address", order: paidOrder(recv(func(r *order.Receiver) { r.DetailMasked = "" })), codes: []string{"incomplete_address"}, note: "street address"},
		{name: "no street address but a token", order: paidOrder(recv(func(r *order.Receiver) { r.DetailMasked, r.Token = "", "oaid-1b2c3d" }))},
		{
			name: "every problem at once, in a fixed order",
			order: paidOrder(func(o *order.Order) {
				o.Buyer.Nick = "test"
				o.Receiver = order.Receiver{Province: "浙江省"}
			}),
			codes: []string{"test_order", "invalid_phone", "incomplete_address"},
		},
	}
	c := cleanse.New(markers, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Check(context.Background(), tt.order)
			if err != nil {
				t.Fatal(err)
			}
			codes := []string{}
			for _, r := range got {
				codes = append(codes, r.Code)
				if r.Note == "" {
					t.Errorf("reason %s has no note", r.Code)
				}
				if strings.Contains(r.Note, "5678") || strings.Contains(r.Note, "龙井路") {
					t.Errorf("note %q shows personal data", r.Note)
				}
			}
			want := tt.codes
			if want == nil {
				want = []string{}
			}
			if !reflect.DeepEqual(codes, want) {
				t.Fatalf("codes = %v, want %v (%+v)", codes, want, got)
			}
			if tt.note != "" && !strings.Contains(got[0].Note, tt.note) {
				t.Errorf("note = %q, want it to contain %q", got[0].Note, tt.note)
			}
		})
	}
}

func TestDuplicate(t *testing.T) {
	t.Parallel()
	const earlier, later = "01JCX0000000000000000000A", "01JCX0000000000000000000C"
	self := paidOrder()
	other := func(id string, ch order.Channel, shop string, st order.Status) order.Order {
		return paidOrder(func(o *order.Order) { o.ID, o.Channel, o.Shop, o.Status = id, ch, shop, st })
	}
	tests := []struct {
		name   string
		order  order.Order
		stored []order.Order
		dup    bool
	}{
		{name: "only itself", order: self, stored: []order.Order{self}},
		{name: "nothing stored", order: self},
		{name: "an earlier order from a second connection of the shop", order: self, stored: []order.Order{self, other(earlier, order.Taobao, "tea-flagship-2", order.Routed)}, dup: true},
		{name: "a later order is the duplicate, not this one", order: self, stored: []order.Order{other(later, order.Taobao, "tea-flagship-2", order.Paid)}},
		{name: "not yet stored", order: paidOrder(func(o *order.Order) { o.ID = "" }), stored: []order.Order{other(later, order.Taobao, "tea-flagship", order.Paid)}, dup: false},
		{name: "not yet stored, other shop", order: paidOrder(func(o *order.Order) { o.ID = "" }), stored: []order.Order{other(later, order.Taobao, "tea-flagship-2", order.Paid)}, dup: true},
		{name: "another platform numbers alike", order: self, stored: []order.Order{other(earlier, order.JD, "jd-shop", order.Paid)}},
		{name: "keyed in by staff as well", order: self, stored: []order.Order{other(earlier, order.Manual, "offline", order.Paid)}, dup: true},
		{name: "the earlier one was cancelled", order: self, stored: []order.Order{other(earlier, order.Taobao, "tea-flagship-2", order.Cancelled)}},
		{name: "a different channel order id", order: self, stored: []order.Order{paidOrder(func(o *order.Order) { o.ID, o.Shop, o.ChannelOrderID = earlier, "x", "other" })}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var asked string
			lookup := func(_ context.Context, id string) ([]order.Order, error) {
				asked = id
				return tt.stored, nil
			}
			got, err := cleanse.New(cleanse.TestMarkers{}, lookup).Check(context.Background(), tt.order)
			if err != nil {
				t.Fatal(err)
			}
			if asked != tt.order.ChannelOrderID {
				t.Errorf("lookup asked for %q", asked)
			}
			isDup := len(got) > 0 && got[0].Code == cleanse.CodeDuplicate
			if isDup != tt.dup {
				t.Fatalf("reasons = %+v, want duplicate %v", got, tt.dup)
			}
			if isDup && !strings.Contains(got[0].Note, "order "+earlier) && !strings.Contains(got[0].Note, "order "+later) {
				t.Errorf("note %q does not name the other order", got[0].Note)
			}
		})
	}
}

func TestCheckFailsWhenTheLookupFails(t *testing.T) {
	t.Parallel()
	boom := errors.New("store unavailable")
	c := cleanse.New(cleanse.DefaultTestMarkers(), func(context.Context, string) ([]order.Order, error) { return nil, boom })
	if _, err := c.Check(context.Background(), paidOrder()); !errors.Is(err, boom) {
		t.Fatalf("Check = %v, want the lookup's error", err)
	}
}

func TestReasonsBecomeHolds(t *testing.T) {
	t.Parallel()
	o := paidOrder(func(o *order.Order) { o.Buyer.Nick = "测试"; o.Receiver.District = "" })
	reasons, err := cleanse.New(cleanse.DefaultTestMarkers(), nil).Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range cleanse.Holds(reasons, "system:cleanse", t0) {
		if err := o.Hold(h); err != nil {
			t.Fatal(err)
		}
	}
	if o.Status != order.Held || len(o.Holds) != 2 || o.Holds[0].Code != "test_order" || o.Holds[1].Code != "incomplete_address" {
		t.Fatalf("order %s holds %+v", o.Status, o.Holds)
	}
	if ev := o.Timeline[len(o.Timeline)-1]; ev.Kind != "hold" || ev.Actor != "system:cleanse" || !strings.HasPrefix(ev.Reason, "incomplete_address") {
		t.Errorf("last event = %+v", ev)
	}
}
