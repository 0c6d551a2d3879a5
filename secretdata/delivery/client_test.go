package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/idhash"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

func noBackoff(int) time.Duration { return 0 }

// client is connA's bank-side Client, retrying without a pause.
func (e *env) client(t testing.TB, baseURL string, mod func(*delivery.ClientConfig)) *delivery.Client {
	t.Helper()
	cfg := delivery.ClientConfig{BaseURL: baseURL, Signer: e.signers[connA]}
	if mod != nil {
		mod(&cfg)
	}
	c, err := delivery.NewClient(cfg)
	require.NoError(t, err)
	c.SetBackoff(noBackoff)
	return c
}

// claims is what the bank sends: the customer and the secret data.
func claims() secretdata.Claims { return secretdata.Claims{Subject: subject, SecretData: secretData()} }

// tokenRecorder sits in front of the Handler, records each token and lets
// fail() decide whether to answer in the Handler's place.
type tokenRecorder struct {
	mu     sync.Mutex
	tokens []string
	fail   func(n int) int // status to answer instead of the Handler, 0 to pass
	next   http.Handler
}

func (tr *tokenRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tr.mu.Lock()
	tr.tokens = append(tr.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	n := len(tr.tokens)
	tr.mu.Unlock()
	if tr.fail != nil {
		if status := tr.fail(n); status != 0 {
			if status/100 == 3 {
				// Followed, this would show up as a second request.
				w.Header().Set("Location", "/elsewhere")
			}
			w.WriteHeader(status)
			return
		}
	}
	tr.next.ServeHTTP(w, r)
}

func TestClientHandlerRoundTrip(t *testing.T) {
	e := newEnv(t, envOpts{})
	srv := httptest.NewServer(e.mux)
	defer srv.Close()
	c := e.client(t, srv.URL, nil)
	require.NoError(t, c.Send(background(), connA, sessA, claims()))
	got, err := e.store.Get(background(), connA, sessA)
	require.NoError(t, err)
	id, _ := got.CustomerID()
	status, _ := got.AuthenticationStatus()
	assert.Equal(t, custID, id)
	assert.Equal(t, "authenticated", status)
	assert.Equal(t, secretV1, got.SecretData["balance_note"])
	assert.Equal(t, subject, got.Subject)
	assert.Equal(t, issuer, got.Issuer)
	assert.Equal(t, connA, got.Audience)
	assert.Equal(t, sessA, got.SessionID)
	assert.True(t, got.ExpiresAt.After(t0), "exp %v", got.ExpiresAt)
	assert.GreaterOrEqual(t, len(got.ID), 16, "jti %q", got.ID)
	// A second Send for the same session replaces the data (new jti, no replay).
	require.NoError(t, c.Send(background(), connA, sessA, secretdata.Claims{
		SecretData: map[string]any{"authentication_status": "anonymous"},
	}), "second Send")
	got, err = e.store.Get(background(), connA, sessA)
	require.NoError(t, err)
	s, _ := got.AuthenticationStatus()
	require.Equal(t, "anonymous", s, "the second Send replaces the data")
	require.NoError(t, c.Revoke(background(), connA, sessA), "Revoke")
	_, err = e.store.Get(background(), connA, sessA)
	require.ErrorIs(t, err, delivery.ErrNotFound)
}

// TestClientRefusedDeliveries: the chat server must refuse a captured
// token replayed, or reused for another session or connection.
func TestClientRefusedDeliveries(t *testing.T) {
	e := newEnv(t, envOpts{})
	rec := &tokenRecorder{next: e.mux}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	require.NoError(t, e.client(t, srv.URL, nil).Send(background(), connA, sessA, claims()))
	captured := rec.tokens[0]
	for _, tc := range []struct {
		name       string
		conn, sess string
	}{
		{"replayed as is", connA, sessA},
		{"replayed for another session", connA, sessB},
		{"replayed for another connection", connB, sessA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("POST", srv.URL+path(tc.conn, tc.sess), nil)
			r.Header.Set("Authorization", "Bearer "+captured)
			resp, err := srv.Client().Do(r)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			if tc.sess != sessA || tc.conn != connA {
				_, err := e.store.Get(background(), tc.conn, tc.sess)
				require.ErrorIs(t, err, delivery.ErrNotFound)
			}
		})
	}
}

