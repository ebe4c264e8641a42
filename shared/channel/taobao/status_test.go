package taobao

import (
	"errors"
	"testing"

	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/order"
)

func TestEveryDocumentedStatusIsMapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    string
		consigned bool
		refunds   []string
		want      order.Status
	}{
		{"TRADE_NO_CREATE_PAY", false, nil, order.PendingPayment},
		{"WAIT_BUYER_PAY", false, nil, order.PendingPayment},
		{"PAY_PENDING", false, nil, order.PendingPayment},
		{"WAIT_PRE_AUTH_CONFIRM", false, nil, order.PendingPayment},
		{"WAIT_SELLER_SEND_GOODS", false, []string{"NO_REFUND"}, order.Paid},
		{"WAIT_SELLER_SEND_GOODS", false, []string{"WAIT_SELLER_AGREE"}, order.Paid}, // refund before shipment: still paid until it closes
		{"SELLER_CONSIGNED_PART", true, nil, order.Paid},
		{"PAID_FORBID_CONSIGN", false, nil, order.Paid},
		{"WAIT_BUYER_CONFIRM_GOODS", true, []string{"NO_REFUND"}, order.Shipped},
		{"WAIT_BUYER_CONFIRM_GOODS", true, []string{"NO_REFUND", "WAIT_SELLER_AGREE"}, order.AfterSale},
		{"WAIT_BUYER_CONFIRM_GOODS", true, []string{"WAIT_BUYER_RETURN_GOODS"}, order.AfterSale},
		{"WAIT_BUYER_CONFIRM_GOODS", true, []string{"WAIT_SELLER_CONFIRM_GOODS"}, order.AfterSale},
		{"WAIT_BUYER_CONFIRM_GOODS", true, []string{"SELLER_REFUSE_BUYER"}, order.AfterSale},
		{"WAIT_BUYER_CONFIRM_GOODS", true, []string{"CLOSED"}, order.Shipped},
		{"TRADE_BUYER_SIGNED", true, nil, order.Delivered},
		{"TRADE_FINISHED", true, []string{"SUCCESS", "NO_REFUND"}, order.Completed},
		{"TRADE_FINISHED", true, []string{"WAIT_SELLER_AGREE"}, order.AfterSale},
		{"TRADE_CLOSED", false, []string{"SUCCESS"}, order.Cancelled},
		{"TRADE_CLOSED", true, []string{"SUCCESS"}, order.Refunded},
		{"TRADE_CLOSED_BY_TAOBAO", false, nil, order.Cancelled},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.status] = true
		got, err := canonicalStatus(tt.status, tt.consigned, tt.refunds)
		if err != nil || got != tt.want {
			t.Errorf("%s consigned=%v refunds=%v: got %q, %v; want %q", tt.status, tt.consigned, tt.refunds, got, err, tt.want)
		}
	}
	for s := range tradeStatuses {
		if !covered[s] {
			t.Errorf("status %s has no row in this table", s)
		}
	}
	for _, unknown := range []string{"", "TRADE_WHATEVER", "wait_buyer_pay"} {
		if _, err := canonicalStatus(unknown, false, nil); !errors.Is(err, chanhttp.ErrUnknownStatus) {
			t.Errorf("status %q: err = %v, want ErrUnknownStatus", unknown, err)
		}
	}
	if _, err := canonicalStatus("TRADE_FINISHED", true, []string{"REFUND_SOMETHING_NEW"}); !errors.Is(err, chanhttp.ErrUnknownStatus) {
		t.Errorf("unknown refund status: err = %v", err)
	}
}
