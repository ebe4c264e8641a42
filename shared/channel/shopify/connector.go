// Package shopify connects the hub to one Shopify store through the Admin REST API: orders pulled
// by updated_at with cursor paging, order detail, fulfilment writeback through fulfillment orders,
// and HMAC-signed webhooks. A sandbox store speaking the same API lives in sandbox.go.
package shopify

import (
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/channel/chanhttp"
	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// DefaultAPIVersion is the Admin API version used when the shop does not name one.
const DefaultAPIVersion = "2025-10"

// Credential names read from channel.Shop.Credentials.
const (
	CredAccessToken   = "access_token"   // Admin API access token (shpat_…)
	CredWebhookSecret = "webhook_secret" // the app's client secret, which signs webhooks
	CredAPIVersion    = "api_version"    // optional, e.g. "2025-10"
)

// maxWindow keeps one incremental query small; Shopify itself sets no limit.
const maxWindow = 7 * 24 * time.Hour

// defaultShipBy applies when the shop configures no ship-by default: Shopify gives no deadline.
const defaultShipBy = 48 * time.Hour

// Errors the connector returns besides the channel package's. The first two are the ones every
// connector shares through chanhttp, so errors.Is works whichever platform returned them.
var (
	ErrMissingCredential = chanhttp.ErrMissingCredential
	ErrOrderNotFound     = chanhttp.ErrOrderNotFound
	ErrInvalidShop       = fault.New(fault.Invalid, "invalid_shop", "invalid shop configuration")
	ErrInvalidWindow     = fault.New(fault.Invalid, "invalid_window", "invalid pull window")
	ErrShipmentRefused   = fault.New(fault.Conflict, "shipment_refused", "the platform cannot take a shipment for this order")
)

var versionPattern = regexp.MustCompile(`^(\d{4}-\d{2}|unstable)$`)

// Connector talks to one Shopify store.
type Connector struct {
	mapper
	base    string // scheme://host[:port], no trailing slash
	version string
	token   string
	secret  string
	http    *http.Client
	now     func() time.Time
}

var (
	_ channel.Connector    = (*Connector)(nil)
	_ channel.PushReceiver = (*Connector)(nil)
)

// New builds a connector for shop; credentials are checked for presence, never echoed.
func New(shop channel.Shop, deps channel.Deps) (*Connector, error) {
	if shop.Channel != "" && shop.Channel != order.Shopify {
		return nil, fault.With(ErrInvalidShop, "channel %q is not shopify", string(shop.Channel))
	}
	if strings.TrimSpace(shop.ID) == "" {
		return nil, fault.With(ErrInvalidShop, "shop id is required")
	}
	for _, k := range []string{CredAccessToken, CredWebhookSecret} {
		if strings.TrimSpace(shop.Credentials[k]) == "" {
			return nil, fault.With(ErrMissingCredential, "shopify shop %q: %s", shop.ID, k)
		}
	}
	version := shop.Credentials[CredAPIVersion]
	if version == "" {
		version = DefaultAPIVersion
	}
	if !versionPattern.MatchString(version) {
		return nil, fault.With(ErrInvalidShop, "api_version must look like 2025-10")
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
		base:    base,
		version: version,
		token:   shop.Credentials[CredAccessToken],
		secret:  shop.Credentials[CredWebhookSecret],
		http:    deps.HTTP,
		now:     deps.Now,
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

// checkBaseURL accepts an https endpoint, or plain http only on the loopback interface (sandboxes),
// because the access token travels in a header on every request.
func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fault.With(ErrInvalidShop, "base_url must be an absolute http(s) URL")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "", fault.With(ErrInvalidShop, "base_url must use https outside the loopback interface")
	}
	return u.Scheme + "://" + u.Host, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
