package shopee

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"

	"orderhub/shared/channel/sandbox"
	"orderhub/shared/fault"
)

// PushRequest builds a correctly signed order status push (code 3) to callbackURL for the order's latest state.
func (s *Sandbox) PushRequest(callbackURL, orderSN string) (*http.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushRequest(context.Background(), callbackURL, orderSN, s.cfg.PartnerKey)
}

// BadlySignedPushRequest builds the same push as PushRequest but signed with a wrong key, as an attacker would.
func (s *Sandbox) BadlySignedPushRequest(callbackURL, orderSN string) (*http.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushRequest(context.Background(), callbackURL, orderSN, "not-"+s.cfg.PartnerKey)
}

// PushAll sends one push for every order changed since the last PushAll, dropping a share of them as
// Faults.DropShare says. It returns how many were delivered (acknowledged with 2xx); pushes not
// acknowledged stay queued for the next call, as the platform retries them.
func (s *Sandbox) PushAll(ctx context.Context, client *http.Client, callbackURL string) (int, error) {
	s.mu.Lock()
	ids := slices.Clone(s.pending)
	s.pending = nil
	var sns []string
	var reqs []*http.Request
	seen := map[string]bool{}
	drop := s.Faults.DropShare()
	for i := len(ids) - 1; i >= 0; i-- { // latest change first, one push per order
		if seen[ids[i]] {
			continue
		}
		seen[ids[i]] = true
		if drop > 0 && s.gen.Chance(drop) {
			continue
		}
		req, err := s.pushRequest(ctx, callbackURL, ids[i], s.cfg.PartnerKey)
		if err != nil {
			s.mu.Unlock()
			return 0, err
		}
		sns, reqs = append(sns, ids[i]), append(reqs, req)
	}
	s.mu.Unlock() // never hold the lock while the receiver may call back into the sandbox
	slices.Reverse(sns)
	slices.Reverse(reqs)
	if client == nil {
		client = http.DefaultClient
	}
	for i, req := range reqs {
		if err := sandbox.Deliver(client, req); err != nil {
			s.mu.Lock()
			s.pending = append(s.pending, sns[i:]...)
			s.mu.Unlock()
			return i, err
		}
	}
	return len(reqs), nil
}

func (s *Sandbox) pushRequest(ctx context.Context, callbackURL, orderSN, key string) (*http.Request, error) {
	so, ok := s.orders[orderSN]
	if !ok {
		return nil, fault.New(fault.NotFound, "no_such_order", "the sandbox has no order %s", orderSN)
	}
	body, err := json.Marshal(struct {
		ShopID    int64 `json:"shop_id"`
		Code      int   `json:"code"`
		Timestamp int64 `json:"timestamp"`
		Data      any   `json:"data"`
	}{s.cfg.ShopID, codeOrderStatus, s.now.Unix(), orderStatusData{OrderSN: orderSN, Status: so.o.OrderStatus, UpdateTime: so.o.UpdateTime}})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callbackURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderAuthorization, hex.EncodeToString(PushSign(key, callbackURL, body)))
	return req, nil
}
