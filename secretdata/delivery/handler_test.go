package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/idhash"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
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
		wantKind   delivery.Kind
		wantReason string
		wantStored bool // sessA of connA holds data afterwards
	}{
		{"token in the Authorization header", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))}
		}, 204, delivery.KindStored, "", true},
		{"lowercase bearer scheme", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: []string{"bearer " + e.sign(t, connA, sessA)}}
		}, 204, delivery.KindStored, "", true},
		{"token in a json body", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: tokenBody(e.sign(t, connA, sessA)), contentType: "application/json"}
		}, 204, delivery.KindStored, "", true},
		{"json body with a utf-8 charset", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: tokenBody(e.sign(t, connA, sessA)), contentType: "application/json; charset=UTF-8"}
		}, 204, delivery.KindStored, "", true},
		{"missing token", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA)}
		}, 401, delivery.KindTokenInvalid, "missing", false},
		{"expired token", func(t *testing.T, e *env) req {
			old := newSigner(t, hmacKey(t, "a1", secretA), connA, func() time.Time { return t0.Add(-time.Hour) })
			tok, _ := old.Sign(secretdata.Claims{SessionID: sessA, SecretData: secretData()})
			return req{path: path(connA, sessA), auth: bearerHdr(tok)}
		}, 401, delivery.KindTokenInvalid, "expired", false},
		{"token for another session", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessB))}
		}, 401, delivery.KindTokenInvalid, "invalid claims", false},
		{"token without a session", func(t *testing.T, e *env) req {
			tok, _ := e.signers[connA].Sign(secretdata.Claims{SecretData: secretData()})
			return req{path: path(connA, sessA), auth: bearerHdr(tok)}
		}, 401, delivery.KindTokenInvalid, "invalid claims", false},
		{"token for another connection, signed with its key", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connB, sessA))}
		}, 401, delivery.KindTokenInvalid, "unknown key", false},
		{"token for another connection, same key (aud differs)", func(t *testing.T, e *env) req {
			s := newSigner(t, hmacKey(t, "a1", secretA), connB, e.clock.Now)
			tok, _ := s.Sign(secretdata.Claims{SessionID: sessA, SecretData: secretData()})
			return req{path: path(connA, sessA), auth: bearerHdr(tok)}
		}, 401, delivery.KindTokenInvalid, "invalid claims", false},
		{"forged signature", func(t *testing.T, e *env) req {
			tok := e.sign(t, connA, sessA)
			return req{path: path(connA, sessA), auth: bearerHdr(tok[:len(tok)-4] + "AAAA")}
		}, 401, delivery.KindTokenInvalid, "bad signature", false},
		{"basic scheme", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: []string{"Basic dXNlcjpwYXNz"}}
		}, 401, delivery.KindTokenInvalid, "malformed authorization header", false},
		{"bearer with a space in the token", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: []string{"Bearer " + e.sign(t, connA, sessA) + " x"}}
		}, 401, delivery.KindTokenInvalid, "malformed authorization header", false},
		{"bare Bearer", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: []string{"Bearer "}}
		}, 401, delivery.KindTokenInvalid, "malformed authorization header", false},
		{"two Authorization headers", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), auth: append(bearerHdr(e.sign(t, connA, sessA)), "Bearer x")}
		}, 400, delivery.KindBadRequest, "several authorization headers", false},
		{"token in header and body", func(t *testing.T, e *env) req {
			tok := e.sign(t, connA, sessA)
			return req{path: path(connA, sessA), auth: bearerHdr(tok), body: tokenBody(tok), contentType: "application/json"}
		}, 400, delivery.KindBadRequest, "token in both header and body", false},
		{"body without a content type", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: tokenBody(e.sign(t, connA, sessA))}
		}, 400, delivery.KindBadRequest, "content type is not application/json", false},
		{"form body", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: "access_token=" + e.sign(t, connA, sessA), contentType: "application/x-www-form-urlencoded"}
		}, 400, delivery.KindBadRequest, "content type is not application/json", false},
		{"json with another charset", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: tokenBody(e.sign(t, connA, sessA)), contentType: "application/json; charset=latin1"}
		}, 400, delivery.KindBadRequest, "content type is not application/json", false},
		{"json body with unsigned data beside the token", func(t *testing.T, e *env) req {
			body := `{"token":"` + e.sign(t, connA, sessA) + `","customer_id":"C-9"}`
			return req{path: path(connA, sessA), body: body, contentType: "application/json"}
		}, 400, delivery.KindBadRequest, `body is not {"token": "..."}`, false},
		{"body above the limit", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: strings.Repeat("x", 16<<10+1), contentType: "application/json"}
		}, 413, delivery.KindBodyTooLarge, "content-length above limit", false},
		{"chunked body above the limit", func(t *testing.T, e *env) req {
			return req{path: path(connA, sessA), body: strings.Repeat("x", 16<<10+1), contentType: "application/json", chunked: true}
		}, 413, delivery.KindBodyTooLarge, "body above limit", false},
		{"GET", func(t *testing.T, e *env) req {
			return req{method: http.MethodGet, path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))}
		}, 405, delivery.KindMethodNotAllowed, "method", false},
		{"PUT", func(t *testing.T, e *env) req {
			return req{method: http.MethodPut, path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))}
		}, 405, delivery.KindMethodNotAllowed, "method", false},
		{"unknown connection", func(t *testing.T, e *env) req {
			return req{path: path("no-such-bank", sessA), auth: bearerHdr(e.sign(t, connA, sessA))}
		}, 404, delivery.KindUnknownConnection, "no verifier", false},
		{"session id with an escaped space", func(t *testing.T, e *env) req {
			return req{path: path(connA, "a%20b"), auth: bearerHdr(e.sign(t, connA, "a b"))}
		}, 400, delivery.KindBadRequest, "invalid connection or session id", false},
		{"session id with an escaped slash", func(t *testing.T, e *env) req {
			return req{path: path(connA, "a%2Fb"), auth: bearerHdr(e.sign(t, connA, "a/b"))}
		}, 400, delivery.KindBadRequest, "invalid connection or session id", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOpts{})
			r := tc.mk(t, e)
			rec := e.do(t, r)
			require.Equal(t, tc.wantStatus, rec.Code, "body %s", rec.Body)
			ev := e.events.last()
			require.Equal(t, tc.wantKind, ev.Kind)
			require.Equal(t, tc.wantStatus, ev.Status)
			require.Equal(t, tc.wantReason, ev.Reason)
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			_, err := e.store.Get(background(), connA, sessA)
			if tc.wantStored {
				require.NoError(t, err, "stored")
			} else {
				require.ErrorIs(t, err, delivery.ErrNotFound, "nothing stored")
			}
			if tc.wantStatus == 204 {
				require.Zero(t, rec.Body.Len(), "204 with a body")
				return
			}
			checkProblem(t, rec, tc.wantKind, append(r.auth, r.body))
		})
	}
}

