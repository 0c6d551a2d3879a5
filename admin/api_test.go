package admin_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/admin"
	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

var sealingKey = bytes.Repeat([]byte{9}, 32)

// console is a test console: its server, its store, and every response
// body it gave (to count where a secret appears).
type console struct {
	t       *testing.T
	srv     *httptest.Server
	store   *policy.Store
	journal *admin.MemoryJournal
	logs    *bytes.Buffer

	mu     sync.Mutex
	bodies []string
}

func authorize(r *http.Request) (string, error) {
	switch r.Header.Get("Authorization") {
	case "Bearer admin-token":
		return "alice@bank", nil
	case "Bearer viewer-token":
		return "", admin.ErrForbidden
	}
	return "", admin.ErrUnauthenticated
}

func newConsole(t *testing.T) *console {
	t.Helper()
	store, err := policy.NewStore(policy.NewMemoryBackend(), policy.StoreOptions{SealingKey: sealingKey})
	require.NoError(t, err)
	c := &console{t: t, store: store, journal: admin.NewMemoryJournal(), logs: &bytes.Buffer{}}
	h, err := admin.New(admin.Config{
		Store: store, Authorize: authorize, Journal: c.journal,
		Logger: slog.New(slog.NewJSONHandler(&lockedWriter{w: c.logs}, nil)),
	})
	require.NoError(t, err)
	c.srv = httptest.NewServer(h)
	t.Cleanup(c.srv.Close)
	return c
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type answer struct {
	status int
	etag   string
	body   map[string]any
	header http.Header
}

// do sends a request as alice unless headers say otherwise.
func (c *console) do(method, path string, body any, headers ...string) answer {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.srv.URL+path, rd)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer admin-token")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	c.mu.Lock()
	c.bodies = append(c.bodies, string(raw))
	c.mu.Unlock()
	a := answer{status: res.StatusCode, etag: res.Header.Get("ETag"), header: res.Header}
	if strings.Contains(res.Header.Get("Content-Type"), "json") && len(raw) > 0 {
		require.NoError(c.t, json.Unmarshal(raw, &a.body), string(raw))
	}
	return a
}

// problem checks a problem answer's status and type.
func problem(t *testing.T, a answer, status int, kind string) {
	t.Helper()
	require.Equal(t, status, a.status, a.body)
	require.Equal(t, "urn:msgsec:problem:"+kind, a.body["type"], a.body)
	require.Equal(t, float64(status), a.body["status"])
}

func (c *console) create(id string) string {
	c.t.Helper()
	a := c.do("POST", "/api/connections", map[string]any{"id": id, "name": "Retail bank", "issuer": "https://backend.uplusbank.com"})
	require.Equal(c.t, http.StatusCreated, a.status, a.body)
	return a.etag
}

func errorFields(a answer) []string {
	var out []string
	errs, _ := a.body["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

func TestNewRefusesAConsoleWithoutLogin(t *testing.T) {
	_, err := admin.New(admin.Config{TrustedOrigins: []string{"not an origin"}})
	var fields []string
	for e := range cfgerr.All(err) {
		fields = append(fields, e.Field)
		require.ErrorIs(t, e, admin.ErrConfig)
	}
	require.Equal(t, []string{"Store", "Authorize", "TrustedOrigins[0]"}, fields, "every problem at once")
}

func TestLoginIsRequiredEverywhere(t *testing.T) {
	c := newConsole(t)
	c.create("retail-bank")
	for _, path := range []string{"/", "/static/console.js", "/api/connections", "/api/connections/retail-bank", "/api/audit"} {
		problem(t, c.do("GET", path, nil, "Authorization", ""), http.StatusUnauthorized, "admin-unauthenticated")
		problem(t, c.do("GET", path, nil, "Authorization", "Bearer wrong"), http.StatusUnauthorized, "admin-unauthenticated")
		problem(t, c.do("GET", path, nil, "Authorization", "Bearer viewer-token"), http.StatusForbidden, "admin-forbidden")
		require.Equal(t, http.StatusOK, c.do("GET", path, nil).status, path)
	}
	a := c.do("POST", "/api/connections", map[string]any{"id": "other"}, "Authorization", "")
	problem(t, a, http.StatusUnauthorized, "admin-unauthenticated")
	require.Equal(t, http.StatusNotFound, c.do("GET", "/api/connections/other", nil).status, "nothing was created")
}

func TestCrossSiteWritesAreRefused(t *testing.T) {
	c := newConsole(t)
	et := c.create("retail-bank")
	a := c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": "https://evil.example"},
		"If-Match", et, "Sec-Fetch-Site", "cross-site")
	problem(t, a, http.StatusForbidden, "admin-cross-site")
	a = c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": "https://evil.example"},
		"If-Match", et, "Origin", "https://evil.example")
	problem(t, a, http.StatusForbidden, "admin-cross-site")
	v := c.do("GET", "/api/connections/retail-bank", nil)
	require.Empty(t, v.body["allowed_domains"], "nothing was added")
	// The same request from the console's own page goes through.
	a = c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": "https://www.uplusbank.com"},
		"If-Match", et, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusOK, a.status, a.body)
}

