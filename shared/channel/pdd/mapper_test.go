package pdd

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/order"
	"orderhub/shared/pii"
)

func testMapper() mapper {
	return mapper{shop: channel.Shop{Channel: order.Pinduoduo, ID: "pdd-shop"}, hasher: pii.NewHasher([]byte("test-key"))}
}

// sampleOrder is an order as pdd.order.information.get writes it: yuan as JSON numbers, receiver
// encrypted with masked copies, a gift in gift_list.
const sampleOrder = `{
  "order_sn": "240301-100000000104729", "confirm_status": 1, "order_status": 1, "refund_status": 1,
  "created_time": "2024-03-01 09:00:00", "pay_time": "2024-03-01 09:01:00", "confirm_time": "2024-03-01 09:01:00",
  "last_ship_time": "2024-03-02 21:01:00", "updated_at": "2024-03-01 09:01:00",
  "goods_amount": 1299.0, "postage": 0.1, "discount_amount": 10, "pay_amount": 1289.10,
  "receiver_name": "~AgAAAAHvK3eS2UG1w0nBqaJtQ1==~1~~", "receiver_phone": "$AgAAAAFqqb0Cl2g4k7x9$1$$",
  "receiver_address": "~AgAAAAPr5x1Kq0aL~1~~", "receiver_name_mask": "王*", "receiver_phone_mask": "138****5678",
  "receiver_address_mask": "文一西路****", "country": "中国", "province": "浙江省", "city": "杭州市", "town": "西湖区",
  "open_address_id": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
  "item_list": [{"goods_id": 100000000001, "sku_id": 1000000000011, "outer_id": "TEA-LJ-250", "goods_name": "西湖龙井",
    "goods_price": 1299, "goods_count": 1}],
  "gift_list": [{"goods_id": 100000000002, "sku_id": 1000000000021, "goods_name": "赠品 手提袋", "goods_count": 1}]
}`

func TestMapOrder(t *testing.T) {
	t.Parallel()
	var info OrderInfo
	if err := json.Unmarshal([]byte(sampleOrder), &info); err != nil {
		t.Fatal(err)
	}
	o, err := testMapper().Map(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	bj := chanhttp.Beijing
	if !o.ShipBy.Equal(time.Date(2024, 3, 2, 21, 1, 0, 0, bj)) {
		t.Errorf("ship-by %v, want last_ship_time", o.ShipBy)
	}
	if !o.Version.Equal(time.Date(2024, 3, 1, 9, 1, 0, 0, bj)) || o.Status != order.Paid ||
		o.ChannelStatus != "confirm_status=1 order_status=1 refund_status=1" {
		t.Errorf("version %v status %s (%s)", o.Version, o.Status, o.ChannelStatus)
	}
	a := o.Amounts
	if a.Goods.Amount != 129900 || a.Shipping.Amount != 10 || a.Paid.Amount != 128910 || a.Discount.Amount != 1000 {
		t.Errorf("amounts %+v", a)
	}
	if len(o.Lines) != 2 || o.Lines[0].UnitPrice.Amount != 129900 || o.Lines[0].Gift || !o.Lines[1].Gift || o.Lines[1].UnitPrice.Amount != 0 {
		t.Errorf("lines %+v", o.Lines)
	}
	r := o.Receiver
	if r.NameMasked != "王*" || r.PhoneMasked != "138****5678" || r.DetailMasked != "文一西路****" || r.Token != info.OpenAddressID ||
		r.PhoneHash != "" || r.AddressHash != "" || r.Country != "" || r.District != "西湖区" {
		t.Errorf("receiver %+v", r)
	}
	raw, _ := json.Marshal(o)
	if strings.Contains(string(raw), "AgAAAAHvK3eS") {
		t.Errorf("a ciphertext other than the token was kept: %s", raw)
	}
}

func TestMapWithoutOpenAddressIDKeepsTheCiphertextAsToken(t *testing.T) {
	t.Parallel()
	var info OrderInfo
	_ = json.Unmarshal([]byte(sampleOrder), &info)
	info.OpenAddressID = ""
	o, err := testMapper().Map(info)
	if err != nil || o.Receiver.Token != info.ReceiverAddress {
		t.Fatalf("token %q, %v", o.Receiver.Token, err)
	}
	info.ReceiverAddress = "文一西路88号" // clear text must never become a token
	if o, _ := testMapper().Map(info); o.Receiver.Token != "" || o.Receiver.AddressHash == "" {
		t.Fatalf("clear address: %+v", o.Receiver)
	}
}

func TestMoneyIsExact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		price   string // the JSON literal Pinduoduo sends
		want    int64
		wantErr bool
	}{
		{`0.1`, 10, false},
		{`0.10`, 10, false},
		{`"0.10"`, 10, false}, // a string is read the same way
		{`1299`, 129900, false},
		{`1299.00`, 129900, false},
		{`99999999.99`, 9999999999, false},
		{`1.2e1`, 1200, false},
		{`0.30000000000000004`, 0, true}, // float noise is refused, not rounded away
		{`1e400`, 0, true},
		{`true`, 0, true},
	}
	for _, tt := range tests {
		var it Item
		err := json.Unmarshal([]byte(`{"sku_id":1,"goods_count":1,"goods_price":`+tt.price+`}`), &it)
		if err == nil {
			var l order.Line
			if l, err = mapItem(it); err == nil && l.UnitPrice.Amount != tt.want {
				t.Errorf("%s: %d fen, want %d", tt.price, l.UnitPrice.Amount, tt.want)
			}
		}
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v", tt.price, err)
		}
	}
}

