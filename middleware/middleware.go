package middleware

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rs/cors"

	"github.com/msgsec/msgsec/internal/cowmap"
	"github.com/msgsec/msgsec/internal/keyhint"
	"github.com/msgsec/msgsec/internal/policyview"
	"github.com/msgsec/msgsec/origin"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

// Option configures a Middleware.
type Option func(*Middleware) error

// WithConnectionFunc sets how the connection ID is found in a request
// (registry mode). The default reads the ServeMux path value "connection".
func WithConnectionFunc(f func(*http.Request) string) Option {
	return func(m *Middleware) error {
		if f == nil {
			return errors.New("middleware: nil connection func")
		}
		m.connFn = f
		return nil
	}
}

// WithLogger sets the slog logger for denials (default slog.Default(); nil
// discards).
func WithLogger(l *slog.Logger) Option {
	return func(m *Middleware) error { m.logger = l; return nil }
}

// WithEventHandler registers a callback for every denial, would-be denial
// and cookie drop, e.g. to count metrics. It runs on the request goroutine.
func WithEventHandler(f func(Event)) Option {
	return func(m *Middleware) error { m.onEvent = f; return nil }
}

// WithSelfOrigins admits the chat server's own origins (the pages it serves,
// such as the widget iframe, whose same-origin requests carry its Origin)
// in addition to each connection's allowed domains. Patterns as in package
// origin.
func WithSelfOrigins(patterns ...string) Option {
	return func(m *Middleware) error {
		om, err := origin.NewMatcher(patterns)
		if err != nil {
			return err
		}
		m.self = om
		return nil
	}
}

// AllowSameOriginFetches admits browser requests that carry no Origin
// header (same-origin GETs, such as an EventSource a widget iframe opens on
// its own server; never a WebSocket upgrade) when the browser marks them "Sec-Fetch-Site: same-origin", a
// header pages cannot set. Without it such requests are refused, because a
// cross-site <img> or <script> GET carries no Origin either.
func AllowSameOriginFetches() Option {
	return func(m *Middleware) error { m.sameOriginFetches = true; return nil }
}

// DangerouslyAllowMissingOrigin admits requests without any Origin on
// browser routes (old browsers, tools). Cross-site subresource GETs carry
// no Origin, so this admits them too.
func DangerouslyAllowMissingOrigin() Option {
	return func(m *Middleware) error { m.allowMissingOrigin = true; return nil }
}

// WithAllowedHeaders adds request headers a browser may send cross-origin,
// beyond Content-Type, Authorization and the policy's token header.
func WithAllowedHeaders(h ...string) Option {
	return func(m *Middleware) error { m.extraHeaders = append(m.extraHeaders, h...); return nil }
}

// denialLogLimit caps the denial log lines written per second. Lines over
// the cap are counted, and the next line written carries the count
// ("suppressed"); the event handler still sees every event.
const denialLogLimit = 100

// preflightMaxAge is Access-Control-Max-Age in seconds: a browser reuses a
// preflight answer for ten minutes, and a policy change reaches a browser
// within that.
const preflightMaxAge = 600

// Middleware enforces connection policies on net/http handlers. Wrap chat
// API routes with Handler, widget pages with WidgetPage, and server-to-server
// routes with ServerToServer. It is safe for concurrent use.
type Middleware struct {
	static   *policy.Compiled
	registry *policy.Registry
	connFn   func(*http.Request) string

	logger             *slog.Logger
	onEvent            func(Event)
	self               *origin.Matcher
	sameOriginFetches  bool
	allowMissingOrigin bool
	extraHeaders       []string
	logLimit           logLimiter

	staticCors *corsPair // ForPolicy: built once
	corsCache  atomic.Pointer[corsCache]
	corsMu     sync.Mutex
}

// ForPolicy enforces one compiled policy on every request.
func ForPolicy(p *policy.Compiled, opts ...Option) (*Middleware, error) {
	if p == nil {
		return nil, errors.New("middleware: nil policy")
	}
	return build(&Middleware{static: p}, opts)
}

// ForRegistry resolves each request's connection in a policy.Registry (by
// the path value "connection" unless WithConnectionFunc says otherwise) and
// follows its reloads. An unknown connection gets 404.
func ForRegistry(r *policy.Registry, opts ...Option) (*Middleware, error) {
	if r == nil {
		return nil, errors.New("middleware: nil registry")
	}
	return build(&Middleware{registry: r}, opts)
}

func build(m *Middleware, opts []Option) (*Middleware, error) {
	m.connFn = func(r *http.Request) string { return r.PathValue("connection") }
	m.logger = slog.Default()
	m.logLimit.perSecond = denialLogLimit
	for _, o := range opts {
		if err := o(m); err != nil {
			return nil, err
		}
	}
	if m.logger == nil {
		m.logger = slog.New(slog.DiscardHandler)
	}
	if m.static != nil {
		m.staticCors = m.newCors(m.static)
	}
	return m, nil
}

