package middleware

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cookies"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

var testSecret = []byte("middleware-test-secret-of-32+-bytes!!")

const secretCookieValue = "s3cr3t-session-value"

type fixture struct {
	policy *policy.Compiled
	signer *secretdata.Signer
	events *eventLog
}

type eventLog struct {
	mu sync.Mutex
	ev []Event
}

func (l *eventLog) add(e Event) { l.mu.Lock(); l.ev = append(l.ev, e); l.mu.Unlock() }
func (l *eventLog) kinds() []Kind {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Kind
	for _, e := range l.ev {
		out = append(out, e.Kind)
	}
	return out
}

func compile(t testing.TB, c policy.ConnectionPolicy) *policy.Compiled {
	t.Helper()
	if c.ID == "" {
		c.ID = "retail-bank"
	}
	if c.Keys == nil {
		c.Keys = []policy.KeyConfig{{ID: "k1", Secret: policy.SecretBytes(testSecret)}}
		c.Token.Issuer = "bank"
	}
	p, err := c.Compile(context.Background(), policy.CompileOptions{})
	require.NoError(t, err)
	return p
}

func newFixture(t testing.TB, c policy.ConnectionPolicy) *fixture {
	t.Helper()
	p := compile(t, c)
	key, err := secretdata.NewHMACKey("k1", secretdata.HS256, testSecret)
	require.NoError(t, err)
	s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: "bank", Audience: p.ID()})
	require.NoError(t, err)
	return &fixture{policy: p, signer: s, events: &eventLog{}}
}

func (f *fixture) token(t testing.TB) string {
	t.Helper()
	tok, err := f.signer.Sign(secretdata.Claims{Subject: "cust-1", SecretData: map[string]any{"customer_id": "C-42", "authentication_status": "authenticated"}})
	require.NoError(t, err)
	return tok
}

// serve runs the request through Handler and reports whether next ran.
func (f *fixture) serve(t testing.TB, r *http.Request, opts ...Option) (*httptest.ResponseRecorder, *http.Request) {
	t.Helper()
	opts = append([]Option{WithEventHandler(f.events.add), WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	m, err := ForPolicy(f.policy, opts...)
	require.NoError(t, err)
	var seen *http.Request
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		w.WriteHeader(http.StatusOK)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w, seen
}

func uplus() policy.ConnectionPolicy {
	return policy.ConnectionPolicy{
		AllowedDomains: []string{"https://www.uplusbank.com"},
		AllowedCookies: []string{"page_viewed", "cart_contents"},
		Token:          policy.TokenRules{SecretData: policy.SecretDataOptional},
	}
}

func preflight(o string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, "/connections/retail-bank/sessions", nil)
	if o != "" {
		r.Header.Set("Origin", o)
	}
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	return r
}

func TestPreflight(t *testing.T) {
	exact := uplus()
	wild := uplus()
	wild.AllowedDomains = []string{"https://*.uplusbank.com"}
	same := uplus()
	same.DomainMatching = policy.MatchSameSite
	tests := []struct {
		name   string
		policy policy.ConnectionPolicy
		origin string
		allow  bool
	}{
		{"exact allowed", exact, "https://www.uplusbank.com", true},
		{"exact sibling denied", exact, "https://account.uplusbank.com", false},
		{"exact other scheme denied", exact, "http://www.uplusbank.com", false},
		{"wildcard subdomain allowed", wild, "https://account.uplusbank.com", true},
		{"wildcard apex denied", wild, "https://uplusbank.com", false},
		{"wildcard look-alike denied", wild, "https://evil-uplusbank.com", false},
		{"same-site sibling allowed", same, "https://account.uplusbank.com", true},
		{"same-site apex allowed", same, "https://uplusbank.com", true},
		{"same-site other domain denied", same, "https://www.uplus.com", false},
		{"null denied", exact, "null", false},
		{"missing origin denied", exact, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.policy)
			w, seen := f.serve(t, preflight(tc.origin))
			assert.Nil(t, seen, "a preflight never reaches the handler")
			assert.Contains(t, w.Header().Values("Vary"), "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
			if tc.allow {
				assert.Equal(t, http.StatusNoContent, w.Code)
				assert.Equal(t, tc.origin, w.Header().Get("Access-Control-Allow-Origin"), "the origin is reflected, never *")
				assert.Empty(t, w.Header().Get("Access-Control-Allow-Credentials"), "credentials are off unless the policy turns them on")
				assert.Equal(t, "POST", w.Header().Get("Access-Control-Allow-Methods"))
				assert.Equal(t, "600", w.Header().Get("Access-Control-Max-Age"))
				assert.Empty(t, f.events.kinds())
			} else {
				assert.Equal(t, http.StatusForbidden, w.Code)
				assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
				assert.Empty(t, w.Header().Get("Access-Control-Allow-Credentials"))
				assert.Equal(t, []Kind{KindPreflightDenied}, f.events.kinds())
			}
		})
	}
}

