package delivery

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/msgsec/msgsec/internal/idhash"
	"github.com/msgsec/msgsec/secretdata"
)

func noBackoff(int) time.Duration { return 0 }

func (e *env) client(t testing.TB, baseURL string, mod func(*ClientConfig)) *Client {
	t.Helper()
	cfg := ClientConfig{
		BaseURL: baseURL,
		Signers: func(c string) (*secretdata.Signer, bool) { s, ok := e.signers[c]; return s, ok },
		Backoff: noBackoff,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

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
	if err := c.Send(background(), connA, sessA, secretData(), WithSubject(subject)); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.Get(background(), connA, sessA)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := got.CustomerID()
	status, _ := got.AuthenticationStatus()
	if id != custID || status != "authenticated" || got.SecretData["balance_note"] != secretV1 ||
		got.Subject != subject || got.Issuer != issuer || got.Audience != connA || got.SessionID != sessA {
		t.Fatalf("stored claims differ: %#v", *got)
	}
	if !got.ExpiresAt.After(t0) || len(got.ID) < 16 {
		t.Fatalf("exp %v jti %q", got.ExpiresAt, got.ID)
	}
	// A second Send for the same session replaces the data (new jti, no replay).
	if err := c.Send(background(), connA, sessA, map[string]any{"authentication_status": "anonymous"}); err != nil {
		t.Fatalf("second Send: %v", err)
	}
	got, _ = e.store.Get(background(), connA, sessA)
	if s, _ := got.AuthenticationStatus(); s != "anonymous" {
		t.Fatalf("second Send did not replace: %q", s)
	}
	if err := c.Revoke(background(), connA, sessA); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := e.store.Get(background(), connA, sessA); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Revoke: %v", err)
	}
}

// TestClientRefusedDeliveries: the chat server must refuse a captured
// token replayed, or reused for another session or connection.
func TestClientRefusedDeliveries(t *testing.T) {
	e := newEnv(t, envOpts{})
	rec := &tokenRecorder{next: e.mux}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	if err := e.client(t, srv.URL, nil).Send(background(), connA, sessA, secretData()); err != nil {
		t.Fatal(err)
	}
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
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
			if tc.sess != sessA || tc.conn != connA {
				if _, err := e.store.Get(background(), tc.conn, tc.sess); !errors.Is(err, ErrNotFound) {
					t.Fatalf("data stored under the wrong session: %v", err)
				}
			}
		})
	}
}

