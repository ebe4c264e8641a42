package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"orderhub/shared/auth"
	"orderhub/shared/fault"
	"orderhub/shared/hub"
	"orderhub/shared/outbound"
)

// WMSVerifier checks a warehouse's or supplier's signature over a callback's raw body.
type WMSVerifier interface {
	// Verify returns an error of kind Unauthorized unless signature is the HMAC-SHA256 of body
	// with the secret of warehouse (or supplier) id; unknown ids fail the same way.
	Verify(id, signature string, body []byte) error
}

// WithWMS receives signed ship confirmations at POST /webhooks/wms/{warehouse}, checked with v.
func WithWMS(v WMSVerifier) Option { return func(s *Server) { s.wms = v } }

// maxCallbackBody is the largest ship confirmation read: a few hundred bytes in practice.
const maxCallbackBody = 64 << 10

var (
	errNoWMS         = fault.New(fault.NotFound, "unknown_warehouse", "no warehouse receives callbacks at this address")
	errBadCallback   = fault.New(fault.Invalid, "malformed_confirmation", "malformed ship confirmation")
	errCallbackLarge = fault.New(fault.TooLarge, "too_large", "confirmation body too large")
)

func (s *Server) shipOrder(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req hub.ShipRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	o, err := s.hub.Ship(r.Context(), p, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// wmsCallback takes a WMS's or supplier's ship confirmation. The signature is checked over the
// raw body before anything is parsed; a bad one changes nothing (401). The same confirmation
// sent again answers 200 and has no second effect.
func (s *Server) wmsCallback(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	if s.wms == nil {
		return errNoWMS
	}
	id := r.PathValue("warehouse")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCallbackBody+1))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errCallbackLarge
		}
		return fault.With(errBadCallback, "body could not be read")
	}
	if len(body) > maxCallbackBody {
		return errCallbackLarge
	}
	if err := s.wms.Verify(id, r.Header.Get(outbound.HeaderSignature), body); err != nil {
		return outbound.ErrBadSignature
	}
	var c outbound.Confirmation
	if err := json.Unmarshal(body, &c); err != nil || c.OrderID == "" {
		return fault.With(errBadCallback, "order_id, carrier and tracking_no are required")
	}
	p := auth.Principal{KeyID: "wms:" + id, Name: "wms:" + id, Role: auth.Warehouse}
	o, err := s.hub.Ship(r.Context(), p, c.OrderID, hub.ShipRequest{Carrier: c.Carrier, TrackingNo: c.TrackingNo, Warehouse: id, ShippedAt: c.ShippedAt})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"order_id": o.ID, "status": o.Status})
	return nil
}