func TestActualRequestOrigin(t *testing.T) {
	tests := []struct {
		name   string
		origin []string
		ws     bool
		opts   []Option
		fetch  string
		status int
		kind   Kind
	}{
		{"allowed origin", []string{"https://www.uplusbank.com"}, false, nil, "", 200, ""},
		{"disallowed origin", []string{"https://evil.example"}, false, nil, "", 403, KindOriginDenied},
		{"suffix trick", []string{"https://www.uplusbank.com.evil.example"}, false, nil, "", 403, KindOriginDenied},
		{"two origin headers", []string{"https://www.uplusbank.com", "https://evil.example"}, false, nil, "", 403, KindOriginDenied},
		{"null origin", []string{"null"}, false, nil, "", 403, KindOriginDenied},
		{"missing origin on a browser route", nil, false, nil, "", 403, KindOriginRequired},
		{"missing origin, cross-site subresource", nil, false, []Option{AllowSameOriginFetches()}, "cross-site", 403, KindOriginRequired},
		{"missing origin, same-origin fetch allowed by option", nil, false, []Option{AllowSameOriginFetches()}, "same-origin", 200, ""},
		{"missing origin, same-origin fetch without option", nil, false, nil, "same-origin", 403, KindOriginRequired},
		{"missing origin allowed by dangerous option", nil, false, []Option{DangerouslyAllowMissingOrigin()}, "", 200, ""},
		{"websocket allowed", []string{"https://www.uplusbank.com"}, true, nil, "", 200, ""},
		{"websocket bad origin", []string{"https://evil.example"}, true, nil, "", 403, KindOriginDenied},
		{"websocket missing origin", nil, true, []Option{DangerouslyAllowMissingOrigin(), AllowSameOriginFetches()}, "same-origin", 403, KindOriginRequired},
		{"self origin (widget iframe)", []string{"http://127.0.0.1:8080"}, false, []Option{WithSelfOrigins("http://127.0.0.1:8080")}, "", 200, ""},
		{"self origin not configured", []string{"http://127.0.0.1:8080"}, false, nil, "", 403, KindOriginDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, uplus())
			method := http.MethodPost
			if tc.ws {
				method = http.MethodGet
			}
			r := httptest.NewRequest(method, "/connections/retail-bank/sessions", strings.NewReader("{}"))
			for _, o := range tc.origin {
				r.Header.Add("Origin", o)
			}
			if tc.ws {
				r.Header.Set("Connection", "Upgrade")
				r.Header.Set("Upgrade", "websocket")
				r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			}
			if tc.fetch != "" {
				r.Header.Set("Sec-Fetch-Site", tc.fetch)
			}
			w, seen := f.serve(t, r, tc.opts...)
			assert.Equal(t, tc.status, w.Code)
			if tc.status != 200 {
				assert.Nil(t, seen, "the wrapped handler must never run")
				assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
				assert.Contains(t, w.Body.String(), "urn:msgsec:problem:"+string(tc.kind))
				assert.Equal(t, []Kind{tc.kind}, f.events.kinds())
				assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
			} else {
				require.NotNil(t, seen)
				assert.Same(t, f.policy, Connection(seen.Context()))
				assert.True(t, varies(w.Header(), "Origin"), "every answer varies by Origin")
				if len(tc.origin) == 1 {
					assert.Equal(t, tc.origin[0], w.Header().Get("Access-Control-Allow-Origin"))
				}
			}
		})
	}
}

