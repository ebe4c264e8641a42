package jd

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
	return mapper{shop: channel.Shop{Channel: order.JD, ID: "jd-shop", ShipByDefault: 24 * time.Hour}, hasher: pii.NewHasher([]byte("test-key"))}
}

// sampleOrder is a JD order as jingdong.pop.order.get writes it, with a masked consignee, a line
// coupon, a shop coupon and part of the payment from the buyer's JD balance.
const sampleOrder = `{
  "orderId": "290000000037", "venderId": "10086", "orderState": "WAIT_SELLER_STOCK_OUT",
  "orderTotalPrice": "2199.00", "orderSellerPrice": "2179.00", "orderPayment": "2169.10",
  "freightPrice": "0.10", "sellerDiscount": "30.00", "balanceUsed": "0.00",
  "orderStartTime": "2024-03-01 09:00:00", "paymentConfirmTime": "2024-03-01 09:05:00",
  "modified": "2024-03-01 09:05:00", "pin": "j***8",
  "consigneeInfo": {"fullname": "张*", "mobile": "138****5678", "fullAddress": "北京市北京市朝阳区建国路****",
    "province": "北京市", "city": "北京市", "county": "朝阳区"},
  "itemInfoList": [
    {"skuId": "100012043978", "outerSkuId": "TABLE-TEA-1", "skuName": "实木茶桌", "jdPrice": "2199.00", "itemTotal": "1"},
    {"skuId": "100000000001", "skuName": "赠品", "jdPrice": "0.00", "itemTotal": "2"}
  ],
  "couponDetailList": [
    {"skuId": "100012043978", "couponType": "30-单品促销优惠", "couponPrice": "20.00"},
    {"couponType": "100-店铺优惠", "couponPrice": "10.00"}
  ]
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
	if !o.Version.Equal(time.Date(2024, 3, 1, 9, 5, 0, 0, bj)) || !o.ShipBy.Equal(time.Date(2024, 3, 2, 9, 5, 0, 0, bj)) {
		t.Errorf("version %v ship-by %v (the shop's 24 h default)", o.Version, o.ShipBy)
	}
	a := o.Amounts
	if a.Goods.Amount != 219900 || a.Shipping.Amount != 10 || a.Paid.Amount != 216910 || a.Discount.Amount != 3000 {
		t.Errorf("amounts %+v", a)
	}
	if len(o.Lines) != 2 || o.Lines[0].Discount.Amount != 2000 || o.Lines[0].SKU != "TABLE-TEA-1" || !o.Lines[1].Gift || o.Lines[1].Quantity != 2 {
		t.Errorf("lines %+v", o.Lines)
	}
	if r := o.Receiver; r.NameMasked != "张*" || r.PhoneMasked != "138****5678" || r.DetailMasked != "建国路****" || r.PhoneHash != "" || r.District != "朝阳区" {
		t.Errorf("receiver %+v", r)
	}
}

func TestMapHashesClearReceivers(t *testing.T) {
	t.Parallel()
	var info OrderInfo
	_ = json.Unmarshal([]byte(sampleOrder), &info)
	info.ConsigneeInfo.Fullname, info.ConsigneeInfo.Mobile = "张三", "+86 138-1234-5678"
	info.ConsigneeInfo.FullAddress = "北京市北京市朝阳区建国路88号SOHO现代城2号楼1801"
	o, err := testMapper().Map(info)
	if err != nil {
		t.Fatal(err)
	}
	h := pii.NewHasher([]byte("test-key"))
	r := o.Receiver
	if r.NameMasked != "张*" || r.PhoneMasked != "138****5678" || r.PhoneHash != h.Phone("13812345678") || r.DetailMasked != "建国路****" || r.AddressHash == "" {
		t.Errorf("receiver %+v", r)
	}
	raw, _ := json.Marshal(o)
	if strings.Contains(string(raw), "1801") || strings.Contains(string(raw), "12345678") {
		t.Errorf("clear text kept: %s", raw)
	}
}

func TestMoneyIsExact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		price, qty, coupon string
		unit, discount     int64
		wantErr            bool
	}{
		{"0.10", "3", "0.10", 10, 10, false},
		{"1299.00", "1", "", 129900, 0, false},
		{"99999999.99", "2", "0.01", 9999999999, 1, false},
		{"0.1", "1", "", 10, 0, false},
		{"1.005", "1", "", 0, 0, true},
		{"12.30", "0", "", 0, 0, true},
	}
	for _, tt := range tests {
		var cs []Coupon
		if tt.coupon != "" {
			cs = []Coupon{{SkuID: "1", CouponPrice: chanhttp.Scalar(tt.coupon)}}
		}
		disc, err := couponsBySku(cs)
		if err != nil {
			t.Fatal(err)
		}
		l, err := mapItem(Item{SkuID: "1", JdPrice: chanhttp.Scalar(tt.price), ItemTotal: chanhttp.Scalar(tt.qty)}, disc["1"])
		if (err != nil) != tt.wantErr {
			t.Errorf("%s × %s: err = %v", tt.price, tt.qty, err)
			continue
		}
		if err == nil && (l.UnitPrice.Amount != tt.unit || l.Discount.Amount != tt.discount) {
			t.Errorf("%s × %s: unit %d discount %d", tt.price, tt.qty, l.UnitPrice.Amount, l.Discount.Amount)
		}
	}
}

func TestVersionOrdersRedeliveries(t *testing.T) {
	t.Parallel()
	var older, newer OrderInfo
	_ = json.Unmarshal([]byte(sampleOrder), &older)
	_ = json.Unmarshal([]byte(sampleOrder), &newer)
	newer.OrderState, newer.Modified, newer.Waybill = "WAIT_GOODS_RECEIVE_CONFIRM", "2024-03-01 18:00:00", "JDV000123"
	o1, _ := testMapper().Map(older)
	o2, err := testMapper().Map(newer)
	if err != nil {
		t.Fatal(err)
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
		"no id":          func(o *OrderInfo) { o.OrderID = "" },
		"unknown state":  func(o *OrderInfo) { o.OrderState = "UN_KNOWN" },
		"bad modified":   func(o *OrderInfo) { o.Modified = "2024-13-01 00:00:00" },
		"no items":       func(o *OrderInfo) { o.ItemInfoList = nil },
		"bad payment":    func(o *OrderInfo) { o.OrderPayment = "¥12" },
		"bad coupon":     func(o *OrderInfo) { o.CouponDetailList = []Coupon{{SkuID: "1", CouponPrice: "x"}} },
		"negative price": func(o *OrderInfo) { o.ItemInfoList = []Item{{SkuID: "1", JdPrice: "-1.00", ItemTotal: "1"}} },
	}
	for name, mutate := range tests {
		var info OrderInfo
		_ = json.Unmarshal([]byte(sampleOrder), &info)
		mutate(&info)
		_, err := testMapper().Map(info)
		if err == nil {
			t.Errorf("%s: mapped without error", name)
		} else if name == "unknown state" && !errors.Is(err, chanhttp.ErrUnknownStatus) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
