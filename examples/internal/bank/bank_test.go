package bank

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

const (
	bankURL = "http://www.uplusbank.localhost:8081"
	conn    = "retail-bank"
	issuer  = "uplusbank-backend"
	liveSID = "live-session-1"
)

type fixture struct {
	site     *Site
	key      secretdata.Key
	store    *delivery.MemoryStore
	verifier *secretdata.Verifier
}

// newFixture builds the site against a real delivery Handler (the chat
// server's side) that knows one live session, liveSID.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	key, err := secretdata.NewHMACKey("k1", secretdata.HS256, []byte("bank-test-secret-of-at-least-32-bytes!"))
	require.NoError(t, err)
	verifier, err := secretdata.NewVerifier(secretdata.VerifierConfig{Keys: []secretdata.Key{key}, Issuer: issuer, Audience: conn})
	require.NoError(t, err)
	store, err := delivery.NewMemoryStore([]byte("0123456789abcdef0123456789abcdef"), delivery.MemoryStoreConfig{})
	require.NoError(t, err)
	h, err := delivery.NewHandler(delivery.HandlerConfig{
		Verifier: func(string) (*secretdata.Verifier, bool) { return verifier, true },
		Store:    store,
		SessionLifetime: func(_ context.Context, _, session string) (time.Duration, error) {
			if session != liveSID {
				return 0, delivery.ErrNotFound
			}
			return time.Minute, nil
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle(delivery.Pattern, h)
	chatSrv := httptest.NewServer(mux)
	t.Cleanup(chatSrv.Close)

	signer := func(lifetime time.Duration) *secretdata.Signer {
		s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: issuer, Audience: conn, Lifetime: lifetime})
		require.NoError(t, err)
		return s
	}
	client, err := delivery.NewClient(delivery.ClientConfig{BaseURL: chatSrv.URL, Signer: signer(0), MaxRetries: -1})
	require.NoError(t, err)
	site, err := New(Config{ChatURL: chatSrv.URL, Connection: conn, Signer: signer(TokenLifetime), Delivery: client,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	// A second verifier for browser tokens, so the first (shared with the
	// Handler) keeps its own replay record.
	browserVerifier, err := secretdata.NewVerifier(secretdata.VerifierConfig{Keys: []secretdata.Key{key}, Issuer: issuer, Audience: conn})
	require.NoError(t, err)
	return &fixture{site: site, key: key, store: store, verifier: browserVerifier}
}

// browser is a tiny same-origin client with a cookie jar.
type browser struct {
	site    http.Handler
	cookies map[string]string
}

func (b *browser) do(t *testing.T, method, path, contentType, body string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, bankURL+path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	for k, v := range b.cookies {
		r.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	w := httptest.NewRecorder()
	b.site.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		b.cookies[c.Name] = c.Value
	}
	return w
}

func (b *browser) login(t *testing.T, name string) {
	t.Helper()
	w := b.do(t, "POST", "/login", "application/x-www-form-urlencoded", url.Values{"name": {name}}.Encode(), nil)
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
}

func TestHomeSetsCookies(t *testing.T) {
	f := newFixture(t)
	b := &browser{site: f.site, cookies: map[string]string{}}
	w := b.do(t, "GET", "/", "", "", nil)
	require.Equal(t, 200, w.Code)
	assert.Contains(t, w.Body.String(), `/connections/retail-bank/widget.js`)
	assert.Equal(t, "1", b.cookies[CookiePageViewed])
	assert.Equal(t, "gold-card|travel-insurance", b.cookies[CookieCart])
	first := b.cookies[CookieSession]
	assert.Len(t, first, 22, "128 random bits")
	b.do(t, "GET", "/", "", "", nil)
	assert.Equal(t, "2", b.cookies[CookiePageViewed])
	assert.Equal(t, first, b.cookies[CookieSession], "kept across visits")
	for _, c := range w.Result().Cookies() {
		assert.Equal(t, http.SameSiteLaxMode, c.SameSite, c.Name)
	}
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name       string
		signedIn   bool
		method     string
		path       string
		ctype      string
		body       string
		header     map[string]string
		wantStatus int
	}{
		{"token signed out", false, "POST", "/token", "", "", nil, 204},
		{"token signed in", true, "POST", "/token", "", "", nil, 200},
		{"token from another site (CSRF)", true, "POST", "/token", "", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"token by GET", true, "GET", "/token", "", "", nil, 405},
		{"login from another site (CSRF)", false, "POST", "/login", "application/x-www-form-urlencoded", "name=mallory", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"login without a name", false, "POST", "/login", "application/x-www-form-urlencoded", "name=", nil, 400},
		{"chat session signed out: nothing sent", false, "POST", "/chat-session", "application/json", `{"session":"` + liveSID + `"}`, nil, 204},
		{"chat session signed in: delivered", true, "POST", "/chat-session", "application/json", `{"session":"` + liveSID + `"}`, nil, 204},
		{"chat session unknown to the chat server", true, "POST", "/chat-session", "application/json", `{"session":"gone"}`, nil, 502},
		{"chat session with a bad ID", true, "POST", "/chat-session", "application/json", `{"session":"../x"}`, nil, 400},
		{"chat session with extra fields", true, "POST", "/chat-session", "application/json", `{"session":"` + liveSID + `","customer_id":"C-1"}`, nil, 400},
		{"chat session from another site (CSRF)", true, "POST", "/chat-session", "application/json", `{"session":"` + liveSID + `"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			b := &browser{site: f.site, cookies: map[string]string{}}
			b.do(t, "GET", "/", "", "", nil)
			if tt.signedIn {
				b.login(t, "Alice")
			}
			w := b.do(t, tt.method, tt.path, tt.ctype, tt.body, tt.header)
			assert.Equal(t, tt.wantStatus, w.Code, w.Body.String())
			delivered, err := f.store.Get(context.Background(), conn, liveSID)
			if tt.path == "/chat-session" && tt.wantStatus == 204 && tt.signedIn {
				require.NoError(t, err)
				id, _ := delivered.CustomerID()
				assert.Equal(t, customerID("Alice"), id)
				assert.Equal(t, liveSID, delivered.SessionID)
			} else {
				assert.ErrorIs(t, err, delivery.ErrNotFound, "nothing delivered")
			}
		})
	}
}

// TestToken: the pass-through token verifies, names the customer, is
// bound to no session and lives TokenLifetime.
func TestToken(t *testing.T) {
	f := newFixture(t)
	b := &browser{site: f.site, cookies: map[string]string{}}
	b.do(t, "GET", "/", "", "", nil)
	before := b.cookies[CookieSession]
	b.login(t, "Alice")
	assert.NotEqual(t, before, b.cookies[CookieSession], "a new session ID at sign-in")
	w := b.do(t, "POST", "/token", "", "", nil)
	require.Equal(t, 200, w.Code)
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	c, err := f.verifier.Verify(context.Background(), w.Body.String())
	require.NoError(t, err)
	id, _ := c.CustomerID()
	status, _ := c.AuthenticationStatus()
	assert.Equal(t, customerID("Alice"), id)
	assert.Equal(t, "authenticated", status)
	assert.Empty(t, c.SessionID)
	assert.Equal(t, TokenLifetime, c.ExpiresAt.Sub(c.IssuedAt))

	b.do(t, "POST", "/logout", "", "", nil)
	assert.Equal(t, 204, b.do(t, "POST", "/token", "", "", nil).Code, "signed out")
}

func TestNewRefusesBadConfig(t *testing.T) {
	f := newFixture(t)
	good := f.site.cfg
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"no chat URL", func(c *Config) { c.ChatURL = "" }},
		{"chat URL not http", func(c *Config) { c.ChatURL = "ftp://chat" }},
		{"chat URL with a query", func(c *Config) { c.ChatURL = "http://chat?x=1" }},
		{"bad connection", func(c *Config) { c.Connection = "a/b" }},
		{"no signer", func(c *Config) { c.Signer = nil }},
		{"no delivery client", func(c *Config) { c.Delivery = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mutate(&cfg)
			_, err := New(cfg)
			assert.ErrorIs(t, err, ErrConfig)
		})
	}
}
