package douyin

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"orderhub/shared/channel"
	"orderhub/shared/fault"
)

// Push headers the platform sends with every message batch.
const (
	HeaderEventSign  = "event-sign"
	HeaderSignMethod = "sign-method"
	HeaderAppID      = "app-id"
)

// pushAck is the reply the platform expects within two seconds; anything else is redelivered.
var pushAck = []byte(`{"code":0,"msg":"success"}`)

// VerifyPush checks event-sign over the raw body: MD5(app_key + body + app_secret) (hex), or HMAC-SHA256 of
// the same string keyed with the app secret when the push says sign-method: hmac-sha256. The compare is
// constant-time and the body is not parsed. A push for another app (app-id header) is refused too.
func (c *Connector) VerifyPush(r *http.Request, body []byte) error {
	got, err := hex.DecodeString(strings.TrimSpace(r.Header.Get(HeaderEventSign)))
	if err != nil || len(got) == 0 {
		return channel.ErrBadSignature
	}
	if app := strings.TrimSpace(r.Header.Get(HeaderAppID)); app != "" && !hmac.Equal([]byte(app), []byte(c.appKey)) {
		return channel.ErrBadSignature
	}
	method := strings.TrimSpace(r.Header.Get(HeaderSignMethod))
	if method != "" && !strings.EqualFold(method, SignMD5) && !strings.EqualFold(method, SignHMACSHA256) {
		return channel.ErrBadSignature
	}
	if !hmac.Equal(PushSign(c.appKey, c.secret, body, method), got) {
		return channel.ErrBadSignature
	}
	return nil
}

// pushMessage is one element of a push batch; data is itself a JSON document in a string.
type pushMessage struct {
	Tag   json.RawMessage `json:"tag"`
	MsgID flexID          `json:"msg_id"`
	Data  json.RawMessage `json:"data"`
}

// pushData holds the fields of a trade (1xx) or after-sale (2xx) message the hub needs.
type pushData struct {
	PID    flexID `json:"p_id"`
	ShopID flexID `json:"shop_id"`
}

// ParsePush turns a verified batch into a Push. Trade messages (tags 1xx: 100 TradeCreate, 101 TradePaid,
// 102 TradeSellerShip, 103 TradeSuccess, 105 TradeAddressChanged, 106 TradeCanceled, …) and after-sale
// messages (tags 2xx) all name the shop order in p_id and only notify, so their orders are fetched; other
// tags, messages without p_id and messages for another shop of the same app are acknowledged and ignored.
func (c *Connector) ParsePush(_ *http.Request, body []byte) (channel.Push, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var msgs []pushMessage
	if err := dec.Decode(&msgs); err != nil || dec.More() || msgs == nil {
		return channel.Push{}, channel.ErrMalformedPush
	}
	var ids, fetch []string
	for _, m := range msgs {
		tag, ok := tagNumber(m.Tag)
		if !ok || m.MsgID == "" {
			return channel.Push{}, fault.With(channel.ErrMalformedPush, "message without tag or msg_id")
		}
		ids = append(ids, string(m.MsgID))
		if tag < 100 || tag >= 300 {
			continue
		}
		d, err := decodeData(m.Data)
		if err != nil {
			return channel.Push{}, fault.With(channel.ErrMalformedPush, "message %s has unreadable data", m.MsgID)
		}
		if strings.TrimSpace(string(d.PID)) == "" || (c.shopID != "" && d.ShopID != "" && string(d.ShopID) != c.shopID) {
			// Not about one of this shop's orders: refusing it would only make the platform retry forever.
			continue
		}
		if !slices.Contains(fetch, string(d.PID)) {
			fetch = append(fetch, string(d.PID))
		}
	}
	return channel.Push{DeliveryID: deliveryID(ids), Fetch: fetch, Ping: len(fetch) == 0}, nil
}

// decodeData reads a message's data, which the platform sends as a JSON string (objects are accepted too).
func decodeData(raw json.RawMessage) (pushData, error) {
	var d pushData
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return d, err
		}
		raw = []byte(s)
	}
	err := json.Unmarshal(raw, &d)
	return d, err
}

// tagNumber reads a tag sent as "101" or 101.
func tagNumber(raw json.RawMessage) (int, bool) {
	var id flexID
	if err := json.Unmarshal(raw, &id); err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(id))
	return n, err == nil
}

// deliveryID identifies a batch by its message ids, sorted so that a redelivery in another order matches;
// long batches are summarised by a hash to keep the id short.
func deliveryID(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	s := strings.Join(ids, ",")
	if len(s) <= 128 {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// PushAck is the platform's expected reply: {"code":0,"msg":"success"}.
func (c *Connector) PushAck() (string, []byte) {
	return "application/json", slices.Clone(pushAck)
}
