package delivery_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

const (
	issuer   = "https://api.uplusbank.com"
	connA    = "retail-bank"
	connB    = "business-bank"
	sessA    = "sess-0001"
	sessB    = "sess-0002"
	custID   = "C-1001-TOPSECRET"
	subject  = "customer-4242-private"
	secretV1 = "balance-98765-secret"
)

// t0 is the pinned start of every test clock.
var t0 = time.Unix(1_750_000_000, 0)

// clock is a settable test clock, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var storeKey32 = []byte("0123456789abcdef0123456789abcdef")

var (
	secretA = []byte("retail-bank-test-only-hmac-secret-0123456789abcdef")
	secretB = []byte("business-bank-test-only-hmac-secret-0123456789abcd")
)

func secretData() map[string]any {
	return map[string]any{
		secretdata.ClaimAuthenticationStatus: "authenticated",
		secretdata.ClaimCustomerID:           custID,
		"balance_note":                       secretV1,
	}
}

// plaintextNeedles are the values that must never appear outside the
// sealed bytes, a log line or an error.
var plaintextNeedles = []string{custID, subject, secretV1}

func hmacKey(t testing.TB, id string, secret []byte) secretdata.Key {
	t.Helper()
	k, err := secretdata.NewHMACKey(id, secretdata.HS256, secret)
	require.NoError(t, err)
	return k
}

func newSigner(t testing.TB, key secretdata.Key, audience string, now func() time.Time) *secretdata.Signer {
	t.Helper()
	s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: issuer, Audience: audience, Now: now})
	require.NoError(t, err)
	return s
}

// env is a chat server with two connections, each with its own key, and
// the bank-side signers for them.
type env struct {
	clock     *clock
	store     *delivery.MemoryStore
	verifiers map[string]*secretdata.Verifier
	signers   map[string]*secretdata.Signer
	handler   *delivery.Handler
	mux       *http.ServeMux
	events    *eventLog
	logs      *bytes.Buffer
}

type eventLog struct {
	mu     sync.Mutex
	events []delivery.Event
}

func (l *eventLog) add(e delivery.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) last() delivery.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == 0 {
		return delivery.Event{}
	}
	return l.events[len(l.events)-1]
}

type envOpts struct {
	replay  secretdata.ReplayCache
	store   delivery.Store
	config  func(*delivery.HandlerConfig)
	storeCf func(*delivery.MemoryStoreConfig)
	key     []byte // the MemoryStore's key, storeKey32 if nil
}

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	e := &env{clock: newClock(), events: &eventLog{}, logs: &bytes.Buffer{}}
	replay := o.replay
	if replay == nil {
		c, err := secretdata.NewMemoryReplayCache(secretdata.MemoryReplayCacheConfig{Now: e.clock.Now})
		require.NoError(t, err)
		replay = c
	}
	keys := map[string]secretdata.Key{connA: hmacKey(t, "a1", secretA), connB: hmacKey(t, "b1", secretB)}
	e.verifiers = map[string]*secretdata.Verifier{}
	e.signers = map[string]*secretdata.Signer{}
	for conn, k := range keys {
		v, err := secretdata.NewVerifier(secretdata.VerifierConfig{
			Keys: []secretdata.Key{k}, Issuer: issuer, Audience: conn, Replay: replay, Now: e.clock.Now,
		})
		require.NoError(t, err)
		e.verifiers[conn] = v
		e.signers[conn] = newSigner(t, k, conn, e.clock.Now)
	}
	scfg := delivery.MemoryStoreConfig{Now: e.clock.Now}
	if o.storeCf != nil {
		o.storeCf(&scfg)
	}
	key := storeKey32
	if o.key != nil {
		key = o.key
	}
	ms, err := delivery.NewMemoryStore(key, scfg)
	require.NoError(t, err)
	e.store = ms
	var st delivery.Store = ms
	if o.store != nil {
		st = o.store
	}
	cfg := delivery.HandlerConfig{
		Verifier: func(c string) (*secretdata.Verifier, bool) { v, ok := e.verifiers[c]; return v, ok },
		Store:    st,
		Logger:   slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnEvent:  e.events.add,
	}
	if o.config != nil {
		o.config(&cfg)
	}
	h, err := delivery.NewHandler(cfg)
	require.NoError(t, err)
	e.handler = h
	e.mux = http.NewServeMux()
	e.mux.Handle(delivery.Pattern, h)
	return e
}

// sign mints a token for conn's signer bound to sid.
func (e *env) sign(t testing.TB, conn, sid string) string {
	t.Helper()
	tok, err := e.signers[conn].Sign(secretdata.Claims{Subject: subject, SessionID: sid, SecretData: secretData()})
	require.NoError(t, err)
	return tok
}

func path(conn, sess string) string {
	return "/connections/" + conn + "/sessions/" + sess + "/secret-data"
}

// jtiOf reads a token's jti without verifying it (test inspection only).
func jtiOf(t testing.TB, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Equal(t, 3, len(parts), "token has %d parts", len(parts))
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c struct {
		JTI string `json:"jti"`
	}
	require.NoError(t, json.Unmarshal(raw, &c))
	return c.JTI
}

func background() context.Context { return context.Background() }
