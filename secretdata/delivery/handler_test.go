package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/msgsec/msgsec/internal/idhash"
	"github.com/msgsec/msgsec/secretdata"
)

// req describes one request to the Handler.
type req struct {
	method      string
	path        string
	auth        []string // Authorization header values
	body        string
	contentType string
	chunked     bool // no Content-Length
}

func (e *env) do(t testing.TB, r req) *httptest.ResponseRecorder {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	for _, a := range r.auth {
		hr.Header.Add("Authorization", a)
	}
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	if r.chunked {
		hr.ContentLength = -1
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, hr)
	return rec
}

func bearerHdr(tok string) []string { return []string{"Bearer " + tok} }

func tokenBody(tok string) string { return `{"token":"` + tok + `"}` }

func TestHandler(t *testing.T) {
	type mk func(t *testing.T, e *env) req
	for _, tc := range []struct {
		name       string
		mk         mk
		wantStatus int
		wantKind   Kind
		wantReason string
		wantStored bool // sessA of connA holds data afterwards
	}{
		{"token in the Authorization header", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))}
		}, 204, KindStored, "", true},
		{"lowercase bearer scheme", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: []string{"bearer " + e.sign(t, connA, sessA)}}
		}, 204, KindStored, "", true},
		{"token in a json body", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: tokenBody(e.sign(t, connA, sessA)), contentType: "application/json"}
		}, 204, KindStored, "", true},
		{"json body with a utf-8 charset", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: tokenBody(e.sign(t, connA, sessA)), contentType: "application/json; charset=UTF-8"}
		}, 204, KindStored, "", true},
		{"missing token", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA)}
		}, 401, KindTokenInvalid, "missing", false},
		{"expired token", func(t *testing.T, e *env) req {
			old := newSigner(t, hmacKey(t, "a1", secretA), connA, func() time.Time { return t0.Add(-time.Hour) })
			tok, _ := old.Sign(secretdata.Claims{SessionID: sessA, SecretData: secretData()})
			return req{path: path(connA, sessA), auth: bearerHdr(tok)}
		}, 401, KindTokenInvalid, "expired", false},
		{"token for another session", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessB))}
		}, 401, KindTokenInvalid, "invalid claims", false},
		{"token without a session", func(t *testing.T, e *env) req {
			tok, _ := e.signers[connA].Sign(secretdata.Claims{SecretData: secretData()})
			return req{path: path(connA, sessA), auth: bearerHdr(tok)}
		}, 401, KindTokenInvalid, "invalid claims", false},
		{"token for another connection, signed with its key", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connB, sessA))}
		}, 401, KindTokenInvalid, "unknown key", false},
		{"token for another connection, same key (aud differs)", func(t *testing.T, e *env) req {
			s := newSigner(t, hmacKey(t, "a1", secretA), connB, e.clock.Now)
			tok, _ := s.Sign(secretdata.Claims{SessionID: sessA, SecretData: secretData()})
			return req{path: path(connA, sessA), auth: bearerHdr(tok)}
		}, 401, KindTokenInvalid, "invalid claims", false},
		{"forged signature", func(t *testing.T, e *env) req {
			tok := e.sign(t, connA, sessA)
			return req{path: path(connA, sessA), auth: bearerHdr(tok[:len(tok)-4] + "AAAA")}
		}, 401, KindTokenInvalid, "bad signature", false},
		{"basic scheme", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: []string{"Basic dXNlcjpwYXNz"}}
		}, 401, KindTokenInvalid, "malformed authorization header", false},
		{"bearer with a space in the token", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: []string{"Bearer " + e.sign(t, connA, sessA) + " x"}}
		}, 401, KindTokenInvalid, "malformed authorization header", false},
		{"bare Bearer", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: []string{"Bearer "}}
		}, 401, KindTokenInvalid, "malformed authorization header", false},
		{"two Authorization headers", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: append(bearerHdr(e.sign(t, connA, sessA)), "Bearer x")}
		}, 400, KindBadRequest, "several authorization headers", false},
		{"token in header and body", func(t *testing.T, e *env) req {
			tok := e.sign(t, connA, sessA)
			return req{path: path(connA, sessA), auth: bearerHdr(tok), body: tokenBody(tok), contentType: "application/json"}
		}, 400, KindBadRequest, "token in both header and body", false},
		{"body without a content type", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: tokenBody(e.sign(t, connA, sessA))}
		}, 400, KindBadRequest, "content type is not application/json", false},
		{"form body", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: "access_token=" + e.sign(t, connA, sessA), contentType: "application/x-www-form-urlencoded"}
		}, 400, KindBadRequest, "content type is not application/json", false},
		{"json with another charset", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: tokenBody(e.sign(t, connA, sessA)), contentType: "application/json; charset=latin1"}
		}, 400, KindBadRequest, "content type is not application/json", false},
		{"json body with unsigned data beside the token", func(t *testing.T, e *env) req {
			body := `{"token":"` + e.sign(t, connA, sessA) + `","customer_id":"C-9"}`
			return req{path: path(connA, sessA), body: body, contentType: "application/json"}
		}, 400, KindBadRequest, `body is not {"token": "..."}`, false},
		{"body above the limit", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: strings.Repeat("x", DefaultMaxBodyBytes+1), contentType: "application/json"}
		}, 413, KindBodyTooLarge, "content-length above limit", false},
		{"chunked body above the limit", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: strings.Repeat("x", DefaultMaxBodyBytes+1), contentType: "application/json", chunked: true}
		}, 413, KindBodyTooLarge, "body above limit", false},
		{"GET", func(t *testing.T, e *env) req {
			return req{method: http.MethodGet, path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))}
		}, 405, KindMethodNotAllowed, "method", false},
		{"PUT", func(t *testing.T, e *env) req {
			return req{method: http.MethodPut, path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))}
		}, 405, KindMethodNotAllowed, "method", false},
		{"unknown connection", func(t *testing.T, e *env) req {
			return req{path: path("no-such-bank", sessA), auth: bearerHdr(e.sign(t, connA, sessA))}
		}, 404, KindUnknownConnection, "no verifier", false},
		{"session id with an escaped space", func(t *testing.T, e *env) req {
			return req{path: path(connA, "a%20b"), auth: bearerHdr(e.sign(t, connA, "a b"))}
		}, 400, KindBadRequest, "invalid connection or session id", false},
		{"session id with an escaped slash", func(t *testing.T, e *env) req {
			return req{path: path(connA, "a%2Fb"), auth: bearerHdr(e.sign(t, connA, "a/b"))}
		}, 400, KindBadRequest, "invalid connection or session id", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOpts{})
			r := tc.mk(t, e)
			rec := e.do(t, r)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			ev := e.events.last()
			if ev.Kind != tc.wantKind || ev.Status != tc.wantStatus || ev.Reason != tc.wantReason {
				t.Fatalf("event %+v; want kind %q reason %q", ev, tc.wantKind, tc.wantReason)
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", rec.Header().Get("Cache-Control"))
			}
			_, err := e.store.Get(background(), connA, sessA)
			if tc.wantStored != (err == nil) {
				t.Fatalf("stored = %v (%v), want %v", err == nil, err, tc.wantStored)
			}
			if tc.wantStatus == 204 {
				if rec.Body.Len() != 0 {
					t.Fatalf("204 with a body")
				}
				return
			}
			checkProblem(t, rec, tc.wantKind, append(r.auth, r.body))
		})
	}
}

