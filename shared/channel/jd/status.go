package jd

import (
	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// orderStates maps every order state JD documents for jingdong.pop.order.search/get (orderState)
// to the canonical status.
var orderStates = map[string]order.Status{
	"WAIT_SELLER_STOCK_OUT": order.Paid, // 等待出库
	"WAIT_SELLER_DELIVERY":  order.Paid, // 等待发货 (海外购: 等待境内发货)
	"WAIT_SEND_CODE":        order.Paid, // 等待发码 (LOC 订单): paid, the code is the "shipment"
	// 暂停 / POP暂停 / 已锁定: paid, and JD forbids shipping for now (a cancel request, risk review,
	// a paused business line). The canonical statuses have no platform-set "paid but blocked" state
	// (held belongs to the hub), so they are paid and ChannelStatus tells rules and people why.
	"PAUSE":                      order.Paid,
	"POP_ORDER_PAUSE":            order.Paid,
	"LOCKED":                     order.Paid,
	"WAIT_GOODS_RECEIVE_CONFIRM": order.Shipped,   // 等待确认收货
	"FINISHED_L":                 order.Completed, // 完成
	"TRADE_CANCELED":             order.Cancelled, // 取消: refunded instead when it had shipped
	// 配送退货: the parcel came back during delivery (refused or undeliverable). Seen in ERP mappings of
	// JD states rather than in the pop.order.search parameter list.
	"DELIVERY_RETURN": order.DeliveryException,
}

// canonicalStatus returns the canonical status of a JD order in state, shipped telling whether it
// left the warehouse (it has a waybill). An undocumented state is an error, never a guess; JD's own
// "UN_KNOWN" is one too.
func canonicalStatus(state string, shipped bool) (order.Status, error) {
	s, ok := orderStates[state]
	if !ok {
		return "", fault.With(chanhttp.ErrUnknownStatus, "jd order state %q", chanhttp.Clip(state, 40))
	}
	if state == "TRADE_CANCELED" && shipped {
		return order.Refunded, nil // cancelled after shipment: refused on delivery, money returned
	}
	return s, nil
}
