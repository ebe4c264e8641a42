package hub

import (
	"context"
	"strings"

	"orderhub/shared/auth"
	"orderhub/shared/fault"
	"orderhub/shared/queue"
	"orderhub/shared/stock"
)

var errStockReason = fault.New(fault.Invalid, "reason_required", "a stock change needs a reason, for the audit")

// SetOnHand records a stock count. Every change is audited with who and why.
func (h *Hub) SetOnHand(ctx context.Context, p auth.Principal, sku, warehouse string, qty int64, reason string) (stock.Item, error) {
	if strings.TrimSpace(reason) == "" {
		return stock.Item{}, errStockReason
	}
	return h.Stock.SetOnHand(ctx, sku, warehouse, qty, p.Actor(), reason)
}

// AdjustStock changes on hand by delta (a receipt, a return, a write-off), audited.
func (h *Hub) AdjustStock(ctx context.Context, p auth.Principal, sku, warehouse string, delta int64, reason string) (stock.Item, error) {
	if strings.TrimSpace(reason) == "" {
		return stock.Item{}, errStockReason
	}
	return h.Stock.Adjust(ctx, sku, warehouse, delta, p.Actor(), reason)
}

// QueueDepths lists the pipeline's queues with their depths.
func (h *Hub) QueueDepths(ctx context.Context) (map[string]queue.Depth, error) {
	out := map[string]queue.Depth{}
	for _, q := range h.QueueNames {
		d, err := h.Queues.Depth(ctx, q)
		if err != nil {
			return nil, err
		}
		out[q] = d
	}
	return out, nil
}

var errUnknownQueue = fault.New(fault.NotFound, "queue_not_found", "no such queue")

func (h *Hub) knownQueue(name string) error {
	for _, q := range h.QueueNames {
		if q == name {
			return nil
		}
	}
	return errUnknownQueue
}

// DeadLetters lists a queue's dead letters.
func (h *Hub) DeadLetters(ctx context.Context, name string, limit int, cursor string) (queue.DeadPage, error) {
	if err := h.knownQueue(name); err != nil {
		return queue.DeadPage{}, err
	}
	return h.Queues.DeadLetters(ctx, name, limit, cursor)
}

// Replay sends a dead letter back to its queue; consumers are idempotent, so a replay of a
// message whose work was done meanwhile changes nothing.
func (h *Hub) Replay(ctx context.Context, p auth.Principal, name, id string) error {
	if err := h.knownQueue(name); err != nil {
		return err
	}
	if err := h.Queues.Replay(ctx, name, id); err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "dead letter replayed", "queue", name, "message_id", id, "by", p.KeyID)
	return nil
}
