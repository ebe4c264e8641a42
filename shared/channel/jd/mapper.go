package jd

import (
	"fmt"
	"strings"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/fault"
	"orderhub/shared/money"
	"orderhub/shared/order"
	"orderhub/shared/pii"
)

// OrderInfo is a JD POP order as jingdong.pop.order.search and jingdong.pop.order.get return it
// (the optional_fields the hub asks for). Amounts are yuan strings; times are Beijing wall time.
type OrderInfo struct {
	OrderID            chanhttp.Scalar `json:"orderId"`
	VenderID           chanhttp.Scalar `json:"venderId,omitempty"`
	PayType            string          `json:"payType,omitempty"`
	OrderTotalPrice    chanhttp.Scalar `json:"orderTotalPrice"`            // goods before discounts, without freight
	OrderSellerPrice   chanhttp.Scalar `json:"orderSellerPrice,omitempty"` // goods after the seller's discounts
	OrderPayment       chanhttp.Scalar `json:"orderPayment"`               // what the buyer still pays: goods − discounts − balance + freight
	FreightPrice       chanhttp.Scalar `json:"freightPrice"`
	SellerDiscount     chanhttp.Scalar `json:"sellerDiscount,omitempty"`
	BalanceUsed        chanhttp.Scalar `json:"balanceUsed,omitempty"` // paid from the buyer's JD balance
	OrderState         string          `json:"orderState"`
	OrderStateRemark   string          `json:"orderStateRemark,omitempty"`
	OrderStartTime     string          `json:"orderStartTime"`
	OrderEndTime       string          `json:"orderEndTime,omitempty"`
	PaymentConfirmTime string          `json:"paymentConfirmTime,omitempty"`
	Modified           string          `json:"modified"`
	Pin                string          `json:"pin,omitempty"` // the buyer's account, masked by JD
	Waybill            string          `json:"waybill,omitempty"`
	LogisticsID        string          `json:"logisticsId,omitempty"`
	ConsigneeInfo      Consignee       `json:"consigneeInfo"`
	ItemInfoList       []Item          `json:"itemInfoList"`
	CouponDetailList   []Coupon        `json:"couponDetailList,omitempty"`
}

// Consignee is the receiver of a JD order; JD sends it desensitised (masked) by default.
type Consignee struct {
	Fullname    string `json:"fullname,omitempty"`
	Telephone   string `json:"telephone,omitempty"`
	Mobile      string `json:"mobile,omitempty"`
	FullAddress string `json:"fullAddress,omitempty"` // province … street in one string
	Province    string `json:"province,omitempty"`
	City        string `json:"city,omitempty"`
	County      string `json:"county,omitempty"`
	Town        string `json:"town,omitempty"`
}

// Item is one line of a JD order.
type Item struct {
	SkuID      chanhttp.Scalar `json:"skuId"`
	OuterSkuID string          `json:"outerSkuId,omitempty"` // the seller's SKU code
	WareID     chanhttp.Scalar `json:"wareId,omitempty"`
	SkuName    string          `json:"skuName,omitempty"`
	JdPrice    chanhttp.Scalar `json:"jdPrice"`
	ItemTotal  chanhttp.Scalar `json:"itemTotal"` // quantity
}

// Coupon is one discount on a JD order; with a skuId it belongs to that line, without one to the order.
type Coupon struct {
	SkuID       chanhttp.Scalar `json:"skuId,omitempty"`
	CouponType  string          `json:"couponType,omitempty"`
	CouponPrice chanhttp.Scalar `json:"couponPrice"`
}

// optionalFields are the fields the hub asks JD for in search and detail calls.
const optionalFields = "orderId,venderId,payType,orderTotalPrice,orderSellerPrice,orderPayment,freightPrice," +
	"sellerDiscount,balanceUsed,orderState,orderStateRemark,orderStartTime,orderEndTime,paymentConfirmTime," +
	"modified,pin,waybill,logisticsId,consigneeInfo,itemInfoList,couponDetailList"

type mapper struct {
	shop   channel.Shop
	hasher *pii.Hasher
}

func bad(format string, args ...any) error { return fault.With(chanhttp.ErrBadData, format, args...) }

