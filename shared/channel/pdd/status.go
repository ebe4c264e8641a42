package pdd

import (
	"fmt"

	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// Pinduoduo describes an order with three numbers, each documented for the order APIs:
//
//	confirm_status 成交状态: 0 未成交, 1 已成交, 2 已取消
//	order_status   发货状态: 1 待发货, 2 已发货待签收, 3 已签收
//	refund_status  售后状态: 1 无售后或售后关闭, 2 售后处理中, 3 退款中, 4 退款成功
const (
	confirmNone, confirmDone, confirmCancelled  = 0, 1, 2
	waitShip, shipped, received                 = 1, 2, 3
	refundNone, refundOpen, refunding, refunded = 1, 2, 3, 4
)

// channelStatus renders the three numbers as the order's ChannelStatus.
func channelStatus(confirm, status, refund int64) string {
	return fmt.Sprintf("confirm_status=%d order_status=%d refund_status=%d", confirm, status, refund)
}

// canonicalStatus returns the canonical status for the three numbers; a value outside the
// documented sets is an error, never a guess.
func canonicalStatus(confirm, status, refund int64) (order.Status, error) {
	if confirm < confirmNone || confirm > confirmCancelled || status < waitShip || status > received || refund < refundNone || refund > refunded {
		return "", fault.With(chanhttp.ErrUnknownStatus, "pdd %s", channelStatus(confirm, status, refund))
	}
	left := status != waitShip // the parcel left the warehouse
	switch {
	case confirm == confirmCancelled || refund == refunded:
		if left {
			return order.Refunded, nil // money back after shipment
		}
		return order.Cancelled, nil // closed before shipment (group failed, buyer cancelled, refunded)
	case confirm == confirmNone:
		// 未成交: a group order that is not yet formed. Nothing may ship until it is.
		return order.PendingPayment, nil
	case !left:
		// A refund asked for before shipment leaves the order paid: it closes (refund_status 4) if the
		// refund goes through, and ships if it is refused.
		return order.Paid, nil
	case refund == refundOpen || refund == refunding:
		return order.AfterSale, nil
	case status == shipped:
		return order.Shipped, nil
	}
	return order.Delivered, nil
}
