package middleware

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/msgsec/msgsec/cookies"
	"github.com/msgsec/msgsec/internal/cookieline"
	"github.com/msgsec/msgsec/internal/idhash"
	"github.com/msgsec/msgsec/internal/policyview"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

// preflightVary is what rs/cors sets on every preflight answer; a refused
// preflight we answer ourselves carries the same, so caches behave alike.
var preflightVary = []string{"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}

// addPreflightVary adds preflightVary to h's Vary, as rs/cors does on an
// allowed preflight: a Vary an outer handler set stays.
func addPreflightVary(h http.Header) {
	if prev, ok := h["Vary"]; ok {
		h["Vary"] = append(prev[:len(prev):len(prev)], preflightVary...)
		return
	}
	h["Vary"] = preflightVary
}

// Vary values of answers to requests without an Origin: the answer would
// differ with one (and, with AllowSameOriginFetches, with another
// Sec-Fetch-Site), so shared caches must not reuse it.
var (
	varyOrigin          = "Origin"
	varyOriginFetchSite = "Origin, Sec-Fetch-Site"
)

// route is the kind of route a wrapper guards.
type route uint8

const (
	// browserRoute: called by the widget in a browser (Handler). An Origin
	// is required, except as the options allow.
	browserRoute route = iota
	// serverRoute: called by servers (ServerToServer). No Origin is fine;
	// one that is sent must be allowed.
	serverRoute
)

// sent is how many Origin headers a request carries.
type sent uint8

const (
	// noOriginHeader: none (same-origin GETs, servers, old browsers).
	noOriginHeader sent = iota
	// oneOrigin: exactly one, as every browser sends.
	oneOrigin
	// severalOrigins: more than one, never legitimate: refused.
	severalOrigins
)

// verdict is the outcome of the Origin rules for an actual request.
type verdict uint8

const (
	// stopped: refused, and the refusal has been written.
	stopped verdict = iota
	// admitted: the Origin is allowed (by the policy or as a self origin).
	admitted
	// noOrigin: there is no Origin, and the route or an option admits that.
	noOrigin
	// reported: refused, but the policy is report-only: reported, and the
	// request goes on with no CORS access at all.
	reported
)

// Handler wraps a chat API route (called by the widget in the browser).
// Per request: resolve the connection → answer CORS preflights (refused
// ones before rs/cors runs) → require an allowed Origin on actual
// cross-origin requests and WebSocket upgrades → rewrite the Cookie header
// to the allowed cookies → verify CustomerSecretData → put the connection,
// cookies and claims in the context → next. In report-only mode nothing is
// blocked and every would-be denial is reported, but a refused origin never
// gets CORS headers.
//
// Mount it with [Middleware.Routes]: a ServeMux pattern with a method
// ("POST /x") does not send the route's OPTIONS preflights to it, and
// Routes mounts them.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := m.connection(w, r)
		if !ok {
			return
		}
		o, n := originOf(r)
		if isPreflight(r) {
			m.preflight(w, r, p, o, n)
			return
		}
		switch m.checkOrigin(w, r, p, o, n, browserRoute) {
		case stopped:
			return
		case admitted:
			// Adds the CORS response headers and Vary: Origin.
			m.corsFor(p).pick(policyview.Of(p).CredentialsFor(o)).cors.HandlerFunc(w, r)
		case reported:
			if n != noOriginHeader { // (without one, checkOrigin has said Vary)
				addVary(w, varyOrigin)
			}
		}
		inf := m.filterCookies(r, p, o)
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
// allowed origin and is never given CORS access; the Cookie header is
// rewritten to the allowed cookies (as on every wrapped route); tokens are
// left to the handler (which verifies them with the session).
func (m *Middleware) ServerToServer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := m.connection(w, r)
		if !ok {
			return
		}
		o, n := originOf(r)
		if isPreflight(r) {
			if m.deny(w, r, p, KindPreflightDenied, fixed("server-to-server route: no CORS"), o) {
				answerWithoutCORS(w) // report-only: reported, no CORS either
			}
			return
		}
		if n != noOriginHeader {
			switch m.checkOrigin(w, r, p, o, n, serverRoute) {
			case stopped:
				return
			case reported:
				addVary(w, varyOrigin)
			}
		}
		next.ServeHTTP(w, withInfo(r, m.filterCookies(r, p, o)))
	})
}