// checkProblem checks an RFC 9457 answer, and that it echoes nothing of
// the request or the secret data.
func checkProblem(t *testing.T, rec *httptest.ResponseRecorder, kind Kind, sent []string) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var p struct {
		Type, Title, Detail string
		Status              int
	}
	body := rec.Body.String()
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("problem body %q: %v", body, err)
	}
	if p.Type != kind.TypeURI() || p.Status != rec.Code || p.Title == "" {
		t.Fatalf("problem %+v", p)
	}
	if kind == KindTokenInvalid {
		if p.Title != "invalid token" || p.Detail != "invalid token" {
			t.Fatalf("401 says more than \"invalid token\": %+v", p)
		}
		if rec.Header().Get("WWW-Authenticate") == "" {
			t.Fatal("401 without WWW-Authenticate")
		}
	}
	if kind == KindMethodNotAllowed && rec.Header().Get("Allow") != "POST, DELETE" {
		t.Fatalf("405 Allow %q", rec.Header().Get("Allow"))
	}
	for _, s := range append(sent, plaintextNeedles...) {
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '.' || r == '"' }) {
			if len(part) >= 8 && strings.Contains(body, part) {
				t.Fatalf("problem body echoes %q", part)
			}
		}
	}
}

func TestHandlerReplayRefused(t *testing.T) {
	e := newEnv(t, envOpts{})
	tok := e.sign(t, connA, sessA)
	for i, want := range []int{204, 401, 401} {
		if rec := e.do(t, req{path: path(connA, sessA), auth: bearerHdr(tok)}); rec.Code != want {
			t.Fatalf("delivery %d: status %d, want %d", i+1, rec.Code, want)
		}
	}
	if ev := e.events.last(); ev.Reason != "replayed" || !errors.Is(ev.Err, secretdata.ErrReplayed) {
		t.Fatalf("event %+v", ev)
	}
	// The replay cache keys on (iss, jti), so the same token moved into a
	// json body is still a replay.
	if rec := e.do(t, req{path: path(connA, sessA), body: tokenBody(tok), contentType: "application/json"}); rec.Code != 401 {
		t.Fatalf("replay through the body: status %d", rec.Code)
	}
}