func TestEveryAnswerIsLockedDown(t *testing.T) {
	c := newConsole(t)
	for _, path := range []string{"/", "/api/connections", "/static/console.js"} {
		a := c.do("GET", path, nil)
		csp := a.header.Get("Content-Security-Policy")
		require.Contains(t, csp, "script-src 'self'", path)
		require.NotContains(t, csp, "unsafe-inline", path)
		require.Contains(t, csp, "frame-ancestors 'none'", path)
		require.Equal(t, "no-store", a.header.Get("Cache-Control"), path)
		require.Equal(t, "nosniff", a.header.Get("X-Content-Type-Options"), path)
	}
	page := c.do("GET", "/", nil)
	require.Equal(t, http.StatusOK, page.status)
	c.mu.Lock()
	html := c.bodies[len(c.bodies)-1]
	c.mu.Unlock()
	require.Contains(t, html, `<script src="static/console.js" defer></script>`)
	require.NotRegexp(t, `<script>[^<]`, html, "no inline script")
	require.Contains(t, html, "alice@bank")
}

func TestDomains(t *testing.T) {
	c := newConsole(t)
	et := c.create("retail-bank")
	v := c.do("GET", "/api/connections/retail-bank", nil)
	require.Equal(t, true, v.body["any_website"], "a connection with no domain: any website, shown loudly")
	require.Equal(t, "report-only", v.body["mode"], "a new connection starts in report-only")

	// Same-site matching: the answer explains what the pattern admits.
	a := c.do("PATCH", "/api/connections/retail-bank", map[string]any{"domain_matching": "same-site"}, "If-Match", et)
	require.Equal(t, http.StatusOK, a.status, a.body)
	et = a.etag
	a = c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": "https://www.uplusbank.com"}, "If-Match", et)
	require.Equal(t, http.StatusOK, a.status, a.body)
	et = a.etag
	ex := a.body["explanation"].(map[string]any)
	admits := origins(ex["admits"])
	refuses := origins(ex["refuses"])
	assert.Contains(t, admits, "https://www.uplusbank.com")
	assert.Contains(t, admits, "https://account.uplusbank.com")
	assert.Contains(t, admits, "https://uplusbank.com")
	assert.Contains(t, refuses, "https://www.uplus.com")
	assert.Contains(t, refuses, "http://www.uplusbank.com")
	assert.Contains(t, refuses, "https://www.uplusbank.com.evil.example")
	conn := a.body["connection"].(map[string]any)
	require.Equal(t, []any{"https://www.uplusbank.com"}, conn["allowed_domains"])
	require.Equal(t, false, conn["any_website"])

	// Refused patterns come back with the policy's reasons, field paths
	// relative to the connection; nothing changes.
	for _, p := range []string{"https://*.com", "null", "https://www.uplusbank.com/path", "https://*.co.uk", "*.uplusbank.com"} {
		a = c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": p}, "If-Match", et)
		problem(t, a, http.StatusUnprocessableEntity, "admin-invalid")
		require.Equal(t, []string{"allowed_domains[1]"}, errorFields(a), p)
	}
	a = c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": "https://www.uplusbank.com"}, "If-Match", et)
	problem(t, a, http.StatusConflict, "admin-duplicate")

	// A stale version: 412; a missing one: 428.
	a = c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": "https://partner.example"}, "If-Match", `"1"`)
	problem(t, a, http.StatusPreconditionFailed, "admin-version-conflict")
	a = c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": "https://partner.example"})
	problem(t, a, http.StatusPreconditionRequired, "admin-version-required")
	bare := strings.Trim(et, `"`)
	for _, bad := range []string{"W/" + et, bare, bare + `"`, `"0` + bare + `"`, `"` + bare} {
		a = c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": "https://partner.example"}, "If-Match", bad)
		problem(t, a, http.StatusPreconditionFailed, "admin-version-conflict")
	}
	a = c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": "https://partner.example"}, "If-Match", et)
	require.Equal(t, http.StatusOK, a.status)
	et = a.etag

	a = c.do("DELETE", "/api/connections/retail-bank/domains?pattern=https://www.uplusbank.com", nil, "If-Match", et)
	require.Equal(t, http.StatusOK, a.status, a.body)
	require.Equal(t, []any{"https://partner.example"}, a.body["connection"].(map[string]any)["allowed_domains"])
	problem(t, c.do("DELETE", "/api/connections/retail-bank/domains?pattern=https://nope.example", nil, "If-Match", a.etag), http.StatusNotFound, "admin-not-found")

	// What the store holds is what the API said.
	got, _, err := c.store.Get(context.Background(), "retail-bank")
	require.NoError(t, err)
	require.Equal(t, []string{"https://partner.example"}, got.AllowedDomains)
}

