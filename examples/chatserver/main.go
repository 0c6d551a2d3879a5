// Command chatserver runs msgsec's example chat server (package
// examples/internal/chat) on its own.
//
//	UPLUS_JWT_SECRET=$(go run ./cmd/msgsec secret new) go run ./examples/chatserver
//
// Flags:
//
//	-addr        listen address (default 127.0.0.1:8080)
//	-public-url  the server's origin as browsers reach it (default http://<addr>);
//	             the widget iframe's requests carry it as their Origin
//	-config      a policy file (YAML, or JSON by extension); default: the
//	             built-in U+ Bank policy, whose key is read from UPLUS_JWT_SECRET
//	-redis       Redis URL for the replay cache, the secret-data store
//	             and the chat sessions, shared by several instances (see
//	             redisBackends): redis://[user:pass@]host:port/db (or
//	             rediss:// for TLS; one node of a Cluster works too),
//	             redis-cluster://host1:port,host2:port for a Cluster,
//	             redis-sentinel://host1:26379,host2:26379/<master-name>?db=0
//	             for a Sentinel-managed primary
//	-policy-store
//	             Redis URL (the same forms) of a shared policy store
//	             (package policy/redispolicy) to read the policies from
//	             instead of a file, following its changes; fill it with
//	             `msgsec policy push FILE --redis URL`. Needs
//	             MSGSEC_POLICY_SEALING_KEY (below)
//	-cpuprofile  write a CPU profile (go tool pprof) until the server stops
//	-no-middleware
//	             DANGEROUS, for benchmarks only: serve the same handlers
//	             with msgsec removed (no CORS, Origin, cookie or token
//	             checks), as the load test's baseline; loopback addresses
//	             only
//
// Environment: MSGSEC_STORE_KEY, 32 bytes in base64url (`msgsec secret new
// --jwe` prints such a key), seals the
// secret-data store and the browser claims of Redis sessions; instances
// sharing a Redis must share it. Unset:
// a random key per process. SIGHUP reloads the policy file.
//
// With -policy-store, MSGSEC_POLICY_SEALING_KEY — 32 bytes in base64url
// (`msgsec secret new --jwe`), the key `msgsec policy push` sealed the
// store's secrets with — is required: without it the server refuses to
// start.
//
// GET /metrics serves msgsec's metrics in the Prometheus text format (see
// the README's Metrics section), to the -public-url host only.
//
// For the whole story (bank site, evil site, browser) run go run ./examples/demo.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/msgsec/msgsec/examples/internal/chat"
	"github.com/msgsec/msgsec/internal/redisurl"
	"github.com/msgsec/msgsec/internal/sealkey"
	"github.com/msgsec/msgsec/otelmetrics"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/policy/redispolicy"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

