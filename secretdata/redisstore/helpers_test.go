package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

const (
	testIssuer   = "https://bank.example"
	testAudience = "retail-bank"
)

// testKey is the 32-byte sealing key of the tests' stores.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// testSecret is the HS256 secret of the tests' signers and verifiers.
var testSecret = []byte("0123456789abcdef0123456789abcdef-test-only-secret")

// newClient returns a go-redis client for url, configured as this package
// requires, closed when the test ends.
func newClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	require.NoError(t, err, "parse redis url")
	opt.ContextTimeoutEnabled = true
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// sharedRedis returns a client on the shared test Redis (MSGSEC_REDIS_URL)
// and a key prefix no other test uses; the prefix's keys are deleted when
// the test ends.
func sharedRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	c := newClient(t, testenv.RedisURL(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.Ping(ctx).Err(), "MSGSEC_REDIS_URL does not answer PING")
	prefix := uniquePrefix()
	t.Cleanup(func() { deletePrefix(c, prefix) })
	return c, prefix
}

func uniquePrefix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "msgsec-test-" + hex.EncodeToString(b)
}

// keys lists every key under prefix.
func keys(t testing.TB, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	var out []string
	iter := c.Scan(context.Background(), 0, prefix+":*", 1000).Iterator()
	for iter.Next(context.Background()) {
		out = append(out, iter.Val())
	}
	require.NoError(t, iter.Err(), "scan")
	return out
}

func deletePrefix(c redis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}

func newReplay(t testing.TB, c redis.UniversalClient, cfg redisstore.Config) *redisstore.ReplayCache {
	t.Helper()
	r, err := redisstore.NewReplayCache(c, cfg)
	require.NoError(t, err)
	return r
}

func newStore(t testing.TB, c redis.UniversalClient, key []byte, cfg redisstore.Config) *redisstore.Store {
	t.Helper()
	s, err := redisstore.NewStore(c, key, cfg)
	require.NoError(t, err)
	return s
}

func newSigner(t testing.TB) *secretdata.Signer {
	t.Helper()
	k, err := secretdata.NewHMACKey("k1", secretdata.HS256, testSecret)
	require.NoError(t, err)
	s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience})
	require.NoError(t, err)
	return s
}

func newVerifier(t testing.TB, replay secretdata.ReplayCache) *secretdata.Verifier {
	t.Helper()
	k, err := secretdata.NewHMACKey("k1", secretdata.HS256, testSecret)
	require.NoError(t, err)
	v, err := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{k}, Issuer: testIssuer, Audience: testAudience, Replay: replay,
	})
	require.NoError(t, err)
	return v
}

func sign(t testing.TB, s *secretdata.Signer) string {
	t.Helper()
	tok, err := s.Sign(testClaims())
	require.NoError(t, err)
	return tok
}

// plaintextNeedles are values in testClaims that must never be readable
// in Redis.
var plaintextNeedles = []string{"C-1001-secret-customer", "authenticated-gold", "customer-42-subject"}

func testClaims() secretdata.Claims {
	return secretdata.Claims{
		Subject: "customer-42-subject",
		SecretData: map[string]any{
			secretdata.ClaimAuthenticationStatus: "authenticated-gold",
			secretdata.ClaimCustomerID:           "C-1001-secret-customer",
		},
	}
}

func storedClaims() *secretdata.Claims {
	c := testClaims()
	c.Issuer, c.Audience, c.ID = testIssuer, testAudience, "jti-stored-0123456789"
	c.IssuedAt = time.Unix(1_750_000_000, 0).UTC()
	c.ExpiresAt = c.IssuedAt.Add(5 * time.Minute)
	return &c
}

// untilAvailable runs f until it answers something other than "Redis is
// unavailable" (a timeout on a loaded machine), for up to 10 s, and returns
// that answer.
func untilAvailable(t testing.TB, f func() error) error {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		unavailable := errors.Is(err, secretdata.ErrReplayCheckUnavailable) || errors.Is(err, delivery.ErrStoreUnavailable)
		if !unavailable || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func bg() context.Context { return context.Background() }

// requireNoneIn fails if s contains one of needles.
func requireNoneIn(t testing.TB, s string, needles ...string) {
	t.Helper()
	for _, n := range needles {
		require.NotContains(t, s, n)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