// WidgetPage wraps a route that serves the widget's iframe page: it sets
// Content-Security-Policy frame-ancestors from the allowed domains (as
// Content-Security-Policy-Report-Only in report-only mode), so the page
// renders only when framed by an allowed website, and rewrites the Cookie
// header to the allowed cookies (a bank's parent-domain session cookie
// reaches a chat server on a sibling subdomain).
func (m *Middleware) WidgetPage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := m.connection(w, r)
		if !ok {
			return
		}
		if csp := policyview.Of(p).FrameAncestorsCSP; csp != "" {
			name := "Content-Security-Policy"
			if p.ReportOnly() {
				name = "Content-Security-Policy-Report-Only"
			}
			w.Header().Add(name, csp)
		}
		o, _ := originOf(r)
		next.ServeHTTP(w, withInfo(r, m.filterCookies(r, p, o)))
	})
}

// filterCookies rewrites the request's Cookie header to the allowed
// cookies (r.Header and so r.Cookies() see only those) and returns the
// request's info, which hands them to Cookies(ctx). Drops are reported
// only when someone listens.
func (m *Middleware) filterCookies(r *http.Request, p *policy.Compiled, o string) *info {
	inf := &info{policy: p}
	if m.listening(r.Context(), slog.LevelDebug) {
		var dropped []cookies.Drop
		inf.cookieLine, inf.cookies, dropped = cookieline.Rewrite[*cookies.Allowlist, cookies.Drop](p.Cookies(), r, true)
		inf.cookiesSet = true
		if len(dropped) > 0 {
			m.report(r.Context(), Event{Connection: p.ID(), Kind: KindCookieDropped, Dropped: dropped, Origin: o, Method: r.Method, Path: eventPath(r)})
		}
	} else {
		inf.cookieLine, _, _ = cookieline.Rewrite[*cookies.Allowlist, cookies.Drop](p.Cookies(), r, false)
	}
	return inf
}

// connection resolves the request's policy, or answers 404.
func (m *Middleware) connection(w http.ResponseWriter, r *http.Request) (*policy.Compiled, bool) {
	p, ok := m.resolve(r)
	if !ok {
		m.deny(w, r, nil, KindUnknownConnection, fixed("no policy for this connection"), "")
	}
	return p, ok
}

// originOf returns the (first) Origin header and how many were sent.
func originOf(r *http.Request) (string, sent) {
	v := r.Header["Origin"]
	switch len(v) {
	case 0:
		return "", noOriginHeader
	case 1:
		return v[0], oneOrigin
	}
	return v[0], severalOrigins
}

// isPreflight is rs/cors's own test (OPTIONS with a non-empty
// Access-Control-Request-Method), without re-canonicalising the key, so
// both always agree on what a preflight is: an OPTIONS request that rs/cors
// treats as an actual request writes no status, and must take the
// actual-request path here too.
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

// addVary appends a Vary value.
func addVary(w http.ResponseWriter, v string) {
	h := w.Header()
	h["Vary"] = append(h["Vary"], v)
}

// answerWithoutCORS answers a refused preflight that report-only lets
// through: 204 with the preflight Vary and no CORS headers, which is what
// the browser would get with no msgsec at all (it then sends nothing).
func answerWithoutCORS(w http.ResponseWriter) {
	addPreflightVary(w.Header())
	w.WriteHeader(http.StatusNoContent)
}

// preflight answers a CORS preflight: refused ones here, before rs/cors
// runs (no CORS headers, so the browser stops), allowed ones by rs/cors.
func (m *Middleware) preflight(w http.ResponseWriter, r *http.Request, p *policy.Compiled, o string, n sent) {
	if n == oneOrigin {
		pair := m.corsFor(p)
		method, headers, memoable := preflightParts(r, o)
		om, known := pair.origins.Get(o)
		if !known {
			om = &originMemo{refused: !m.originAllowed(p, o)}
			// Refused origins, which anyone can vary, get half of the
			// memo at most, so they cannot crowd out the admitted ones.
			switch {
			case !memoable:
			case !om.refused:
				pair.origins.Add(o, om) // dropped when full: om serves this request alone
			case pair.refusedN.Load() < maxPreflightMemo/2:
				pair.refusedN.Add(1) // may overshoot by the racing requests, never wraps
				pair.origins.Add(o, om)
			}
		}
		if !om.refused {
			if a := om.find(method, headers); memoable && a != nil {
				a.replay(w) // recorded for this admitted origin, this policy
				return
			}
			e := pair.pick(policyview.Of(p).CredentialsFor(o))
			if !memoable {
				e.cors.HandlerFunc(w, r)
				return
			}
			a := e.record(r)
			if pair.answersN.Load() < maxPreflightAnswers && om.add(method, headers, a) {
				pair.answersN.Add(1)
			}
			a.replay(w)
			return
		}
	}
	reason := func() string {
		if n == severalOrigins {
			return "more than one Origin header"
		}
		if n == noOriginHeader {
			return "preflight without an Origin header"
		}
		return explainOrigin(p, o)
	}
	if m.deny(w, r, p, KindPreflightDenied, reason, o) {
		answerWithoutCORS(w) // report-only: reported, never given CORS access
	}
}