// resolve finds the request's compiled policy.
func (m *Middleware) resolve(r *http.Request) (*policy.Compiled, bool) {
	if m.static != nil {
		return m.static, true
	}
	return m.registry.Get(m.connFn(r))
}

// corsCache holds one rs/cors instance per compiled policy; a reload brings
// new *policy.Compiled values, so the cache is rebuilt per registry
// snapshot and old entries go with it.
type corsCache struct {
	snapshot *policy.Snapshot
	byPolicy map[*policy.Compiled]*corsPair
}

func (m *Middleware) corsFor(p *policy.Compiled) *corsPair {
	if m.staticCors != nil {
		return m.staticCors
	}
	var snap *policy.Snapshot
	if m.registry != nil {
		snap = m.registry.Snapshot()
	}
	if c := m.corsCache.Load(); c != nil && c.snapshot == snap {
		if cc, ok := c.byPolicy[p]; ok {
			return cc
		}
	}
	m.corsMu.Lock()
	defer m.corsMu.Unlock()
	old := m.corsCache.Load()
	next := &corsCache{snapshot: snap, byPolicy: map[*policy.Compiled]*corsPair{}}
	if old != nil && old.snapshot == snap {
		for k, v := range old.byPolicy {
			next.byPolicy[k] = v
		}
	}
	cc, ok := next.byPolicy[p]
	if !ok {
		cc = m.newCors(p)
		next.byPolicy[p] = cc
	}
	m.corsCache.Store(next)
	return cc
}

// newCors configures rs/cors for a policy with our origin decision plugged
// in; its own origin lists are never used. Credentials are off unless the
// policy turns them on, and then only the entry used for the origins it
// lists by name carries them.
func (m *Middleware) newCors(p *policy.Compiled) *corsPair {
	headers := []string{"Content-Type", "Authorization"}
	if h := policyview.Of(p).TokenHeader; h != "" {
		headers = append(headers, h)
	}
	headers = append(headers, m.extraHeaders...)
	entry := func(credentials bool) *corsEntry {
		return &corsEntry{cors: cors.New(cors.Options{
			// rs/cors only ever sees requests from origins msgsec has
			// admitted; refused ones (report-only included) never reach it,
			// so the decision is not made twice and a refused origin never
			// gets CORS headers.
			AllowOriginVaryRequestFunc: func(*http.Request, string) (bool, []string) { return true, nil },
			AllowedMethods:             []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
			AllowedHeaders:             headers,
			AllowCredentials:           credentials,
			MaxAge:                     preflightMaxAge,
		})}
	}
	pair := &corsPair{plain: entry(false), origins: cowmap.New[string, *originMemo](maxPreflightMemo)}
	if policyview.Of(p).AllowCredentials {
		pair.cred = entry(true)
	}
	return pair
}

func (m *Middleware) originAllowed(p *policy.Compiled, o string) bool {
	return p.Origins().Allows(o) || (m.self != nil && m.self.Allows(o))
}

// explainOrigin describes a denial for logs.
func explainOrigin(p *policy.Compiled, o string) string {
	return p.Origins().Explain(o).String()
}

// tokenFrom extracts the token: the policy's header, or a Bearer
// Authorization. More than one header line is malformed.
func tokenFrom(p *policy.Compiled, r *http.Request) (tok string, present, ok bool) {
	if h := policyview.Of(p).TokenHeader; h != "" {
		v := r.Header.Values(h)
		switch len(v) {
		case 0:
			return "", false, true
		case 1:
			return v[0], true, v[0] != ""
		}
		return "", true, false
	}
	v := r.Header["Authorization"]
	switch len(v) {
	case 0:
		return "", false, true
	case 1:
	default:
		return "", true, false
	}
	const prefix = "Bearer "
	if len(v[0]) <= len(prefix) || !strings.EqualFold(v[0][:len(prefix)], prefix) {
		return "", true, false
	}
	return v[0][len(prefix):], true, true
}

// tokenReason is a refused token's event reason: the error's kind, and
// for a bad signature on an HMAC key of a loaded policy, how the policy
// reads the secret (never the secret), since a bank that encodes it
// differently sees nothing but "invalid signature".
func tokenReason(err error) string {
	var te *secretdata.TokenError
	if errors.As(err, &te) && te.Kind != nil {
		if te.Field == "customer_secret_data" {
			return "invalid claims: " + misplacedReason
		}
		reason := strings.TrimPrefix(te.Kind.Error(), "secretdata: ")
		if hint := keyhint.Of(err); hint != "" {
			reason += " (" + hint + ")"
		}
		return reason
	}
	return "invalid"
}

// misplacedReason is the event reason for a token whose customer data is
// in top-level claims (the claims' names stay out of events: a token
// chose them).
const misplacedReason = "customer data in top-level claims, not in customer_secret_data"