func main() {
	redisurl.Quiet() // the server's own log says when Redis fails, once
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "chatserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("chatserver", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	publicURL := fs.String("public-url", "", "the server's origin as browsers reach it (default http://<addr>)")
	configPath := fs.String("config", "", "policy file (default: the built-in U+ Bank policy)")
	redisURL := fs.String("redis", "", "Redis `URL` for a shared replay cache, secret-data store and chat sessions: "+redisurl.Forms)
	policyStore := fs.String("policy-store", "", "Redis `URL` (the -redis forms) of a shared policy store to follow instead of a policy file (needs MSGSEC_POLICY_SEALING_KEY)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) to this file until the server stops")
	var lim chat.Limits
	fs.Float64Var(&lim.SessionsPerMinute, "session-rate", chat.DefaultSessionsPerMinute, "sessions one client may open per minute")
	fs.IntVar(&lim.SessionBurst, "session-burst", chat.DefaultSessionBurst, "sessions one client may open at once")
	fs.Float64Var(&lim.MessagesPerSecond, "message-rate", chat.DefaultMessagesPerSecond, "messages one client may send per second")
	fs.IntVar(&lim.MessageBurst, "message-burst", chat.DefaultMessageBurst, "messages one client may send at once")
	fs.StringVar(&lim.ClientIPHeader, "client-ip-header", "", "header a trusted reverse proxy sets to the client's address, e.g. X-Forwarded-For (default: the connection's address; set it only behind such a proxy)")
	noMiddleware := fs.Bool("no-middleware", false, "DANGEROUS, benchmarks only: serve without msgsec (no origin, cookie or token checks); loopback only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *policyStore != "" && *configPath != "" {
		return errors.New("-config and -policy-store both name the policies: give one")
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	logs := newBatchedWriter(os.Stderr)
	defer logs.Close()
	logger := slog.New(slog.NewTextHandler(logs, nil))

	storeKey, err := storeKeyFromEnv()
	if err != nil {
		return err
	}
	b, err := backends(*redisURL, storeKey)
	if err != nil {
		return err
	}
	metrics, metricsHandler, err := chat.NewPrometheusMetrics()
	if err != nil {
		return err
	}
	var reg *policy.Registry
	if *policyStore != "" {
		reg, err = storePolicies(ctx, *policyStore, os.LookupEnv, b.replay, metrics, logger)
	} else {
		reg, err = loadPolicies(ctx, *configPath, b.replay, metrics, logger)
	}
	if err != nil {
		return err
	}
	if *configPath != "" {
		reg.WatchSignals(ctx, syscall.SIGHUP)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *noMiddleware && !ln.Addr().(*net.TCPAddr).IP.IsLoopback() {
		ln.Close()
		return errors.New("-no-middleware serves without any msgsec check: only on a loopback -addr")
	}
	self := *publicURL
	if self == "" {
		self = "http://" + ln.Addr().String()
	}
	srv, err := chat.New(chat.Config{Policies: reg, Store: b.store, Sessions: b.sessions, SelfOrigin: self,
		Limits: lim, DangerouslyNoMiddleware: *noMiddleware, Logger: logger, Metrics: metrics, MetricsHandler: metricsHandler})
	if err != nil {
		ln.Close()
		return err
	}
	logger.Info("chat server listening", "url", self, "policies", reg.String())
	return serve(ctx, ln, srv, srv.CloseSockets)
}

// backends are where the chat server keeps what must outlive a request.
type backendSet struct {
	replay   secretdata.ReplayCache // nil: the registry makes a bounded in-memory cache
	store    delivery.Store
	sessions chat.SessionStore // nil: in memory
}

// backends returns the replay cache, secret-data store and session store:
// in memory for one instance, or in Redis for several.
func backends(redisURL string, storeKey []byte) (backendSet, error) {
	if redisURL != "" {
		return redisBackends(redisURL, storeKey)
	}
	store, err := delivery.NewMemoryStore(storeKey, delivery.MemoryStoreConfig{})
	if err != nil {
		return backendSet{}, err
	}
	return backendSet{store: store}, nil
}

// redisBackends connects to Redis and returns package
// secretdata/redisstore's shared replay cache and sealed Store, and the
// chat's RedisSessions, so several instances refuse each other's used
// tokens and share each other's chats and secret data, and a restarted
// instance finds them again. Any deployment shape package
// internal/redisurl names works: one server, a Cluster, Sentinel. Redis
// errors then fail closed (503); the URL is only ever shown with its
// password redacted.
func redisBackends(redisURL string, storeKey []byte) (backendSet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), redisurl.DefaultConnectTimeout)
	defer cancel()
	client, _, err := redisurl.Open(ctx, redisURL)
	if err != nil {
		return backendSet{}, fmt.Errorf("-redis: %w", err)
	}
	fail := func(err error) (backendSet, error) {
		client.Close()
		return backendSet{}, err
	}
	replay, err := redisstore.NewReplayCache(client, redisstore.Config{})
	if err != nil {
		return fail(err)
	}
	store, err := redisstore.NewStore(client, storeKey, redisstore.Config{})
	if err != nil {
		return fail(err)
	}
	sessions, err := chat.NewRedisSessions(client, storeKey, chat.RedisSessionsConfig{})
	if err != nil {
		return fail(err)
	}
	return backendSet{replay: replay, store: store, sessions: sessions}, nil
}

// storeKeyFromEnv reads MSGSEC_STORE_KEY, or makes a random key.
func storeKeyFromEnv() ([]byte, error) {
	v, ok := os.LookupEnv("MSGSEC_STORE_KEY")
	if !ok {
		key := make([]byte, delivery.KeySize)
		_, _ = rand.Read(key)
		return key, nil
	}
	key, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(key) != delivery.KeySize {
		// Never echo the value.
		return nil, fmt.Errorf("MSGSEC_STORE_KEY must be %d bytes in unpadded base64url", delivery.KeySize)
	}
	return key, nil
}

