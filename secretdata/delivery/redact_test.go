package delivery_test

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/idhash"
	"github.com/msgsec/msgsec/internal/redacttest"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// Distinctive secrets: each contains "S3CR3T".
var (
	redactStoreKey = []byte("S3CR3T-store-key-0123456789abcd!") // 32 bytes
	redactSession  = "S3CR3T-session-5150"
	redactCustID   = "S3CR3T-customer-C-42"
)

// row renders v and &v; both must have methods.
func row[T any](name string, v T, want []string, methods []string) redacttest.Row {
	return redacttest.NewRow(name, v, want, methods, methods)
}

var allMethods = []string{"String", "Format", "MarshalJSON"}

// TestNothingSecretPrints formats every type of the package that holds a
// key, sealed data or a session ID — Sealer, MemoryStoreConfig,
// MemoryStore, the Client's and Handler's configurations, Event, SendError
// — as a value and as a pointer, alone, in a struct and in a slice, with
// fmt, encoding/json and both slog handlers, and checks that no key byte
// (nor its hex or base64, nor the derived sealing key's), no session ID and
// no customer data appears.
func TestNothingSecretPrints(t *testing.T) {
	e := newEnv(t, envOpts{key: redactStoreKey})
	claims := testClaims()
	claims.SessionID = redactSession
	claims.SecretData[secretdata.ClaimCustomerID] = redactCustID
	require.NoError(t, e.store.Put(background(), connA, redactSession, claims, time.Hour))
	stored, err := e.store.Get(background(), connA, redactSession)
	require.NoError(t, err)
	sealer, err := delivery.NewSealer(redactStoreKey)
	require.NoError(t, err)
	e.do(t, req{path: path(connA, redactSession), auth: bearerHdr(e.sign(t, connA, redactSession))})
	ev := e.events.last()
	require.Equal(t, delivery.KindStored, ev.Kind, "event %+v", ev)
	// A SendError from a chat server that is gone: its Err is a
	// *url.Error quoting the URL.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	sendErr := e.client(t, srv.URL, func(c *delivery.ClientConfig) { c.MaxRetries = -1 }).Send(background(), connA, redactSession, secretdata.Claims{SecretData: secretData()})
	var se *delivery.SendError
	require.ErrorAs(t, sendErr, &se)
	scrubbed := delivery.ScrubError(fmt.Errorf("redis: GET sd:%s: %w", redactSession, delivery.ErrStoreUnavailable), redactSession)
	clientCfg := delivery.ClientConfig{BaseURL: "https://chat.example", Signer: e.signers[connA]}
	handlerCfg := delivery.HandlerConfig{Store: e.store, Logger: slog.Default()}
	hash := idhash.Of(redactSession)
	require.ErrorIs(t, scrubbed, delivery.ErrStoreUnavailable, "scrubbing keeps the chain")
	require.EqualError(t, scrubbed, "redis: GET sd:"+hash+": "+delivery.ErrStoreUnavailable.Error())

	rows := []redacttest.Row{
		row("sealer", *sealer, []string{"AES-256-GCM", "redacted"}, allMethods),
		row("memory store holding a session", *e.store, []string{"redacted", "100000"}, allMethods),
		{Name: "stored claims", Value: redacttest.Render(*stored), Pointer: redacttest.Render(stored), Want: []string{issuer, hash},
			PointerMethods: allMethods, PointerAny: stored},
		row("event", ev, []string{hash, connA, "stored"}, []string{"LogValue"}),
		row("send error", *se, nil, nil),                     // its text names the session by hash (see TestClientRetries)
		row("client config", clientCfg, []string{"a1"}, nil), // the Signer's kid
		row("handler config", handlerCfg, nil, nil),
		{Name: "scrubbed error", Pointer: redacttest.Render(scrubbed)},
		{Name: "client", Pointer: redacttest.Render(e.client(t, "https://chat.example", nil))},
		{Name: "handler", Pointer: redacttest.Render(e.handler)},
		// In unexported fields fmt calls no method: the key, the cipher
		// and the sessions sit behind pointers and closures.
		row("in unexported fields", struct {
			store  *delivery.MemoryStore
			value  delivery.MemoryStore
			sealer *delivery.Sealer
			sv     delivery.Sealer
			h      *delivery.Handler
		}{e.store, *e.store, sealer, *sealer, e.handler}, nil, nil),
	}

	derived, err := hkdf.Key(sha256.New, redactStoreKey, nil, "msgsec secretdata/delivery sealer v1", delivery.KeySize)
	require.NoError(t, err)
	needles := append(redacttest.Encodings(redactStoreKey), redacttest.Encodings(derived)...)
	needles = append(needles, redacttest.Encodings(secretA)...)
	needles = append(needles, "S3CR3T", redactSession, redactCustID, subject, secretV1)

	for _, r := range rows {
		t.Run(r.Name, func(t *testing.T) { r.Check(t, needles, redacttest.WhereFormatted) })
	}
}

