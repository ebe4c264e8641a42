package sqlite_test

import (
	"path/filepath"
	"testing"

	"orderhub/shared/auth"
	"orderhub/shared/auth/keytest"
)

func TestKeysConformance(t *testing.T) {
	t.Parallel()
	keytest.Run(t, func(t *testing.T) auth.Keys {
		return open(t, filepath.Join(t.TempDir(), "keys.db"))
	})
}