// checkOrigin applies the Origin rules of route kind rt to an actual
// request. A refusal is reported, and written unless the policy is
// report-only.
func (m *Middleware) checkOrigin(w http.ResponseWriter, r *http.Request, p *policy.Compiled, o string, n sent, rt route) verdict {
	refuse := func(k Kind, reason func() string) verdict {
		if m.deny(w, r, p, k, reason, o) {
			return reported
		}
		return stopped
	}
	if n == noOriginHeader && rt == browserRoute {
		// The answer depends on the Origin it lacks (and, with
		// AllowSameOriginFetches, on Sec-Fetch-Site), allowed or not.
		if m.sameOriginFetches {
			addVary(w, varyOriginFetchSite)
		} else {
			addVary(w, varyOrigin)
		}
	}
	switch {
	case n == severalOrigins:
		return refuse(KindOriginDenied, fixed("more than one Origin header"))
	case n == oneOrigin:
		if m.originAllowed(p, o) {
			return admitted
		}
		return refuse(KindOriginDenied, func() string { return explainOrigin(p, o) })
	case isWebSocket(r):
		return refuse(KindOriginRequired, fixed("websocket upgrade without Origin"))
	case rt == serverRoute, m.allowMissingOrigin:
		return noOrigin
	case m.sameOriginFetches && r.Header.Get("Sec-Fetch-Site") == "same-origin":
		return noOrigin
	}
	return refuse(KindOriginRequired, fixed("no Origin header on a browser route"))
}

// verify checks the CustomerSecretData token, if any.
func (m *Middleware) verify(w http.ResponseWriter, r *http.Request, p *policy.Compiled, o string) (*secretdata.Claims, bool) {
	tok, present, ok := tokenFrom(p, r)
	if !present {
		if policyview.Of(p).SecretDataRequired {
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
		if len(claims.MisplacedClaims) > 0 && m.listening(r.Context(), slog.LevelWarn) {
			m.report(r.Context(), Event{Connection: p.ID(), Kind: KindMisplacedSecretData, Reason: misplacedReason,
				Origin: o, Method: r.Method, Path: eventPath(r)})
		}
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
		e := Event{Kind: k, Reason: reason(), Origin: o, Method: r.Method, Path: eventPath(r), Blocked: !reportOnly}
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
		addPreflightVary(w.Header())
		w.WriteHeader(problems[k].Status)
		return false
	}
	writeProblem(w, k)
	return false
}

// eventPath is the request path as events carry it, with per-user IDs
// replaced by short keyed hashes: on a ServeMux route (r.Pattern set),
// every wildcard value but "connection"; elsewhere, each segment after a
// "sessions" segment. It works on the escaped path, the one ServeMux
// matches, so an ID with an encoded slash (%2F) is hashed whole.
func eventPath(r *http.Request) string {
	escaped := r.URL.EscapedPath()
	pat := r.Pattern
	if i := strings.IndexAny(pat, " \t"); i >= 0 {
		pat = strings.TrimLeft(pat[i:], " \t")
	}
	if i := strings.IndexByte(pat, '/'); i >= 0 {
		pat = pat[i:]
	} else {
		pat = ""
	}
	if !strings.Contains(pat, "{") {
		return idhash.Path(escaped)
	}
	ps, es := strings.Split(pat, "/"), strings.Split(escaped, "/")
	for i, seg := range ps {
		if i >= len(es) {
			break
		}
		if len(seg) < 2 || seg[0] != '{' || seg[len(seg)-1] != '}' {
			continue
		}
		switch name := seg[1 : len(seg)-1]; {
		case name == "connection", name == "$":
		case strings.HasSuffix(name, "..."):
			es = append(es[:i], idhash.Of(strings.Join(es[i:], "/")))
		default:
			es[i] = idhash.Of(es[i])
		}
	}
	return strings.Join(es, "/")
}

// fixed returns a reason that needs no work.
func fixed(s string) func() string { return func() string { return s } }
