package order

import (
	"fmt"
	"slices"

	"orderhub/shared/fault"
)

// Status is an order's canonical lifecycle state, the same for every channel.
type Status string

// Lifecycle states. The hub moves an order forward through paid → routed → reserved → shipped;
// the platforms (and carriers) report payment, cancellation, delivery, completion and after-sales.
const (
	PendingPayment    Status = "pending_payment"    // placed, not yet paid: nothing to do yet
	Paid              Status = "paid"               // paid: waits for the router (also where a released hold returns)
	Held              Status = "held"               // stopped for a person or a rule; see the order's holds
	Routed            Status = "routed"             // a warehouse or supplier is assigned
	Reserved          Status = "reserved"           // stock is reserved for every line; outbound may start
	Shipped           Status = "shipped"            // handed to a carrier with a tracking number
	InTransit         Status = "in_transit"         // the carrier has scanned it on its way
	DeliveryException Status = "delivery_exception" // the carrier reports a problem (lost, refused, returned)
	Delivered         Status = "delivered"          // signed for
	Completed         Status = "completed"          // the platform closed the trade successfully
	Cancelled         Status = "cancelled"          // closed before shipment (unpaid, refunded before shipping)
	AfterSale         Status = "after_sale"         // the buyer asked for a return or refund after shipment
	Returning         Status = "returning"          // the return is approved and on its way back / being checked
	Refunded          Status = "refunded"           // money went back to the buyer; the trade is closed
)

// transitions is the lifecycle: every allowed move, and nothing else.
var transitions = map[Status][]Status{
	PendingPayment:    {Paid, Cancelled},
	Paid:              {Held, Routed, Cancelled},
	Held:              {Paid, Cancelled}, // release sends an order back to routing
	Routed:            {Reserved, Held, Cancelled},
	Reserved:          {Shipped, Held, Cancelled}, // a hold or cancel here releases the reservation
	Shipped:           {InTransit, Delivered, DeliveryException, AfterSale, Completed},
	InTransit:         {Delivered, DeliveryException, AfterSale, Completed},
	DeliveryException: {InTransit, Delivered, AfterSale},
	Delivered:         {Completed, AfterSale},
	Completed:         {AfterSale},
	AfterSale:         {Returning, Refunded, Completed}, // completed: the request was rejected or withdrawn
	Returning:         {Refunded, Completed},            // completed: non-quality verdict, goods go back
	Refunded:          nil,
	Cancelled:         nil,
}

// Statuses lists every status in lifecycle order.
func Statuses() []Status {
	return []Status{PendingPayment, Paid, Held, Routed, Reserved, Shipped, InTransit, DeliveryException,
		Delivered, Completed, Cancelled, AfterSale, Returning, Refunded}
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Terminal reports whether no transition leaves s.
func (s Status) Terminal() bool { return s.Valid() && len(transitions[s]) == 0 }

// Next returns the statuses an order in s may move to.
func (s Status) Next() []Status { return slices.Clone(transitions[s]) }

// CanTransition reports whether the lifecycle allows from → to.
func CanTransition(from, to Status) bool {
	return slices.Contains(transitions[from], to)
}

// ErrIllegalTransition is returned for a move the lifecycle does not allow; nothing changes.
var ErrIllegalTransition = fault.New(fault.Conflict, "illegal_transition", "illegal status transition")

// ErrUnknownStatus is returned for a status that is not part of the lifecycle.
var ErrUnknownStatus = fault.New(fault.Invalid, "unknown_status", "unknown status")

// CheckTransition returns nil when from → to is allowed, and a client-safe error otherwise.
func CheckTransition(from, to Status) error {
	if !from.Valid() {
		return fault.With(ErrUnknownStatus, "%q", string(from))
	}
	if !to.Valid() {
		return fault.With(ErrUnknownStatus, "%q", string(to))
	}
	if !CanTransition(from, to) {
		return fault.With(ErrIllegalTransition, "%s → %s", from, to)
	}
	return nil
}

// ParseStatus returns the status named s.
func ParseStatus(s string) (Status, error) {
	st := Status(s)
	if !st.Valid() {
		return "", fault.With(ErrUnknownStatus, "%q", s)
	}
	return st, nil
}

// Stage groups statuses into the fulfilment stages shown on the board and in /v1/stats.
func (s Status) Stage() string {
	switch s {
	case PendingPayment:
		return "awaiting_payment"
	case Paid, Routed:
		return "to_route"
	case Held:
		return "held"
	case Reserved:
		return "to_ship"
	case Shipped, InTransit, DeliveryException:
		return "in_delivery"
	case Delivered, Completed:
		return "done"
	case AfterSale, Returning, Refunded:
		return "after_sale"
	case Cancelled:
		return "cancelled"
	}
	return fmt.Sprintf("unknown(%s)", string(s))
}