func origins(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(map[string]any)["origin"].(string))
	}
	return out
}

func TestCookies(t *testing.T) {
	c := newConsole(t)
	et := c.create("retail-bank")
	for _, n := range []string{"page_viewed", "cart_contents"} {
		a := c.do("POST", "/api/connections/retail-bank/cookies", map[string]any{"name": n}, "If-Match", et)
		require.Equal(t, http.StatusOK, a.status, a.body)
		et = a.etag
	}
	a := c.do("POST", "/api/connections/retail-bank/cookies", map[string]any{"name": "session_id"}, "If-Match", et)
	problem(t, a, http.StatusUnprocessableEntity, "admin-sensitive-cookie")
	a = c.do("POST", "/api/connections/retail-bank/cookies", map[string]any{"name": "bad name"}, "If-Match", et)
	problem(t, a, http.StatusUnprocessableEntity, "admin-invalid")
	require.Equal(t, []string{"allowed_cookies[2]"}, errorFields(a))

	a = c.do("POST", "/api/connections/retail-bank/cookies", map[string]any{"name": "session_id", "dangerously_allow_sensitive": true}, "If-Match", et)
	require.Equal(t, http.StatusOK, a.status, a.body)
	conn := a.body["connection"].(map[string]any)
	require.Equal(t, []any{"page_viewed", "cart_contents", "session_id"}, conn["allowed_cookies"])
	require.Equal(t, true, conn["dangerously_allow_sensitive_cookies"])
	es, err := c.journal.Entries(context.Background(), "retail-bank", 1)
	require.NoError(t, err)
	require.Contains(t, es[0].Detail, "DANGEROUS opt-in", "the audit records the opt-in")

	// A prefix that could admit a session cookie needs its own opt-in, even
	// after an earlier one (the review's PHP* riding on session_id's).
	a = c.do("POST", "/api/connections/retail-bank/cookies", map[string]any{"name": "PHP*"}, "If-Match", a.etag)
	problem(t, a, http.StatusUnprocessableEntity, "admin-sensitive-cookie")
	cur := c.do("GET", "/api/connections/retail-bank", nil)
	a = c.do("POST", "/api/connections/retail-bank/cookies", map[string]any{"name": "PHP*", "dangerously_allow_sensitive": true}, "If-Match", cur.etag)
	require.Equal(t, http.StatusOK, a.status, a.body)
	es, err = c.journal.Entries(context.Background(), "retail-bank", 1)
	require.NoError(t, err)
	require.Contains(t, es[0].Detail, "DANGEROUS opt-in")
	// Removing the exact name keeps the opt-in the prefix still needs.
	a = c.do("DELETE", "/api/connections/retail-bank/cookies/session_id", nil, "If-Match", a.etag)
	require.Equal(t, http.StatusOK, a.status, a.body)
	require.Equal(t, true, a.body["connection"].(map[string]any)["dangerously_allow_sensitive_cookies"])
	a = c.do("DELETE", "/api/connections/retail-bank/cookies/PHP*", nil, "If-Match", a.etag)
	require.Equal(t, http.StatusOK, a.status, a.body)
	conn = a.body["connection"].(map[string]any)
	require.Equal(t, []any{"page_viewed", "cart_contents"}, conn["allowed_cookies"])
	require.Nil(t, conn["dangerously_allow_sensitive_cookies"], "the opt-in goes with the name")
}