func TestCookiesStrippedBeforeHandler(t *testing.T) {
	f := newFixture(t, uplus())
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	r.Header.Set("Origin", "https://www.uplusbank.com")
	r.Header.Add("Cookie", "page_viewed=/store; session_id="+secretCookieValue)
	r.Header.Add("Cookie", "cart_contents=3; JSESSIONID=abc")
	w, seen := f.serve(t, r)
	require.Equal(t, 200, w.Code)
	require.NotNil(t, seen)
	assert.Equal(t, []string{"page_viewed=/store; cart_contents=3"}, seen.Header.Values("Cookie"))
	var names []string
	for _, c := range Cookies(seen.Context()) {
		names = append(names, c.Name+"="+c.Value)
	}
	assert.Equal(t, []string{"page_viewed=/store", "cart_contents=3"}, names)
	_, err := seen.Cookie("session_id")
	assert.ErrorIs(t, err, http.ErrNoCookie)
	assert.Equal(t, []Kind{KindCookieDropped}, f.events.kinds())
	require.Len(t, f.events.ev, 1)
	assert.Equal(t, []string{"session_id", "JSESSIONID"}, dropNames(f.events.ev[0].Dropped))
	assert.NotContains(t, f.events.ev[0].reason(), secretCookieValue)
}

func TestTokens(t *testing.T) {
	required := uplus()
	required.Token.SecretData = policy.SecretDataRequired
	f := newFixture(t, required)
	valid := f.token(t)
	expiredSigner, err := secretdata.NewSigner(secretdata.SignerConfig{Key: mustKey(t), Issuer: "bank", Audience: "retail-bank", Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	require.NoError(t, err)
	expired, err := expiredSigner.Sign(secretdata.Claims{Subject: "c"})
	require.NoError(t, err)
	replayed := f.token(t)

	tests := []struct {
		name   string
		header map[string]string
		status int
		kind   Kind
	}{
		{"valid", map[string]string{"Authorization": "Bearer " + valid}, 200, ""},
		{"missing", nil, 401, KindTokenRequired},
		{"tampered", map[string]string{"Authorization": "Bearer " + valid[:len(valid)-3] + "AAA"}, 401, KindTokenInvalid},
		{"expired", map[string]string{"Authorization": "Bearer " + expired}, 401, KindTokenInvalid},
		{"not bearer", map[string]string{"Authorization": "Basic " + valid}, 401, KindTokenInvalid},
		{"empty bearer", map[string]string{"Authorization": "Bearer "}, 401, KindTokenInvalid},
		{"first use", map[string]string{"Authorization": "Bearer " + replayed}, 200, ""},
		{"replayed", map[string]string{"Authorization": "Bearer " + replayed}, 401, KindTokenInvalid},
	}
	m, err := ForPolicy(f.policy, WithEventHandler(f.events.add), WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.events.ev = nil
			var seen *http.Request
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r }))
			r := httptest.NewRequest(http.MethodPost, "/x", nil)
			r.Header.Set("Origin", "https://www.uplusbank.com")
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tc.status, w.Code)
			if tc.status == 200 {
				require.NotNil(t, seen)
				c := Claims(seen.Context())
				require.NotNil(t, c)
				id, _ := c.CustomerID()
				assert.Equal(t, "C-42", id)
				return
			}
			assert.Nil(t, seen)
			assert.Equal(t, []Kind{tc.kind}, f.events.kinds())
			var body map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
			assert.Equal(t, "urn:msgsec:problem:"+string(tc.kind), body["type"])
			if tc.kind == KindTokenInvalid {
				assert.Equal(t, "invalid token", body["detail"], "never say why")
			}
			assertNoLeak(t, w.Body.String(), valid, expired)
		})
	}
}

