package middleware

import (
	"net/http"
	"strconv"
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
)

// TypeURI is the problem type of the kind.
func (k Kind) TypeURI() string { return "urn:msgsec:problem:" + string(k) }

// problem is a prebuilt answer for a blocking kind: titles and details are
// fixed strings, nothing from the request is echoed, and nothing is built
// per request.
type problem struct {
	status int
	body   []byte
}

var problems = func() map[Kind]problem {
	out := map[Kind]problem{}
	for k, p := range map[Kind]struct {
		status        int
		title, detail string
	}{
		KindUnknownConnection: {http.StatusNotFound, "unknown connection", "no chat connection has this id"},
		KindOriginDenied:      {http.StatusForbidden, "origin not allowed", "this website may not use this chat connection"},
		KindOriginRequired:    {http.StatusForbidden, "origin required", "this route needs the browser's Origin header"},
		KindPreflightDenied:   {http.StatusForbidden, "origin not allowed", "this website may not use this chat connection"},
		KindTokenRequired:     {http.StatusUnauthorized, "token required", "this connection requires customer secret data"},
		KindTokenInvalid:      {http.StatusUnauthorized, "invalid token", "invalid token"},
		KindTokenUnverifiable: {http.StatusServiceUnavailable, "token cannot be verified now", "try again later"},
	} {
		body := `{"type":` + strconv.Quote(k.TypeURI()) + `,"title":` + strconv.Quote(p.title) +
			`,"status":` + strconv.Itoa(p.status) + `,"detail":` + strconv.Quote(p.detail) + "}\n"
		out[k] = problem{status: p.status, body: []byte(body)}
	}
	return out
}()

// Header values shared by every problem response (never modified).
var (
	hdrProblemJSON = []string{"application/problem+json"}
	hdrNoStore     = []string{"no-store"}
	hdrNoSniff     = []string{"nosniff"}
	hdrBearer      = []string{`Bearer error="invalid_token"`}
	hdrRetry       = []string{"1"}
)

// writeProblem writes the RFC 9457 problem document for k.
func writeProblem(w http.ResponseWriter, k Kind) {
	p := problems[k]
	h := w.Header()
	h["Content-Type"] = hdrProblemJSON
	h["Cache-Control"] = hdrNoStore
	h["X-Content-Type-Options"] = hdrNoSniff
	switch p.status {
	case http.StatusUnauthorized:
		h["Www-Authenticate"] = hdrBearer
	case http.StatusServiceUnavailable:
		h["Retry-After"] = hdrRetry
	}
	w.WriteHeader(p.status)
	_, _ = w.Write(p.body)
}
