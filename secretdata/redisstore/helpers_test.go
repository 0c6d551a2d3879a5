package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
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
	if err != nil {
		t.Fatalf("parse redis url: %v", err)
	}
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
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("MSGSEC_REDIS_URL does not answer PING: %v", err)
	}
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
	if err := iter.Err(); err != nil {
		t.Fatalf("scan: %v", err)
	}
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

func newReplay(t testing.TB, c redis.UniversalClient, cfg Config) *ReplayCache {
	t.Helper()
	r, err := NewReplayCache(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newStore(t testing.TB, c redis.UniversalClient, key []byte, cfg Config) *Store {
	t.Helper()
	s, err := NewStore(c, key, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newSigner(t testing.TB) *secretdata.Signer {
	t.Helper()
	k, err := secretdata.NewHMACKey("k1", secretdata.HS256, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newVerifier(t testing.TB, replay secretdata.ReplayCache) *secretdata.Verifier {
	t.Helper()
	k, err := secretdata.NewHMACKey("k1", secretdata.HS256, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	v, err := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{k}, Issuer: testIssuer, Audience: testAudience, Replay: replay,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sign(t testing.TB, s *secretdata.Signer) string {
	t.Helper()
	tok, err := s.Sign(testClaims())
	if err != nil {
		t.Fatal(err)
	}
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

// eventually polls f until it returns nil or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
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

// mustIs fails unless err wraps want.
func mustIs(t testing.TB, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want an error wrapping %v", what, err, want)
	}
}

func containsAny(s string, needles ...string) (string, bool) {
	for _, n := range needles {
		if strings.Contains(s, n) {
			return n, true
		}
	}
	return "", false
}

func itoa(i int) string { return strconv.Itoa(i) }