// checkProblem checks an RFC 9457 answer, and that it echoes nothing of
// the request or the secret data.
func checkProblem(t *testing.T, rec *httptest.ResponseRecorder, kind delivery.Kind, sent []string) {
	t.Helper()
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p struct {
		Type, Title, Detail string
		Status              int
	}
	body := rec.Body.String()
	require.NoError(t, json.Unmarshal([]byte(body), &p), "problem body %q", body)
	require.Equal(t, "urn:msgsec:problem:"+string(kind), p.Type)
	require.Equal(t, rec.Code, p.Status)
	require.NotEmpty(t, p.Title)
	if kind == delivery.KindTokenInvalid {
		require.Equal(t, "invalid token", p.Title, "a 401 says no more than \"invalid token\"")
		require.Equal(t, "invalid token", p.Detail, "a 401 says no more than \"invalid token\"")
		require.NotEmpty(t, rec.Header().Get("WWW-Authenticate"), "401 without WWW-Authenticate")
	}
	if kind == delivery.KindMethodNotAllowed {
		require.Equal(t, "POST, DELETE", rec.Header().Get("Allow"))
	}
	for _, s := range append(sent, plaintextNeedles...) {
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '.' || r == '"' }) {
			if len(part) >= 8 {
				require.NotContains(t, body, part, "the problem body echoes the request")
			}
		}
	}
}

func TestHandlerReplayRefused(t *testing.T) {
	e := newEnv(t, envOpts{})
	tok := e.sign(t, connA, sessA)
	for i, want := range []int{204, 401, 401} {
		rec := e.do(t, req{path: path(connA, sessA), auth: bearerHdr(tok)})
		require.Equal(t, want, rec.Code, "delivery %d: status %d, want %d", i+1, rec.Code, want)
	}
	ev := e.events.last()
	require.Equal(t, "replayed", ev.Reason)
	require.ErrorIs(t, ev.Err, secretdata.ErrReplayed)
	// The replay cache keys on (iss, jti), so the same token moved into a
	// json body is still a replay.
	rec := e.do(t, req{path: path(connA, sessA), body: tokenBody(tok), contentType: "application/json"})
	require.Equal(t, 401, rec.Code, "replay through the body: status %d", rec.Code)
}

