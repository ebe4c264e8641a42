package order

import (
	"slices"
	"strings"
	"time"

	"orderhub/shared/fault"
)

// Transition moves the order to status to, recording who did it and why on the timeline.
// An illegal move returns ErrIllegalTransition and leaves the order unchanged.
func (o *Order) Transition(to Status, actor, reason string, at time.Time) error {
	if err := CheckTransition(o.Status, to); err != nil {
		return err
	}
	o.Timeline = append(o.Timeline, Event{At: at, Actor: actor, Kind: "status", From: o.Status, To: to, Reason: reason})
	o.setStatus(to)
	return nil
}

// setStatus moves the order to to; leaving held drops the holds, which no longer apply.
func (o *Order) setStatus(to Status) {
	if o.Status == Held && to != Held {
		o.Holds = nil
	}
	o.Status = to
}

// ErrReasonRequired is returned when a hold or release has no reason.
var ErrReasonRequired = fault.New(fault.Invalid, "reason_required", "a reason is required")

// ErrNotHeld is returned when releasing an order that is not held (or lacks the hold named).
var ErrNotHeld = fault.New(fault.Conflict, "not_held", "the order is not held")

// Hold stops an order for the given reason code. An order that is already held collects the extra
// reason without a new transition, so that releasing one reason does not release the others.
func (o *Order) Hold(h Hold) error {
	h.Code = strings.TrimSpace(h.Code)
	if h.Code == "" {
		return fault.With(ErrReasonRequired, "hold needs a code")
	}
	if o.Status != Held {
		if err := CheckTransition(o.Status, Held); err != nil {
			return err
		}
	}
	for _, existing := range o.Holds {
		if existing.Code == h.Code {
			return nil // the same reason twice is one hold: redelivered rules and double clicks are harmless
		}
	}
	ev := Event{At: h.At, Actor: h.By, Kind: "hold", From: o.Status, To: Held, Reason: h.Code + noteSuffix(h.Note), Rule: h.Rule}
	o.Holds = append(o.Holds, h)
	o.Status = Held
	o.Timeline = append(o.Timeline, ev)
	return nil
}

// Release removes the hold with code (or every hold when code is empty). When no hold remains the
// order goes back to paid, where routing picks it up again. The released codes are waived: a
// person decided, so the rule that held the order must not hold it again for the same reason.
func (o *Order) Release(code, by, note string, at time.Time) error {
	if strings.TrimSpace(note) == "" {
		return fault.With(ErrReasonRequired, "release needs a reason")
	}
	if o.Status != Held {
		return fault.With(ErrNotHeld, "status is %s", o.Status)
	}
	kept := o.Holds[:0:0]
	removed := []string{}
	for _, h := range o.Holds {
		if code == "" || h.Code == code {
			removed = append(removed, h.Code)
			continue
		}
		kept = append(kept, h)
	}
	if len(removed) == 0 {
		return fault.With(ErrNotHeld, "no hold %q", code)
	}
	o.Holds = kept
	for _, c := range removed {
		if !slices.Contains(o.Waived, c) {
			o.Waived = append(o.Waived, c)
		}
	}
	ev := Event{At: at, Actor: by, Kind: "release", From: Held, To: Held, Reason: strings.Join(removed, ",") + noteSuffix(note)}
	if len(kept) == 0 {
		ev.To = Paid
		o.Status = Paid
	}
	o.Timeline = append(o.Timeline, ev)
	return nil
}

func noteSuffix(note string) string {
	if note = strings.TrimSpace(note); note != "" {
		return ": " + note
	}
	return ""
}

// MergeResult says what Merge did.
type MergeResult string

// Merge outcomes.
const (
	Created   MergeResult = "created"   // no order was stored under the key
	Updated   MergeResult = "updated"   // the incoming version is newer and replaced the platform's fields
	Duplicate MergeResult = "duplicate" // same version as stored: nothing changes
	Stale     MergeResult = "stale"     // older than stored: nothing changes
)