// TestHandlerNeverLogsSessionID runs the Handler down every outcome, with
// stores and session lookups whose errors quote the session ID, and checks
// that the raw ID reaches neither the log (text and JSON) nor any event,
// that events name the session by its hash, and that every event of the
// session carries the same hash.
func TestHandlerNeverLogsSessionID(t *testing.T) {
	sess := redactSession
	quoting := func(format string, wrap error) error { return fmt.Errorf(format, sess, wrap) }
	type mk func(t *testing.T, e *env) []req
	one := func(r func(e *env, t *testing.T) req) mk {
		return func(t *testing.T, e *env) []req { return []req{r(e, t)} }
	}
	valid := func(e *env, t *testing.T) req {
		return req{path: path(connA, sess), auth: bearerHdr(e.sign(t, connA, sess))}
	}
	for _, tc := range []struct {
		name     string
		opts     envOpts
		mk       mk
		wantKind delivery.Kind
	}{
		{"stored", envOpts{}, one(valid), delivery.KindStored},
		{"deleted", envOpts{}, one(func(e *env, t *testing.T) req {
			r := valid(e, t)
			r.method = http.MethodDelete
			return r
		}), delivery.KindDeleted},
		{"method not allowed", envOpts{}, one(func(e *env, t *testing.T) req {
			r := valid(e, t)
			r.method = http.MethodGet
			return r
		}), delivery.KindMethodNotAllowed},
		{"invalid session id", envOpts{}, one(func(e *env, t *testing.T) req {
			return req{path: path(connA, sess+"%20x"), auth: bearerHdr(e.sign(t, connA, sess+" x"))}
		}), delivery.KindBadRequest},
		{"wrong content type", envOpts{}, one(func(e *env, t *testing.T) req {
			return req{path: path(connA, sess), body: tokenBody(e.sign(t, connA, sess)), contentType: "text/plain"}
		}), delivery.KindBadRequest},
		{"body too large", envOpts{}, one(func(e *env, t *testing.T) req {
			return req{path: path(connA, sess), body: strings.Repeat("x", 16<<10+1), contentType: "application/json"}
		}), delivery.KindBodyTooLarge},
		{"unknown connection", envOpts{}, one(func(e *env, t *testing.T) req {
			return req{path: path("no-such-bank", sess), auth: bearerHdr(e.sign(t, connA, sess))}
		}), delivery.KindUnknownConnection},
		{"missing token", envOpts{}, one(func(e *env, t *testing.T) req {
			return req{path: path(connA, sess)}
		}), delivery.KindTokenInvalid},
		{"token for another session", envOpts{}, one(func(e *env, t *testing.T) req {
			return req{path: path(connA, sess), auth: bearerHdr(e.sign(t, connA, sessB))}
		}), delivery.KindTokenInvalid},
		{"expired token", envOpts{}, one(func(e *env, t *testing.T) req {
			old := newSigner(t, hmacKey(t, "a1", secretA), connA, func() time.Time { return t0.Add(-time.Hour) })
			tok, err := old.Sign(secretdata.Claims{SessionID: sess})
			require.NoError(t, err)
			return req{path: path(connA, sess), auth: bearerHdr(tok)}
		}), delivery.KindTokenInvalid},
		{"replayed token", envOpts{}, func(t *testing.T, e *env) []req {
			r := valid(e, t)
			return []req{r, r}
		}, delivery.KindTokenInvalid},
		{"unknown session", envOpts{config: func(c *delivery.HandlerConfig) {
			c.SessionLifetime = func(context.Context, string, string) (time.Duration, error) {
				return 0, quoting("no session %s: %w", delivery.ErrNotFound)
			}
		}}, one(valid), delivery.KindUnknownSession},
		{"sessions unreadable", envOpts{config: func(c *delivery.HandlerConfig) {
			c.SessionLifetime = func(context.Context, string, string) (time.Duration, error) {
				return 0, quoting("GET /chat/sessions/%s: %w", errors.New("connection refused"))
			}
		}}, one(valid), delivery.KindStoreUnavailable},
		{"replay check down", envOpts{replay: failingReplay{}}, one(valid), delivery.KindTokenUnverifiable},
		{"store unavailable", envOpts{store: lazyStore(func() delivery.Store {
			s, _ := delivery.NewMemoryStore(storeKey32, delivery.MemoryStoreConfig{})
			return &flakyStore{Store: s, err: quoting("redis: SET sd:%s: %w", delivery.ErrStoreUnavailable), n: 1}
		})}, one(valid), delivery.KindStoreUnavailable},
		{"store error", envOpts{store: lazyStore(func() delivery.Store {
			s, _ := delivery.NewMemoryStore(storeKey32, delivery.MemoryStoreConfig{})
			return &flakyStore{Store: s, err: quoting("disk full writing %s: %w", errors.New("ENOSPC")), n: 1}
		})}, one(valid), delivery.KindStoreError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var text, js bytes.Buffer
			opts, config := tc.opts, tc.opts.config
			opts.config = func(c *delivery.HandlerConfig) {
				if config != nil {
					config(c)
				}
				c.Logger = slog.New(slog.NewMultiHandler(
					slog.NewTextHandler(&text, &slog.HandlerOptions{Level: slog.LevelDebug}),
					slog.NewJSONHandler(&js, &slog.HandlerOptions{Level: slog.LevelDebug})))
			}
			e := newEnv(t, opts)
			for _, r := range tc.mk(t, e) {
				e.do(t, r)
			}
			require.Equal(t, tc.wantKind, e.events.last().Kind)
			require.NotZero(t, text.Len(), "nothing logged")
			require.NotZero(t, js.Len(), "nothing logged")
			outputs := []string{text.String(), js.String()}
			hashes := map[string]bool{}
			for _, ev := range e.events.events {
				b, err := json.Marshal(ev)
				require.NoError(t, err)
				outputs = append(outputs, fmt.Sprintf("%v %+v %#v %s", ev, ev, ev, b))
				if ev.Err != nil {
					outputs = append(outputs, ev.Err.Error(), fmt.Sprintf("%v %+v %#v", ev.Err, ev.Err, ev.Err))
				}
				if ev.Session != "" {
					hashes[ev.Session] = true
				}
			}
			for _, out := range outputs {
				require.NotContains(t, out, sess, "the session ID reached a log or an event: %s", out)
			}
			for h := range hashes {
				require.Equal(t, idhash.Of(sess), h, "the event names the session by its hash")
			}
			if len(e.events.events) > 1 {
				require.Len(t, hashes, 1, "events of one session carry one hash")
			}
			if tc.wantKind != delivery.KindMethodNotAllowed && tc.wantKind != delivery.KindBadRequest {
				require.True(t, hashes[idhash.Of(sess)], "events lack the session's hash")
				require.Contains(t, js.String(), `"session":"`+idhash.Of(sess)+`"`, "the log lacks the session's hash")
			}
			if tc.name == "store unavailable" {
				require.ErrorIs(t, e.events.last().Err, delivery.ErrStoreUnavailable, "scrubbing the text keeps the error chain")
			}
		})
	}
}