func TestKeys(t *testing.T) {
	c := newConsole(t)
	ctx := context.Background()
	et := c.create("retail-bank")
	a := c.do("POST", "/api/connections/retail-bank/keys", map[string]any{"kind": "hmac", "id": "k1"}, "If-Match", et)
	require.Equal(t, http.StatusCreated, a.status, a.body)
	secret, _ := a.body["secret"].(string)
	require.Len(t, secret, 86)
	et = a.etag

	// The secret verifies tokens through the stored policy.
	stored, _, err := c.store.Get(ctx, "retail-bank")
	require.NoError(t, err)
	compiled, err := stored.Compile(ctx, policy.CompileOptions{})
	require.NoError(t, err)
	k, err := secretdata.NewHMACKey("k1", secretdata.HS256, []byte(secret))
	require.NoError(t, err)
	s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: k, Issuer: "https://backend.uplusbank.com", Audience: "retail-bank"})
	require.NoError(t, err)
	tok, err := s.Sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-1"}})
	require.NoError(t, err)
	_, err = compiled.Verifier().Verify(ctx, tok)
	require.NoError(t, err)

	// A public key; a weak one is refused; so is an unknown kind.
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	a = c.do("POST", "/api/connections/retail-bank/keys", map[string]any{"kind": "public", "id": "bank-es", "algorithm": "ES256", "public_key": pemOf(t, &ec.PublicKey)}, "If-Match", et)
	require.Equal(t, http.StatusOK, a.status, a.body)
	et = a.etag
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	a = c.do("POST", "/api/connections/retail-bank/keys", map[string]any{"kind": "public", "id": "weak", "algorithm": "RS256", "public_key": pemOf(t, &weak.PublicKey)}, "If-Match", et)
	problem(t, a, http.StatusUnprocessableEntity, "admin-invalid")
	require.Equal(t, []string{"keys[2].public_key"}, errorFields(a))
	a = c.do("POST", "/api/connections/retail-bank/keys", map[string]any{"kind": "hmac", "algorithm": "RS256"}, "If-Match", et)
	problem(t, a, http.StatusUnprocessableEntity, "admin-invalid")
	a = c.do("POST", "/api/connections/retail-bank/keys", map[string]any{"kind": "magic"}, "If-Match", et)
	problem(t, a, http.StatusUnprocessableEntity, "admin-invalid")

	// Listed without secrets.
	v := c.do("GET", "/api/connections/retail-bank", nil)
	keys := v.body["keys"].([]any)
	require.Len(t, keys, 2)
	k1 := keys[0].(map[string]any)
	require.Equal(t, "k1", k1["id"])
	require.Equal(t, "HS256", k1["algorithm"])
	require.Equal(t, "hmac", k1["kind"])
	require.NotEmpty(t, k1["created"])
	require.Equal(t, "public", keys[1].(map[string]any)["kind"])

	// Retirement is scheduled; the token is refused after it.
	retire := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	a = c.do("PATCH", "/api/connections/retail-bank/keys/k1", map[string]any{"retire_after": retire}, "If-Match", et)
	require.Equal(t, http.StatusOK, a.status, a.body)
	et = a.etag
	stored, _, err = c.store.Get(ctx, "retail-bank")
	require.NoError(t, err)
	require.True(t, stored.Keys[0].RetireAfter.Equal(retire))
	compiled, err = stored.Compile(ctx, policy.CompileOptions{})
	require.NoError(t, err)
	tok2, err := s.Sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-1"}})
	require.NoError(t, err)
	_, err = compiled.Verifier().Verify(ctx, tok2)
	require.Error(t, err, "a retired key verifies nothing")

	problem(t, c.do("PATCH", "/api/connections/retail-bank/keys/nope", map[string]any{}, "If-Match", et), http.StatusNotFound, "admin-not-found")
	a = c.do("DELETE", "/api/connections/retail-bank/keys/bank-es", nil, "If-Match", et)
	require.Equal(t, http.StatusOK, a.status, a.body)
	require.Len(t, a.body["connection"].(map[string]any)["keys"], 1)

	// The secret was in exactly one response, and nowhere in the audit,
	// the log or the store's raw documents.
	c.mu.Lock()
	n := 0
	for _, b := range c.bodies {
		n += strings.Count(b, secret)
	}
	c.mu.Unlock()
	require.Equal(t, 1, n, "the secret appears in exactly one response")
	es, err := c.journal.Entries(ctx, "", 1000)
	require.NoError(t, err)
	require.NotEmpty(t, es)
	raw, err := json.Marshal(es)
	require.NoError(t, err)
	require.NotContains(t, string(raw), secret)
	require.NotContains(t, c.logs.String(), secret)
	audit := c.do("GET", "/api/audit?connection=retail-bank", nil)
	require.Equal(t, http.StatusOK, audit.status)
	require.Len(t, audit.body["entries"], len(es))
}