// Merge combines a stored order (nil when none) with an incoming platform version of the same key.
// The platform owns what it reports (raw status, times, buyer, receiver, lines, amounts); the hub
// owns what it decided (id, tags, holds, assignment, shipments). A newer platform status is applied
// only when the lifecycle allows it and it is news the platform is the source of (payment,
// cancellation, delivery, completion, after-sales); otherwise the hub keeps its status and records
// the disagreement on the timeline. Equal or older versions change nothing.
func Merge(stored *Order, incoming Order, actor string, now time.Time) (Order, MergeResult, error) {
	if err := incoming.Validate(); err != nil {
		return Order{}, "", err
	}
	if hubOwned(incoming.Status) {
		return Order{}, "", fault.With(ErrInvalidOrder, "status %s is decided by the hub, not reported by a channel", incoming.Status)
	}
	if stored == nil {
		o := incoming
		o.ID = NewID(o.CreatedAt) // the hub names its orders; an incoming id is never trusted
		o.Rev, o.UpdatedAt, o.Timeline = 0, now, nil
		o.Holds, o.Tags, o.Shipments, o.Waived = nil, nil, nil, nil
		o.Warehouse, o.Supplier = "", ""
		o.Timeline = []Event{{At: now, Actor: actor, Kind: "ingested", To: o.Status, Reason: "version " + o.Version.UTC().Format(time.RFC3339Nano)}}
		return o, Created, nil
	}
	if stored.Key() != incoming.Key() {
		return Order{}, "", fault.With(ErrInvalidOrder, "merging %s into %s", incoming.Key(), stored.Key())
	}
	switch {
	case incoming.Version.Equal(stored.Version):
		return *stored, Duplicate, nil
	case incoming.Version.Before(stored.Version):
		return *stored, Stale, nil
	}
	o := *stored
	o.Timeline = nil // only new events are returned; stores append them
	o.ChannelStatus = incoming.ChannelStatus
	o.Version = incoming.Version
	o.CreatedAt, o.PaidAt, o.ShipBy = incoming.CreatedAt, incoming.PaidAt, incoming.ShipBy
	o.Buyer, o.Receiver, o.Lines, o.Amounts = incoming.Buyer, incoming.Receiver, incoming.Lines, incoming.Amounts
	o.UpdatedAt = now
	o.Timeline = append(o.Timeline, Event{At: now, Actor: actor, Kind: "updated",
		Reason: "version " + stored.Version.UTC().Format(time.RFC3339Nano) + " → " + incoming.Version.UTC().Format(time.RFC3339Nano) + ", platform status " + incoming.ChannelStatus})
	if incoming.Status != o.Status {
		if platformMay(o.Status, incoming.Status) {
			o.Timeline = append(o.Timeline, Event{At: now, Actor: actor, Kind: "status", From: o.Status, To: incoming.Status, Reason: "platform status " + incoming.ChannelStatus})
			o.setStatus(incoming.Status)
		} else if !platformBehind(o.Status, incoming.Status) {
			o.Timeline = append(o.Timeline, Event{At: now, Actor: actor, Kind: "status_conflict", From: o.Status, To: incoming.Status,
				Reason: "platform reports " + string(incoming.Status) + " (" + incoming.ChannelStatus + "); the hub keeps " + string(o.Status)})
		}
	}
	return o, Updated, nil
}

// platformMay reports whether a platform's report may move an order from → to. The hub alone
// decides holds, routing and reservations, and a platform's "paid" never releases a hold.
func platformMay(from, to Status) bool {
	switch {
	case hubOwned(to):
		return false
	case to == Paid:
		return from == PendingPayment
	}
	return CanTransition(from, to)
}

// hubOwned reports whether only the hub may put an order in s.
func hubOwned(s Status) bool { return s == Held || s == Routed || s == Reserved }

// platformBehind reports whether the platform's status is simply behind the hub's (it still says
// "paid" while the hub has routed and reserved): that is expected, not a conflict worth recording.
func platformBehind(hub, platform Status) bool {
	return platform == Paid && (hub == Held || hub == Routed || hub == Reserved)
}
