package douyin

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"orderhub/shared/channel/sandbox"
	"orderhub/shared/fault"
)

// pushBatchSize is how many messages the sandbox packs into one push, as the platform batches them.
const pushBatchSize = 10

// PushRequest builds a correctly signed push to callbackURL announcing the order's latest change.
func (s *Sandbox) PushRequest(callbackURL, orderID string) (*http.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg, err := s.message(orderID)
	if err != nil {
		return nil, err
	}
	return s.request(context.Background(), callbackURL, []pushMessage{msg}, s.cfg.AppSecret)
}

// BadlySignedPushRequest builds the same push as PushRequest but signed with a wrong secret, as an attacker would.
func (s *Sandbox) BadlySignedPushRequest(callbackURL, orderID string) (*http.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg, err := s.message(orderID)
	if err != nil {
		return nil, err
	}
	return s.request(context.Background(), callbackURL, []pushMessage{msg}, "not-"+s.cfg.AppSecret)
}

// PushAll sends one message for every order changed since the last PushAll, in batches, dropping a share of
// them as Faults.DropShare says. It returns how many messages were delivered (acknowledged with 2xx).
func (s *Sandbox) PushAll(ctx context.Context, client *http.Client, callbackURL string) (int, error) {
	s.mu.Lock()
	ids := slices.Clone(s.pending)
	s.pending = nil
	var msgs []pushMessage
	var msgIDs []string
	seen := map[string]bool{}
	drop := s.Faults.DropShare()
	for i := len(ids) - 1; i >= 0; i-- { // latest change first, one message per order
		if seen[ids[i]] {
			continue
		}
		seen[ids[i]] = true
		if drop > 0 && s.gen.Chance(drop) {
			continue
		}
		m, err := s.message(ids[i])
		if err != nil {
			s.mu.Unlock()
			return 0, err
		}
		msgs, msgIDs = append(msgs, m), append(msgIDs, ids[i])
	}
	slices.Reverse(msgs)
	slices.Reverse(msgIDs)
	var reqs []*http.Request
	var batches [][]string
	for start := 0; start < len(msgs); start += pushBatchSize {
		end := min(start+pushBatchSize, len(msgs))
		req, err := s.request(ctx, callbackURL, msgs[start:end], s.cfg.AppSecret)
		if err != nil {
			s.mu.Unlock()
			return 0, err
		}
		reqs, batches = append(reqs, req), append(batches, msgIDs[start:end])
	}
	s.mu.Unlock() // never hold the lock while the receiver may call back into the sandbox
	if client == nil {
		client = http.DefaultClient
	}
	sent := 0
	for i, req := range reqs {
		err := sandbox.Deliver(client, req)
		if err != nil {
			// Like the platform, keep what was not acknowledged for the next round.
			s.mu.Lock()
			for _, b := range batches[i:] {
				s.pending = append(s.pending, b...)
			}
			s.mu.Unlock()
			return sent, err
		}
		sent += len(batches[i])
	}
	return sent, nil
}

// message renders the order's latest change as a push message whose data names the order in p_id.
func (s *Sandbox) message(orderID string) (pushMessage, error) {
	so, ok := s.orders[orderID]
	if !ok {
		return pushMessage{}, fault.New(fault.NotFound, "no_such_order", "the sandbox has no order %s", orderID)
	}
	o := &so.o
	sids := make([]json.Number, 0, len(o.SkuOrderList))
	for _, l := range o.SkuOrderList {
		sids = append(sids, json.Number(l.OrderID))
	}
	data, err := json.Marshal(struct {
		PID         json.Number   `json:"p_id"`
		SIDs        []json.Number `json:"s_ids"`
		ShopID      json.Number   `json:"shop_id"`
		OrderStatus flexInt       `json:"order_status"`
		UpdateTime  flexInt       `json:"update_time"`
	}{json.Number(o.OrderID), sids, json.Number(s.cfg.ShopID), o.OrderStatus, o.UpdateTime})
	if err != nil {
		return pushMessage{}, err
	}
	quoted, _ := json.Marshal(string(data))
	tag, _ := json.Marshal(strconv.Itoa(so.tag))
	return pushMessage{
		Tag:   tag,
		MsgID: flexID(fmt.Sprintf("%s%d", o.OrderID, int64(o.UpdateTime))),
		Data:  quoted,
	}, nil
}

func (s *Sandbox) request(ctx context.Context, callbackURL string, msgs []pushMessage, secret string) (*http.Request, error) {
	body, err := json.Marshal(msgs)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callbackURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderAppID, s.cfg.AppKey)
	if s.cfg.PushSignMethod != "" {
		req.Header.Set(HeaderSignMethod, s.cfg.PushSignMethod)
	}
	req.Header.Set(HeaderEventSign, hex.EncodeToString(PushSign(s.cfg.AppKey, secret, body, s.cfg.PushSignMethod)))
	return req, nil
}
