package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/admin"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

const adminToken = "cli-admin-token-0123456789"

func adminConsole(t *testing.T) (*httptest.Server, *policy.Store) {
	t.Helper()
	store, err := policy.NewStore(policy.NewMemoryBackend(), policy.StoreOptions{SealingKey: bytes.Repeat([]byte{3}, 32)})
	require.NoError(t, err)
	h, err := admin.New(admin.Config{Store: store, Logger: slog.New(slog.DiscardHandler), Authorize: func(r *http.Request) (string, error) {
		if r.Header.Get("Authorization") != "Bearer "+adminToken {
			return "", admin.ErrUnauthenticated
		}
		return "ci-script", nil
	}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, store
}

func TestAdminCommands(t *testing.T) {
	srv, store := adminConsole(t)
	ctx := context.Background()
	e := &testEnv{vars: map[string]string{"MSGSEC_ADMIN_URL": srv.URL, "MSGSEC_ADMIN_TOKEN": adminToken}}

	r := e.run(t, "", "admin", "create", "retail-bank", "--name", "Retail bank", "--issuer", "https://backend.uplusbank.com")
	require.Equal(t, exitOK, r.code, r.stderr)
	r = e.run(t, "", "admin", "add-domain", "retail-bank", "https://www.uplusbank.com")
	require.Equal(t, exitOK, r.code, r.stderr)
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	require.NotEmpty(t, out["explanation"], "the answer says what the pattern admits")

	r = e.run(t, "", "admin", "add-domain", "retail-bank", "https://*.com")
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stderr, "allowed_domains[1]")

	r = e.run(t, "", "admin", "add-cookie", "retail-bank", "session_id")
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stderr, "sensitive")
	r = e.run(t, "", "admin", "add-cookie", "retail-bank", "page_viewed")
	require.Equal(t, exitOK, r.code, r.stderr)

	// A new key: the secret goes to --out only, with mode 0600.
	out1 := filepath.Join(t.TempDir(), "k1.secret")
	r = e.run(t, "", "admin", "new-key", "retail-bank", "k1", "--out", out1)
	require.Equal(t, exitOK, r.code, r.stderr)
	raw, err := os.ReadFile(out1)
	require.NoError(t, err)
	secret := strings.TrimSpace(string(raw))
	require.Len(t, secret, 86)
	require.NotContains(t, r.stdout+r.stderr, secret)
	fi, err := os.Stat(out1)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	r = e.run(t, "", "admin", "new-key", "retail-bank", "k2")
	require.Equal(t, exitUsage, r.code, "no --out: refused before anything is created")
	r = e.run(t, "", "admin", "new-key", "retail-bank", "k2", "--out", out1)
	require.Equal(t, exitUsage, r.code, "--out exists: refused before anything is created")
	raw2, err := os.ReadFile(out1)
	require.NoError(t, err)
	require.Equal(t, raw, raw2, "the existing file is untouched")
	c, _, err := store.Get(ctx, "retail-bank")
	require.NoError(t, err)
	require.Len(t, c.Keys, 1)

	// The key signs tokens the stored policy accepts, until it is retired.
	k, err := secretdata.NewHMACKey("k1", secretdata.HS256, []byte(secret))
	require.NoError(t, err)
	s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: k, Issuer: "https://backend.uplusbank.com", Audience: "retail-bank"})
	require.NoError(t, err)
	verify := func() error {
		c, _, err := store.Get(ctx, "retail-bank")
		require.NoError(t, err)
		compiled, err := c.Compile(ctx, policy.CompileOptions{})
		require.NoError(t, err)
		tok, err := s.Sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-1"}})
		require.NoError(t, err)
		_, err = compiled.Verifier().Verify(ctx, tok)
		return err
	}
	require.NoError(t, verify())
	r = e.run(t, "", "admin", "retire-key", "retail-bank", "k1", "--at", time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Error(t, verify())

	r = e.run(t, "", "admin", "mode", "retail-bank", "enforce")
	require.Equal(t, exitOK, r.code, r.stderr)
	r = e.run(t, "", "admin", "show", "retail-bank")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	require.Equal(t, "enforce", out["mode"])
	require.NotContains(t, r.stdout, secret)
	r = e.run(t, "", "admin", "list")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "retail-bank")

	r = e.run(t, "", "admin", "delete", "retail-bank")
	require.Equal(t, exitOK, r.code, r.stderr)
	_, _, err = store.Get(ctx, "retail-bank")
	require.True(t, errors.Is(err, policy.ErrUnknownConnection))
}

func TestAdminCommandsNeedURLAndLogin(t *testing.T) {
	srv, _ := adminConsole(t)
	r := (&testEnv{vars: map[string]string{"MSGSEC_ADMIN_TOKEN": adminToken}}).run(t, "", "admin", "list")
	requireOneLineError(t, r, "no console URL")
	r = (&testEnv{vars: map[string]string{}}).run(t, "", "admin", "list", "--url", srv.URL)
	requireOneLineError(t, r, "MSGSEC_ADMIN_TOKEN")
	r = (&testEnv{vars: map[string]string{"T": "wrong-token-value"}}).run(t, "", "admin", "list", "--url", srv.URL, "--token-env", "T")
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stderr, "401")
	require.NotContains(t, r.stderr, "wrong-token-value", "the token is never printed")
}
