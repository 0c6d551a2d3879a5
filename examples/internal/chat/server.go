package chat

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/origin"
	"github.com/msgsec/msgsec/otelmetrics"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// DefaultPolicy is the built-in U+ Bank policy (YAML): connection
// "retail-bank", allowed domain http://www.uplusbank.localhost on any port,
// allowed cookies page_viewed and cart_contents, and an HS256 key read from
// the environment variable UPLUS_JWT_SECRET (as `msgsec secret new`
// printed it; its text is the key, ≥ 32 bytes).
//
//go:embed default_policy.yaml
var defaultPolicy []byte

// DefaultPolicy returns a copy of the built-in policy document.
func DefaultPolicy() []byte { return append([]byte(nil), defaultPolicy...) }

// Defaults for Config.
const (
	DefaultSessionLifetime = 30 * time.Minute
	DefaultMaxSessions     = 10_000
	DefaultMaxMessages     = 200
	// MaxTextBytes bounds one customer message.
	MaxTextBytes = 2000
	// maxBodyBytes bounds a JSON request body.
	maxBodyBytes = 16 << 10
)

// ErrConfig: New refused its configuration.
var ErrConfig = errors.New("chat: invalid configuration")

// Config configures New. Policies, Store and SelfOrigin are required.
type Config struct {
	// Policies holds the connections' compiled policies.
	Policies *policy.Registry
	// Store keeps server-to-server secret data, sealed (see package
	// delivery): a MemoryStore for one instance, the Redis store for many.
	Store delivery.Store
	// SelfOrigin is the chat server's origin as browsers see it, e.g.
	// "http://127.0.0.1:8080". The widget iframe's own requests carry it,
	// and the middleware admits it besides each connection's domains.
	SelfOrigin string

	// SessionLifetime is how long a chat lasts. Default
	// DefaultSessionLifetime, at most delivery.MaxTTL.
	SessionLifetime time.Duration
	// MaxSessions bounds the live sessions (then 429). Default
	// DefaultMaxSessions.
	MaxSessions int
	// MaxMessages bounds one session's messages (then 429). Default
	// DefaultMaxMessages.
	MaxMessages int

	// Limits bound each client's sessions, messages and sockets, and the
	// text sessions hold (see Limits for the defaults).
	Limits Limits

	// SocketPingInterval, SocketWriteTimeout and SocketIdleTimeout bound
	// each chat WebSocket: a ping every SocketPingInterval, whose pong and
	// every write must come within SocketWriteTimeout, and the socket
	// closed when the customer has sent nothing for SocketIdleTimeout.
	// Defaults DefaultSocketPingInterval, DefaultSocketWriteTimeout and
	// DefaultSocketIdleTimeout.
	SocketPingInterval time.Duration
	SocketWriteTimeout time.Duration
	SocketIdleTimeout  time.Duration

	// Sessions keeps the chats. Default: this process's memory (one
	// instance). Several instances behind a load balancer share a
	// RedisSessions.
	Sessions SessionStore

	// DangerouslyNoMiddleware mounts every route WITHOUT msgsec: no CORS,
	// no Origin check, no cookie filtering of the Cookie header, no token
	// verification; only the connection is resolved. It exists so the
	// load test can measure the middleware's cost against the same
	// handlers. Never serve real traffic with it.
	DangerouslyNoMiddleware bool

	// Metrics, if set, counts msgsec's decisions (package otelmetrics):
	// the middleware's and the delivery Handler's events, and the 429s of
	// MaxSessions and MaxMessages. Wire the same value into the Policies
	// registry's options (OnReload: Metrics.Reloaded, Compile.OnVerify:
	// Metrics.Verified): its connection labels come from there.
	Metrics *otelmetrics.Metrics
	// MetricsHandler, if set, is served at GET /metrics (e.g. the
	// Prometheus handler of NewPrometheusMetrics), to SelfOrigin's host
	// only, like /agent: a page on another name that DNS-rebinds to this
	// server is refused. A cross-site page can make a browser send the GET
	// but cannot read the answer (no CORS), and the metrics hold no
	// secrets (connection IDs and counts); still, it is the operator's:
	// keep it off the public internet or behind your monitoring's auth.
	MetricsHandler http.Handler

	// OnEvent, when set, hears every msgsec middleware event (denials,
	// would-be denials, cookie drops), e.g. for an event log or tests. It
	// runs on the request goroutine. With Metrics set too, both hear every
	// event: Metrics first, then OnEvent.
	OnEvent func(middleware.Event)

	// Logger hears denials and failures; never secrets. Default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// Server is the example chat server: an http.Handler serving the widget,
// the chat API, the server-to-server secret-data route and the agent view.
type Server struct {
	mux         *http.ServeMux
	policies    *policy.Registry
	store       delivery.Store
	sessions    SessionStore
	lifetime    time.Duration
	maxSessions int
	maxMessages int
	limits      Limits
	clients     *clients
	now         func() time.Time
	bare        bool // DangerouslyNoMiddleware
	log         *slog.Logger
	host        string               // SelfOrigin's host[:port]: the only Host served
	self        *origin.Matcher      // SelfOrigin, as the middleware admits it
	metrics     *otelmetrics.Metrics // nil: none (its methods do nothing)
	metricsH    http.Handler         // nil: no /metrics

	sockets      *socketRegistry
	pingEvery    time.Duration
	writeTimeout time.Duration
	idleTimeout  time.Duration
}

// New validates cfg and builds the server's routes.
func New(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	self, err := origin.NewMatcher([]string{cfg.SelfOrigin})
	if err != nil {
		return nil, fmt.Errorf("%w: SelfOrigin: %w", ErrConfig, err)
	}
	s := &Server{
		mux:          http.NewServeMux(),
		policies:     cfg.Policies,
		store:        cfg.Store,
		sessions:     cfg.Sessions,
		lifetime:     cfg.SessionLifetime,
		maxSessions:  cfg.MaxSessions,
		maxMessages:  cfg.MaxMessages,
		limits:       cfg.Limits,
		now:          cfg.Now,
		bare:         cfg.DangerouslyNoMiddleware,
		log:          cfg.Logger,
		host:         strings.TrimPrefix(strings.TrimPrefix(cfg.SelfOrigin, "https://"), "http://"),
		self:         self,
		metrics:      cfg.Metrics,
		metricsH:     cfg.MetricsHandler,
		sockets:      newSocketRegistry(),
		pingEvery:    cfg.SocketPingInterval,
		writeTimeout: cfg.SocketWriteTimeout,
		idleTimeout:  cfg.SocketIdleTimeout,
	}
	s.clients = newClients(&s.limits, cfg.Now)
	if s.sessions == nil {
		s.sessions = newMemorySessions(cfg.Now, cfg.Limits.MaxTotalBytes, s.sessionEnded)
	}
	g := s.bareGuard()
	if !s.bare {
		opts := []middleware.Option{
			// The widget iframe is served by this server: its POSTs and its
			// WebSocket handshake carry our own Origin (browsers send Origin
			// on every WebSocket handshake, same-origin ones included), so no
			// route needs to admit a request without one.
			middleware.WithSelfOrigins(cfg.SelfOrigin),
			middleware.WithLogger(cfg.Logger),
		}
		if h := eventHandler(cfg.Metrics, cfg.OnEvent); h != nil { // a handler makes every denial build its event
			opts = append(opts, middleware.WithEventHandler(h))
		}
		m, err := middleware.ForRegistry(cfg.Policies, opts...)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		g = middlewareGuard(m)
	} else {
		cfg.Logger.Warn("chat: DangerouslyNoMiddleware: msgsec is OFF, no origin, cookie or token checks (benchmark baseline only)")
	}
	var onDelivery func(delivery.Event)
	if cfg.Metrics != nil {
		onDelivery = cfg.Metrics.DeliveryEvent
	}
	secretData, err := delivery.NewHandler(delivery.HandlerConfig{
		Verifier:        s.verifier,
		Store:           cfg.Store,
		TTL:             cfg.SessionLifetime,
		SessionLifetime: s.remaining,
		Logger:          cfg.Logger,
		OnEvent:         onDelivery,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s.routes(g, secretData)
	return s, nil
}

func (c *Config) defaults() error {
	if c.Policies == nil {
		return fmt.Errorf("%w: Policies is required", ErrConfig)
	}
	if c.Store == nil {
		return fmt.Errorf("%w: Store is required", ErrConfig)
	}
	if err := checkOrigin(c.SelfOrigin); err != nil {
		return fmt.Errorf("%w: SelfOrigin: %w", ErrConfig, err)
	}
	if c.SessionLifetime == 0 {
		c.SessionLifetime = DefaultSessionLifetime
	}
	if c.SessionLifetime < 0 || c.SessionLifetime > delivery.MaxTTL {
		return fmt.Errorf("%w: SessionLifetime must be between 0 and %v", ErrConfig, delivery.MaxTTL)
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.MaxMessages == 0 {
		c.MaxMessages = DefaultMaxMessages
	}
	if c.MaxSessions < 0 || c.MaxMessages < 2 {
		return fmt.Errorf("%w: MaxSessions must be positive and MaxMessages at least 2", ErrConfig)
	}
	if err := c.Limits.defaults(); err != nil {
		return err
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&c.SocketPingInterval, DefaultSocketPingInterval},
		{&c.SocketWriteTimeout, DefaultSocketWriteTimeout},
		{&c.SocketIdleTimeout, DefaultSocketIdleTimeout},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
		if *d.v < 0 {
			return fmt.Errorf("%w: socket intervals and timeouts must be positive", ErrConfig)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// eventHandler is the middleware's one event handler (it takes only one):
// the metrics' and OnEvent, each hearing every event; nil when neither is
// set, so denials build no event for nobody.
func eventHandler(m *otelmetrics.Metrics, on func(middleware.Event)) func(middleware.Event) {
	switch {
	case m == nil:
		return on
	case on == nil:
		return m.MiddlewareEvent
	}
	return func(e middleware.Event) {
		m.MiddlewareEvent(e)
		on(e)
	}
}

// checkOrigin accepts a bare http(s) origin: scheme://host[:port].
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return errors.New("want http(s)://host[:port]")
	case u.User != nil, u.Path != "", u.RawQuery != "", u.Fragment != "", u.Opaque != "":
		return errors.New("want an origin: no userinfo, path, query or fragment")
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// ownHostOnly serves a route only to requests addressed to SelfOrigin's
// host. A page on another name that DNS-rebinds to this server's address is
// same-origin with what it fetches (its own Host, Sec-Fetch-Site:
// same-origin) and could otherwise read the agent view: every session's
// ID, cookies and verified secret data.
func (s *Server) ownHostOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Host, s.host) {
			http.Error(w, "misdirected request", http.StatusMisdirectedRequest)
			return
		}
		h(w, r)
	}
}

// routes mounts every route. Which msgsec wrapper guards each one is the
// point of the example:
//
//   - Handler (browser API): CORS, Origin required and allowed, cookies
//     filtered, browser token verified;
//   - WidgetPage: CSP frame-ancestors, so only allowed sites can frame it;
//   - ServerToServer: the bank backend's secret-data delivery;
//   - nothing: the loader script (public code, fetched by <script>, which
//     sends no Origin), static assets, /healthz, and /agent (the
//     representative's console: put it behind your staff login).
func (s *Server) routes(g guard, secretData http.Handler) {
	api := func(method, path string, h http.HandlerFunc) { g.mountAPI(s.mux, method+" "+path, h) }
	const conn = "/connections/{connection}"
	s.mux.HandleFunc("GET "+conn+"/widget.js", s.loader)
	s.mux.Handle("GET "+conn+"/widget", g.page(http.HandlerFunc(s.widgetPage)))
	api("GET", conn+"/config", s.config)
	api("POST", conn+"/sessions", s.openSession)
	api("POST", conn+"/sessions/{session}/messages", s.postMessage)
	api("DELETE", conn+"/sessions/{session}", s.endSession)
	api("GET", conn+"/sessions/{session}/ws", s.socket)
	s.mux.Handle(delivery.Pattern, g.server(secretData))
	s.mux.HandleFunc("GET /static/{file}", serveAsset)
	s.mux.HandleFunc("GET /agent", s.ownHostOnly(s.agent))
	if s.metricsH != nil {
		s.mux.HandleFunc("GET /metrics", s.ownHostOnly(s.metricsH.ServeHTTP))
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
}

// verifier finds a connection's token verifier for the delivery Handler.
func (s *Server) verifier(connection string) (*secretdata.Verifier, bool) {
	p, ok := s.policies.Get(connection)
	if !ok || p.Verifier() == nil {
		return nil, false
	}
	return p.Verifier(), true
}

// remaining reports how long a live session has left (the delivery
// Handler's SessionLifetime). A store that cannot answer counts as no
// session: nothing is stored (404).
func (s *Server) remaining(ctx context.Context, connection, id string) (time.Duration, error) {
	ss, err := s.sessions.Get(ctx, connection, id)
	if err != nil {
		if errors.Is(err, ErrNoSession) {
			return 0, delivery.ErrNotFound
		}
		s.log.Error("chat: reading a session", "connection", connection, "err", err)
		return 0, err // 503: the sessions cannot be read now
	}
	return ss.Expires.Sub(s.now()), nil
}

// sessionEnded forgets an ended session's server-to-server secret data.
func (s *Server) sessionEnded(connection, id string) {
	if err := s.store.Delete(context.Background(), connection, id); err != nil {
		s.log.Error("chat: deleting secret data of an ended session", "connection", connection, "err", err)
	}
}
