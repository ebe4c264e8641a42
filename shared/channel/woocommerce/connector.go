// Package woocommerce connects the hub to one WooCommerce store through the REST API v3: orders
// pulled by modified date, order detail, shipment writeback (status completed, tracking in order
// meta and a customer note), and HMAC-signed webhooks including the unsigned creation ping.
// A sandbox store speaking the same API lives in sandbox.go.
package woocommerce

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// Credential names read from channel.Shop.Credentials.
const (
	CredConsumerKey    = "consumer_key"    // ck_…
	CredConsumerSecret = "consumer_secret" // cs_…
	CredWebhookSecret  = "webhook_secret"  // the secret set on the store's webhooks
)

const (
	// maxWindow keeps one incremental query small; WooCommerce itself sets no limit.
	maxWindow = 7 * 24 * time.Hour
	// defaultShipBy applies when the shop configures no ship-by default: WooCommerce gives none.
	defaultShipBy = 48 * time.Hour
	// perPage is the REST API's largest page.
	perPage = 100
)

// Errors the connector returns besides the channel package's. The first two are shared by every
// connector through chanhttp, so errors.Is works whichever platform returned them.
var (
	ErrMissingCredential = chanhttp.ErrMissingCredential
	ErrOrderNotFound     = chanhttp.ErrOrderNotFound
	ErrInvalidShop       = fault.New(fault.Invalid, "invalid_shop", "invalid shop configuration")
	ErrInvalidWindow     = fault.New(fault.Invalid, "invalid_window", "invalid pull window")
	ErrShipmentRefused   = fault.New(fault.Conflict, "shipment_refused", "the platform cannot take a shipment for this order")
)

// Connector talks to one WooCommerce store.
type Connector struct {
	mapper
	api     string // base URL + /wp-json/wc/v3, no trailing slash
	key     string
	secret  string
	hookKey string
	http    *http.Client
	now     func() time.Time
	perPage int // perPage; tests lower it to see several pages
}

var (
	_ channel.Connector    = (*Connector)(nil)
	_ channel.PushReceiver = (*Connector)(nil)
)

// New builds a connector for shop; credentials are checked for presence, never echoed.
func New(shop channel.Shop, deps channel.Deps) (*Connector, error) {
	if shop.Channel != "" && shop.Channel != order.WooCommerce {
		return nil, fault.With(ErrInvalidShop, "channel %q is not woocommerce", string(shop.Channel))
	}
	if strings.TrimSpace(shop.ID) == "" {
		return nil, fault.With(ErrInvalidShop, "shop id is required")
	}
	for _, k := range []string{CredConsumerKey, CredConsumerSecret, CredWebhookSecret} {
		if strings.TrimSpace(shop.Credentials[k]) == "" {
			return nil, fault.With(ErrMissingCredential, "woocommerce shop %q: %s", shop.ID, k)
		}
	}
	base, err := checkBaseURL(shop.BaseURL)
	if err != nil {
		return nil, err
	}
	if deps.Hasher == nil {
		return nil, fault.With(ErrInvalidShop, "a PII hasher is required")
	}
	c := &Connector{
		mapper:  mapper{shop: shop.ID, currency: shop.Currency, hasher: deps.Hasher, shipBy: shop.ShipByDefault},
		api:     base + "/wp-json/wc/v3",
		key:     shop.Credentials[CredConsumerKey],
		secret:  shop.Credentials[CredConsumerSecret],
		hookKey: shop.Credentials[CredWebhookSecret],
		http:    deps.HTTP,
		now:     deps.Now,
		perPage: perPage,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.shipBy <= 0 {
		c.shipBy = defaultShipBy
	}
	return c, nil
}

// MaxWindow is the longest window one Pull may span.
func (c *Connector) MaxWindow() time.Duration { return maxWindow }

// checkBaseURL accepts an https site URL (WordPress may live below a path such as /shop), or plain
// http only on the loopback interface: HTTP Basic sends the consumer secret with every request,
// which is why WooCommerce itself only accepts it over HTTPS.
func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.User != nil {
		return "", fault.With(ErrInvalidShop, "base_url must be an absolute http(s) site URL")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "", fault.With(ErrInvalidShop, "base_url must use https outside the loopback interface")
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	path = strings.TrimSuffix(path, "/wp-json/wc/v3") // accept the API root as well as the site
	return u.Scheme + "://" + u.Host + path, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