func pemOf(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestConnectionsAndModes(t *testing.T) {
	c := newConsole(t)
	et := c.create("retail-bank")
	problem(t, c.do("POST", "/api/connections", map[string]any{"id": "retail-bank"}), http.StatusConflict, "admin-duplicate")
	problem(t, c.do("POST", "/api/connections", map[string]any{"id": "Bad ID!"}), http.StatusUnprocessableEntity, "admin-invalid")
	problem(t, c.do("POST", "/api/connections", map[string]any{"id": "x", "extra": 1}), http.StatusBadRequest, "admin-bad-request")
	problem(t, c.do("GET", "/api/connections/nope", nil), http.StatusNotFound, "admin-unknown-connection")
	problem(t, c.do("POST", "/api/connections/nope/domains", map[string]any{"pattern": "https://a.example"}, "If-Match", `"1"`), http.StatusNotFound, "admin-unknown-connection")

	a := c.do("PATCH", "/api/connections/retail-bank", map[string]any{"mode": "enforce"}, "If-Match", et)
	require.Equal(t, http.StatusOK, a.status, a.body)
	require.Equal(t, "enforce", a.body["connection"].(map[string]any)["mode"])
	problem(t, c.do("PATCH", "/api/connections/retail-bank", map[string]any{"mode": "maybe"}, "If-Match", a.etag), http.StatusUnprocessableEntity, "admin-invalid")

	list := c.do("GET", "/api/connections", nil)
	require.Len(t, list.body["connections"], 1)

	problem(t, c.do("DELETE", "/api/connections/retail-bank", nil, "If-Match", et), http.StatusPreconditionFailed, "admin-version-conflict")
	require.Equal(t, http.StatusNoContent, c.do("DELETE", "/api/connections/retail-bank", nil, "If-Match", a.etag).status)
	problem(t, c.do("GET", "/api/connections/retail-bank", nil), http.StatusNotFound, "admin-unknown-connection")

	es, err := c.journal.Entries(context.Background(), "retail-bank", 10)
	require.NoError(t, err)
	require.Len(t, es, 3)
	require.Equal(t, "delete connection", es[0].Action)
	require.Equal(t, "alice@bank", es[0].Principal)
	require.Contains(t, es[0].Changes, admin.Change{Field: "mode", Before: "enforce"}, "a delete records what was deleted")
	require.Contains(t, es[1].Detail, "mode enforce")
	require.Equal(t, []admin.Change{{Field: "mode", Before: "report-only", After: "enforce"}}, es[1].Changes)
	require.Contains(t, c.logs.String(), `"principal":"alice@bank"`)
}

// downBackend is a store backend that cannot be reached.
type downBackend struct{}

func (downBackend) List(context.Context) (map[string]policy.Record, error) {
	return nil, errors.New("connection refused")
}
func (downBackend) Swap(context.Context, string, uint64, []byte) (uint64, error) {
	return 0, errors.New("connection refused")
}

func TestStoreUnavailable(t *testing.T) {
	store, err := policy.NewStore(downBackend{}, policy.StoreOptions{SealingKey: sealingKey})
	require.NoError(t, err)
	h, err := admin.New(admin.Config{Store: store, Authorize: authorize, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	c := &console{t: t, srv: httptest.NewServer(h)}
	defer c.srv.Close()
	a := c.do("GET", "/api/connections", nil)
	problem(t, a, http.StatusServiceUnavailable, "admin-store-unavailable")
	require.Equal(t, "1", a.header.Get("Retry-After"))
	problem(t, c.do("POST", "/api/connections", map[string]any{"id": "a"}), http.StatusServiceUnavailable, "admin-store-unavailable")
}

func TestBadBodies(t *testing.T) {
	c := newConsole(t)
	et := c.create("retail-bank")
	send := func(body, ctype string) answer {
		req, err := http.NewRequest("POST", c.srv.URL+"/api/connections/retail-bank/keys", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer admin-token")
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("If-Match", et)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		a := answer{status: res.StatusCode}
		require.NoError(t, json.NewDecoder(res.Body).Decode(&a.body))
		return a
	}
	problem(t, send(`{"kind":"hmac"} {"kind":"public"}`, "application/json"), http.StatusBadRequest, "admin-bad-request")
	a := send(`{"kind":5}`, "application/json")
	problem(t, a, http.StatusBadRequest, "admin-bad-request")
	require.Contains(t, a.body["detail"], `"kind"`)
	a = send(`{"kind":"hmac","not_before":"<img src=x onerror=alert(1)>"}`, "application/json")
	problem(t, a, http.StatusBadRequest, "admin-bad-request")
	require.NotContains(t, a.body["detail"], "img", "the input is not echoed")
	problem(t, send(`{"kind":"hmac"}`, "application/jsonfoo"), http.StatusUnsupportedMediaType, "admin-bad-request")
	problem(t, send(`{"kind":"hmac"}`, "text/plain"), http.StatusUnsupportedMediaType, "admin-bad-request")
	require.Equal(t, http.StatusCreated, send(`{"kind":"hmac"}`, "application/json; charset=utf-8").status)
}

// An audit entry lists what changed, not the whole connection: it stays
// small however large the policy.
func TestAuditEntriesAreBounded(t *testing.T) {
	c := newConsole(t)
	et := c.create("retail-bank")
	for i := range 60 {
		a := c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": fmt.Sprintf("https://site-%d.example", i)}, "If-Match", et)
		require.Equal(t, http.StatusOK, a.status, a.body)
		et = a.etag
	}
	es, err := c.journal.Entries(context.Background(), "retail-bank", 1)
	require.NoError(t, err)
	require.Equal(t, []admin.Change{{Field: "allowed_domains", After: "https://site-59.example"}}, es[0].Changes)
	require.Equal(t, http.StatusNoContent, c.do("DELETE", "/api/connections/retail-bank", nil, "If-Match", et).status)
	es, err = c.journal.Entries(context.Background(), "retail-bank", 1)
	require.NoError(t, err)
	require.Len(t, es[0].Changes, admin.MaxChanges)
	require.Equal(t, "…", es[0].Changes[admin.MaxChanges-1].Field)
	raw, err := json.Marshal(es[0])
	require.NoError(t, err)
	require.Less(t, len(raw), admin.MaxChanges*(admin.MaxChangeValue+64))
}

func TestExplanationsOfOtherPatterns(t *testing.T) {
	c := newConsole(t)
	et := c.create("retail-bank")
	for _, tc := range []struct {
		pattern        string
		admits, refuse string
	}{
		{"http://localhost:*", "http://localhost:8080", "https://localhost:8080"},
		{"https://*.uplusbank.com", "https://app.uplusbank.com", "https://uplusbank.com"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8443"},
		{"*", "every website", ""},
	} {
		a := c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": tc.pattern}, "If-Match", et)
		require.Equal(t, http.StatusOK, a.status, a.body)
		et = a.etag
		ex := a.body["explanation"].(map[string]any)
		admits, refuses := origins(ex["admits"]), origins(ex["refuses"])
		require.Contains(t, admits, tc.admits, tc.pattern)
		if tc.refuse != "" {
			require.Contains(t, refuses, tc.refuse, tc.pattern)
		}
		for _, o := range append(admits, refuses...) {
			require.NotContains(t, o, "*", "every example is an origin a browser sends")
			require.NotContains(t, o, "account.127", tc.pattern)
		}
	}
}

// With AuthorizeConnection, one business's operators neither see nor
// change another's connections.
func TestPerConnectionAuthorization(t *testing.T) {
	store, err := policy.NewStore(policy.NewMemoryBackend(), policy.StoreOptions{SealingKey: sealingKey})
	require.NoError(t, err)
	h, err := admin.New(admin.Config{
		Store: store, Logger: slog.New(slog.DiscardHandler),
		Authorize: func(r *http.Request) (string, error) {
			if p := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "); p == "bank-a" || p == "bank-b" {
				return p, nil
			}
			return "", admin.ErrUnauthenticated
		},
		AuthorizeConnection: func(r *http.Request, principal, connection string) error {
			if strings.HasPrefix(connection, principal+"-") {
				return nil
			}
			return admin.ErrForbidden
		},
	})
	require.NoError(t, err)
	c := &console{t: t, srv: httptest.NewServer(h)}
	defer c.srv.Close()
	as := func(who string) []string { return []string{"Authorization", "Bearer " + who} }

	a := c.do("POST", "/api/connections", map[string]any{"id": "bank-a-retail"}, as("bank-a")...)
	require.Equal(t, http.StatusCreated, a.status, a.body)
	et := a.etag
	problem(t, c.do("POST", "/api/connections", map[string]any{"id": "bank-a-other"}, as("bank-b")...), http.StatusForbidden, "admin-forbidden")
	require.Equal(t, http.StatusCreated, c.do("POST", "/api/connections", map[string]any{"id": "bank-b-retail"}, as("bank-b")...).status)

	list := c.do("GET", "/api/connections", nil, as("bank-b")...)
	require.Len(t, list.body["connections"], 1, "bank-b sees only its own")
	problem(t, c.do("GET", "/api/connections/bank-a-retail", nil, as("bank-b")...), http.StatusForbidden, "admin-forbidden")
	problem(t, c.do("POST", "/api/connections/bank-a-retail/domains", map[string]any{"pattern": "https://evil.example"}, append(as("bank-b"), "If-Match", et)...), http.StatusForbidden, "admin-forbidden")
	problem(t, c.do("DELETE", "/api/connections/bank-a-retail", nil, append(as("bank-b"), "If-Match", et)...), http.StatusForbidden, "admin-forbidden")
	problem(t, c.do("GET", "/api/audit?connection=bank-a-retail", nil, as("bank-b")...), http.StatusForbidden, "admin-forbidden")
	audit := c.do("GET", "/api/audit", nil, as("bank-b")...)
	require.Len(t, audit.body["entries"], 1, "only bank-b's own entries")
	require.Equal(t, http.StatusOK, c.do("GET", "/api/connections/bank-a-retail", nil, as("bank-a")...).status)
}

func TestKeyIDsNamesAndStaticFilesAreBounded(t *testing.T) {
	c := newConsole(t)
	et := c.create("retail-bank")
	for _, kid := range []string{"k 1", strings.Repeat("k", 65), "k\n1", "ключ"} {
		a := c.do("POST", "/api/connections/retail-bank/keys", map[string]any{"kind": "hmac", "id": kid}, "If-Match", et)
		problem(t, a, http.StatusUnprocessableEntity, "admin-invalid")
	}
	problem(t, c.do("PATCH", "/api/connections/retail-bank", map[string]any{"name": strings.Repeat("n", 201)}, "If-Match", et), http.StatusUnprocessableEntity, "admin-invalid")
	require.Equal(t, http.StatusNotFound, c.do("GET", "/static/", nil).status, "no directory listing")
	require.Equal(t, http.StatusNotFound, c.do("GET", "/static/console.html", nil).status, "only the page's script and style")
}

// A connection holds at most 10 keys, and a request body at most 64 KiB.
func TestKeyCountAndBodySizeAreBounded(t *testing.T) {
	c := newConsole(t)
	et := c.create("retail-bank")
	for i := range 10 {
		a := c.do("POST", "/api/connections/retail-bank/keys", map[string]any{"kind": "hmac", "id": fmt.Sprintf("k%d", i)}, "If-Match", et)
		require.Equal(t, http.StatusCreated, a.status, a.body)
		et = a.etag
	}
	a := c.do("POST", "/api/connections/retail-bank/keys", map[string]any{"kind": "hmac", "id": "k10"}, "If-Match", et)
	problem(t, a, http.StatusUnprocessableEntity, "admin-invalid")
	require.Contains(t, a.body["detail"], "at most 10 keys")

	a = c.do("POST", "/api/connections/retail-bank/keys", map[string]any{"kind": "public", "id": "big", "algorithm": "ES256", "public_key": strings.Repeat("A", 70<<10)}, "If-Match", et)
	problem(t, a, http.StatusBadRequest, "admin-bad-request")
	require.Contains(t, a.body["detail"], "larger than 65536 bytes")
}
