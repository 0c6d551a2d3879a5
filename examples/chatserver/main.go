// Command chatserver runs msgsec's example chat server (package
// examples/chatserver/chat) on its own.
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
//	-redis       redis://… URL for a replay cache and secret-data store shared
//	             by several instances (see redisBackends)
//
// Environment: MSGSEC_STORE_KEY, 32 bytes in base64url, seals the
// secret-data store; instances sharing a Redis store must share it. Unset:
// a random key per process. SIGHUP reloads the policy file.
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
	"syscall"
	"time"

	"github.com/msgsec/msgsec/examples/chatserver/chat"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
	"github.com/msgsec/msgsec/secretdata/redisstore"
	"github.com/redis/go-redis/v9"
)

func main() {
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
	redisURL := fs.String("redis", "", "redis://… URL for a shared replay cache and secret-data store")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	storeKey, err := storeKeyFromEnv()
	if err != nil {
		return err
	}
	replay, store, err := backends(*redisURL, storeKey)
	if err != nil {
		return err
	}
	reg, err := loadPolicies(ctx, *configPath, replay, logger)
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
	self := *publicURL
	if self == "" {
		self = "http://" + ln.Addr().String()
	}
	srv, err := chat.New(chat.Config{Policies: reg, Store: store, SelfOrigin: self, Logger: logger})
	if err != nil {
		ln.Close()
		return err
	}
	logger.Info("chat server listening", "url", self, "policies", reg.String())
	return serve(ctx, ln, srv)
}

// backends returns the replay cache and secret-data store: in memory for
// one instance, or in Redis for several.
func backends(redisURL string, storeKey []byte) (secretdata.ReplayCache, delivery.Store, error) {
	if redisURL != "" {
		return redisBackends(redisURL, storeKey)
	}
	store, err := delivery.NewMemoryStore(delivery.MemoryStoreConfig{Key: storeKey})
	if err != nil {
		return nil, nil, err
	}
	return nil, store, nil // nil replay: the registry makes a bounded in-memory cache
}

// redisBackends connects to Redis and returns package
// secretdata/redisstore's shared replay cache and sealed Store, so several
// instances refuse each other's used tokens and see each other's secret
// data. Redis errors then fail closed (503); the URL is never logged (it
// may hold a password).
func redisBackends(redisURL string, storeKey []byte) (secretdata.ReplayCache, delivery.Store, error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, nil, errors.New("-redis: not a valid redis:// URL")
	}
	opts.ContextTimeoutEnabled = true // redisstore.Config.Timeout bounds every call
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("-redis: no answer from %s: %w", opts.Addr, err)
	}
	replay, err := redisstore.NewReplayCache(client, redisstore.Config{})
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	store, err := redisstore.NewStore(client, storeKey, redisstore.Config{})
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	return replay, store, nil
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

// loadPolicies loads the policy file, or the built-in policy.
func loadPolicies(ctx context.Context, path string, replay secretdata.ReplayCache, logger *slog.Logger) (*policy.Registry, error) {
	opts := policy.RegistryOptions{
		Compile: policy.CompileOptions{Replay: replay},
		Logf:    func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) },
	}
	if path != "" {
		return policy.NewRegistry(ctx, path, opts)
	}
	reg, err := policy.NewRegistryFromBytes(ctx, chat.DefaultPolicy(), policy.FormatYAML, opts)
	if err != nil {
		return nil, fmt.Errorf("built-in policy (set UPLUS_JWT_SECRET to a secret from `go run ./cmd/msgsec secret new`, or use -config): %w", err)
	}
	return reg, nil
}

// serve runs the server until ctx ends, then shuts it down gracefully.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// Requests end with ctx, so event streams close on shutdown.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return srv.Close()
	}
	return nil
}
