package api

import (
	"net/http"

	"orderhub/shared/auth"
)

type createKeyRequest struct {
	Name     string    `json:"name"`
	Role     auth.Role `json:"role"`
	Supplier string    `json:"supplier"`
}

type createKeyResponse struct {
	auth.Key
	Secret string `json:"secret"` // shown once: only its hash is stored
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req createKeyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	k, secret, err := auth.NewKey(req.Name, req.Role, req.Supplier, p.Actor(), s.hub.Time())
	if err != nil {
		return err
	}
	if err := s.hub.Keys.PutKey(r.Context(), k); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, createKeyResponse{Key: k, Secret: secret})
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
	keys, err := s.hub.Keys.ListKeys(r.Context())
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []auth.Key{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id := r.PathValue("id")
	if id == p.KeyID {
		return auth.ErrCannotRevokeSelf
	}
	if err := s.hub.Keys.RevokeKey(r.Context(), id, s.hub.Time()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