func TestVersionOrdersRedeliveries(t *testing.T) {
	t.Parallel()
	var older, newer OrderInfo
	_ = json.Unmarshal([]byte(sampleOrder), &older)
	_ = json.Unmarshal([]byte(sampleOrder), &newer)
	newer.OrderStatus, newer.UpdatedAt, newer.TrackingNumber = chanhttp.N("2"), "2024-03-01 20:00:00", "YT0001"
	o1, _ := testMapper().Map(older)
	o2, err := testMapper().Map(newer)
	if err != nil || o2.Status != order.Shipped {
		t.Fatal(o2.Status, err)
	}
	stored, _, err := order.Merge(nil, o2, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, res, _ := order.Merge(&stored, o1, "test", time.Now()); res != order.Stale {
		t.Errorf("older version: %s, want stale", res)
	}
	if _, res, _ := order.Merge(&stored, o2, "test", time.Now()); res != order.Duplicate {
		t.Errorf("same version: %s, want duplicate", res)
	}
}

func TestMapRefusesBadOrders(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*OrderInfo){
		"no order_sn":    func(o *OrderInfo) { o.OrderSN = "" },
		"unknown status": func(o *OrderInfo) { o.OrderStatus = chanhttp.N("9") },
		"status text":    func(o *OrderInfo) { o.RefundStatus = chanhttp.N("one") },
		"no updated_at":  func(o *OrderInfo) { o.UpdatedAt = "" },
		"no items":       func(o *OrderInfo) { o.ItemList, o.GiftList = nil, nil },
		"bad pay_amount": func(o *OrderInfo) { o.PayAmount = chanhttp.N("12.345") },
		"zero count":     func(o *OrderInfo) { o.ItemList[0].GoodsCount = chanhttp.N("0") },
	}
	for name, mutate := range tests {
		var info OrderInfo
		_ = json.Unmarshal([]byte(sampleOrder), &info)
		mutate(&info)
		_, err := testMapper().Map(info)
		if err == nil {
			t.Errorf("%s: mapped without error", name)
		} else if name == "unknown status" && !errors.Is(err, chanhttp.ErrUnknownStatus) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
