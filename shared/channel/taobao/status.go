package taobao

import (
	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// tradeStatuses maps every trade status TOP documents for Trade.status to the canonical status the
// trade has before refunds are considered.
var tradeStatuses = map[string]order.Status{
	"TRADE_NO_CREATE_PAY":    order.PendingPayment, // 没有创建支付宝交易
	"WAIT_BUYER_PAY":         order.PendingPayment, // 等待买家付款
	"PAY_PENDING":            order.PendingPayment, // 国际信用卡支付付款确认中: not paid until confirmed
	"WAIT_PRE_AUTH_CONFIRM":  order.PendingPayment, // 0元购合约中: nothing is charged yet
	"WAIT_SELLER_SEND_GOODS": order.Paid,           // 等待卖家发货
	// 卖家部分发货: some lines are still to ship, so the hub still has work to do; the lines already
	// sent are visible in the trade, and the canonical order has no per-line shipped flag.
	"SELLER_CONSIGNED_PART": order.Paid,
	// 已付款但禁止发货 (拼团中, 发货强管控): paid, and the platform forbids shipping for now. The canonical
	// statuses have no "paid but blocked" state the platform may set (held belongs to the hub), so
	// it is paid and ChannelStatus tells rules and people why it must wait.
	"PAID_FORBID_CONSIGN":      order.Paid,
	"WAIT_BUYER_CONFIRM_GOODS": order.Shipped,   // 等待买家确认收货,即卖家已发货
	"TRADE_BUYER_SIGNED":       order.Delivered, // 买家已签收 (货到付款专用)
	"TRADE_FINISHED":           order.Completed, // 交易成功
	// 付款以后用户退款成功，交易自动关闭: cancelled when it never shipped, refunded when it had.
	"TRADE_CLOSED":           order.Cancelled,
	"TRADE_CLOSED_BY_TAOBAO": order.Cancelled, // 付款以前，卖家或买家主动关闭交易
}

// refundOpen lists the order-line refund states (Order.refund_status) of a request still open;
// refundKnown lists every documented state.
var (
	refundOpen = map[string]bool{
		"WAIT_SELLER_AGREE":         true, // 买家已经申请退款，等待卖家同意
		"WAIT_BUYER_RETURN_GOODS":   true, // 卖家已经同意退款，等待买家退货
		"WAIT_SELLER_CONFIRM_GOODS": true, // 买家已经退货，等待卖家确认收货
		"SELLER_REFUSE_BUYER":       true, // 卖家拒绝退款: the buyer may still escalate
	}
	refundKnown = map[string]bool{
		"": true, "NO_REFUND": true, "CLOSED": true, "SUCCESS": true,
		"WAIT_SELLER_AGREE": true, "WAIT_BUYER_RETURN_GOODS": true, "WAIT_SELLER_CONFIRM_GOODS": true, "SELLER_REFUSE_BUYER": true,
	}
)

// canonicalStatus returns the canonical status of a trade with the given status, whether it was
// ever consigned, and its lines' refund states. An undocumented status is an error, never a guess.
func canonicalStatus(status string, consigned bool, refunds []string) (order.Status, error) {
	base, ok := tradeStatuses[status]
	if !ok {
		return "", fault.With(chanhttp.ErrUnknownStatus, "taobao trade status %q", chanhttp.Clip(status, 40))
	}
	open := false
	for _, r := range refunds {
		if !refundKnown[r] {
			return "", fault.With(chanhttp.ErrUnknownStatus, "taobao refund status %q", chanhttp.Clip(r, 40))
		}
		open = open || refundOpen[r]
	}
	switch {
	case status == "TRADE_CLOSED" && consigned:
		return order.Refunded, nil
	case open && (base == order.Shipped || base == order.Delivered || base == order.Completed):
		// A refund asked for after shipment is after-sales; before shipment the trade stays paid and
		// closes (TRADE_CLOSED) if the refund goes through.
		return order.AfterSale, nil
	}
	return base, nil
}
