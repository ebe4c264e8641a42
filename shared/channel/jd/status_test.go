package jd

import (
	"errors"
	"testing"

	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/order"
)

func TestEveryDocumentedStateIsMapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state   string
		shipped bool
		want    order.Status
	}{
		{"WAIT_SELLER_STOCK_OUT", false, order.Paid},
		{"WAIT_SELLER_DELIVERY", false, order.Paid},
		{"WAIT_SEND_CODE", false, order.Paid},
		{"PAUSE", false, order.Paid},
		{"POP_ORDER_PAUSE", false, order.Paid},
		{"LOCKED", false, order.Paid},
		{"WAIT_GOODS_RECEIVE_CONFIRM", true, order.Shipped},
		{"FINISHED_L", true, order.Completed},
		{"TRADE_CANCELED", false, order.Cancelled},
		{"TRADE_CANCELED", true, order.Refunded},
		{"DELIVERY_RETURN", true, order.DeliveryException},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.state] = true
		if got, err := canonicalStatus(tt.state, tt.shipped); err != nil || got != tt.want {
			t.Errorf("%s shipped=%v: got %q, %v; want %q", tt.state, tt.shipped, got, err, tt.want)
		}
	}
	for s := range orderStates {
		if !covered[s] {
			t.Errorf("state %s has no row in this table", s)
		}
	}
	for _, unknown := range []string{"", "UN_KNOWN", "finished_l", "NOT_A_STATE"} {
		if _, err := canonicalStatus(unknown, false); !errors.Is(err, chanhttp.ErrUnknownStatus) {
			t.Errorf("state %q: err = %v, want ErrUnknownStatus", unknown, err)
		}
	}
}