func TestHandlerDelete(t *testing.T) {
	e := newEnv(t, envOpts{})
	rec := e.do(t, req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))})
	require.Equal(t, 204, rec.Code)
	// A DELETE with a token for another session forgets nothing.
	rec = e.do(t, req{method: "DELETE", path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessB))})
	require.Equal(t, 401, rec.Code, "DELETE with another session's token: %d", rec.Code)
	_, err := e.store.Get(background(), connA, sessA)
	require.NoError(t, err, "refused DELETE removed the data")
	rec = e.do(t, req{method: "DELETE", path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))})
	require.Equal(t, 204, rec.Code, "DELETE: %d", rec.Code)
	require.Equal(t, delivery.KindDeleted, e.events.last().Kind, "event %+v", e.events.last())
	_, err = e.store.Get(background(), connA, sessA)
	require.ErrorIs(t, err, delivery.ErrNotFound)
}

func TestHandlerTTL(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      func(*delivery.HandlerConfig)
		wantLive time.Duration // data is there just before, gone at
	}{
		{"default TTL", nil, 30 * time.Minute},
		{"configured TTL", func(c *delivery.HandlerConfig) { c.TTL = time.Hour }, time.Hour},
		{"session lifetime shorter than TTL", func(c *delivery.HandlerConfig) {
			c.SessionLifetime = func(context.Context, string, string) (time.Duration, error) { return 5 * time.Minute, nil }
		}, 5 * time.Minute},
		{"session lifetime capped at TTL", func(c *delivery.HandlerConfig) {
			c.SessionLifetime = func(context.Context, string, string) (time.Duration, error) { return 48 * time.Hour, nil }
		}, 30 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOpts{config: tc.cfg})
			rec := e.do(t, req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))})
			require.Equal(t, 204, rec.Code)
			e.clock.Advance(tc.wantLive - time.Second)
			_, err := e.store.Get(background(), connA, sessA)
			require.NoError(t, err, "gone early")
			e.clock.Advance(time.Second)
			_, err = e.store.Get(background(), connA, sessA)
			require.ErrorIs(t, err, delivery.ErrNotFound)
		})
	}
}

func TestHandlerUnknownSession(t *testing.T) {
	asked := false
	e := newEnv(t, envOpts{config: func(c *delivery.HandlerConfig) {
		c.SessionLifetime = func(_ context.Context, conn, sess string) (time.Duration, error) {
			asked = true
			return 0, delivery.ErrNotFound
		}
	}})
	// Without a valid token the session is never looked up.
	rec := e.do(t, req{path: path(connA, sessA)})
	require.Equal(t, 401, rec.Code, "no token")
	require.False(t, asked, "the lifetime was asked without a token")
	rec = e.do(t, req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))})
	require.Equal(t, 404, rec.Code)
	require.Equal(t, delivery.KindUnknownSession, e.events.last().Kind)
	_, err := e.store.Get(background(), connA, sessA)
	require.ErrorIs(t, err, delivery.ErrNotFound, "stored data for an unknown session")
}

// When the chat engine cannot say whether the session lives, the answer is
// 503 (try again), not 404, and nothing is stored.
func TestHandlerSessionsUnreadable(t *testing.T) {
	e := newEnv(t, envOpts{config: func(c *delivery.HandlerConfig) {
		c.SessionLifetime = func(context.Context, string, string) (time.Duration, error) {
			return 0, errors.New("sessions backend down")
		}
	}})
	rec := e.do(t, req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))})
	require.Equal(t, 503, rec.Code)
	require.Equal(t, delivery.KindStoreUnavailable, e.events.last().Kind)
	_, err := e.store.Get(background(), connA, sessA)
	require.ErrorIs(t, err, delivery.ErrNotFound, "stored data while the session could not be checked")
}

// failingReplay is a replay cache whose backend is down.
type failingReplay struct{}

func (failingReplay) Record(context.Context, string, string, time.Time) error {
	return secretdata.ErrReplayCheckUnavailable
}

