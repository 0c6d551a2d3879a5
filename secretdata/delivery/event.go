package delivery

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/msgsec/msgsec/internal/keyhint"
	"github.com/msgsec/msgsec/internal/problem"
	"github.com/msgsec/msgsec/secretdata"
)

// Kind names a Handler outcome. A denial's application/problem+json body
// (RFC 9457) has the stable type "urn:msgsec:problem:" + the kind (the
// middleware package uses the same scheme).
type Kind string

const (
	// KindStored: the secret data was verified and stored (204).
	KindStored Kind = "stored"
	// KindDeleted: a verified DELETE forgot the session's data (204).
	KindDeleted Kind = "deleted"
	// KindMethodNotAllowed: neither POST nor DELETE (405).
	KindMethodNotAllowed Kind = "method-not-allowed"
	// KindBadRequest: invalid connection or session ID, a body that is not
	// application/json {"token": "..."}, or a token both in the header and
	// in the body (400).
	KindBadRequest Kind = "bad-request"
	// KindBodyTooLarge: the body exceeds MaxBodyBytes (413).
	KindBodyTooLarge Kind = "body-too-large"
	// KindUnknownConnection: no verifier for the connection (404).
	KindUnknownConnection Kind = "unknown-connection"
	// KindUnknownSession: SessionLifetime does not know the session (404).
	// Asked only after the token verified, so it tells nothing to a
	// caller without a valid token.
	KindUnknownSession Kind = "unknown-session"
	// KindTokenInvalid: the token is missing or did not verify (401). The
	// body says only "invalid token"; Event.Reason says why.
	KindTokenInvalid Kind = "invalid-token"
	// KindTokenUnverifiable: the replay cache could not answer (503).
	KindTokenUnverifiable Kind = "token-unverifiable"
	// KindStoreUnavailable: the store is down or full (503).
	KindStoreUnavailable Kind = "store-unavailable"
	// KindStoreError: the store failed otherwise (500).
	KindStoreError Kind = "store-error"
)

// Event reports one Handler outcome, for logs and metrics. It never
// carries the token, the secret data or the session ID: session IDs are the
// only credential a chat has, so an event names the session by a short
// keyed hash.
type Event struct {
	Kind   Kind
	Status int    // the HTTP status answered
	Method string // the request method
	// Connection is the connection ID. Connection and Session are empty
	// when the request's IDs are invalid (so nothing unvalidated reaches a
	// log).
	Connection string
	// Session is the session ID's short keyed hash, "h:" and 12 hex
	// digits, never the ID itself. It is the same for every event of the
	// session within this process, so events and log lines can be
	// correlated, and means nothing outside it (the key is random per
	// process).
	Session string
	// Reason is a fixed phrase: for KindTokenInvalid the kind of token
	// error ("expired", "replayed", "missing", …), never token contents;
	// for KindStored, empty unless the token's customer data was in
	// top-level claims instead of customer_secret_data (stored with no
	// secret data, under a connection whose secret data is optional).
	// A bad signature on an HMAC key of a loaded policy adds how the
	// policy reads the secret ("bad signature (HMAC key k1: the secret is
	// used as its text bytes …)"), never the secret.
	Reason string
	// Err is the underlying error, nil on success: a *secretdata.TokenError
	// (which holds no token contents) or the store's error. If the error's
	// text quotes the session ID, Err wraps it with a text carrying the
	// hash instead (errors.Is and errors.As still see the original).
	Err error
}

// LogValue renders the event for slog without Err's text for token
// errors (Reason says enough).
func (e Event) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("kind", string(e.Kind)),
		slog.Int("status", e.Status),
		slog.String("method", e.Method),
		slog.String("connection", e.Connection),
		slog.String("session", e.Session),
		slog.String("reason", e.Reason),
	}
	if e.Err != nil && (e.Kind == KindStoreUnavailable || e.Kind == KindStoreError) {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

func (h *Handler) report(ctx context.Context, e Event) {
	level := slog.LevelDebug
	msg := "msgsec: secret data " + string(e.Kind)
	switch {
	case e.Kind == KindStored && e.Reason != "":
		level, msg = slog.LevelWarn, "msgsec: secret data stored, but the token's customer data is not in customer_secret_data"
	case e.Status >= 500:
		level, msg = slog.LevelError, "msgsec: secret-data delivery failed"
	case e.Status >= 400:
		level, msg = slog.LevelWarn, "msgsec: secret-data delivery denied"
	}
	h.logger.LogAttrs(ctx, level, msg, slog.Any("event", e))
	if h.onEvent != nil {
		h.onEvent(e)
	}
}

// misplacedReason says a token's customer data is in top-level claims
// (never which claims: a token chose their names).
const misplacedReason = "customer data in top-level claims, not in customer_secret_data"

// tokenReason names a verification failure by its sentinel.
func tokenReason(err error) string {
	var te *secretdata.TokenError
	if errors.As(err, &te) && te.Field == "customer_secret_data" {
		return "invalid claims: " + misplacedReason
	}
	for _, r := range [...]struct {
		err    error
		reason string
	}{
		{secretdata.ErrReplayed, "replayed"},
		{secretdata.ErrExpired, "expired"},
		{secretdata.ErrNotYetValid, "not yet valid"},
		{secretdata.ErrSignature, "bad signature"},
		{secretdata.ErrUnknownKey, "unknown key"},
		{secretdata.ErrClaims, "invalid claims"},
		{secretdata.ErrMalformed, "malformed"},
	} {
		if errors.Is(err, r.err) {
			if hint := keyhint.Of(err); hint != "" {
				// How the policy reads the HMAC secret; never the secret.
				return r.reason + " (" + hint + ")"
			}
			return r.reason
		}
	}
	return "refused"
}

// problems holds the prebuilt answer of each denial: fixed titles and
// details, nothing from the request echoed.
var problems = func() map[Kind]problem.Doc {
	out := map[Kind]problem.Doc{}
	for k, p := range map[Kind]struct {
		status        int
		title, detail string
	}{
		KindMethodNotAllowed:  {http.StatusMethodNotAllowed, "method not allowed", "use POST to deliver, DELETE to forget"},
		KindBadRequest:        {http.StatusBadRequest, "bad request", "malformed delivery request"},
		KindBodyTooLarge:      {http.StatusRequestEntityTooLarge, "body too large", "the request body exceeds the limit"},
		KindUnknownConnection: {http.StatusNotFound, "unknown connection", "no chat connection accepts secret data under this id"},
		KindUnknownSession:    {http.StatusNotFound, "unknown session", "no live chat session has this id"},
		KindTokenInvalid:      {http.StatusUnauthorized, "invalid token", "invalid token"},
		KindTokenUnverifiable: {http.StatusServiceUnavailable, "token cannot be verified now", "try again later"},
		KindStoreUnavailable:  {http.StatusServiceUnavailable, "store unavailable", "try again later"},
		KindStoreError:        {http.StatusInternalServerError, "internal error", "the secret data was not stored"},
	} {
		out[k] = problem.New(string(k), p.status, p.title, p.detail)
	}
	return out
}()

var hdrAllow = []string{"POST, DELETE"}

// writeProblem writes the RFC 9457 document of k.
func writeProblem(w http.ResponseWriter, k Kind) {
	if k == KindMethodNotAllowed {
		w.Header()["Allow"] = hdrAllow
	}
	problems[k].Write(w)
}
