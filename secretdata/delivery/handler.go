package delivery

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/idhash"
	"github.com/msgsec/msgsec/secretdata"
)

// Pattern is the Handler's route, with the path wildcards it reads (the
// request's path values "connection" and "session"). Mount it as is (the
// Handler answers 405 itself) or per method:
//
//	mux.Handle(delivery.Pattern, h)
//	mux.Handle("POST "+delivery.Pattern, h)
//
// A router other than http.ServeMux sets the two path values with
// Request.SetPathValue before it calls the Handler.
const Pattern = "/connections/{connection}/sessions/{session}/secret-data"

// MaxTTL bounds HandlerConfig.TTL: secret data is never kept longer.
const MaxTTL = 24 * time.Hour

// Defaults and bounds for HandlerConfig.
const (
	defaultTTL          = 30 * time.Minute
	defaultMaxBodyBytes = 16 << 10
	maxMaxBodyBytes     = 1 << 20
)

// HandlerConfig configures NewHandler. Verifier and Store are required.
type HandlerConfig struct {
	// Verifier returns a connection's token verifier: the one whose aud is
	// the connection. (nil, false) or a nil verifier: 404. With a
	// policy.Registry:
	//
	//	func(id string) (*secretdata.Verifier, bool) {
	//		p, ok := reg.Get(id)
	//		if !ok {
	//			return nil, false
	//		}
	//		return p.Verifier(), true
	//	}
	Verifier func(connection string) (*secretdata.Verifier, bool)
	// Store keeps the verified data.
	Store Store

	// TTL is how long data is kept when SessionLifetime is nil, and the
	// longest it is ever kept. Zero means 30m; at most MaxTTL.
	TTL time.Duration
	// SessionLifetime, if set, returns the remaining lifetime of a live
	// chat session; the data is kept that long (at most TTL). An error
	// matching ErrNotFound, or a lifetime ≤ 0, means no such session: 404,
	// nothing stored; any other error means the sessions cannot be read
	// now: 503. It is asked only after the token has verified.
	SessionLifetime func(ctx context.Context, connection, session string) (remaining time.Duration, err error)

	// MaxBodyBytes caps the request body. Zero means 16 KiB; at most
	// 1 MiB.
	MaxBodyBytes int64

	// Logger hears every outcome: denials at Warn, failures at Error,
	// successes at Debug. Default slog.Default().
	Logger *slog.Logger
	// OnEvent, if set, is called with every outcome (for metrics).
	OnEvent func(Event)
}

// Handler is the chat server's endpoint for server-to-server secret-data
// delivery. It is immutable and safe for concurrent use.
//
// POST (deliver) and DELETE (forget: the bank ends the customer's
// authenticated state) both need a token for the connection (aud) and the
// session (sid) named in the path, in "Authorization: Bearer <token>" or,
// equally, as the whole body: application/json {"token": "<token>"}. Not
// both. The secret data travels only inside the signed token; the body
// carries nothing else. Answers: 204 done; 400 malformed; 401 any token
// problem (the body says only "invalid token"); 404 unknown connection or
// session; 405 other methods; 413 body above MaxBodyBytes; 503 replay
// check or store unavailable (retry with a new token); 500 other store
// failures.
//
// When a chat session ends, the chat server calls Store.Delete itself.
type Handler struct {
	verifier func(string) (*secretdata.Verifier, bool)
	store    Store
	ttl      time.Duration
	lifetime func(context.Context, string, string) (time.Duration, error)
	maxBody  int64
	logger   *slog.Logger
	onEvent  func(Event)
}

// NewHandler validates cfg once and returns a Handler. It reports every
// problem of cfg at once (see ErrConfig), each naming its field.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	var problems []*cfgerr.Error
	if cfg.Verifier == nil {
		problems = append(problems, cfgProblem("Verifier", "", "required"))
	}
	if cfg.Store == nil {
		problems = append(problems, cfgProblem("Store", "", "required"))
	}
	ttl := cmp.Or(cfg.TTL, defaultTTL)
	if ttl < time.Second || ttl > MaxTTL {
		problems = append(problems, cfgProblem("TTL", cfg.TTL.String(), "must be between 1s and 24h (zero means 30m)"))
	}
	maxBody := cmp.Or(cfg.MaxBodyBytes, defaultMaxBodyBytes)
	if maxBody < 0 || maxBody > maxMaxBodyBytes {
		problems = append(problems, cfgProblem("MaxBodyBytes", strconv.FormatInt(cfg.MaxBodyBytes, 10), "must be between 1 and 1 MiB (zero means 16 KiB)"))
	}
	if err := cfgerr.Join("delivery: invalid handler configuration", problems); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handler{
		verifier: cfg.Verifier, store: cfg.Store, ttl: ttl, lifetime: cfg.SessionLifetime,
		maxBody: maxBody, logger: cfg.Logger, onEvent: cfg.OnEvent,
	}, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ev := Event{Method: r.Method}
	ev = h.serve(w, r, ev)
	if ev.Status == 0 {
		ev.Status = problems[ev.Kind].Status
		writeProblem(w, ev.Kind)
	} else {
		w.WriteHeader(ev.Status)
	}
	h.report(r.Context(), ev)
}