func TestClientRetries(t *testing.T) {
	for _, tc := range []struct {
		name         string
		fail         func(n int) int
		store        func(e *env) Store // nil: the env's store
		maxRetries   int
		wantErr      error
		wantStatus   int
		wantAttempts int
	}{
		{"503 twice then success", func(n int) int { return map[int]int{1: 503, 2: 503}[n] }, nil, 0, nil, 0, 3},
		{"500 then success", func(n int) int { return map[int]int{1: 500}[n] }, nil, 0, nil, 0, 2},
		{"store down once, token already recorded: a new token succeeds", nil, func(e *env) Store {
			return &flakyStore{Store: e.store, err: ErrStoreUnavailable, n: 1}
		}, 0, nil, 0, 2},
		{"401 is not retried", func(int) int { return 401 }, nil, 0, ErrRejected, 401, 1},
		{"404 is not retried", func(int) int { return 404 }, nil, 0, ErrRejected, 404, 1},
		{"429 is not retried", func(int) int { return 429 }, nil, 0, ErrRejected, 429, 1},
		{"a redirect is not followed", func(int) int { return 307 }, nil, 0, ErrRejected, 307, 1},
		{"503 until retries are spent", func(int) int { return 503 }, nil, 0, ErrUnavailable, 503, 3},
		{"five retries", func(int) int { return 502 }, nil, 5, ErrUnavailable, 502, 6},
		{"no retries", func(int) int { return 503 }, nil, -1, ErrUnavailable, 503, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *env
			opts := envOpts{}
			if tc.store != nil {
				opts.store = lazyStore(func() Store { return tc.store(e) })
			}
			e = newEnv(t, opts)
			rec := &tokenRecorder{next: e.mux, fail: tc.fail}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			c := e.client(t, srv.URL, func(cfg *ClientConfig) { cfg.MaxRetries = tc.maxRetries })
			err := c.Send(background(), connA, sessA, secretData())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Send: %v, want %v", err, tc.wantErr)
			}
			if len(rec.tokens) != tc.wantAttempts {
				t.Fatalf("%d requests, want %d", len(rec.tokens), tc.wantAttempts)
			}
			seen := map[string]bool{}
			for _, tok := range rec.tokens {
				jti := jtiOf(t, tok)
				if seen[jti] {
					t.Fatalf("a retry reused jti %s", jti)
				}
				seen[jti] = true
			}
			if err != nil {
				var se *SendError
				if !errors.As(err, &se) || se.StatusCode != tc.wantStatus || se.Attempts != tc.wantAttempts ||
					se.Connection != connA || se.Session != idhash.Of(sessA) {
					t.Fatalf("SendError %+v", se)
				}
				for _, n := range append(append(plaintextNeedles, sessA), rec.tokens...) {
					if strings.Contains(err.Error(), n) {
						t.Fatalf("error text contains %q", n)
					}
				}
				return
			}
			if _, err := e.store.Get(background(), connA, sessA); err != nil {
				t.Fatalf("not stored after success: %v", err)
			}
		})
	}
}

// lazyStore defers building the wrapped store until the env exists.
func lazyStore(mk func() Store) Store { return &lazy{mk: mk} }

type lazy struct {
	once sync.Once
	mk   func() Store
	s    Store
}

func (l *lazy) get() Store { l.once.Do(func() { l.s = l.mk() }); return l.s }
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
		url := srv.URL
		srv.Close()
		err := e.client(t, url, nil).Send(background(), connA, sessA, secretData())
		var se *SendError
		if !errors.Is(err, ErrUnavailable) || !errors.As(err, &se) || se.Attempts != 3 || se.StatusCode != 0 || se.Err == nil {
			t.Fatalf("Send: %v", err)
		}
		// The network error quotes the URL, with the session hashed.
		if msg := err.Error(); strings.Contains(msg, sessA) || !strings.Contains(msg, "/sessions/"+idhash.Of(sessA)+"/") {
			t.Fatalf("error text %q: want the session only as its hash", msg)
		}
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
		c := e.client(t, srv.URL, func(cfg *ClientConfig) { cfg.Timeout = 50 * time.Millisecond; cfg.MaxRetries = 1 })
		err := c.Send(background(), connA, sessA, secretData())
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || hits.Load() != 2 {
			t.Fatalf("Send: %v after %d hits", err, hits.Load())
		}
	})
	t.Run("caller's context cancelled during the backoff", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
		defer srv.Close()
		ctx, cancel := context.WithCancel(background())
		c := e.client(t, srv.URL, func(cfg *ClientConfig) {
			cfg.Backoff = func(int) time.Duration { cancel(); return time.Hour }
		})
		start := time.Now()
		err := c.Send(ctx, connA, sessA, secretData())
		if !errors.Is(err, context.Canceled) || time.Since(start) > 10*time.Second {
			t.Fatalf("Send: %v after %v", err, time.Since(start))
		}
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
		{"empty session", connA, "", nil, ErrInvalidID},
		{"session with a slash", connA, "a/b", nil, ErrInvalidID},
		{"dot-dot session", connA, "..", nil, ErrInvalidID},
		{"connection with a query", "a?b", sessA, nil, ErrInvalidID},
		{"connection without a signer", "unknown", sessA, nil, ErrConfig},
		{"data not json-encodable", connA, sessA, map[string]any{"f": make(chan int)}, secretdata.ErrConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Send(background(), tc.conn, tc.sess, tc.data); !errors.Is(err, tc.want) {
				t.Fatalf("Send: %v, want %v", err, tc.want)
			}
			if hits.Load() != 0 {
				t.Fatal("a request was sent")
			}
		})
	}
}