func TestClientRetries(t *testing.T) {
	for _, tc := range []struct {
		name         string
		fail         func(n int) int
		store        func(e *env) delivery.Store // nil: the env's store
		maxRetries   int
		wantErr      error
		wantStatus   int
		wantAttempts int
	}{
		{"503 twice then success", func(n int) int { return map[int]int{1: 503, 2: 503}[n] }, nil, 0, nil, 0, 3},
		{"500 then success", func(n int) int { return map[int]int{1: 500}[n] }, nil, 0, nil, 0, 2},
		{"store down once, token already recorded: a new token succeeds", nil, func(e *env) delivery.Store {
			return &flakyStore{Store: e.store, err: delivery.ErrStoreUnavailable, n: 1}
		}, 0, nil, 0, 2},
		{"401 is not retried", func(int) int { return 401 }, nil, 0, delivery.ErrRejected, 401, 1},
		{"404 is not retried", func(int) int { return 404 }, nil, 0, delivery.ErrRejected, 404, 1},
		{"429 is not retried", func(int) int { return 429 }, nil, 0, delivery.ErrRejected, 429, 1},
		{"a redirect is not followed", func(int) int { return 307 }, nil, 0, delivery.ErrRejected, 307, 1},
		{"503 until retries are spent", func(int) int { return 503 }, nil, 0, delivery.ErrUnavailable, 503, 3},
		{"five retries", func(int) int { return 502 }, nil, 5, delivery.ErrUnavailable, 502, 6},
		{"no retries", func(int) int { return 503 }, nil, -1, delivery.ErrUnavailable, 503, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *env
			opts := envOpts{}
			if tc.store != nil {
				opts.store = lazyStore(func() delivery.Store { return tc.store(e) })
			}
			e = newEnv(t, opts)
			rec := &tokenRecorder{next: e.mux, fail: tc.fail}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			c := e.client(t, srv.URL, func(cfg *delivery.ClientConfig) { cfg.MaxRetries = tc.maxRetries })
			err := c.Send(background(), connA, sessA, claims())
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
			require.Len(t, rec.tokens, tc.wantAttempts, "requests")
			seen := map[string]bool{}
			for _, tok := range rec.tokens {
				jti := jtiOf(t, tok)
				require.False(t, seen[jti], "a retry reused jti %s", jti)
				seen[jti] = true
			}
			if err != nil {
				var se *delivery.SendError
				require.ErrorAs(t, err, &se)
				require.Equal(t, tc.wantStatus, se.StatusCode)
				attempts := fmt.Sprintf("after %d attempt", tc.wantAttempts)
				require.ErrorContains(t, err, `connection "`+connA+`" session "`+idhash.Of(sessA)+`"`)
				require.ErrorContains(t, err, attempts)
				for _, n := range append(append(plaintextNeedles, sessA), rec.tokens...) {
					require.NotContains(t, err.Error(), n, "the error names no secret, no session ID, no token")
				}
				return
			}
			_, err = e.store.Get(background(), connA, sessA)
			require.NoError(t, err, "not stored after success")
		})
	}
}

// lazyStore defers building the wrapped store until the env exists.
func lazyStore(mk func() delivery.Store) delivery.Store { return &lazy{mk: mk} }

type lazy struct {
	once sync.Once
	mk   func() delivery.Store
	s    delivery.Store
}

