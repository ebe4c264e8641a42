package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"orderhub/infra/awsapp"
	"orderhub/shared/channel"
	"orderhub/shared/channel/poll"
	"orderhub/shared/channel/shops"
	"orderhub/shared/order"
)

// Event names the shop one invocation polls. Two shapes arrive:
//   - a schedule's constant input, {"shop":"taobao/tmall-flagship"}: EventBridge Scheduler (and a
//     rule with Input) delivers it as it is;
//   - an EventBridge event whose detail names the shop, e.g. a "poll now" that ops put on the
//     default bus: {"source":"orderhub.ops","detail-type":"Poll shop","detail":{"shop":"…"}}.
type Event struct {
	Shop string `json:"shop"`
}

// Result is what one poll did; Lambda returns it to synchronous callers (tests, `sam remote invoke`).
type Result struct {
	Shop      string    `json:"shop"`
	Orders    int       `json:"orders"`
	Windows   int       `json:"windows"`
	Watermark time.Time `json:"watermark,omitzero"` // end of the last complete window of this run
}

// handler polls one shop per invocation with the DynamoDB poll states and ingests through the hub.
type handler struct {
	shops  *shops.Registry
	states poll.States
	ingest func(context.Context, order.Order) error
	log    *slog.Logger
	// maxRateWait is the longest rate-limit wait sat out inside one invocation; a longer one ends
	// the run (an error, so the schedule's retry and DLQ see it) and the next run resumes.
	maxRateWait time.Duration
	// margin ends the run this long before the function's deadline, so that a cut window is left
	// cleanly (the watermark only ever moves past complete windows) instead of being killed.
	margin time.Duration
}

func newHandler(app *awsapp.App) *handler {
	return &handler{
		shops:  app.Shops,
		states: app.Store,
		ingest: func(ctx context.Context, o order.Order) error {
			_, _, err := app.Hub.Ingest(ctx, o, "poll:"+string(o.Channel))
			return err
		},
		log:         app.Log,
		maxRateWait: 20 * time.Second,
		margin:      3 * time.Second,
	}
}

var errNoShop = errors.New(`poller: the event names no shop: want {"shop":"<channel>/<shop id>"} or an EventBridge event with that detail`)

// shopOf reads the shop key from either event shape. Errors never quote the event.
func shopOf(raw json.RawMessage) (string, error) {
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return "", errNoShop
	}
	if ev.Shop == "" {
		var eb events.EventBridgeEvent
		if err := json.Unmarshal(raw, &eb); err != nil || eb.DetailType == "" || len(eb.Detail) == 0 {
			return "", errNoShop
		}
		if err := json.Unmarshal(eb.Detail, &ev); err != nil {
			return "", errNoShop
		}
	}
	if ch, id, ok := strings.Cut(ev.Shop, "/"); !ok || ch == "" || id == "" {
		return "", errNoShop
	}
	return ev.Shop, nil
}

// Handle runs one poll of the shop the event names. Every failure is returned, never logged away,
// so that Lambda's asynchronous retries and the dead-letter queue see it; the error text is
// client-safe (channel.Describe), because Lambda writes it to logs and DLQ message attributes.
func (h *handler) Handle(ctx context.Context, raw json.RawMessage) (Result, error) {
	key, err := shopOf(raw)
	if err != nil {
		return Result{}, err
	}
	var shop *shops.Shop
	for _, s := range h.shops.All() {
		if poll.Key(s.Shop) == key {
			shop = s
			break
		}
	}
	if shop == nil {
		return Result{Shop: key}, fmt.Errorf("poller: shop %s is not in the shop list", key)
	}
	if shop.Conn == nil {
		return Result{Shop: key}, fmt.Errorf("poller: shop %s is not running: %s", key, shop.Err)
	}
	if deadline, ok := ctx.Deadline(); ok && h.margin > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-h.margin))
		defer cancel()
	}
	p := &poll.Poller{Shop: shop.Shop, Conn: shop.Conn, States: h.states, Ingest: h.ingest, Now: shop.Now,
		Lookback: shop.Lookback, MaxRateWait: h.maxRateWait}
	res, err := p.RunOnce(ctx)
	out := Result{Shop: key, Orders: res.Orders, Windows: res.Windows, Watermark: res.To}
	if err != nil {
		desc := channel.Describe(err)
		h.log.WarnContext(ctx, "poll failed", slog.String("shop", key), slog.Int("orders", res.Orders), slog.String("error", desc))
		return out, fmt.Errorf("poll %s: %s", key, desc)
	}
	h.log.InfoContext(ctx, "polled", slog.String("shop", key), slog.Int("orders", res.Orders), slog.Int("windows", res.Windows))
	return out, nil
}
