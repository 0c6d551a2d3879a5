package middleware

import (
	"net/http"

	"github.com/msgsec/msgsec/internal/problem"
)

// Kind names a denial. Each has a stable problem type URI,
// "urn:msgsec:problem:" + the kind, in the application/problem+json body
// (RFC 9457), so clients and dashboards can rely on it.
type Kind string

const (
	// KindUnknownConnection: no policy for the requested connection (404).
	KindUnknownConnection Kind = "unknown-connection"
	// KindOriginDenied: the Origin is not allowed for the connection (403).
	KindOriginDenied Kind = "origin-denied"
	// KindOriginRequired: a browser route got no Origin, or a WebSocket
	// upgrade came without one (403).
	KindOriginRequired Kind = "origin-required"
	// KindPreflightDenied: a CORS preflight from a disallowed origin. The
	// answer carries no CORS headers, so the browser stops there.
	KindPreflightDenied Kind = "preflight-denied"
	// KindTokenRequired: the policy requires CustomerSecretData and the
	// request has none (401).
	KindTokenRequired Kind = "token-required"
	// KindTokenInvalid: a token was sent and did not verify (401). The body
	// says only "invalid token".
	KindTokenInvalid Kind = "invalid-token"
	// KindTokenUnverifiable: the token's replay status could not be checked
	// (the replay cache is down); 503, try again.
	KindTokenUnverifiable Kind = "token-unverifiable"
	// KindCookieDropped: cookies were removed from the request. Reported
	// only; never blocks.
	KindCookieDropped Kind = "cookie-dropped"
	// KindMisplacedSecretData: a token verified, but its customer data is
	// in top-level claims instead of customer_secret_data, so the chat got
	// none (see secretdata.Claims.MisplacedClaims). Reported only, under
	// secret_data: optional; a connection that requires secret data
	// refuses such a token (invalid-token).
	KindMisplacedSecretData Kind = "misplaced-secret-data"
)

// problems holds the prebuilt answer of each blocking kind: fixed titles
// and details, nothing from the request echoed, nothing built per request.
var problems = map[Kind]problem.Doc{
	KindUnknownConnection: problem.New(string(KindUnknownConnection), http.StatusNotFound, "unknown connection", "no chat connection has this id"),
	KindOriginDenied:      problem.New(string(KindOriginDenied), http.StatusForbidden, "origin not allowed", "this website may not use this chat connection"),
	KindOriginRequired:    problem.New(string(KindOriginRequired), http.StatusForbidden, "origin required", "this route needs the browser's Origin header"),
	KindPreflightDenied:   problem.New(string(KindPreflightDenied), http.StatusForbidden, "origin not allowed", "this website may not use this chat connection"),
	KindTokenRequired:     problem.New(string(KindTokenRequired), http.StatusUnauthorized, "token required", "this connection requires customer secret data"),
	KindTokenInvalid:      problem.New(string(KindTokenInvalid), http.StatusUnauthorized, "invalid token", "invalid token"),
	KindTokenUnverifiable: problem.New(string(KindTokenUnverifiable), http.StatusServiceUnavailable, "token cannot be verified now", "try again later"),
}

func writeProblem(w http.ResponseWriter, k Kind) { problems[k].Write(w) }
