package api

import (
	_ "embed"
	"net/http"

	"orderhub/shared/auth"
)

// openapiJSON is written by hand, so that it documents intent; a test checks it lists exactly the
// registered routes.
//
//go:embed openapi.json
var openapiJSON []byte

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request, _ auth.Principal) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, err := w.Write(openapiJSON)
	return err
}
