package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestStartAndStop: the demo serves on the ports it is given (random here,
// so a running demo is never disturbed) and stops with its context.
func TestStartAndStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := start(ctx, config{chatAddr: "127.0.0.1:0", bankAddr: "127.0.0.1:0", otherAddr: "127.0.0.1:0", adminAddr: "127.0.0.1:0", logger: quietLogger()})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(d.bankURL, "http://www.uplusbank.localhost:"), d.bankURL)
	assert.True(t, strings.HasPrefix(d.evilURL, "http://evil.localhost:"), d.evilURL)

	tests := []struct {
		name, url, want string
	}{
		{"chat server", d.chatURL + "/healthz", "ok"},
		{"bank site (by its loopback address)", "http://127.0.0.1:" + d.bankURL[strings.LastIndex(d.bankURL, ":")+1:] + "/", "U+ Bank"},
		{"evil site", "http://127.0.0.1:" + d.evilURL[strings.LastIndex(d.evilURL, ":")+1:] + "/", "Totally Legit Deals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(tt.url)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Contains(t, string(body), tt.want)
		})
	}

	// The console's store holds the built-in policy, its secret sealed
	// (not an environment reference: the store is the one source).
	docs, err := d.policies.List(ctx)
	require.NoError(t, err)
	require.Contains(t, docs, "retail-bank")
	doc := string(docs["retail-bank"].Doc)
	assert.Contains(t, doc, "sealed: ")
	assert.NotContains(t, doc, "UPLUS_JWT_SECRET")

	var out strings.Builder
	d.printWelcome(&out)
	for _, u := range []string{d.bankURL, d.evilURL, d.chatURL + "/agent", d.consoleURL, d.loginURL()} {
		assert.Contains(t, out.String(), u)
	}

	cancel()
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		require.FailNow(t, "servers did not stop")
	}
}

// TestStartRefusesBusyPort: a port in use is an error, and the listeners
// already opened are closed again.
func TestStartRefusesBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	freeAddr := free.Addr().String()
	free.Close()

	_, err = start(ctx, config{chatAddr: freeAddr, bankAddr: busy.Addr().String(), otherAddr: "127.0.0.1:0", adminAddr: "127.0.0.1:0", logger: quietLogger()})
	require.Error(t, err)
	again, err := net.Listen("tcp", freeAddr)
	require.NoError(t, err, "the chat listener was closed")
	again.Close()
}

// TestConsoleLogin: the console's API and page need the login — the
// token as a bearer token, or the cookie /login sets for it (HttpOnly,
// SameSite=Strict, never the token itself) — and the token is never
// logged.
func TestConsoleLogin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	d, err := start(ctx, config{chatAddr: "127.0.0.1:0", bankAddr: "127.0.0.1:0", otherAddr: "127.0.0.1:0", adminAddr: "127.0.0.1:0", logger: logger})
	require.NoError(t, err)
	defer func() { cancel(); d.wait() }()
	token := d.console.token
	require.Len(t, token, 43, "32 random bytes, base64url")

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(t *testing.T, path, bearer string, cookie *http.Cookie) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, d.consoleURL+path, nil)
		require.NoError(t, err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, _ := send(t, "login?token="+token, "", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/", resp.Header.Get("Location"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	login := cookies[0]
	assert.True(t, login.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, login.SameSite)
	assert.Equal(t, "/", login.Path)
	assert.NotContains(t, login.Value, token, "the cookie is not the token")

	forged := &http.Cookie{Name: login.Name, Value: login.Value[:len(login.Value)-1] + "A"}
	if forged.Value == login.Value {
		forged.Value = login.Value[:len(login.Value)-1] + "B"
	}
	tests := []struct {
		name, path, bearer string
		cookie             *http.Cookie
		want               int
		body               string
	}{
		{"API without login", "api/connections", "", nil, 401, "admin-unauthenticated"},
		{"API with the token", "api/connections", token, nil, 200, "retail-bank"},
		{"API with the cookie", "api/connections", "", login, 200, "retail-bank"},
		{"API with a wrong token", "api/connections", token + "x", nil, 401, "admin-unauthenticated"},
		{"a wrong token is not rescued by the cookie", "api/connections", "nope", login, 401, "admin-unauthenticated"},
		{"API with a forged cookie", "api/connections", "", forged, 401, "admin-unauthenticated"},
		{"page without login says how to log in", "", "", nil, 401, "log in first"},
		{"page with the cookie", "", "", login, 200, "Manage connections"},
		{"login with a wrong token", "login?token=" + token[:len(token)-1], "", nil, 401, "wrong or missing token"},
		{"login without a token", "login", "", nil, 401, "wrong or missing token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, tt.path, tt.bearer, tt.cookie)
			assert.Equal(t, tt.want, resp.StatusCode)
			assert.Contains(t, body, tt.body)
			assert.NotContains(t, body, token)
			assert.NotContains(t, body, login.Value)
			assert.Empty(t, resp.Cookies(), "only a good login sets the cookie")
		})
	}

	// A change through the API is logged (the audit line), the token not.
	resp, _ = send(t, "api/connections/retail-bank", token, nil)
	req, err := http.NewRequest(http.MethodPost, d.consoleURL+"api/connections/retail-bank/cookies", strings.NewReader(`{"name":"basket_size"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", resp.Header.Get("ETag"))
	changed, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	changed.Body.Close()
	require.Equal(t, http.StatusOK, changed.StatusCode)
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, logs.String(), "principal=demo-admin")
	assert.NotContains(t, logs.String(), token)
	assert.NotContains(t, logs.String(), login.Value)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