func (l *lazy) get() delivery.Store { l.once.Do(func() { l.s = l.mk() }); return l.s }
func (l *lazy) Put(ctx context.Context, c, s string, cl *secretdata.Claims, ttl time.Duration) error {
	return l.get().Put(ctx, c, s, cl, ttl)
}
func (l *lazy) Get(ctx context.Context, c, s string) (*secretdata.Claims, error) {
	return l.get().Get(ctx, c, s)
}
func (l *lazy) Delete(ctx context.Context, c, s string) error { return l.get().Delete(ctx, c, s) }

func TestClientNetworkErrors(t *testing.T) {
	e := newEnv(t, envOpts{})
	t.Run("server gone: retried, then ErrUnavailable", func(t *testing.T) {
		srv := httptest.NewServer(e.mux)
		base := srv.URL
		srv.Close()
		err := e.client(t, base, nil).Send(background(), connA, sessA, claims())
		require.ErrorIs(t, err, delivery.ErrUnavailable)
		var se *delivery.SendError
		require.ErrorAs(t, err, &se)
		require.Zero(t, se.StatusCode, "no answer")
		require.ErrorContains(t, err, "after 3 attempts")
		var ue *url.Error
		require.ErrorAs(t, err, &ue, "the network error is wrapped")
		// The network error quotes the URL, with the session hashed.
		require.NotContains(t, err.Error(), sessA)
		require.ErrorContains(t, err, "/sessions/"+idhash.Of(sessA)+"/", "the session only as its hash")
	})
	t.Run("per-attempt timeout", func(t *testing.T) {
		var hits atomic.Int32
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer srv.Close()
		defer close(release)
		c := e.client(t, srv.URL, func(cfg *delivery.ClientConfig) { cfg.Timeout = 50 * time.Millisecond; cfg.MaxRetries = 1 })
		err := c.Send(background(), connA, sessA, claims())
		require.ErrorIs(t, err, delivery.ErrUnavailable)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.EqualValues(t, 2, hits.Load(), "one retry")
	})
	t.Run("caller's context cancelled during the backoff", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
		defer srv.Close()
		ctx, cancel := context.WithCancel(background())
		c := e.client(t, srv.URL, nil)
		c.SetBackoff(func(int) time.Duration { cancel(); return time.Hour })
		start := time.Now()
		err := c.Send(ctx, connA, sessA, claims())
		require.ErrorIs(t, err, context.Canceled)
		require.Less(t, time.Since(start), 10*time.Second, "the backoff ends with the context")
	})
}