// loadPolicies loads the policy file, or the built-in policy, reporting
// its loads and token verifications to metrics.
func loadPolicies(ctx context.Context, path string, replay secretdata.ReplayCache, metrics *otelmetrics.Metrics, logger *slog.Logger) (*policy.Registry, error) {
	opts := policy.RegistryOptions{
		Compile:  policy.CompileOptions{Replay: replay, OnVerify: metrics.Verified},
		Logf:     registryLog(logger),
		OnReload: metrics.Reloaded,
	}
	if path != "" {
		return policy.NewRegistry(ctx, path, opts)
	}
	reg, err := policy.NewRegistryFromBytes(ctx, chat.DefaultPolicy(), opts)
	if err != nil {
		return nil, fmt.Errorf("built-in policy (set UPLUS_JWT_SECRET to a secret from `go run ./cmd/msgsec secret new`, or use -config): %w", err)
	}
	return reg, nil
}

// storeResync is how often an instance on a policy store reloads it in
// full, in case a change notice was lost.
const storeResync = 30 * time.Second

// storePolicies reads the policies from the shared policy store at
// storeURL (package policy/redispolicy) and follows its changes until ctx
// ends. It refuses to start without the sealing key the store's secrets
// are sealed with (MSGSEC_POLICY_SEALING_KEY). The URL is only ever shown
// with its password redacted.
func storePolicies(ctx context.Context, storeURL string, env func(string) (string, bool), replay secretdata.ReplayCache, metrics *otelmetrics.Metrics, logger *slog.Logger) (*policy.Registry, error) {
	text, ok := env("MSGSEC_POLICY_SEALING_KEY")
	if !ok || text == "" {
		return nil, errors.New("-policy-store needs MSGSEC_POLICY_SEALING_KEY: the 32-byte key (base64url, from `msgsec secret new --jwe`) that `msgsec policy push` sealed the store's secrets with; every instance needs the same one")
	}
	key, err := sealkey.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("MSGSEC_POLICY_SEALING_KEY: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, redisurl.DefaultConnectTimeout)
	defer cancel()
	client, u, err := redisurl.Open(cctx, storeURL)
	if err != nil {
		return nil, fmt.Errorf("-policy-store: %w", err)
	}
	backend, err := redispolicy.New(redispolicy.Config{Client: client})
	if err != nil {
		client.Close()
		return nil, err
	}
	store, err := policy.NewStore(backend, policy.StoreOptions{SealingKey: key, Load: policy.LoadOptions{LookupEnv: env}})
	if err != nil {
		client.Close()
		return nil, err
	}
	reg, err := policy.NewRegistryFromSource(ctx, store, policy.RegistryOptions{
		Compile:  policy.CompileOptions{Replay: replay, OnVerify: metrics.Verified},
		Logf:     registryLog(logger),
		OnReload: metrics.Reloaded,
	})
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("-policy-store (%s): %w", u, err)
	}
	if len(reg.Snapshot().IDs()) == 0 {
		if recs, err := backend.List(ctx); err == nil && len(recs) == 0 {
			logger.Warn("the policy store holds no connection yet: every request gets 404 until `msgsec policy push` writes one")
		} else {
			logger.Warn("none of the policy store's connections loaded on this instance (see the line above): every request gets 404 — check MSGSEC_POLICY_SEALING_KEY and the secrets the connections name")
		}
	}
	reg.Follow(ctx, storeResync)
	context.AfterFunc(ctx, func() { client.Close() })
	return reg, nil
}

// maxHeaderBytes bounds a request's header block.
const maxHeaderBytes = 64 << 10

// serve runs the server until ctx ends, then shuts it down gracefully;
// onShutdown closes what Shutdown does not (the chat's WebSockets, which
// are hijacked connections).
func serve(ctx context.Context, ln net.Listener, h http.Handler, onShutdown func()) error {
	srv := &http.Server{
		Handler: h,
		// The widget's requests carry a few cookies and at most an 8 KiB
		// token: 64 KiB of headers is plenty, and it bounds what a client
		// can make the server hold (net/http's default is 1 MiB).
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies are at most 16 KiB. A WebSocket upgrade hijacks its
		// connection, which clears this deadline; the socket has its own
		// bounds (chat.Config's Socket… fields).
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	srv.RegisterOnShutdown(onShutdown)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if err != nil {
		err = srv.Close()
	}
	// Shutdown runs onShutdown in a goroutine and does not wait for it:
	// wait here until the sockets have sent their close frames (a second
	// call returns when they have all closed), or the process could exit
	// first and drop them without one.
	onShutdown()
	return err
}

// registryLog turns a Registry's log lines into slog: what failed or was
// left out at WARN, the rest at INFO.
func registryLog(logger *slog.Logger) func(format string, args ...any) {
	return func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if strings.Contains(msg, "failed") || strings.Contains(msg, "without some connections") || strings.Contains(msg, "applied every connection but") {
			logger.Warn(msg)
			return
		}
		logger.Info(msg)
	}
}