func TestHandlerDelete(t *testing.T) {
	e := newEnv(t, envOpts{})
	if rec := e.do(t, req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))}); rec.Code != 204 {
		t.Fatal(rec.Code)
	}
	// A DELETE with a token for another session forgets nothing.
	if rec := e.do(t, req{method: "DELETE", path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessB))}); rec.Code != 401 {
		t.Fatalf("DELETE with another session's token: %d", rec.Code)
	}
	if _, err := e.store.Get(background(), connA, sessA); err != nil {
		t.Fatalf("refused DELETE removed the data: %v", err)
	}
	if rec := e.do(t, req{method: "DELETE", path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))}); rec.Code != 204 {
		t.Fatalf("DELETE: %d", rec.Code)
	}
	if e.events.last().Kind != KindDeleted {
		t.Fatalf("event %+v", e.events.last())
	}
	if _, err := e.store.Get(background(), connA, sessA); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after DELETE: %v", err)
	}
}

func TestHandlerTTL(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      func(*HandlerConfig)
		wantLive time.Duration // data is there just before, gone at
	}{
		{"default TTL", nil, DefaultTTL},
		{"configured TTL", func(c *HandlerConfig) { c.TTL = time.Hour }, time.Hour},
		{"session lifetime shorter than TTL", func(c *HandlerConfig) {
			c.SessionLifetime = func(context.Context, string, string) (time.Duration, error) { return 5 * time.Minute, nil }
		}, 5 * time.Minute},
		{"session lifetime capped at TTL", func(c *HandlerConfig) {
			c.SessionLifetime = func(context.Context, string, string) (time.Duration, error) { return 48 * time.Hour, nil }
		}, DefaultTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOpts{config: tc.cfg})
			if rec := e.do(t, req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))}); rec.Code != 204 {
				t.Fatal(rec.Code)
			}
			e.clock.Advance(tc.wantLive - time.Second)
			if _, err := e.store.Get(background(), connA, sessA); err != nil {
				t.Fatalf("gone early: %v", err)
			}
			e.clock.Advance(time.Second)
			if _, err := e.store.Get(background(), connA, sessA); !errors.Is(err, ErrNotFound) {
				t.Fatalf("still there at the TTL: %v", err)
			}
		})
	}
}

func TestHandlerUnknownSession(t *testing.T) {
	asked := false
	e := newEnv(t, envOpts{config: func(c *HandlerConfig) {
		c.SessionLifetime = func(_ context.Context, conn, sess string) (time.Duration, error) {
			asked = true
			return 0, ErrNotFound
		}
	}})
	// Without a valid token the session is never looked up.
	if rec := e.do(t, req{path: path(connA, sessA)}); rec.Code != 401 || asked {
		t.Fatalf("no token: status %d, lifetime asked %v", rec.Code, asked)
	}
	rec := e.do(t, req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))})
	if rec.Code != 404 || e.events.last().Kind != KindUnknownSession {
		t.Fatalf("status %d, event %+v", rec.Code, e.events.last())
	}
	if e.store.Len() != 0 {
		t.Fatal("stored data for an unknown session")
	}
}

// When the chat engine cannot say whether the session lives, the answer is
// 503 (try again), not 404, and nothing is stored.
func TestHandlerSessionsUnreadable(t *testing.T) {
	e := newEnv(t, envOpts{config: func(c *HandlerConfig) {
		c.SessionLifetime = func(context.Context, string, string) (time.Duration, error) {
			return 0, errors.New("sessions backend down")
		}
	}})
	rec := e.do(t, req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))})
	if rec.Code != 503 || e.events.last().Kind != KindStoreUnavailable {
		t.Fatalf("status %d, event %+v", rec.Code, e.events.last())
	}
	if e.store.Len() != 0 {
		t.Fatal("stored data while the session could not be checked")
	}
}

// failingReplay is a replay cache whose backend is down.
type failingReplay struct{}

func (failingReplay) Record(context.Context, string, string, time.Time) error {
	return secretdata.ErrReplayCheckUnavailable
}

// flakyStore wraps a Store and fails the first n Puts with err.
type flakyStore struct {
	Store
	err error
	n   int
}

func (s *flakyStore) Put(ctx context.Context, c, sess string, cl *secretdata.Claims, ttl time.Duration) error {
	if s.n > 0 {
		s.n--
		return s.err
	}
	return s.Store.Put(ctx, c, sess, cl, ttl)
}

func TestHandlerUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       func(t *testing.T) envOpts
		wantStatus int
		wantKind   Kind
	}{
		{"replay check down", func(*testing.T) envOpts { return envOpts{replay: failingReplay{}} }, 503, KindTokenUnverifiable},
		{"store down", func(t *testing.T) envOpts {
			s, _ := NewMemoryStore(MemoryStoreConfig{Key: storeKey32})
			return envOpts{store: &flakyStore{Store: s, err: ErrStoreUnavailable, n: 1}}
		}, 503, KindStoreUnavailable},
		{"store full", func(*testing.T) envOpts {
			return envOpts{storeCf: func(c *MemoryStoreConfig) { c.MaxEntries = 1 }}
		}, 503, KindStoreUnavailable},
		{"store fails otherwise", func(t *testing.T) envOpts {
			s, _ := NewMemoryStore(MemoryStoreConfig{Key: storeKey32})
			return envOpts{store: &flakyStore{Store: s, err: errors.New("disk on fire"), n: 1}}
		}, 500, KindStoreError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts(t))
			if tc.name == "store full" {
				if err := e.store.Put(background(), connB, "other", testClaims(), time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			r := req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))}
			rec := e.do(t, r)
			if rec.Code != tc.wantStatus || e.events.last().Kind != tc.wantKind {
				t.Fatalf("status %d event %+v; want %d %s", rec.Code, e.events.last(), tc.wantStatus, tc.wantKind)
			}
			checkProblem(t, rec, tc.wantKind, r.auth)
			if tc.wantStatus == 503 && rec.Header().Get("Retry-After") == "" {
				t.Fatal("503 without Retry-After")
			}
		})
	}
}

// TestHandlerLogsNoSecrets: denials and successes are logged with kind,
// reason, connection and the session's hash, never the token, the data or
// the session ID.
func TestHandlerLogsNoSecrets(t *testing.T) {
	e := newEnv(t, envOpts{})
	tok := e.sign(t, connA, sessA)
	e.do(t, req{path: path(connA, sessA), auth: bearerHdr(tok)})
	e.do(t, req{path: path(connA, sessA), auth: bearerHdr(tok)}) // replay
	logs := e.logs.String()
	for _, want := range []string{`"kind":"stored"`, `"kind":"invalid-token"`, `"reason":"replayed"`, `"connection":"retail-bank"`, `"session":"` + idhash.Of(sessA) + `"`, `"level":"WARN"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	for _, part := range append(append(strings.Split(tok, "."), plaintextNeedles...), sessA) {
		if strings.Contains(logs, part) {
			t.Fatalf("log contains %q", part)
		}
	}
}

func TestNewHandlerConfig(t *testing.T) {
	s, _ := NewMemoryStore(MemoryStoreConfig{Key: storeKey32})
	v := func(string) (*secretdata.Verifier, bool) { return nil, false }
	for _, tc := range []struct {
		name string
		cfg  HandlerConfig
		ok   bool
	}{
		{"minimal", HandlerConfig{Verifier: v, Store: s}, true},
		{"no verifier", HandlerConfig{Store: s}, false},
		{"no store", HandlerConfig{Verifier: v}, false},
		{"TTL above 24h", HandlerConfig{Verifier: v, Store: s, TTL: 25 * time.Hour}, false},
		{"TTL below 1s", HandlerConfig{Verifier: v, Store: s, TTL: time.Millisecond}, false},
		{"negative TTL", HandlerConfig{Verifier: v, Store: s, TTL: -time.Minute}, false},
		{"body limit above 1 MiB", HandlerConfig{Verifier: v, Store: s, MaxBodyBytes: 2 << 20}, false},
		{"negative body limit", HandlerConfig{Verifier: v, Store: s, MaxBodyBytes: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHandler(tc.cfg)
			if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, ErrConfig)) {
				t.Fatalf("NewHandler: %v", err)
			}
		})
	}
}

// TestHandlerCustomIDs resolves the IDs from a router that is not a
// ServeMux pattern (here: query-free fixed path segments).
func TestHandlerCustomIDs(t *testing.T) {
	e := newEnv(t, envOpts{config: func(c *HandlerConfig) {
		c.IDs = func(r *http.Request) (string, string) {
			parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
			if len(parts) != 3 {
				return "", ""
			}
			return parts[1], parts[2]
		}
	}})
	hr := httptest.NewRequest("POST", "/deliver/"+connA+"/"+sessA, nil)
	hr.Header.Set("Authorization", "Bearer "+e.sign(t, connA, sessA))
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, hr)
	if rec.Code != 204 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	// Mounted without the pattern's wildcards, the default resolver finds
	// no IDs and refuses.
	plain := newEnv(t, envOpts{})
	rec = httptest.NewRecorder()
	plain.handler.ServeHTTP(rec, hr)
	if rec.Code != 400 {
		t.Fatalf("no path values: status %d", rec.Code)
	}
	_, _ = io.Copy(io.Discard, rec.Body)
}