func TestNewClientConfig(t *testing.T) {
	e := newEnv(t, envOpts{})
	one := e.signers[connA]
	signers := func(string) (*secretdata.Signer, bool) { return one, true }
	for _, tc := range []struct {
		name string
		cfg  ClientConfig
		ok   bool
	}{
		{"https", ClientConfig{BaseURL: "https://chat.example.com", Signer: one}, true},
		{"https with a path prefix and slash", ClientConfig{BaseURL: "https://chat.example.com/api/", Signer: one}, true},
		{"http to 127.0.0.1", ClientConfig{BaseURL: "http://127.0.0.1:8080", Signer: one}, true},
		{"http to [::1]", ClientConfig{BaseURL: "http://[::1]:8080", Signer: one}, true},
		{"http to localhost", ClientConfig{BaseURL: "http://localhost:8080", Signer: one}, true},
		{"Signers func", ClientConfig{BaseURL: "https://chat.example.com", Signers: signers}, true},
		{"http to a public host", ClientConfig{BaseURL: "http://chat.example.com", Signer: one}, false},
		{"http to a host named like loopback", ClientConfig{BaseURL: "http://127.0.0.1.evil.com", Signer: one}, false},
		{"http to a public host, dangerously", ClientConfig{BaseURL: "http://chat.example.com", Signer: one, DangerouslyAllowHTTP: true}, true},
		{"ftp", ClientConfig{BaseURL: "ftp://chat.example.com", Signer: one}, false},
		{"relative", ClientConfig{BaseURL: "/api", Signer: one}, false},
		{"empty", ClientConfig{Signer: one}, false},
		{"userinfo", ClientConfig{BaseURL: "https://user:pw@chat.example.com", Signer: one}, false},
		{"query", ClientConfig{BaseURL: "https://chat.example.com/?a=b", Signer: one}, false},
		{"fragment", ClientConfig{BaseURL: "https://chat.example.com/#x", Signer: one}, false},
		{"no signer", ClientConfig{BaseURL: "https://chat.example.com"}, false},
		{"both signer and signers", ClientConfig{BaseURL: "https://chat.example.com", Signer: one, Signers: signers}, false},
		{"negative timeout", ClientConfig{BaseURL: "https://chat.example.com", Signer: one, Timeout: -time.Second}, false},
		{"timeout above 2m", ClientConfig{BaseURL: "https://chat.example.com", Signer: one, Timeout: time.Hour}, false},
		{"MaxRetries -2", ClientConfig{BaseURL: "https://chat.example.com", Signer: one, MaxRetries: -2}, false},
		{"MaxRetries 11", ClientConfig{BaseURL: "https://chat.example.com", Signer: one, MaxRetries: 11}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClient(tc.cfg)
			if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, ErrConfig)) {
				t.Fatalf("NewClient: %v", err)
			}
		})
	}
}

// TestClientDoesNotChangeCallersHTTPClient: the no-redirect policy is set
// on a copy.
func TestClientDoesNotChangeCallersHTTPClient(t *testing.T) {
	e := newEnv(t, envOpts{})
	hc := &http.Client{}
	e.client(t, "https://chat.example.com", func(c *ClientConfig) { c.HTTPClient = hc })
	if hc.CheckRedirect != nil {
		t.Fatal("caller's http.Client was modified")
	}
}

func TestDefaultBackoff(t *testing.T) {
	for retry := 1; retry <= 40; retry++ {
		for range 50 {
			d := defaultBackoff(retry)
			limit := min(backoffBase<<min(retry, 6), backoffCap)
			if d <= 0 || d > limit {
				t.Fatalf("retry %d: backoff %v outside (0, %v]", retry, d, limit)
			}
		}
	}
}
