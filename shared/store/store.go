// Package store declares the order store port that every backend (SQLite locally, DynamoDB on AWS)
// implements, with the filter and paging types they share. Conformance: package storetest.
package store

import (
	"context"
	"time"

	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// Orders keeps canonical orders and their timelines.
type Orders interface {
	// Upsert merges o into the order stored under o.Key() with order.Merge: it creates the order,
	// replaces the platform's fields when o.Version is newer, or changes nothing for an equal or
	// older version. The order row and the new timeline events are written in one transaction, and
	// concurrent upserts of one key never lose the newest version. It returns the order as stored
	// (without its timeline) and what the merge did.
	Upsert(ctx context.Context, o order.Order, actor string) (order.Order, order.MergeResult, error)

	// Get returns the order with its full timeline, oldest event first, or ErrNotFound.
	Get(ctx context.Context, id string) (order.Order, error)

	// GetByKey returns the order stored under key (without its timeline), or ErrNotFound.
	GetByKey(ctx context.Context, key order.Key) (order.Order, error)

	// Update loads the order (without its timeline), calls fn and writes the result and the events
	// fn appended to Timeline in one transaction. When fn returns an error nothing is written and
	// that error is returned. Concurrent updates of one order are serialised: none is lost.
	// It returns the order as written, with only the new events in Timeline.
	Update(ctx context.Context, id string, fn func(*order.Order) error) (order.Order, error)

	// List returns one page of orders matching f (without timelines), newest id first.
	List(ctx context.Context, f Filter) (Page, error)

	// Counts returns the number of orders per status matching f; f's Statuses, Cursor and Limit are ignored.
	Counts(ctx context.Context, f Filter) (map[order.Status]int, error)
}

// Filter selects orders. Zero fields match everything.
type Filter struct {
	Statuses    []order.Status
	Channel     order.Channel
	Shop        string
	Warehouse   string
	Supplier    string    // a supplier key's view is always filtered to its own supplier
	CreatedFrom time.Time // inclusive, on the order's created_at
	CreatedTo   time.Time // exclusive
	// Query matches an order id, a channel order id or a tracking number exactly.
	Query  string
	Cursor string // from a previous Page.Next
	Limit  int    // default DefaultLimit, at most MaxLimit
}

// Page is one page of a listing. Next is empty on the last page.
type Page struct {
	Orders []order.Order `json:"orders"`
	Next   string        `json:"next,omitempty"`
}

// Paging limits.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// PageSize returns the effective limit for f.
func (f Filter) PageSize() int {
	switch {
	case f.Limit <= 0:
		return DefaultLimit
	case f.Limit > MaxLimit:
		return MaxLimit
	}
	return f.Limit
}

// Errors every adapter returns.
var (
	ErrNotFound      = fault.New(fault.NotFound, "not_found", "order not found")
	ErrInvalidCursor = fault.New(fault.Invalid, "invalid_cursor", "invalid cursor")
)
