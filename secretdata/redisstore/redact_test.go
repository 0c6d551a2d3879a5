package redisstore_test

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/redacttest"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

var (
	redactKey      = []byte("S3CR3T-redis-sealing-key-0123456") // 32 bytes
	redactPassword = "S3CR3T-redis-password"
	redactSession  = "S3CR3T-session-5150"
)

// TestNothingSecretPrints formats the package's types — the Store (which
// holds the sealing key and a Redis client with a password), the
// ReplayCache, Config and UnavailableError — as values and pointers, with
// fmt, encoding/json and both slog handlers, and checks that neither the
// key (nor its hex or base64, nor the derived sealing key), nor the Redis
// password, nor a session ID appears. The Store's redacted form names its
// prefix.
func TestNothingSecretPrints(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", Password: redactPassword, ContextTimeoutEnabled: true,
		MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	cfg := redisstore.Config{Prefix: "msgsec-redact", Timeout: 200 * time.Millisecond}
	st, err := redisstore.NewStore(c, redactKey, cfg)
	require.NoError(t, err)
	rc, err := redisstore.NewReplayCache(c, cfg)
	require.NoError(t, err)
	// Nothing listens on port 1: the error a caller would log.
	putErr := st.Put(context.Background(), testAudience, redactSession,
		&secretdata.Claims{Issuer: testIssuer, SessionID: redactSession}, time.Minute)
	require.ErrorIs(t, putErr, delivery.ErrStoreUnavailable)
	require.ErrorIs(t, putErr, context.DeadlineExceeded, "Redis's own error is wrapped")

	methods := []string{"String", "Format", "MarshalJSON"}
	rows := []redacttest.Row{
		redacttest.NewRow("store", *st, []string{"msgsec-redact"}, methods, methods),
		redacttest.NewRow("replay cache", *rc, nil, nil, nil),
		redacttest.NewRow("config", cfg, nil, nil, nil),
		redacttest.NewRow("unavailable error", putErr, nil, nil, nil),
		redacttest.NewRow("in unexported fields", struct {
			st *redisstore.Store
			sv redisstore.Store
			rc *redisstore.ReplayCache
		}{st, *st, rc}, nil, nil, nil),
	}
	derived, err := hkdf.Key(sha256.New, redactKey, nil, "msgsec secretdata/delivery sealer v1", delivery.KeySize)
	require.NoError(t, err)
	needles := append(redacttest.Encodings(redactKey), redacttest.Encodings(derived)...)
	needles = append(needles, "S3CR3T", redactPassword, redactSession)

	// The Store's prefix shows in every rendering, even where an encoder
	// failed.
	never := func(redacttest.Row, string, redacttest.Rendering) bool { return false }
	for _, r := range rows {
		t.Run(r.Name, func(t *testing.T) { r.Check(t, needles, never) })
	}
}