// serve runs the checks in order and returns the outcome; Status is set
// only on success (the caller writes the problem otherwise). The event
// names the session only by its hash, and its Err never quotes the ID.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, ev Event) (out Event) {
	if r.Method != http.MethodPost && r.Method != http.MethodDelete {
		return deny(ev, KindMethodNotAllowed, "method", nil)
	}
	conn, sess := r.PathValue("connection"), r.PathValue("session")
	if !ValidID(conn) || !ValidID(sess) {
		return deny(ev, KindBadRequest, "invalid connection or session id", nil)
	}
	defer func() { out.Err = scrubError(out.Err, sess) }()
	ev.Connection, ev.Session = conn, idhash.Of(sess)
	v, ok := h.verifier(conn)
	if !ok || v == nil {
		return deny(ev, KindUnknownConnection, "no verifier", nil)
	}
	token, kind, reason := h.token(w, r)
	if kind != "" {
		return deny(ev, kind, reason, nil)
	}
	claims, err := v.VerifySession(r.Context(), token, sess)
	if errors.Is(err, secretdata.ErrReplayCheckUnavailable) {
		return deny(ev, KindTokenUnverifiable, "replay check unavailable", err)
	}
	if err != nil {
		return deny(ev, KindTokenInvalid, tokenReason(err), err)
	}
	if r.Method == http.MethodDelete {
		if err := h.store.Delete(r.Context(), conn, sess); err != nil {
			return storeDenial(ev, err)
		}
		ev.Kind, ev.Status = KindDeleted, http.StatusNoContent
		return ev
	}
	ttl := h.ttl
	if h.lifetime != nil {
		left, err := h.lifetime(r.Context(), conn, sess)
		switch {
		case err != nil && !errors.Is(err, ErrNotFound):
			return deny(ev, KindStoreUnavailable, "sessions unreadable", err)
		case err != nil || left <= 0:
			return deny(ev, KindUnknownSession, "no live session", nil)
		}
		ttl = min(ttl, left)
	}
	if err := h.store.Put(r.Context(), conn, sess, claims, ttl); err != nil {
		return storeDenial(ev, err)
	}
	ev.Kind, ev.Status = KindStored, http.StatusNoContent
	if len(claims.MisplacedClaims) > 0 {
		ev.Reason = misplacedReason // stored, but with no secret data
	}
	return ev
}

func deny(ev Event, k Kind, reason string, err error) Event {
	ev.Kind, ev.Reason, ev.Err = k, reason, err
	return ev
}

func storeDenial(ev Event, err error) Event {
	if errors.Is(err, ErrStoreUnavailable) {
		return deny(ev, KindStoreUnavailable, "store unavailable", err)
	}
	return deny(ev, KindStoreError, "store failed", err)
}

// token finds the one token of the request, in the Authorization header or
// the body. A non-empty kind says why there is none.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) (token string, kind Kind, reason string) {
	auths := r.Header.Values("Authorization")
	if len(auths) > 1 {
		return "", KindBadRequest, "several authorization headers"
	}
	fromBody, kind, reason := h.bodyToken(w, r)
	if kind != "" {
		return "", kind, reason
	}
	switch {
	case len(auths) == 1 && fromBody != "":
		return "", KindBadRequest, "token in both header and body"
	case fromBody != "":
		return fromBody, "", ""
	case len(auths) == 0:
		return "", KindTokenInvalid, "missing"
	}
	t, ok := bearer(auths[0])
	if !ok {
		return "", KindTokenInvalid, "malformed authorization header"
	}
	return t, "", ""
}

// bodyToken reads at most maxBody bytes. An empty body carries no token.
func (h *Handler) bodyToken(w http.ResponseWriter, r *http.Request) (string, Kind, string) {
	if r.ContentLength > h.maxBody {
		return "", KindBodyTooLarge, "content-length above limit"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return "", KindBodyTooLarge, "body above limit"
		}
		return "", KindBadRequest, "body unreadable"
	}
	if len(body) == 0 {
		return "", "", ""
	}
	if !isJSON(r.Header.Values("Content-Type")) {
		return "", KindBadRequest, "content type is not application/json"
	}
	t, ok := parseTokenBody(body)
	if !ok {
		return "", KindBadRequest, `body is not {"token": "..."}`
	}
	return t, "", ""
}

// isJSON accepts exactly one Content-Type, application/json, with at most
// a utf-8 charset.
func isJSON(values []string) bool {
	if len(values) != 1 {
		return false
	}
	mt, params, err := mime.ParseMediaType(values[0])
	if err != nil || mt != "application/json" {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}

// bearer extracts the credentials of "Bearer <token>" (scheme
// case-insensitive, RFC 9110 §11.1), refusing anything but base64url and
// dots in the token: that is all a compact JWS or JWE holds.
func bearer(v string) (string, bool) {
	const scheme = "bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	t := v[len(scheme):]
	return t, isCompact(t)
}

func isCompact(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// parseTokenBody parses a delivery body: exactly one JSON object with
// exactly one member, "token", whose value is a non-empty compact JWS/JWE
// string; nothing may follow it. Anything else (other or duplicate
// members, a non-string, trailing data) is refused, so no two parsers can
// read a different token from the same body.
func parseTokenBody(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	if t, err := dec.Token(); err != nil || t != "token" {
		return "", false
	}
	t, err := dec.Token()
	token, ok := t.(string)
	if err != nil || !ok || !isCompact(token) {
		return "", false
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return "", false
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", false
	}
	return token, true
}