// Map returns the canonical order for o.
func (m mapper) Map(o OrderInfo) (order.Order, error) {
	id := strings.TrimSpace(o.OrderID.String())
	if id == "" {
		return order.Order{}, bad("jd order without orderId")
	}
	wrap := func(err error) (order.Order, error) {
		return order.Order{}, fmt.Errorf("jd order %s: %w", chanhttp.Clip(id, 40), err)
	}
	status, err := canonicalStatus(o.OrderState, strings.TrimSpace(o.Waybill) != "")
	if err != nil {
		return wrap(err)
	}
	out := order.Order{
		Channel: order.JD, Shop: m.shop.ID, ChannelOrderID: id,
		ChannelStatus: o.OrderState, Status: status,
		Buyer: order.Buyer{Nick: strings.TrimSpace(o.Pin)},
	}
	if out.Version, err = chanhttp.ParseTime(o.Modified); err != nil {
		return wrap(err)
	}
	if out.CreatedAt, err = chanhttp.ParseTime(o.OrderStartTime); err != nil {
		return wrap(err)
	}
	if out.PaidAt, err = chanhttp.ParseTime(o.PaymentConfirmTime); err != nil {
		return wrap(err)
	}
	if out.Version.IsZero() || out.CreatedAt.IsZero() {
		return wrap(bad("modified and orderStartTime are required"))
	}
	// JD gives no ship-by deadline in the order: the shop's default applies.
	out.ShipBy = chanhttp.ShipBy(time.Time{}, out.PaidAt, m.shop.ShipByDefault)
	if out.Amounts, err = amounts(o); err != nil {
		return wrap(err)
	}
	lineDiscounts, err := couponsBySku(o.CouponDetailList)
	if err != nil {
		return wrap(err)
	}
	for i, it := range o.ItemInfoList {
		l, err := mapItem(it, lineDiscounts[strings.TrimSpace(it.SkuID.String())])
		if err != nil {
			return wrap(fmt.Errorf("item %d: %w", i, err))
		}
		out.Lines = append(out.Lines, l)
	}
	if len(out.Lines) == 0 {
		return wrap(bad("no items"))
	}
	c := o.ConsigneeInfo
	out.Receiver = chanhttp.Receiver(m.hasher, chanhttp.Contact{
		Name: c.Fullname, Phone: chanhttp.FirstNonEmpty(c.Mobile, c.Telephone),
		Province: c.Province, City: c.City, District: c.County,
		Detail: detail(c),
	})
	return out, nil
}

// detail returns the address below the county: JD writes the whole address in fullAddress.
func detail(c Consignee) string {
	d := strings.TrimSpace(c.FullAddress)
	for _, part := range []string{c.Province, c.City, c.County, c.Town} {
		if part = strings.TrimSpace(part); part != "" {
			d = strings.TrimSpace(strings.TrimPrefix(d, part))
		}
	}
	return d
}

// amounts reads the order's totals. The buyer paid orderPayment plus whatever came from the JD
// balance (a way to pay, not a discount); the discount is derived as goods + freight − paid so that
// the canonical identity holds exactly whatever mix of coupons JD applied.
func amounts(o OrderInfo) (order.Amounts, error) {
	var a order.Amounts
	var err error
	if a.Goods, err = o.OrderTotalPrice.Money(chanhttp.Currency); err != nil {
		return a, fmt.Errorf("orderTotalPrice: %w", err)
	}
	if a.Shipping, err = o.FreightPrice.Money(chanhttp.Currency); err != nil {
		return a, fmt.Errorf("freightPrice: %w", err)
	}
	payment, err := o.OrderPayment.Money(chanhttp.Currency)
	if err != nil {
		return a, fmt.Errorf("orderPayment: %w", err)
	}
	balance, err := o.BalanceUsed.Money(chanhttp.Currency)
	if err != nil {
		return a, fmt.Errorf("balanceUsed: %w", err)
	}
	if a.Paid, err = payment.Add(balance); err != nil {
		return a, err
	}
	if a.Goods.Amount < 0 || a.Shipping.Amount < 0 || payment.Amount < 0 || balance.Amount < 0 {
		return a, bad("negative amount")
	}
	a.Discount = money.New(0, chanhttp.Currency)
	if d := a.Goods.Amount + a.Shipping.Amount - a.Paid.Amount; d > 0 {
		a.Discount.Amount = d
	}
	return a, nil
}

// couponsBySku sums the discounts JD attributes to each SKU.
func couponsBySku(cs []Coupon) (map[string]money.Money, error) {
	out := map[string]money.Money{}
	for _, c := range cs {
		sku := strings.TrimSpace(c.SkuID.String())
		if sku == "" {
			continue // an order-level discount: part of the order's discount, not a line's
		}
		p, err := c.CouponPrice.Money(chanhttp.Currency)
		if err != nil {
			return nil, fmt.Errorf("couponPrice: %w", err)
		}
		if p.Amount < 0 {
			return nil, bad("negative couponPrice")
		}
		if out[sku], err = out[sku].Add(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mapItem reads one line. JD marks no gift flag on an item: an item at 0.00 is a gift (赠品).
func mapItem(it Item, discount money.Money) (order.Line, error) {
	qty, err := it.ItemTotal.Int()
	if err != nil || qty <= 0 || qty > 1_000_000 {
		return order.Line{}, bad("itemTotal must be a positive integer")
	}
	price, err := it.JdPrice.Money(chanhttp.Currency)
	if err != nil {
		return order.Line{}, fmt.Errorf("jdPrice: %w", err)
	}
	if price.Amount < 0 {
		return order.Line{}, bad("negative jdPrice")
	}
	if discount.Currency == "" {
		discount = money.New(0, chanhttp.Currency)
	}
	sku := chanhttp.FirstNonEmpty(it.SkuID.String(), it.WareID.String())
	if sku == "" {
		return order.Line{}, bad("item without skuId")
	}
	return order.Line{
		ChannelSKU: sku,
		SKU:        strings.TrimSpace(it.OuterSkuID),
		Title:      strings.TrimSpace(it.SkuName),
		Quantity:   int(qty),
		UnitPrice:  price,
		Discount:   discount,
		Gift:       price.Amount == 0,
	}, nil
}
