package bench

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"orderhub/shared/api"
	"orderhub/shared/channel"
	"orderhub/shared/channel/douyin"
	"orderhub/shared/channel/sandbox"
	"orderhub/shared/channel/shopify"
	"orderhub/shared/channel/shops"
	"orderhub/shared/channel/webhook"
	"orderhub/shared/channel/woocommerce"
	"orderhub/shared/cleanse"
	"orderhub/shared/hub"
	"orderhub/shared/order"
	"orderhub/shared/pii"
	"orderhub/shared/pipeline"
	"orderhub/shared/queue"
	"orderhub/shared/rules"
	"orderhub/shared/stock"
	"orderhub/shared/store"
	"orderhub/shared/store/sqlite"
)

// shopID is the id of every bench shop: pushes go to /webhooks/{platform}/bench.
const shopID = "bench"

// rig is the embedded runtime as infra/local builds it, on 127.0.0.1:0 over a temp data dir, with
// one pushing shop per platform. The wiring lines mirror infra/local/wire.go and pipeline.go (that
// package is main and cannot be imported); keep them in step when the runtime's wiring changes.
type rig struct {
	db       *sqlite.Store
	pl       *pipeline.Pipeline
	url      string // the hub's base URL
	douyin   *douyin.Sandbox
	shopify  *shopify.Sandbox // only its shop configuration (secret) is used
	woo      *woocommerce.Sandbox
	stop     func()
	shutdown sync.Once
}

// rigOptions tune the runtime for a profile.
type rigOptions struct {
	mapping []stock.Rule // channel SKU → SKU rules (default: none, as infra/local)
	workers int          // handlers per stage queue (infra/local: 4)
}

func startRig(tb testing.TB, opts rigOptions) *rig {
	tb.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	if opts.workers == 0 {
		opts.workers = 4
	}
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "orderhub.db"))
	if err != nil {
		tb.Fatal(err)
	}
	book, err := hub.NewRuleBook(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	// buildPipeline (infra/local/pipeline.go), with the profile's SKU mapping.
	qs := db.Queues()
	for _, q := range []string{pipeline.QueueRoute, pipeline.QueueStock} {
		if err := qs.Declare(ctx, q, queue.Options{MaxAttempts: 5}); err != nil {
			tb.Fatal(err)
		}
	}
	mapping, err := stock.NewMapping(opts.mapping...)
	if err != nil {
		tb.Fatal(err)
	}
	catalogue := rules.Catalogue{}
	for _, p := range sandbox.Products() {
		catalogue[p.SKU] = rules.SKUAttrs{Bulky: p.Bulky}
	}
	pl := &pipeline.Pipeline{
		Orders: db, Queues: qs, Stock: db.Stock(), Phones: db, Log: log,
		Rules: book.Current, Catalogue: catalogue, Mapping: mapping,
		Cleanse: cleanse.New(cleanse.DefaultTestMarkers(), func(ctx context.Context, id string) ([]order.Order, error) {
			page, err := db.List(ctx, store.Filter{Query: id})
			return page.Orders, err
		}),
	}
	// wire (infra/local/wire.go).
	h := &hub.Hub{Orders: db, Keys: db, Hasher: pii.NewHasher([]byte("bench-pii-key-0123456789abcdef!!")), Now: time.Now, Log: log,
		Changed: pl.OrderChanged, Stock: pl.Stock, Queues: pl.Queues, QueueNames: []string{pipeline.QueueRoute, pipeline.QueueStock},
		RuleStore: db, Book: book, Catalogue: pl.Catalogue}

	// Sandbox shops of three pushing platforms. Douyin pushes only name an order, so its sandbox is
	// served for the connector's Detail fetch; Shopify and WooCommerce pushes carry the whole order.
	r := &rig{db: db, pl: pl,
		douyin:  douyin.NewSandbox(douyin.SandboxConfig{Seed: 1, ShopID: "7000001"}),
		shopify: shopify.NewSandbox(shopify.SandboxConfig{Seed: 2}),
		woo:     woocommerce.NewSandbox(woocommerce.SandboxConfig{Seed: 3}),
	}
	dySrv := httptest.NewServer(r.douyin)
	registry := shops.NewRegistry([]*shops.Shop{
		{Shop: r.douyin.Shop(shopID, dySrv.URL), Now: r.douyin.Now, Sandbox: true},
		{Shop: r.shopify.Shop(shopID, "http://127.0.0.1:1"), Sandbox: true},
		{Shop: r.woo.Shop(shopID, "http://127.0.0.1:1"), Sandbox: true},
	}, channel.Deps{HTTP: &http.Client{Timeout: 30 * time.Second}, Hasher: h.Hasher})
	for _, s := range registry.All() {
		if s.Err != "" {
			tb.Fatalf("shop %s: %s", s.Shop.Channel, s.Err)
		}
	}
	receiver := &webhook.Receiver{Shops: registry, Deliveries: db, Log: log,
		Ingest: func(ctx context.Context, o order.Order, actor string) error {
			_, _, err := h.Ingest(ctx, o, actor)
			return err
		}}
	handler := api.New(h, log, api.WithWebhooks(receiver))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	r.url = "http://" + ln.Addr().String()

	// runStages (infra/local/pipeline.go).
	workCtx, stopWork := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for q, hd := range map[string]queue.Handler{pipeline.QueueRoute: pl.Route, pipeline.QueueStock: pl.Reserve} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := queue.RunOptions{Concurrency: opts.workers, Visibility: 30 * time.Second, Wait: time.Second, Logger: log}
			if err := queue.Run(workCtx, pl.Queues, q, hd, o); err != nil {
				log.Error("stage stopped", slog.String("queue", q), slog.String("error", err.Error()))
			}
		}()
	}
	r.stop = func() {
		stopWork()
		wg.Wait()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		dySrv.Close()
		_ = db.Close()
	}
	tb.Cleanup(r.close)
	return r
}

func (r *rig) close() { r.shutdown.Do(r.stop) }

// setStock gives sku qty units in each warehouse.
func (r *rig) setStock(tb testing.TB, sku string, qty map[string]int64) {
	tb.Helper()
	for wh, n := range qty {
		if _, err := r.pl.Stock.SetOnHand(context.Background(), sku, wh, n, "system:bench", "bench opening count"); err != nil {
			tb.Fatal(err)
		}
	}
}

// discard drains and closes a response body.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}
