package middleware

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

// preflightVary is what rs/cors sets on every preflight answer; a refused
// preflight we answer ourselves carries the same, so caches behave alike.
var preflightVary = []string{"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}

// Handler wraps a chat API route (called by the widget in the browser).
// Per request: resolve the connection → answer CORS preflights (refused
// ones before rs/cors runs) → require an allowed Origin on actual
// cross-origin requests and WebSocket upgrades → rewrite the Cookie header
// to the allowed cookies → verify CustomerSecretData → put the connection,
// cookies and claims in the context → next. In report-only mode nothing is
// blocked and every would-be denial is reported.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := m.connection(w, r)
		if !ok {
			return
		}
		o, hasOrigin, single := originOf(r)
		if isPreflight(r) {
			m.preflight(w, r, p, o, hasOrigin && single)
			return
		}
		if !m.checkOrigin(w, r, p, o, hasOrigin, single, false) {
			return
		}
		if hasOrigin {
			m.corsFor(p).cors.HandlerFunc(w, r) // adds the CORS response headers and Vary: Origin
		} else {
			// The answer depends on the Origin even when there is none:
			// shared caches must not serve it to a cross-origin request.
			h := w.Header()
			h["Vary"] = append(h["Vary"], "Origin")
		}
		inf := &info{policy: p}
		if m.listening(r.Context(), slog.LevelDebug) {
			kept, dropped := p.Cookies().RewriteRequestReport(r)
			inf.cookies, inf.cookiesSet = kept, true
			if len(dropped) > 0 {
				m.report(r.Context(), Event{Connection: p.ID(), Kind: KindCookieDropped, Dropped: dropped, Origin: o, Method: r.Method, Path: r.URL.Path})
			}
		} else {
			inf.cookieLine = p.Cookies().RewriteRequestLine(r)
		}
		claims, ok := m.verify(w, r, p, o)
		if !ok {
			return
		}
		inf.claims = claims
		next.ServeHTTP(w, withInfo(r, inf))
	})
}

// ServerToServer wraps a route that servers call (no browser Origin), such
// as the secret-data delivery endpoint: the connection is resolved and put
// in the context; a browser request (one with an Origin) must come from an
// allowed origin and is never given CORS access; cookies are not read and
// tokens are left to the handler (which verifies them with the session).
func (m *Middleware) ServerToServer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := m.connection(w, r)
		if !ok {
			return
		}
		o, hasOrigin, single := originOf(r)
		if isPreflight(r) {
			m.deny(w, r, p, KindPreflightDenied, fixed("server-to-server route: no CORS"), o)
			return
		}
		if hasOrigin && !m.checkOrigin(w, r, p, o, hasOrigin, single, true) {
			return
		}
		next.ServeHTTP(w, withInfo(r, &info{policy: p}))
	})
}

// WidgetPage wraps a route that serves the widget's iframe page: it sets
// Content-Security-Policy frame-ancestors from the allowed domains (as
// Content-Security-Policy-Report-Only in report-only mode), so the page
// renders only when framed by an allowed website.
func (m *Middleware) WidgetPage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := m.connection(w, r)
		if !ok {
			return
		}
		if csp := p.FrameAncestorsCSP(); csp != "" {
			name := "Content-Security-Policy"
			if p.ReportOnly() {
				name = "Content-Security-Policy-Report-Only"
			}
			w.Header().Add(name, csp)
		}
		next.ServeHTTP(w, withInfo(r, &info{policy: p}))
	})
}

// connection resolves the request's policy, or answers 404.
func (m *Middleware) connection(w http.ResponseWriter, r *http.Request) (*policy.Compiled, bool) {
	p, ok := m.resolve(r)
	if !ok {
		m.deny(w, r, nil, KindUnknownConnection, fixed("no policy for this connection"), "")
	}
	return p, ok
}

// originOf returns the Origin header; single is false when it was sent
// more than once (never legitimate).
func originOf(r *http.Request) (o string, present, single bool) {
	v := r.Header["Origin"]
	switch len(v) {
	case 0:
		return "", false, true
	case 1:
		return v[0], true, true
	}
	return v[0], true, false
}

// isPreflight uses rs/cors's own test (a non-empty first
// Access-Control-Request-Method), so both always agree on what a preflight
// is: an OPTIONS request that rs/cors treats as an actual request writes no
// status, and must take the actual-request path here too.
// isPreflight is rs/cors's own test (OPTIONS with a non-empty
// Access-Control-Request-Method), without re-canonicalising the key.
func isPreflight(r *http.Request) bool {
	if r.Method != http.MethodOptions {
		return false
	}
	v := r.Header["Access-Control-Request-Method"]
	return len(v) > 0 && v[0] != ""
}

