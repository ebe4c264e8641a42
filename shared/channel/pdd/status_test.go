package pdd

import (
	"errors"
	"testing"

	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/order"
)

// TestEveryDocumentedStatusIsMapped lists every combination of the three documented numbers.
func TestEveryDocumentedStatusIsMapped(t *testing.T) {
	t.Parallel()
	const (
		pending   = order.PendingPayment
		paid      = order.Paid
		sent      = order.Shipped
		delivered = order.Delivered
		after     = order.AfterSale
		refundedS = order.Refunded
		cancelled = order.Cancelled
	)
	// want[confirm][order_status-1][refund_status-1]
	want := [3][3][4]order.Status{
		{ // 0 未成交
			{pending, pending, pending, cancelled}, // 待发货
			{pending, pending, pending, refundedS}, // 已发货待签收
			{pending, pending, pending, refundedS}, // 已签收
		},
		{ // 1 已成交
			{paid, paid, paid, cancelled},
			{sent, after, after, refundedS},
			{delivered, after, after, refundedS},
		},
		{ // 2 已取消
			{cancelled, cancelled, cancelled, cancelled},
			{refundedS, refundedS, refundedS, refundedS},
			{refundedS, refundedS, refundedS, refundedS},
		},
	}
	for confirm := range 3 {
		for status := 1; status <= 3; status++ {
			for refund := 1; refund <= 4; refund++ {
				got, err := canonicalStatus(int64(confirm), int64(status), int64(refund))
				if w := want[confirm][status-1][refund-1]; err != nil || got != w {
					t.Errorf("%s: got %q, %v; want %q", channelStatus(int64(confirm), int64(status), int64(refund)), got, err, w)
				}
			}
		}
	}
	for _, bad := range [][3]int64{{3, 1, 1}, {-1, 1, 1}, {1, 0, 1}, {1, 4, 1}, {1, 5, 1}, {1, 1, 0}, {1, 1, 5}} {
		if _, err := canonicalStatus(bad[0], bad[1], bad[2]); !errors.Is(err, chanhttp.ErrUnknownStatus) {
			t.Errorf("%v: err = %v, want ErrUnknownStatus", bad, err)
		}
	}
}
