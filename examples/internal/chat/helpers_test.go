package chat

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

const (
	bankOrigin  = "http://www.uplusbank.localhost:8081"
	evilOrigin  = "http://evil.localhost:8082"
	selfOrigin  = "http://chat.test"
	conn        = "retail-bank"
	privateName = "session_id"
	// privateValue is the bank's private session cookie value: it must
	// never appear anywhere on the chat side.
	privateValue = "PRIVATE-bank-session-4f1c"
)

// testSecret is the policy's JWT secret in these tests.
var testSecret = []byte("chat-server-test-secret-32-bytes-long!!")

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	logs      *syncBuffer // everything the server logged
	srv       *Server
	reg       *policy.Registry
	store     *delivery.MemoryStore
	signer    *secretdata.Signer
	signerKey secretdata.Key
	clock     *clock
}

// newFixture builds a server on the built-in policy, with cfg's limits.
func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	return newFixtureWith(t, cfg, DefaultPolicy())
}

// newFixtureWith builds a server on the policy document doc, whose
// connections' keys read UPLUS_JWT_SECRET; the signer signs for the first.
// Open sockets are closed at the end of the test.
func newFixtureWith(t testing.TB, cfg Config, doc []byte) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	env := map[string]string{"UPLUS_JWT_SECRET": string(testSecret)} // the policy uses the text as the key
	opts := policy.RegistryOptions{
		Load: policy.LoadOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }},
	}
	if cfg.Metrics != nil {
		opts.OnReload, opts.Compile.OnVerify = cfg.Metrics.Reloaded, cfg.Metrics.Verified
	}
	reg, err := policy.NewRegistryFromBytes(ctx, doc, opts)
	require.NoError(t, err)
	store, err := delivery.NewMemoryStore(make32(7), delivery.MemoryStoreConfig{Now: clk.now})
	require.NoError(t, err)
	logs := &syncBuffer{}
	cfg.Policies, cfg.Store, cfg.SelfOrigin, cfg.Now = reg, store, selfOrigin, clk.now
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(srv.CloseSockets)
	file, err := policy.Parse(doc, policy.LoadOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	require.NoError(t, err)
	signerCfg, err := file.Connections[0].SignerConfig("", clk.now())
	require.NoError(t, err)
	signer, err := secretdata.NewSigner(signerCfg)
	require.NoError(t, err)
	return &fixture{logs: logs, srv: srv, reg: reg, store: store, signer: signer, signerKey: signerCfg.Key, clock: clk}
}

func make32(b byte) []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

// token signs CustomerSecretData for customer C-1001 (sid optional).
func (f *fixture) token(t testing.TB, sid string) string {
	t.Helper()
	tok, err := f.signer.Sign(secretdata.Claims{
		Subject:   "customer-42",
		SessionID: sid,
		SecretData: map[string]any{
			secretdata.ClaimAuthenticationStatus: "authenticated",
			secretdata.ClaimCustomerID:           "C-1001",
		},
	})
	require.NoError(t, err)
	return tok
}

// req is one request to the server.
type req struct {
	method, path, body string
	header             map[string]string
	remote             string // the client's address (default httptest's 192.0.2.1:1234)
}

func (f *fixture) do(t testing.TB, r req) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, "http://chat.test"+r.path, body)
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, hr)
	return w
}

// open opens a session from the bank page and returns its ID.
func (f *fixture) open(t testing.TB, body string, header map[string]string) string {
	t.Helper()
	h := map[string]string{"Origin": bankOrigin, "Content-Type": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	w := f.do(t, req{method: "POST", path: "/connections/retail-bank/sessions", body: body, header: h})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var out openResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
	require.NotEmpty(t, out.Session)
	return out.Session
}

// agentPage returns the agent view's HTML.
func (f *fixture) agentPage(t testing.TB) string {
	t.Helper()
	w := f.do(t, req{method: "GET", path: "/agent"})
	require.Equal(t, http.StatusOK, w.Code)
	return w.Body.String()
}

func base64Raw(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
func base64RawEncode(b []byte) string    { return base64.RawURLEncoding.EncodeToString(b) }

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// list returns the server's live sessions.
func (f *fixture) list(t testing.TB) []Session {
	t.Helper()
	list, _, err := f.srv.sessions.List(context.Background(), Page{})
	require.NoError(t, err)
	return list
}