func mustKey(t testing.TB) secretdata.Key {
	k, err := secretdata.NewHMACKey("k1", secretdata.HS256, testSecret)
	require.NoError(t, err)
	return k
}

func assertNoLeak(t *testing.T, s string, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		for _, part := range strings.Split(tok, ".") {
			assert.NotContains(t, s, part)
		}
	}
	assert.NotContains(t, s, string(testSecret))
	assert.NotContains(t, s, secretCookieValue)
	assert.NotContains(t, s, "C-42")
}

func TestOptionalSecretDataAndNoKeys(t *testing.T) {
	f := newFixture(t, uplus())
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	r.Header.Set("Origin", "https://www.uplusbank.com")
	w, seen := f.serve(t, r)
	assert.Equal(t, 200, w.Code)
	require.NotNil(t, seen)
	assert.Nil(t, Claims(seen.Context()), "anonymous")

	noKeys := uplus()
	noKeys.Keys = []policy.KeyConfig{}
	p := compile(t, noKeys)
	require.Nil(t, p.Verifier())
	f2 := &fixture{policy: p, events: &eventLog{}}
	r = httptest.NewRequest(http.MethodPost, "/x", nil)
	r.Header.Set("Origin", "https://www.uplusbank.com")
	r.Header.Set("Authorization", "Bearer "+f.token(t))
	w, seen = f2.serve(t, r)
	assert.Equal(t, 401, w.Code, "a token nobody can verify is refused, not ignored")
	assert.Nil(t, seen)
}

func TestCustomTokenHeader(t *testing.T) {
	c := uplus()
	c.Token.Header = "X-Customer-Secret-Data"
	f := newFixture(t, c)
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	r.Header.Set("Origin", "https://www.uplusbank.com")
	r.Header.Set("X-Customer-Secret-Data", f.token(t))
	w, seen := f.serve(t, r)
	require.Equal(t, 200, w.Code)
	assert.NotNil(t, Claims(seen.Context()))

	w, _ = f.serve(t, preflight("https://www.uplusbank.com"))
	assert.Equal(t, http.StatusNoContent, w.Code)
	r = preflight("https://www.uplusbank.com")
	r.Header.Set("Access-Control-Request-Headers", "x-customer-secret-data")
	w, _ = f.serve(t, r)
	assert.Equal(t, "x-customer-secret-data", w.Header().Get("Access-Control-Allow-Headers"))
}

func TestReportOnly(t *testing.T) {
	c := uplus()
	c.Mode = policy.ModeReportOnly
	c.Token.SecretData = policy.SecretDataRequired
	f := newFixture(t, c)
	reqs := map[string]*http.Request{}
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	r.Header.Set("Origin", "https://evil.example")
	r.Header.Set("Authorization", "Bearer garbage")
	reqs["bad origin and token"] = r
	reqs["missing origin and token"] = httptest.NewRequest(http.MethodPost, "/x", nil)
	for name, r := range reqs {
		t.Run(name, func(t *testing.T) {
			f.events.ev = nil
			w, seen := f.serve(t, r)
			assert.Equal(t, 200, w.Code)
			require.NotNil(t, seen, "report-only blocks nothing")
			assert.Nil(t, Claims(seen.Context()), "an invalid token never yields claims")
			require.NotEmpty(t, f.events.ev)
			for _, e := range f.events.ev {
				assert.False(t, e.Blocked)
			}
		})
	}
	f.events.ev = nil
	w, _ := f.serve(t, preflight("https://evil.example"))
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"), "report-only never gives a refused origin CORS access")
	assert.Equal(t, []Kind{KindPreflightDenied}, f.events.kinds())
}