func TestClientRefusesBeforeSending(t *testing.T) {
	e := newEnv(t, envOpts{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := e.client(t, srv.URL, nil)
	for _, tc := range []struct {
		name       string
		conn, sess string
		data       map[string]any
		want       error
	}{
		{"empty session", connA, "", nil, delivery.ErrInvalidID},
		{"session with a slash", connA, "a/b", nil, delivery.ErrInvalidID},
		{"dot-dot session", connA, "..", nil, delivery.ErrInvalidID},
		{"connection with a query", "a?b", sessA, nil, delivery.ErrInvalidID},
		{"data not json-encodable", connA, sessA, map[string]any{"f": make(chan int)}, secretdata.ErrConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Send(background(), tc.conn, tc.sess, secretdata.Claims{SecretData: tc.data})
			require.ErrorIs(t, err, tc.want)
			require.Zero(t, hits.Load(), "a request was sent")
		})
	}
	t.Run("claims for another session", func(t *testing.T) {
		err := c.Send(background(), connA, sessA, secretdata.Claims{SessionID: sessB})
		testenv.RequireProblems(t, err, delivery.ErrConfig, []string{"claims.SessionID"})
		require.Zero(t, hits.Load(), "a request was sent")
	})
}

func TestNewClientConfig(t *testing.T) {
	e := newEnv(t, envOpts{})
	one := e.signers[connA]
	for _, tc := range []struct {
		name string
		cfg  delivery.ClientConfig
		bad  []string // the fields reported, nil if accepted
	}{
		{"https", delivery.ClientConfig{BaseURL: "https://chat.example.com", Signer: one}, nil},
		{"https with a path prefix and slash", delivery.ClientConfig{BaseURL: "https://chat.example.com/api/", Signer: one}, nil},
		{"http to 127.0.0.1", delivery.ClientConfig{BaseURL: "http://127.0.0.1:8080", Signer: one}, nil},
		{"http to [::1]", delivery.ClientConfig{BaseURL: "http://[::1]:8080", Signer: one}, nil},
		{"http to localhost", delivery.ClientConfig{BaseURL: "http://localhost:8080", Signer: one}, nil},
		{"http to a public host", delivery.ClientConfig{BaseURL: "http://chat.example.com", Signer: one}, []string{"BaseURL"}},
		{"http to a host named like loopback", delivery.ClientConfig{BaseURL: "http://127.0.0.1.evil.com", Signer: one}, []string{"BaseURL"}},
		{"http to a public host, dangerously", delivery.ClientConfig{BaseURL: "http://chat.example.com", Signer: one, DangerouslyAllowHTTP: true}, nil},
		{"ftp", delivery.ClientConfig{BaseURL: "ftp://chat.example.com", Signer: one}, []string{"BaseURL"}},
		{"relative", delivery.ClientConfig{BaseURL: "/api", Signer: one}, []string{"BaseURL"}},
		{"empty", delivery.ClientConfig{Signer: one}, []string{"BaseURL"}},
		{"userinfo", delivery.ClientConfig{BaseURL: "https://user:pw@chat.example.com", Signer: one}, []string{"BaseURL"}},
		{"query", delivery.ClientConfig{BaseURL: "https://chat.example.com/?a=b", Signer: one}, []string{"BaseURL"}},
		{"fragment", delivery.ClientConfig{BaseURL: "https://chat.example.com/#x", Signer: one}, []string{"BaseURL"}},
		{"no signer", delivery.ClientConfig{BaseURL: "https://chat.example.com"}, []string{"Signer"}},
		{"negative timeout", delivery.ClientConfig{BaseURL: "https://chat.example.com", Signer: one, Timeout: -time.Second}, []string{"Timeout"}},
		{"timeout above 2m", delivery.ClientConfig{BaseURL: "https://chat.example.com", Signer: one, Timeout: time.Hour}, []string{"Timeout"}},
		{"MaxRetries -2", delivery.ClientConfig{BaseURL: "https://chat.example.com", Signer: one, MaxRetries: -2}, []string{"MaxRetries"}},
		{"MaxRetries 11", delivery.ClientConfig{BaseURL: "https://chat.example.com", Signer: one, MaxRetries: 11}, []string{"MaxRetries"}},
		{"every problem at once", delivery.ClientConfig{BaseURL: "http://chat.example.com", Timeout: time.Hour, MaxRetries: 11},
			[]string{"BaseURL", "Signer", "Timeout", "MaxRetries"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := delivery.NewClient(tc.cfg)
			if tc.bad == nil {
				require.NoError(t, err)
				return
			}
			testenv.RequireProblems(t, err, delivery.ErrConfig, tc.bad)
		})
	}
	t.Run("a password in the URL is not quoted", func(t *testing.T) {
		_, err := delivery.NewClient(delivery.ClientConfig{BaseURL: "https://user:S3CR3T-pw@chat.example.com", Signer: one})
		ps := testenv.RequireProblems(t, err, delivery.ErrConfig, []string{"BaseURL"}, "S3CR3T")
		require.Equal(t, cfgerr.Redacted, ps[0].Value)
	})
}

// TestClientDoesNotChangeCallersHTTPClient: the no-redirect policy is set
// on a copy.
func TestClientDoesNotChangeCallersHTTPClient(t *testing.T) {
	e := newEnv(t, envOpts{})
	hc := &http.Client{}
	e.client(t, "https://chat.example.com", func(c *delivery.ClientConfig) { c.HTTPClient = hc })
	require.Nil(t, hc.CheckRedirect, "caller's http.Client was modified")
}
