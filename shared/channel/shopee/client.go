package shopee

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
	"orderhub/shared/order"
)

// API paths used by the connector.
const (
	pathOrderList   = "/api/v2/order/get_order_list"
	pathOrderDetail = "/api/v2/order/get_order_detail"
	pathShipOrder   = "/api/v2/logistics/ship_order"
	pathTracking    = "/api/v2/logistics/get_tracking_number"
)

// detailFields are the response_optional_fields the mapper needs.
const detailFields = "buyer_username,recipient_address,item_list,total_amount,pay_time,ship_by_date,update_time," +
	"estimated_shipping_fee,shipping_carrier,cancel_by,cancel_reason"

const (
	maxResponse     = 32 << 20
	defaultRateWait = 2 * time.Second
	maxRetryAfter   = 10 * time.Minute
	pullAttempts    = 3
	maxPages        = 10000
)

// call signs and sends one shop-level v2 call (GET with query parameters, or POST with a JSON body) and
// decodes the envelope's response into out.
func (c *Connector) call(ctx context.Context, method, path string, params url.Values, body, out any) error {
	ts := c.now().Unix()
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("partner_id", c.partnerID)
	q.Set("timestamp", strconv.FormatInt(ts, 10))
	q.Set("access_token", c.token)
	q.Set("shop_id", c.shopID)
	q.Set("sign", Sign(c.partnerKey, BaseString(c.partnerID, path, ts, c.token, c.shopID)))
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fault.Wrap(channel.ErrPlatform, fmt.Errorf("shopee %s: encode body: %w", path, err))
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path+"?"+q.Encode(), reader)
	if err != nil {
		return fault.Wrap(channel.ErrPlatform, fmt.Errorf("shopee %s: build request", path))
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return transportError(path, err)
	}
	var env envelope
	jsonErr := json.Unmarshal(raw, &env)
	if resp.StatusCode == http.StatusTooManyRequests || (jsonErr == nil && env.Error != "") {
		return classify(path, resp.StatusCode, env, resp.Header)
	}
	if jsonErr != nil || resp.StatusCode != http.StatusOK {
		return fault.With(channel.ErrPlatform, "shopee %s: HTTP %d", path, resp.StatusCode)
	}
	if out != nil && len(env.Response) > 0 {
		if err := json.Unmarshal(env.Response, out); err != nil {
			return fault.With(channel.ErrPlatform, "shopee %s: unexpected response shape", path)
		}
	}
	return nil
}

// transportError drops the request URL (it carries the access token and sign) from net/http's error while
// keeping the cause, so context cancellation still matches with errors.Is.
func transportError(path string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("shopee %s: %w", path, err)
}

// classify turns an error answer into the contract's errors: HTTP 429 or a too-many-requests error is a
// rate limit; error_auth, error_sign and an invalid access token (the platform spells it
// "invalid_acceess_token") mean the shop's credentials are refused; anything else is a platform error.
func classify(path string, status int, env envelope, h http.Header) error {
	code := strings.ToLower(strings.TrimSpace(env.Error))
	detail := fmt.Sprintf("shopee %s: HTTP %d %s", path, status, code)
	switch {
	case status == http.StatusTooManyRequests || strings.Contains(code, "too_many") || strings.Contains(code, "rate_limit"):
		return &channel.RateLimitedError{RetryAfter: retryAfter(h, defaultRateWait), Detail: detail}
	case code == "error_auth" || code == "error_sign" || code == "error_invalid_partner_id" ||
		strings.Contains(code, "access_token") || strings.Contains(code, "acceess_token") || strings.Contains(code, "invalid_token"):
		return fault.With(channel.ErrBadCredential, "%s", detail)
	}
	return fault.With(channel.ErrPlatform, "%s", detail)
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), else returns def.
func retryAfter(h http.Header, def time.Duration) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return def
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return def
}

// Pull fetches every order whose update_time lies in w: the order numbers cursor page by cursor page, then
// their details 50 at a time, emitting each in its latest state. An order whose details show it changed
// after the window may have left the list while we paged and shifted others past our cursor, so the list
// is read again until a pass sees no such change.
func (c *Connector) Pull(ctx context.Context, w channel.Window, emit func(context.Context, order.Order) error) error {
	if !w.From.Before(w.To) {
		return nil
	}
	if w.To.Sub(w.From) > maxWindow {
		return fault.New(fault.Invalid, "window_too_long", "shopee windows are at most %s", maxWindow)
	}
	emitted := map[string]int64{}
	upper := ceilUnix(w.To) // the list query's inclusive upper bound
	for range pullAttempts {
		sns, err := c.list(ctx, w)
		if err != nil {
			return err
		}
		moved := false
		for start := 0; start < len(sns); start += detailBatch {
			orders, err := c.details(ctx, sns[start:min(start+detailBatch, len(sns))])
			if err != nil {
				return err
			}
			for i := range orders {
				o := &orders[i]
				v := unix(o.UpdateTime)
				switch {
				case int64(o.UpdateTime) > upper:
					moved = true // changed since it was listed: its newer version belongs to a later window
					continue
				case v.Before(w.From), !v.Before(w.To), emitted[o.OrderSN] == int64(o.UpdateTime):
					continue // outside the exact window (the query's bounds are whole seconds), or already emitted
				}
				co, err := mapOrder(c.shop, c.hasher, o)
				if err != nil {
					// A poison order stops the window so that it is not silently lost; the error names it.
					return fmt.Errorf("shopee order %s: %w", o.OrderSN, err)
				}
				if err := emit(ctx, co); err != nil {
					return err
				}
				emitted[o.OrderSN] = int64(o.UpdateTime)
			}
		}
		if !moved {
			return nil
		}
	}
	return fault.With(channel.ErrPlatform, "shopee: orders kept changing while paging; pull the window again later")
}