func TestWidgetPageFrameAncestors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*policy.ConnectionPolicy)
		hdr  string
		want string
	}{
		{"exact", func(*policy.ConnectionPolicy) {}, "Content-Security-Policy", "frame-ancestors https://www.uplusbank.com"},
		{"wildcard", func(c *policy.ConnectionPolicy) { c.AllowedDomains = []string{"https://*.uplusbank.com"} }, "Content-Security-Policy", "frame-ancestors https://*.uplusbank.com"},
		{"same-site", func(c *policy.ConnectionPolicy) { c.DomainMatching = policy.MatchSameSite }, "Content-Security-Policy", "frame-ancestors https://www.uplusbank.com https://uplusbank.com:* https://*.uplusbank.com:*"},
		{"any website", func(c *policy.ConnectionPolicy) { c.AllowedDomains = nil }, "Content-Security-Policy", "frame-ancestors https: http:"},
		{"report-only", func(c *policy.ConnectionPolicy) { c.Mode = policy.ModeReportOnly }, "Content-Security-Policy-Report-Only", "frame-ancestors https://www.uplusbank.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := uplus()
			tc.mod(&c)
			m, err := ForPolicy(compile(t, c))
			require.NoError(t, err)
			called := false
			h := m.WidgetPage(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/widget", nil))
			assert.True(t, called)
			assert.Equal(t, tc.want, w.Header().Get(tc.hdr))
		})
	}
	t.Run("off", func(t *testing.T) {
		c := uplus()
		off := false
		c.FrameAncestors = &off
		m, err := ForPolicy(compile(t, c))
		require.NoError(t, err)
		w := httptest.NewRecorder()
		m.WidgetPage(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/widget", nil))
		assert.Empty(t, w.Header().Get("Content-Security-Policy"))
	})
}

func TestServerToServer(t *testing.T) {
	f := newFixture(t, uplus())
	m, err := ForPolicy(f.policy, WithEventHandler(f.events.add), WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	var seen *http.Request
	h := m.ServerToServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r }))

	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/s2s", nil)
	r.Header.Set("Authorization", "Bearer "+f.token(t))
	h.ServeHTTP(w, r)
	assert.Equal(t, 200, w.Code, "no Origin is fine for a server")
	require.NotNil(t, seen)
	assert.Nil(t, Claims(seen.Context()), "the token is left to the handler (it is bound to the session)")

	seen = nil
	w = httptest.NewRecorder()
	r = httptest.NewRequest(http.MethodPost, "/s2s", nil)
	r.Header.Set("Origin", "https://evil.example")
	h.ServeHTTP(w, r)
	assert.Equal(t, 403, w.Code, "a cross-site browser POST is refused")
	assert.Nil(t, seen)

	w = httptest.NewRecorder()
	h.ServeHTTP(w, preflight("https://www.uplusbank.com"))
	assert.Equal(t, 403, w.Code, "no CORS on server routes")
	assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
}

func TestRegistryModeFollowsReloads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	write := func(domain string) {
		doc := "connections:\n  - {id: retail-bank, allowed_domains: ['" + domain + "'], token: {secret_data: optional}}\n"
		require.NoError(t, os.WriteFile(path+".tmp", []byte(doc), 0o600))
		require.NoError(t, os.Rename(path+".tmp", path))
	}
	write("https://www.uplusbank.com")
	reg, err := policy.NewRegistry(context.Background(), path, policy.RegistryOptions{})
	require.NoError(t, err)
	m, err := ForRegistry(reg, WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/connections/{connection}/sessions", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, Connection(r.Context()).ID())
	})))
	do := func(conn, o string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/connections/"+conn+"/sessions", nil)
		r.Header.Set("Origin", o)
		mux.ServeHTTP(w, r)
		return w
	}
	assert.Equal(t, 200, do("retail-bank", "https://www.uplusbank.com").Code)
	assert.Equal(t, "retail-bank", do("retail-bank", "https://www.uplusbank.com").Body.String())
	assert.Equal(t, 403, do("retail-bank", "https://www.uplus.com").Code)
	w := do("mortgages", "https://www.uplusbank.com")
	assert.Equal(t, 404, w.Code)
	assert.Contains(t, w.Body.String(), "urn:msgsec:problem:unknown-connection")

	write("https://www.uplus.com")
	require.NoError(t, reg.Reload(context.Background()))
	assert.Equal(t, 403, do("retail-bank", "https://www.uplusbank.com").Code, "the next request sees the new policy")
	w = do("retail-bank", "https://www.uplus.com")
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, "https://www.uplus.com", w.Header().Get("Access-Control-Allow-Origin"))
}