// flakyStore wraps a Store and fails the first n Puts with err.
type flakyStore struct {
	delivery.Store
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
		wantKind   delivery.Kind
	}{
		{"replay check down", func(*testing.T) envOpts { return envOpts{replay: failingReplay{}} }, 503, delivery.KindTokenUnverifiable},
		{"store down", func(t *testing.T) envOpts {
			s, _ := delivery.NewMemoryStore(storeKey32, delivery.MemoryStoreConfig{})
			return envOpts{store: &flakyStore{Store: s, err: delivery.ErrStoreUnavailable, n: 1}}
		}, 503, delivery.KindStoreUnavailable},
		{"store full", func(*testing.T) envOpts {
			return envOpts{storeCf: func(c *delivery.MemoryStoreConfig) { c.MaxEntries = 1 }}
		}, 503, delivery.KindStoreUnavailable},
		{"store fails otherwise", func(t *testing.T) envOpts {
			s, _ := delivery.NewMemoryStore(storeKey32, delivery.MemoryStoreConfig{})
			return envOpts{store: &flakyStore{Store: s, err: errors.New("disk on fire"), n: 1}}
		}, 500, delivery.KindStoreError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts(t))
			if tc.name == "store full" {
				require.NoError(t, e.store.Put(background(), connB, "other", testClaims(), time.Hour))
			}
			r := req{path: path(connA, sessA), auth: bearerHdr(e.sign(t, connA, sessA))}
			rec := e.do(t, r)
			require.Equal(t, tc.wantStatus, rec.Code)
			require.Equal(t, tc.wantKind, e.events.last().Kind)
			checkProblem(t, rec, tc.wantKind, r.auth)
			if tc.wantStatus == 503 {
				require.NotEmpty(t, rec.Header().Get("Retry-After"), "503 without Retry-After")
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
		assert.Contains(t, logs, want, "log lacks %s:\n%s", want, logs)
	}
	for _, part := range append(append(strings.Split(tok, "."), plaintextNeedles...), sessA) {
		require.NotContains(t, logs, part, "log contains %q", part)
	}
}

func TestNewHandlerConfig(t *testing.T) {
	s, _ := delivery.NewMemoryStore(storeKey32, delivery.MemoryStoreConfig{})
	v := func(string) (*secretdata.Verifier, bool) { return nil, false }
	for _, tc := range []struct {
		name string
		cfg  delivery.HandlerConfig
		bad  []string // the fields reported, nil if accepted
	}{
		{"minimal", delivery.HandlerConfig{Verifier: v, Store: s}, nil},
		{"no verifier", delivery.HandlerConfig{Store: s}, []string{"Verifier"}},
		{"no store", delivery.HandlerConfig{Verifier: v}, []string{"Store"}},
		{"TTL above 24h", delivery.HandlerConfig{Verifier: v, Store: s, TTL: 25 * time.Hour}, []string{"TTL"}},
		{"TTL below 1s", delivery.HandlerConfig{Verifier: v, Store: s, TTL: time.Millisecond}, []string{"TTL"}},
		{"negative TTL", delivery.HandlerConfig{Verifier: v, Store: s, TTL: -time.Minute}, []string{"TTL"}},
		{"body limit above 1 MiB", delivery.HandlerConfig{Verifier: v, Store: s, MaxBodyBytes: 2 << 20}, []string{"MaxBodyBytes"}},
		{"negative body limit", delivery.HandlerConfig{Verifier: v, Store: s, MaxBodyBytes: -1}, []string{"MaxBodyBytes"}},
		{"every problem at once", delivery.HandlerConfig{TTL: time.Millisecond, MaxBodyBytes: -1},
			[]string{"Verifier", "Store", "TTL", "MaxBodyBytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := delivery.NewHandler(tc.cfg)
			if tc.bad == nil {
				require.NoError(t, err)
				return
			}
			testenv.RequireProblems(t, err, delivery.ErrConfig, tc.bad)
		})
	}
}

// TestHandlerPathValues: mounted by a router that is not a ServeMux
// pattern, the Handler reads the IDs from the path values the router sets,
// and refuses a request without them.
func TestHandlerPathValues(t *testing.T) {
	e := newEnv(t, envOpts{})
	hr := httptest.NewRequest("POST", "/deliver/"+connA+"/"+sessA, nil)
	hr.Header.Set("Authorization", "Bearer "+e.sign(t, connA, sessA))
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, hr)
	require.Equal(t, 400, rec.Code, "no path values")

	hr.SetPathValue("connection", connA)
	hr.SetPathValue("session", sessA)
	rec = httptest.NewRecorder()
	e.handler.ServeHTTP(rec, hr)
	require.Equal(t, 204, rec.Code, "body %s", rec.Body)
}
