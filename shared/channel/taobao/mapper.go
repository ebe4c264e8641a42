package taobao

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

// Trade is a TOP trade as taobao.trades.sold.increment.get and taobao.trade.fullinfo.get return it
// (the fields the hub asks for). Amounts are yuan strings such as "12.30"; times are Beijing wall time.
type Trade struct {
	Tid         chanhttp.Number `json:"tid"`
	TidStr      string          `json:"tid_str,omitempty"`
	Status      string          `json:"status"`
	Type        string          `json:"type,omitempty"`
	BuyerNick   string          `json:"buyer_nick,omitempty"`
	Created     string          `json:"created,omitempty"`
	PayTime     string          `json:"pay_time,omitempty"`
	Modified    string          `json:"modified"`
	ConsignTime string          `json:"consign_time,omitempty"`
	EndTime     string          `json:"end_time,omitempty"`
	TotalFee    chanhttp.Scalar `json:"total_fee"`    // goods: Σ price × num, before discounts, without postage
	PostFee     chanhttp.Scalar `json:"post_fee"`     // postage
	DiscountFee chanhttp.Scalar `json:"discount_fee"` // shop-level discount
	Payment     chanhttp.Scalar `json:"payment"`      // what the buyer pays

	ReceiverName     string `json:"receiver_name,omitempty"`
	ReceiverMobile   string `json:"receiver_mobile,omitempty"`
	ReceiverPhone    string `json:"receiver_phone,omitempty"`
	ReceiverCountry  string `json:"receiver_country,omitempty"`
	ReceiverState    string `json:"receiver_state,omitempty"` // province
	ReceiverCity     string `json:"receiver_city,omitempty"`
	ReceiverDistrict string `json:"receiver_district,omitempty"`
	ReceiverTown     string `json:"receiver_town,omitempty"`
	ReceiverAddress  string `json:"receiver_address,omitempty"` // below the district
	ReceiverZip      string `json:"receiver_zip,omitempty"`
	OAID             string `json:"oaid,omitempty"` // the receiver token TOP decrypts for waybills

	Orders struct {
		Order []Order `json:"order"`
	} `json:"orders"`
}

// Order is one line (子订单) of a TOP trade.
type Order struct {
	Oid              chanhttp.Number `json:"oid"`
	NumIid           chanhttp.Number `json:"num_iid"`
	SkuID            string          `json:"sku_id,omitempty"`
	OuterIid         string          `json:"outer_iid,omitempty"`    // the seller's item code
	OuterSkuID       string          `json:"outer_sku_id,omitempty"` // the seller's SKU code
	Title            string          `json:"title,omitempty"`
	Price            chanhttp.Scalar `json:"price"`
	Num              chanhttp.Number `json:"num"`
	TotalFee         chanhttp.Scalar `json:"total_fee,omitempty"`
	Payment          chanhttp.Scalar `json:"payment,omitempty"` // what the buyer pays for the line
	DiscountFee      chanhttp.Scalar `json:"discount_fee,omitempty"`
	Status           string          `json:"status,omitempty"`
	RefundStatus     string          `json:"refund_status,omitempty"`
	InvoiceNo        string          `json:"invoice_no,omitempty"` // tracking number once consigned
	LogisticsCompany string          `json:"logistics_company,omitempty"`
}

// tradeFields are the fields the hub asks TOP for in list and detail calls.
const tradeFields = "tid,tid_str,status,type,buyer_nick,created,pay_time,modified,consign_time,end_time," +
	"total_fee,post_fee,discount_fee,payment,receiver_name,receiver_mobile,receiver_phone,receiver_country," +
	"receiver_state,receiver_city,receiver_district,receiver_town,receiver_address,receiver_zip,oaid," +
	"orders.oid,orders.num_iid,orders.sku_id,orders.outer_iid,orders.outer_sku_id,orders.title,orders.price," +
	"orders.num,orders.total_fee,orders.payment,orders.discount_fee,orders.status,orders.refund_status," +
	"orders.invoice_no,orders.logistics_company"

// ID returns the trade id as text: tid_str when TOP sends it, else the exact digits of tid.
func (t *Trade) ID() string {
	if s := strings.TrimSpace(t.TidStr); s != "" {
		return s
	}
	return strings.TrimSpace(t.Tid.String())
}

// mapper turns trades into canonical orders for one shop.
type mapper struct {
	shop   channel.Shop
	hasher *pii.Hasher
}

func bad(format string, args ...any) error { return fault.With(chanhttp.ErrBadData, format, args...) }

