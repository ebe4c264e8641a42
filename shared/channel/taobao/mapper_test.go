package taobao

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/order"
	"orderhub/shared/pii"
)

func testMapper() mapper {
	return mapper{shop: channel.Shop{Channel: order.Taobao, ID: "tb-shop"}, hasher: pii.NewHasher([]byte("test-key"))}
}

// sampleTrade is a trade as TOP writes it in JSON, with a 19-digit tid that a float64 would round.
const sampleTrade = `{
  "tid": 3861000000000007919, "tid_str": "", "status": "WAIT_SELLER_SEND_GOODS", "buyer_nick": "t**2",
  "created": "2024-03-01 09:15:02", "pay_time": "2024-03-01 09:16:40", "modified": "2024-03-01 09:16:40",
  "total_fee": "1299.00", "post_fee": "0.10", "discount_fee": "10.00", "payment": "1289.10",
  "receiver_name": "王伟", "receiver_mobile": "13812345678", "receiver_state": "浙江省", "receiver_city": "杭州市",
  "receiver_district": "西湖区", "receiver_address": "文一西路88号3栋1201室", "oaid": "1ABCDEF",
  "orders": {"order": [
    {"oid": 3861000000000007920, "num_iid": 600000000001, "sku_id": "5000001", "outer_sku_id": "TEA-LJ-250",
     "title": "西湖龙井", "price": "1299.00", "num": 1, "payment": "1289.00", "refund_status": "NO_REFUND"},
    {"oid": 3861000000000007921, "num_iid": 600000000002, "outer_iid": "GIFT-BAG", "title": "赠品",
     "price": "0.00", "num": 1, "payment": "0.00"}
  ]}
}`

func TestMapTrade(t *testing.T) {
	t.Parallel()
	var tr Trade
	if err := json.Unmarshal([]byte(sampleTrade), &tr); err != nil {
		t.Fatal(err)
	}
	o, err := testMapper().Map(tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("mapped order is not valid: %v", err)
	}
	if o.ChannelOrderID != "3861000000000007919" {
		t.Errorf("tid lost precision: %s", o.ChannelOrderID)
	}
	bj := chanhttp.Beijing
	if want := time.Date(2024, 3, 1, 9, 16, 40, 0, bj); !o.Version.Equal(want) || !o.PaidAt.Equal(want) {
		t.Errorf("version %v paid %v, want %v", o.Version, o.PaidAt, want)
	}
	if want := time.Date(2024, 3, 3, 9, 16, 40, 0, bj); !o.ShipBy.Equal(want) {
		t.Errorf("ship-by %v, want 48 h after payment %v", o.ShipBy, want)
	}
	a := o.Amounts
	if a.Goods.Amount != 129900 || a.Shipping.Amount != 10 || a.Paid.Amount != 128910 || a.Discount.Amount != 1000 || a.Paid.Currency != "CNY" {
		t.Errorf("amounts %+v", a)
	}
	if len(o.Lines) != 2 || o.Lines[0].Discount.Amount != 1000 || o.Lines[0].SKU != "TEA-LJ-250" || o.Lines[0].ChannelSKU != "5000001" ||
		!o.Lines[1].Gift || o.Lines[0].Gift || o.Lines[1].ChannelSKU != "600000000002" {
		t.Errorf("lines %+v", o.Lines)
	}
	r := o.Receiver
	if r.NameMasked != "王*" || r.PhoneMasked != "138****5678" || r.DetailMasked != "文一西路****" || r.Token != "1ABCDEF" ||
		r.PhoneHash == "" || r.AddressHash == "" || r.Province != "浙江省" {
		t.Errorf("receiver %+v", r)
	}
	raw, _ := json.Marshal(o)
	for _, secret := range []string{"13812345678", "文一西路88号", "王伟"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("mapped order keeps clear text %q", secret)
		}
	}
}

