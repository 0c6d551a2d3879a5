package redispolicy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/policy/redispolicy"
)

var (
	// sealingKey seals the tests' stored secrets.
	sealingKey = bytes.Repeat([]byte{0x5a}, 32)
	// hmacSecret is the tests' connection secret: it must never be
	// readable in Redis.
	hmacSecret = []byte("S3CR3T-hmac-for-redis-policy-tests-0123456789")
)

const (
	conn     = "retail-bank"
	bankSite = "https://www.uplusbank.com"
	newSite  = "https://new.uplusbank.example"
	evilSite = "https://www.uplusbank.com.evil.example"
)

func newClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	require.NoError(t, err)
	opt.ContextTimeoutEnabled = true
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func uniquePrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "msgsec-test-" + hex.EncodeToString(b) + ":policy"
}

// sharedRedis returns a client on MSGSEC_REDIS_URL and a prefix of the
// test's own, whose keys are deleted when the test ends.
func sharedRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	c := newClient(t, testenv.RedisURL(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.Ping(ctx).Err(), "MSGSEC_REDIS_URL does not answer PING")
	prefix := uniquePrefix()
	t.Cleanup(func() {
		for _, k := range allKeys(t, c, prefix+":*") {
			c.Del(context.Background(), k)
		}
	})
	return c, prefix
}

func newBackend(t testing.TB, c redis.UniversalClient, prefix string) *redispolicy.Backend {
	t.Helper()
	b, err := redispolicy.New(redispolicy.Config{Client: c, Prefix: prefix})
	require.NoError(t, err)
	return b
}

func newStore(t testing.TB, b policy.Backend) *policy.Store {
	t.Helper()
	s, err := policy.NewStore(b, policy.StoreOptions{SealingKey: sealingKey})
	require.NoError(t, err)
	return s
}

func connPolicy(id string, domains ...string) *policy.ConnectionPolicy {
	return &policy.ConnectionPolicy{
		ID:             id,
		AllowedDomains: domains,
		AllowedCookies: []string{"page_viewed"},
		Keys:           []policy.KeyConfig{{ID: "k1", Secret: policy.SecretBytes(hmacSecret)}},
		Token:          policy.TokenRules{Issuer: "https://backend.example", MaxLifetime: 10 * time.Minute},
	}
}

// instance is one chat-server instance: a Registry following the store,
// and msgsec's middleware in front of a handler that answers 200.
type instance struct {
	reg  *policy.Registry
	h    http.Handler
	mu   sync.Mutex
	logs []string
	// snaps holds every snapshot the registry has had in force, by version.
	snaps sync.Map
}

func newInstance(t testing.TB, ctx context.Context, src policy.Source, resync time.Duration) *instance {
	t.Helper()
	in := &instance{}
	reg, err := policy.NewRegistryFromSource(ctx, src, policy.RegistryOptions{
		Logf: func(f string, a ...any) {
			in.mu.Lock()
			in.logs = append(in.logs, fmt.Sprintf(f, a...))
			in.mu.Unlock()
		},
		OnReload: func(s *policy.Snapshot, err error) {
			if err == nil {
				in.snaps.Store(s.Version(), s)
			}
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	reg.Follow(ctx, resync)
	m, err := middleware.ForRegistry(reg, middleware.WithLogger(nil))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/connections/{connection}/", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})))
	in.reg, in.h = reg, mux
	return in
}

func (in *instance) logged(substr string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, l := range in.logs {
		if bytes.Contains([]byte(l), []byte(substr)) {
			return true
		}
	}
	return false
}

// preflight sends a CORS preflight from origin o for connection id and
// returns the status and whether it was admitted (204 with
// Access-Control-Allow-Origin: o).
func (in *instance) preflight(id, o string) (int, bool) {
	r := httptest.NewRequest(http.MethodOptions, "/connections/"+id+"/sessions", nil)
	r.Header.Set("Origin", o)
	r.Header.Set("Access-Control-Request-Method", http.MethodPost)
	w := httptest.NewRecorder()
	in.h.ServeHTTP(w, r)
	return w.Code, w.Code == http.StatusNoContent && w.Header().Get("Access-Control-Allow-Origin") == o
}

// allows is the decision the instance's current policy makes for o.
func (in *instance) allows(id, o string) bool {
	c, ok := in.reg.Get(id)
	return ok && c.Origins().Allows(o)
}

// current returns the version of the snapshot in force, recording it.
func (in *instance) current() uint64 {
	s := in.reg.Snapshot()
	in.snaps.LoadOrStore(s.Version(), s)
	return s.Version()
}

// decisions returns the decisions for o of the snapshots the instance had
// in force from version from to version to.
func (in *instance) decisions(id, o string, from, to uint64) (admit, refuse bool) {
	for v := from; v <= to; v++ {
		s, ok := in.snaps.Load(v)
		if !ok {
			continue
		}
		c, ok := s.(*policy.Snapshot).Get(id)
		if ok && c.Origins().Allows(o) {
			admit = true
		} else {
			refuse = true
		}
	}
	return admit, refuse
}

// eventuallyAdmits polls until every instance answers o's preflight as want.
func eventuallyAdmits(t testing.TB, timeout time.Duration, o string, want bool, ins ...*instance) {
	t.Helper()
	for i, in := range ins {
		testenv.Eventually(t, timeout, fmt.Sprintf("instance %d admits %s: %v", i, o, want), func() error {
			if code, ok := in.preflight(conn, o); ok != want {
				return fmt.Errorf("status %d, admitted %v", code, ok)
			}
			return nil
		})
	}
}

// allKeys lists the keys matching pattern.
func allKeys(t testing.TB, c redis.UniversalClient, pattern string) []string {
	t.Helper()
	var out []string
	iter := c.Scan(context.Background(), 0, pattern, 1000).Iterator()
	for iter.Next(context.Background()) {
		out = append(out, iter.Val())
	}
	require.NoError(t, iter.Err())
	return out
}

// rawContents is every key matching pattern with every field of its hash
// and, with dump, its DUMP: what Redis holds, byte for byte.
func rawContents(t testing.TB, c redis.UniversalClient, pattern string, dump bool) map[string]map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]map[string]string{}
	for _, k := range allKeys(t, c, pattern) {
		typ, err := c.Type(ctx, k).Result()
		require.NoError(t, err)
		if typ == "hash" {
			m, err := c.HGetAll(ctx, k).Result()
			require.NoError(t, err)
			out[k] = m
		}
		if out[k] == nil {
			out[k] = map[string]string{}
		}
		if dump {
			d, err := c.Dump(ctx, k).Result()
			require.NoError(t, err)
			out[k]["(dump)"] = d
		}
	}
	return out
}

// untilAvailable retries f while it fails as unavailable (a Redis just
// restarted), for up to 10 s.
func untilAvailable(t testing.TB, f func() error) error {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if !errors.Is(err, policy.ErrUnavailable) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
