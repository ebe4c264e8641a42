// Package douyin connects the hub to Douyin Shop (抖店开放平台, openapi-fxg.jinritemai.com): it pulls orders
// with order.searchList, fetches one with order.orderDetail, writes shipments back with order.logisticsAdd,
// verifies and parses the platform's message pushes (消息推送), and ships a sandbox marketplace that speaks
// the same API for tests and local runs.
package douyin

import (
	"net/http"
	"strings"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
	"orderhub/shared/order"
	"orderhub/shared/pii"
)

// DefaultBaseURL is the production gateway, used when a shop configures none.
const DefaultBaseURL = "https://openapi-fxg.jinritemai.com"

// Credential names a Douyin shop needs in channel.Shop.Credentials. "shop_id" is optional: when set, pushes
// for other shops of the same app are ignored (the platform pushes every shop of an app to one URL).
const (
	CredAppKey      = "app_key"
	CredAppSecret   = "app_secret"
	CredAccessToken = "access_token"
	CredShopID      = "shop_id"
)

const (
	// maxWindow is a conservative span for one incremental query. The docs cap order.searchList at the last
	// 90 days and at about 10,000 results per query (page*size); they give no span limit for update_time,
	// so a day keeps each query small and Pull bisects a window that still holds too many orders.
	maxWindow = 24 * time.Hour
	// maxResults is the most orders one query may page through (guide 468: 100 pages of 100).
	maxResults = 10000
	// defaultPageSize is the largest size order.searchList accepts.
	defaultPageSize = 100
	// defaultShipBy applies when neither the platform nor the shop gives a ship-by deadline.
	defaultShipBy = 48 * time.Hour
)

// Connector talks to Douyin Shop for one shop.
type Connector struct {
	shop     channel.Shop
	baseURL  string
	appKey   string
	secret   string
	token    string
	shopID   string
	http     *http.Client
	hasher   *pii.Hasher
	now      func() time.Time
	pageSize int
	// resultCap is the most orders one query may page through; a field so tests can lower it.
	resultCap int
}

var (
	_ channel.Connector    = (*Connector)(nil)
	_ channel.PushReceiver = (*Connector)(nil)
)

// ErrMissingCredential is returned by New when a required credential is absent; its message names the key.
var ErrMissingCredential = fault.New(fault.Invalid, "missing_credential", "a required shop credential is missing")

// New builds a connector for shop, checking that the credentials the platform needs are present.
func New(shop channel.Shop, deps channel.Deps) (*Connector, error) {
	for _, k := range []string{CredAppKey, CredAppSecret, CredAccessToken} {
		if strings.TrimSpace(shop.Credentials[k]) == "" {
			return nil, fault.With(ErrMissingCredential, "douyin shop %q needs %s", shop.ID, k)
		}
	}
	if shop.Channel == "" {
		shop.Channel = order.Douyin
	}
	c := &Connector{
		shop:     shop,
		baseURL:  strings.TrimRight(shop.BaseURL, "/"),
		appKey:   shop.Credentials[CredAppKey],
		secret:   shop.Credentials[CredAppSecret],
		token:    shop.Credentials[CredAccessToken],
		shopID:   strings.TrimSpace(shop.Credentials[CredShopID]),
		http:     deps.HTTP,
		hasher:   deps.Hasher,
		now:      deps.Now,
		pageSize: defaultPageSize,

		resultCap: maxResults,
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

// MaxWindow is the longest window one Pull may span.
func (c *Connector) MaxWindow() time.Duration { return maxWindow }