func TestMapKeepsPlatformMaskedReceiver(t *testing.T) {
	t.Parallel()
	var tr Trade
	_ = json.Unmarshal([]byte(sampleTrade), &tr)
	tr.ReceiverName, tr.ReceiverMobile, tr.ReceiverAddress = "王**", "138****5678", "文一西路****"
	o, err := testMapper().Map(tr)
	if err != nil {
		t.Fatal(err)
	}
	if r := o.Receiver; r.NameMasked != "王**" || r.PhoneMasked != "138****5678" || r.DetailMasked != "文一西路****" || r.PhoneHash != "" || r.AddressHash != "" {
		t.Errorf("masked receiver not kept as masked: %+v", r)
	}
}

func TestMoneyIsExact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		price, payment string
		num            int
		unit, discount int64
		wantErr        bool
	}{
		{"0.10", "0.10", 3, 10, 20, false},
		{"1299.00", "1299.00", 1, 129900, 0, false},
		{"0.1", "0.3", 3, 10, 0, false}, // 0.1 × 3 is 0.30 exactly, never 0.30000000000000004
		{"99999999.99", "99999999.99", 1, 9999999999, 0, false},
		{"12.30", "", 2, 1230, 0, false},
		{"12.345", "", 1, 0, 0, true}, // a third decimal place would be a guess
		{"abc", "", 1, 0, 0, true},
	}
	for _, tt := range tests {
		l := Order{NumIid: chanhttp.N("1"), Price: chanhttp.Scalar(tt.price), Payment: chanhttp.Scalar(tt.payment), Num: chanhttp.N(strconv.Itoa(tt.num))}
		got, err := mapLine(l)
		if (err != nil) != tt.wantErr {
			t.Errorf("price %q: err = %v", tt.price, err)
			continue
		}
		if err == nil && (got.UnitPrice.Amount != tt.unit || got.Discount.Amount != tt.discount) {
			t.Errorf("price %q ×%d paid %q: unit %d discount %d, want %d %d", tt.price, tt.num, tt.payment, got.UnitPrice.Amount, got.Discount.Amount, tt.unit, tt.discount)
		}
	}
}

func TestVersionOrdersRedeliveries(t *testing.T) {
	t.Parallel()
	var older, newer Trade
	_ = json.Unmarshal([]byte(sampleTrade), &older)
	_ = json.Unmarshal([]byte(sampleTrade), &newer)
	newer.Status, newer.Modified, newer.ConsignTime = "WAIT_BUYER_CONFIRM_GOODS", "2024-03-01 15:00:00", "2024-03-01 15:00:00"
	m := testMapper()
	o1, err1 := m.Map(older)
	o2, err2 := m.Map(newer)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !o2.Version.After(o1.Version) {
		t.Fatalf("versions %v, %v", o1.Version, o2.Version)
	}
	now := time.Now()
	stored, res, err := order.Merge(nil, o2, "test", now)
	if err != nil || res != order.Created {
		t.Fatal(res, err)
	}
	if _, res, _ := order.Merge(&stored, o1, "test", now); res != order.Stale {
		t.Errorf("an older version arriving late: %s, want stale", res)
	}
	if _, res, _ := order.Merge(&stored, o2, "test", now); res != order.Duplicate {
		t.Errorf("the same version again: %s, want duplicate", res)
	}
}

func TestMapRefusesBadTrades(t *testing.T) {
	t.Parallel()
	var base Trade
	_ = json.Unmarshal([]byte(sampleTrade), &base)
	tests := map[string]func(*Trade){
		"no tid":          func(t *Trade) { t.Tid, t.TidStr = chanhttp.Number{}, "" },
		"unknown status":  func(t *Trade) { t.Status = "SOMETHING_NEW" },
		"bad modified":    func(t *Trade) { t.Modified = "yesterday" },
		"no modified":     func(t *Trade) { t.Modified = "" },
		"no lines":        func(t *Trade) { t.Orders.Order = nil },
		"bad payment":     func(t *Trade) { t.Payment = "12,3.4.5" },
		"negative amount": func(t *Trade) { t.Payment = "-1.00" },
	}
	for name, mutate := range tests {
		tr := base
		tr.Orders.Order = append([]Order(nil), base.Orders.Order...)
		mutate(&tr)
		if _, err := testMapper().Map(tr); err == nil {
			t.Errorf("%s: mapped without error", name)
		} else if name == "unknown status" && !errors.Is(err, chanhttp.ErrUnknownStatus) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
