package hub

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"orderhub/shared/auth"
	"orderhub/shared/fault"
	"orderhub/shared/order"
	"orderhub/shared/stock"
	"orderhub/shared/store"
)

// ShipRequest confirms that an order's parcel left: from a person (POST /v1/orders/{id}/ship) or a
// warehouse's WMS or a dropship supplier (signed callback).
type ShipRequest struct {
	Carrier    string    `json:"carrier"`
	TrackingNo string    `json:"tracking_no"`
	Warehouse  string    `json:"warehouse,omitempty"` // the warehouse or supplier that shipped; default: the order's
	ShippedAt  time.Time `json:"shipped_at,omitzero"` // default: now
}

var (
	errShipInput      = fault.New(fault.Invalid, "invalid_shipment", "carrier and tracking_no are required")
	errWrongWarehouse = fault.New(fault.Conflict, "wrong_warehouse", "the order is assigned to another warehouse or supplier")
	// errShipReplay ends an Update without writing: the same shipment was confirmed before.
	errShipReplay = errors.New("shipment already recorded")
)

func (r *ShipRequest) check() error {
	r.Carrier, r.TrackingNo, r.Warehouse = strings.TrimSpace(r.Carrier), strings.TrimSpace(r.TrackingNo), strings.TrimSpace(r.Warehouse)
	for name, v := range map[string]string{"carrier": r.Carrier, "tracking_no": r.TrackingNo} {
		if v == "" {
			return fault.With(errShipInput, "%s is required", name)
		}
		if len(v) > 64 || strings.IndexFunc(v, func(c rune) bool { return unicode.IsControl(c) || unicode.IsSpace(c) }) >= 0 {
			return fault.With(errShipInput, "%s must be at most 64 characters without spaces", name)
		}
	}
	if len(r.Warehouse) > 64 {
		return fault.With(errShipInput, "warehouse must be at most 64 characters")
	}
	return nil
}

// Ship records a reserved order's shipment and moves it to shipped; the reservation is consumed
// (on hand and reserved go down) and the pipeline writes the tracking number back to the channel.
// Confirming the same tracking number again changes nothing and returns the order (a WMS retry);
// shipping an order that is not reserved is an illegal transition and changes nothing.
func (h *Hub) Ship(ctx context.Context, p auth.Principal, id string, req ShipRequest) (order.Order, error) {
	if err := req.check(); err != nil {
		return order.Order{}, err
	}
	at := h.Time()
	if req.ShippedAt.IsZero() || req.ShippedAt.After(at.Add(time.Hour)) {
		req.ShippedAt = at
	}
	updated, err := h.Orders.Update(ctx, id, func(o *order.Order) error {
		if !visible(p, o) {
			return store.ErrNotFound
		}
		for _, s := range o.Shipments {
			if s.TrackingNo == req.TrackingNo && o.Status != order.Reserved {
				return errShipReplay
			}
		}
		if err := order.CheckTransition(o.Status, order.Shipped); err != nil {
			return err
		}
		from := o.Warehouse
		if o.Supplier != "" {
			from = o.Supplier
		}
		if req.Warehouse != "" && from != "" && req.Warehouse != from {
			return fault.With(errWrongWarehouse, "the order ships from %s", from)
		}
		if req.Warehouse == "" {
			req.Warehouse = from
		}
		o.UpdatedAt = at
		o.Shipments = append(o.Shipments, order.Shipment{Carrier: req.Carrier, TrackingNo: req.TrackingNo, Warehouse: req.Warehouse, ShippedAt: req.ShippedAt.UTC()})
		return o.Transition(order.Shipped, p.Actor(), "shipped from "+req.Warehouse+" with "+req.Carrier+" "+req.TrackingNo, at)
	})
	replay := errors.Is(err, errShipReplay)
	if err != nil && !replay {
		return order.Order{}, err
	}
	// A replay repeats the effects after the write: consuming and the writeback message are
	// idempotent, and a crash between the write and them is healed by the WMS's retry.
	if err := h.consume(ctx, id); err != nil {
		return order.Order{}, err
	}
	if !replay {
		h.Log.LogAttrs(ctx, slog.LevelInfo, "order shipped", slog.String("order_id", id), slog.String("warehouse", req.Warehouse), slog.String("carrier", req.Carrier))
		if err := h.changed(ctx, updated); err != nil {
			return order.Order{}, err
		}
	} else if cur, gerr := h.Orders.Get(ctx, id); gerr == nil {
		if err := h.changed(ctx, cur); err != nil {
			return order.Order{}, err
		}
	}
	return h.Orders.Get(ctx, id)
}

// consume books the shipment against the reservation. A dropship order has no reservation.
func (h *Hub) consume(ctx context.Context, id string) error {
	if h.Stock == nil {
		return nil
	}
	_, err := h.Stock.Consume(ctx, id)
	switch {
	case err == nil, errors.Is(err, stock.ErrNoReservation):
		return nil
	case errors.Is(err, stock.ErrState):
		// Released meanwhile (an order held or cancelled after it left): the stock is not ours to book.
		h.Log.WarnContext(ctx, "shipped order has no active reservation", slog.String("order_id", id))
		return nil
	}
	return err
}