// Map returns the canonical order for t.
func (m mapper) Map(t Trade) (order.Order, error) {
	id := t.ID()
	if id == "" {
		return order.Order{}, bad("taobao trade without tid")
	}
	wrap := func(err error) (order.Order, error) {
		return order.Order{}, fmt.Errorf("taobao trade %s: %w", chanhttp.Clip(id, 40), err)
	}
	refunds := make([]string, 0, len(t.Orders.Order))
	for _, l := range t.Orders.Order {
		refunds = append(refunds, l.RefundStatus)
	}
	consigned, err := chanhttp.ParseTime(t.ConsignTime)
	if err != nil {
		return wrap(err)
	}
	status, err := canonicalStatus(t.Status, !consigned.IsZero(), refunds)
	if err != nil {
		return wrap(err)
	}
	o := order.Order{
		Channel:        order.Taobao,
		Shop:           m.shop.ID,
		ChannelOrderID: id,
		ChannelStatus:  t.Status,
		Status:         status,
		Buyer:          order.Buyer{Nick: strings.TrimSpace(t.BuyerNick)},
	}
	if o.Version, err = chanhttp.ParseTime(t.Modified); err != nil {
		return wrap(err)
	}
	if o.CreatedAt, err = chanhttp.ParseTime(t.Created); err != nil {
		return wrap(err)
	}
	if o.PaidAt, err = chanhttp.ParseTime(t.PayTime); err != nil {
		return wrap(err)
	}
	if o.Version.IsZero() || o.CreatedAt.IsZero() {
		return wrap(bad("modified and created are required"))
	}
	// TOP gives no ship-by deadline for ordinary trades: the shop's default applies.
	o.ShipBy = chanhttp.ShipBy(time.Time{}, o.PaidAt, m.shop.ShipByDefault)
	if o.Amounts, err = amounts(t); err != nil {
		return wrap(err)
	}
	for i, l := range t.Orders.Order {
		line, err := mapLine(l)
		if err != nil {
			return wrap(fmt.Errorf("line %d: %w", i, err))
		}
		o.Lines = append(o.Lines, line)
	}
	if len(o.Lines) == 0 {
		return wrap(bad("no order lines"))
	}
	phone := t.ReceiverMobile
	if strings.TrimSpace(phone) == "" {
		phone = t.ReceiverPhone
	}
	o.Receiver = chanhttp.Receiver(m.hasher, chanhttp.Contact{
		Name: t.ReceiverName, Phone: phone,
		Country: t.ReceiverCountry, Province: t.ReceiverState, City: t.ReceiverCity, District: t.ReceiverDistrict,
		Detail: t.ReceiverAddress, Token: t.OAID,
	})
	return o, nil
}

// amounts reads the trade's totals. Paid is what the buyer pays; the discount is derived as
// goods + postage − paid, because TOP's discount_fee leaves out line-level promotions and price
// adjustments, and the canonical identity paid = goods + shipping − discount must hold exactly.
func amounts(t Trade) (order.Amounts, error) {
	var a order.Amounts
	var err error
	if a.Goods, err = t.TotalFee.Money(chanhttp.Currency); err != nil {
		return a, fmt.Errorf("total_fee: %w", err)
	}
	if a.Shipping, err = t.PostFee.Money(chanhttp.Currency); err != nil {
		return a, fmt.Errorf("post_fee: %w", err)
	}
	if a.Paid, err = t.Payment.Money(chanhttp.Currency); err != nil {
		return a, fmt.Errorf("payment: %w", err)
	}
	if a.Goods.Amount < 0 || a.Shipping.Amount < 0 || a.Paid.Amount < 0 {
		return a, bad("negative amount")
	}
	a.Discount = money.New(0, chanhttp.Currency)
	if d := a.Goods.Amount + a.Shipping.Amount - a.Paid.Amount; d > 0 {
		a.Discount.Amount = d
	}
	return a, nil
}

// mapLine reads one trade line. TOP marks no gift flag on a line: a line sold at 0.00 is a gift
// (赠品), which is how gift promotions appear in a trade. The line discount is what the buyer does
// not pay of price × num.
func mapLine(l Order) (order.Line, error) {
	qty, err := l.Num.Int()
	if err != nil || qty <= 0 || qty > 1_000_000 {
		return order.Line{}, bad("num must be a positive integer")
	}
	price, err := l.Price.Money(chanhttp.Currency)
	if err != nil {
		return order.Line{}, fmt.Errorf("price: %w", err)
	}
	if price.Amount < 0 {
		return order.Line{}, bad("negative price")
	}
	gross, err := price.Mul(qty)
	if err != nil {
		return order.Line{}, err
	}
	paid := l.Payment
	if paid == "" {
		paid = l.TotalFee
	}
	line := order.Line{
		ChannelSKU: chanhttp.FirstNonEmpty(l.SkuID, l.NumIid.String()),
		SKU:        chanhttp.FirstNonEmpty(l.OuterSkuID, l.OuterIid),
		Title:      strings.TrimSpace(l.Title),
		Quantity:   int(qty),
		UnitPrice:  price,
		Discount:   money.New(0, chanhttp.Currency),
		Gift:       price.Amount == 0,
	}
	if paid != "" {
		p, err := paid.Money(chanhttp.Currency)
		if err != nil {
			return order.Line{}, fmt.Errorf("payment: %w", err)
		}
		if d := gross.Amount - p.Amount; d > 0 {
			line.Discount.Amount = d
		}
	}
	return line, nil
}