func TestDenialsAreLoggedWithoutSecrets(t *testing.T) {
	c := uplus()
	c.Token.SecretData = policy.SecretDataRequired
	f := newFixture(t, c)
	var buf strings.Builder
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tok := f.token(t)
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	r.Header.Set("Origin", "https://www.uplusbank.com")
	r.Header.Set("Cookie", "session_id="+secretCookieValue+"; page_viewed=1")
	r.Header.Set("Authorization", "Bearer "+tok[:len(tok)-2]+"xx")
	w, _ := f.serve(t, r, WithLogger(logger))
	assert.Equal(t, 401, w.Code)
	out := buf.String()
	assert.Contains(t, out, `"kind":"invalid-token"`)
	assert.Contains(t, out, `"kind":"cookie-dropped"`)
	assertNoLeak(t, out, tok)
	assertNoLeak(t, w.Body.String(), tok)
}

func dropNames(ds []cookies.Drop) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

func TestDenialLogsAreCapped(t *testing.T) {
	f := newFixture(t, uplus())
	var buf strings.Builder
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	m, err := ForPolicy(f.policy, WithLogger(logger), WithEventHandler(f.events.add))
	require.NoError(t, err)
	h := m.Handler(http.NotFoundHandler())
	for range 3 * denialLogLimit {
		r := httptest.NewRequest(http.MethodPost, "/x", nil)
		r.Header.Set("Origin", "https://evil.example")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	lines := strings.Count(buf.String(), "\n")
	assert.LessOrEqual(t, lines, 2*denialLogLimit, "at most the cap per second (the test may straddle a second)")
	assert.GreaterOrEqual(t, lines, denialLogLimit)
	assert.Len(t, f.events.ev, 3*denialLogLimit, "the event handler sees every denial")

	// The count of suppressed lines rides on the next line written.
	l := &logLimiter{perSecond: 2}
	for i := range 5 {
		_, ok := l.allow(100)
		assert.Equal(t, i < 2, ok)
	}
	n, ok := l.allow(101)
	assert.True(t, ok)
	assert.Equal(t, int64(3), n)
}

// TestPreflightOriginCount: a preflight is answered with CORS only when it
// carries exactly one allowed Origin; none, or several (even all allowed),
// are refused, each with its own reason.
func TestPreflightOriginCount(t *testing.T) {
	f := newFixture(t, uplus())
	two := preflight("https://www.uplusbank.com")
	two.Header.Add("Origin", "https://www.uplusbank.com")
	for _, tc := range []struct {
		name   string
		r      *http.Request
		reason string
	}{
		{"none", preflight(""), "preflight without an Origin header"},
		{"two", two, "more than one Origin header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.events.ev = nil
			w, _ := f.serve(t, tc.r)
			assert.Equal(t, http.StatusForbidden, w.Code)
			assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
			require.Len(t, f.events.ev, 1)
			assert.Equal(t, KindPreflightDenied, f.events.ev[0].Kind)
			assert.Equal(t, tc.reason, f.events.ev[0].Reason)
		})
	}
	f.events.ev = nil
	w, _ := f.serve(t, preflight("https://www.uplusbank.com"))
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.Equal(t, "https://www.uplusbank.com", w.Header().Get("Access-Control-Allow-Origin"))
}
