package chanhttp

import (
	"context"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// PageFunc fetches page (1-based) of a listing, hands its items on, and returns the listing's total
// as that page reported it.
type PageFunc func(ctx context.Context, page int) (total int, err error)

// maxRestarts bounds how often Backward starts over because the listing grew while it was paged.
const maxRestarts = 3

// maxPages bounds one listing: far beyond any real window (a million orders at 100 a page), it
// stops a platform answer that reports an absurd total from sending the connector on an endless walk.
const maxPages = 10_000

// Backward reads a listing that the platform sorts by modified time, from its last page to its
// first, which is how Taobao (taobao.trades.sold.increment.get: "通过从后往前翻页的方式可以避免漏单问题")
// and Pinduoduo (pdd.order.number.list.increment.get: "必须采用倒序的分页方式(从最后一页往回取)才能避免漏单问题")
// say it must be read.
//
// Why backward: the window's end lies in the past, so an order modified while we page leaves the
// listing, and every item behind it moves up one place. Read forward, the item that moves from the
// top of the next page onto the page just read is skipped, and since it did not change it never
// shows up again. Read backward, the pages behind the removed item have already been read, so a move
// only makes one item appear twice, which emits tolerate.
//
// The one change backward reading cannot absorb is growth (an order modified into the window while
// we page, when the window ends too close to now). Every page reports the total, so growth is
// detected and the listing is read again; after maxRestarts it gives up with ErrPlatform and the
// caller repeats the window later.
func Backward(ctx context.Context, pageSize int, fetch PageFunc) error {
	if pageSize <= 0 {
		pageSize = 1
	}
	for range maxRestarts {
		total, err := fetch(ctx, 1)
		if err != nil {
			return err
		}
		if total <= pageSize {
			return nil
		}
		last := (total + pageSize - 1) / pageSize
		if last > maxPages {
			return fault.With(channel.ErrPlatform, "the listing reports %d items; query shorter windows", total)
		}
		grew := false
		for page := last; page >= 1; page-- {
			if err := ctx.Err(); err != nil {
				return err
			}
			t, err := fetch(ctx, page)
			if err != nil {
				return err
			}
			if t > total {
				grew = true
				break
			}
		}
		if !grew {
			return nil
		}
	}
	return fault.With(channel.ErrPlatform, "the listing kept growing while it was paged; the window ends too close to now")
}

// Chunks splits w into query windows whose ends are whole seconds (the platforms' resolution: the
// start is rounded down and the end up, so nothing inside w is lost) and which span at most max.
func Chunks(w channel.Window, max time.Duration) []channel.Window {
	if !w.From.Before(w.To) {
		return nil
	}
	from := w.From.Truncate(time.Second)
	to := w.To
	if t := to.Truncate(time.Second); !t.Equal(to) {
		to = t.Add(time.Second)
	}
	max = max.Truncate(time.Second)
	if max < time.Second {
		max = time.Second
	}
	var out []channel.Window
	for from.Before(to) {
		end := from.Add(max)
		if end.After(to) {
			end = to
		}
		out = append(out, channel.Window{From: from, To: end})
		from = end
	}
	return out
}

// InWindow reports whether t lies in the half-open window w.
func InWindow(w channel.Window, t time.Time) bool {
	return !t.Before(w.From) && t.Before(w.To)
}

// Sink takes the orders one Pull reads and emits those modified inside the window, each version
// once: backward paging repeats an item when the listing shifts, and query chunks rounded to whole
// seconds overlap the window's edges.
type Sink struct {
	w    channel.Window
	emit func(context.Context, order.Order) error
	seen map[string]time.Time
}

// NewSink returns a sink for one Pull over w.
func NewSink(w channel.Window, emit func(context.Context, order.Order) error) *Sink {
	return &Sink{w: w, emit: emit, seen: map[string]time.Time{}}
}

// Put emits o unless it lies outside the window or this version was already emitted.
func (s *Sink) Put(ctx context.Context, o order.Order) error {
	if !InWindow(s.w, o.Version) {
		return nil
	}
	if v, ok := s.seen[o.ChannelOrderID]; ok && !o.Version.After(v) {
		return nil
	}
	s.seen[o.ChannelOrderID] = o.Version
	return s.emit(ctx, o)
}