func isWebSocket(r *http.Request) bool {
	return headerHasToken(r.Header["Upgrade"], "websocket")
}

func headerHasToken(values []string, token string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// preflight answers a CORS preflight: refused ones here, before rs/cors
// runs (no CORS headers, so the browser stops), allowed ones by rs/cors.
func (m *Middleware) preflight(w http.ResponseWriter, r *http.Request, p *policy.Compiled, o string, wellFormed bool) {
	if !wellFormed || !m.originAllowed(p, o) {
		reason := func() string {
			if !wellFormed {
				return "more than one Origin header"
			}
			return explainOrigin(p, o)
		}
		if !m.deny(w, r, p, KindPreflightDenied, reason, o) {
			return
		}
		m.corsFor(p).cors.HandlerFunc(w, r) // report-only: no memo for refused origins
		return
	}
	m.corsFor(p).preflight(w, r, o)
}

// checkOrigin enforces the Origin rules on an actual request. It writes
// the denial and returns false when the request must stop.
func (m *Middleware) checkOrigin(w http.ResponseWriter, r *http.Request, p *policy.Compiled, o string, hasOrigin, single, serverRoute bool) bool {
	switch {
	case !single:
		return m.deny(w, r, p, KindOriginDenied, fixed("more than one Origin header"), o)
	case hasOrigin:
		if m.originAllowed(p, o) {
			return true
		}
		return m.deny(w, r, p, KindOriginDenied, func() string { return explainOrigin(p, o) }, o)
	case isWebSocket(r):
		return m.deny(w, r, p, KindOriginRequired, fixed("websocket upgrade without Origin"), o)
	case serverRoute, m.allowMissingOrigin:
		return true
	case m.sameOriginFetches && r.Header.Get("Sec-Fetch-Site") == "same-origin":
		return true
	}
	return m.deny(w, r, p, KindOriginRequired, fixed("no Origin header on a browser route"), o)
}

// verify checks the CustomerSecretData token, if any.
func (m *Middleware) verify(w http.ResponseWriter, r *http.Request, p *policy.Compiled, o string) (*secretdata.Claims, bool) {
	tok, present, ok := tokenFrom(p, r)
	if !present {
		if p.SecretDataRequired() {
			return nil, m.deny(w, r, p, KindTokenRequired, fixed("no token"), o)
		}
		return nil, true
	}
	if !ok {
		return nil, m.deny(w, r, p, KindTokenInvalid, fixed("malformed token header"), o)
	}
	v := p.Verifier()
	if v == nil {
		return nil, m.deny(w, r, p, KindTokenInvalid, fixed("the connection has no keys"), o)
	}
	claims, err := v.Verify(r.Context(), tok)
	if err == nil {
		return claims, true
	}
	if errors.Is(err, secretdata.ErrReplayCheckUnavailable) {
		return nil, m.deny(w, r, p, KindTokenUnverifiable, func() string { return tokenReason(err) }, o)
	}
	return nil, m.deny(w, r, p, KindTokenInvalid, func() string { return tokenReason(err) }, o)
}

// deny reports the event and, unless the policy is report-only, writes the
// problem document. It returns true when the request may go on. The reason
// is only worked out when someone listens (a refused preflight from an
// attacker should cost little).
func (m *Middleware) deny(w http.ResponseWriter, r *http.Request, p *policy.Compiled, k Kind, reason func() string, o string) bool {
	reportOnly := p != nil && p.ReportOnly()
	if m.listening(r.Context(), slog.LevelWarn) {
		e := Event{Kind: k, Reason: reason(), Origin: o, Method: r.Method, Path: r.URL.Path, Blocked: !reportOnly}
		if p != nil {
			e.Connection = p.ID()
		}
		m.report(r.Context(), e)
	}
	if reportOnly {
		return true
	}
	if k == KindPreflightDenied {
		// A browser never shows a preflight's body to the page: answer
		// with no CORS headers, the Vary rs/cors would set, and no body.
		w.Header()["Vary"] = preflightVary
		w.WriteHeader(problems[k].Status)
		return false
	}
	writeProblem(w, k)
	return false
}

// fixed returns a reason that needs no work.
func fixed(s string) func() string { return func() string { return s } }
