// Package shopee connects the hub to Shopee Open Platform v2 (partner.shopeemobile.com): it pulls orders with
// v2.order.get_order_list and v2.order.get_order_detail, writes shipments back with v2.logistics.ship_order,
// verifies and parses Push Mechanism notifications, and ships a sandbox marketplace that speaks the same
// API for tests and local runs.
package shopee

import (
	"net/http"
	"strings"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
	"orderhub/shared/order"
	"orderhub/shared/pii"
)

// DefaultBaseURL is the production host, used when a shop configures none.
const DefaultBaseURL = "https://partner.shopeemobile.com"

// Credential names a Shopee shop needs in channel.Shop.Credentials. "push_url" is optional: it pins the
// callback URL the platform signs pushes with, for deployments where the request's own URL differs (a
// proxy or gateway stage in front of the hub).
const (
	CredPartnerID   = "partner_id"
	CredPartnerKey  = "partner_key"
	CredShopID      = "shop_id"
	CredAccessToken = "access_token"
	CredPushURL     = "push_url"
)

const (
	// maxWindow is the documented limit of get_order_list: time_to − time_from at most 15 days.
	maxWindow = 15 * 24 * time.Hour
	// defaultPageSize is the largest page_size get_order_list accepts.
	defaultPageSize = 100
	// detailBatch is the most order_sn get_order_detail accepts at once.
	detailBatch = 50
	// defaultShipBy applies when neither the platform nor the shop gives a ship-by deadline.
	defaultShipBy = 48 * time.Hour
)

// Connector talks to Shopee for one shop.
type Connector struct {
	shop       channel.Shop
	baseURL    string
	partnerID  string
	partnerKey string
	shopID     string
	token      string
	pushURL    string
	http       *http.Client
	hasher     *pii.Hasher
	now        func() time.Time
	pageSize   int
}

var (
	_ channel.Connector    = (*Connector)(nil)
	_ channel.PushReceiver = (*Connector)(nil)
)

// ErrMissingCredential is returned by New when a required credential is absent or malformed; its message
// names the key, never the value.
var ErrMissingCredential = fault.New(fault.Invalid, "missing_credential", "a required shop credential is missing")

// New builds a connector for shop, checking that the credentials the platform needs are present.
func New(shop channel.Shop, deps channel.Deps) (*Connector, error) {
	for _, k := range []string{CredPartnerID, CredPartnerKey, CredShopID, CredAccessToken} {
		if strings.TrimSpace(shop.Credentials[k]) == "" {
			return nil, fault.With(ErrMissingCredential, "shopee shop %q needs %s", shop.ID, k)
		}
	}
	for _, k := range []string{CredPartnerID, CredShopID} {
		if !digits(strings.TrimSpace(shop.Credentials[k])) {
			return nil, fault.With(ErrMissingCredential, "shopee shop %q: %s must be a number", shop.ID, k)
		}
	}
	if shop.Channel == "" {
		shop.Channel = order.Shopee
	}
	c := &Connector{
		shop:       shop,
		baseURL:    strings.TrimRight(shop.BaseURL, "/"),
		partnerID:  strings.TrimSpace(shop.Credentials[CredPartnerID]),
		partnerKey: shop.Credentials[CredPartnerKey],
		shopID:     strings.TrimSpace(shop.Credentials[CredShopID]),
		token:      shop.Credentials[CredAccessToken],
		pushURL:    strings.TrimSpace(shop.Credentials[CredPushURL]),
		http:       deps.HTTP,
		hasher:     deps.Hasher,
		now:        deps.Now,
		pageSize:   defaultPageSize,
	}
	if c.baseURL == "" {
		c.baseURL = DefaultBaseURL
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// MaxWindow is the longest window one Pull may span: 15 days, as get_order_list allows.
func (c *Connector) MaxWindow() time.Duration { return maxWindow }

func digits(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