// list returns the order numbers updated in w. Whole-second bounds are widened to cover the window (Pull
// filters exactly); if widening pushes the span past 15 days, the span is listed in two queries.
func (c *Connector) list(ctx context.Context, w channel.Window) ([]string, error) {
	from, to := w.From.Unix(), ceilUnix(w.To)
	limit := int64(maxWindow / time.Second)
	ranges := [][2]int64{{from, to}}
	if to-from > limit {
		ranges = [][2]int64{{from, from + limit}, {from + limit, to}}
	}
	var sns []string
	seen := map[string]bool{}
	for _, r := range ranges {
		if err := c.listRange(ctx, r[0], r[1], func(sn string) {
			if sn != "" && !seen[sn] {
				seen[sn] = true
				sns = append(sns, sn)
			}
		}); err != nil {
			return nil, err
		}
	}
	return sns, nil
}

// listRange follows next_cursor while the platform says there is more.
func (c *Connector) listRange(ctx context.Context, from, to int64, add func(string)) error {
	cursor := ""
	for range maxPages {
		q := url.Values{}
		q.Set("time_range_field", "update_time")
		q.Set("time_from", strconv.FormatInt(from, 10))
		q.Set("time_to", strconv.FormatInt(to, 10))
		q.Set("page_size", strconv.Itoa(c.pageSize))
		q.Set("cursor", cursor)
		q.Set("response_optional_fields", "order_status")
		var r orderListResponse
		if err := c.call(ctx, http.MethodGet, pathOrderList, q, nil, &r); err != nil {
			return err
		}
		for _, it := range r.OrderList {
			add(it.OrderSN)
		}
		if !r.More {
			return nil
		}
		if r.NextCursor == "" || r.NextCursor == cursor {
			return fault.With(channel.ErrPlatform, "shopee %s: more pages but no new cursor", pathOrderList)
		}
		cursor = r.NextCursor
	}
	return fault.With(channel.ErrPlatform, "shopee %s: too many pages", pathOrderList)
}

// details fetches up to 50 orders by order_sn.
func (c *Connector) details(ctx context.Context, sns []string) ([]orderDetail, error) {
	q := url.Values{}
	q.Set("order_sn_list", strings.Join(sns, ","))
	q.Set("response_optional_fields", detailFields)
	var r orderDetailResponse
	if err := c.call(ctx, http.MethodGet, pathOrderDetail, q, nil, &r); err != nil {
		return nil, err
	}
	return r.OrderList, nil
}

// Detail fetches one order by its order_sn.
func (c *Connector) Detail(ctx context.Context, channelOrderID string) (order.Order, error) {
	sn := strings.TrimSpace(channelOrderID)
	if sn == "" || strings.Contains(sn, ",") {
		return order.Order{}, fault.New(fault.Invalid, "order_id_required", "one order_sn is required")
	}
	list, err := c.details(ctx, []string{sn})
	if err != nil {
		return order.Order{}, err
	}
	for i := range list {
		if list[i].OrderSN == sn {
			return mapOrder(c.shop, c.hasher, &list[i])
		}
	}
	return order.Order{}, fault.New(fault.NotFound, "channel_order_not_found", "shopee has no order %s", sn)
}

// ConfirmShipment arranges shipment with the seller's own tracking number (ship_order, non_integrated
// channel); the carrier is the logistics channel the buyer chose, so it is not sent. When the platform
// refuses because the order already carries this tracking number, the call counts as done, so repeating it
// is harmless.
func (c *Connector) ConfirmShipment(ctx context.Context, channelOrderID string, s order.Shipment) error {
	sn, tn := strings.TrimSpace(channelOrderID), strings.TrimSpace(s.TrackingNo)
	if sn == "" || tn == "" {
		return fault.New(fault.Invalid, "shipment_incomplete", "order_sn and tracking number are required")
	}
	body := map[string]any{"order_sn": sn, "non_integrated": map[string]string{"tracking_number": tn}}
	err := c.call(ctx, http.MethodPost, pathShipOrder, nil, body, nil)
	if err == nil || !errors.Is(err, channel.ErrPlatform) {
		return err
	}
	q := url.Values{}
	q.Set("order_sn", sn)
	var tr trackingResponse
	if terr := c.call(ctx, http.MethodGet, pathTracking, q, nil, &tr); terr == nil && strings.EqualFold(strings.TrimSpace(tr.TrackingNumber), tn) {
		return nil
	}
	return err
}

func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 && s < math.MaxInt64 {
		s++
	}
	return s
}
