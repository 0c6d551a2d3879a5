package redisstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

// unusedClient never connects: construction must not contact Redis.
func unusedClient(t *testing.T, contextTimeout bool) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: contextTimeout})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestConfigValidation(t *testing.T) {
	good := unusedClient(t, true)
	for _, tc := range []struct {
		name   string
		client redis.UniversalClient
		cfg    redisstore.Config
		field  string // "" means accepted
	}{
		{"defaults", good, redisstore.Config{}, ""},
		{"all set", good, redisstore.Config{Prefix: "chat:prod", Timeout: time.Second, Now: time.Now}, ""},
		{"nil client", nil, redisstore.Config{}, "client"},
		{"client ignores context deadlines", unusedClient(t, false), redisstore.Config{}, "client"},
		{"cluster client ignores context deadlines", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}), redisstore.Config{}, "client"},
		{"prefix with hash tag brace", good, redisstore.Config{Prefix: "msgsec{x}"}, "Prefix"},
		{"prefix with space", good, redisstore.Config{Prefix: "msg sec"}, "Prefix"},
		{"prefix with control byte", good, redisstore.Config{Prefix: "msg\nsec"}, "Prefix"},
		{"prefix with non-ascii", good, redisstore.Config{Prefix: "msgsé"}, "Prefix"},
		{"prefix too long", good, redisstore.Config{Prefix: strings.Repeat("p", 65)}, "Prefix"},
		{"prefix at the limit", good, redisstore.Config{Prefix: strings.Repeat("p", 64)}, ""},
		{"negative timeout", good, redisstore.Config{Timeout: -time.Second}, "Timeout"},
		{"timeout below 1ms", good, redisstore.Config{Timeout: time.Microsecond}, "Timeout"},
		{"timeout above 30s", good, redisstore.Config{Timeout: time.Minute}, "Timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rerr := redisstore.NewReplayCache(tc.client, tc.cfg)
			_, serr := redisstore.NewStore(tc.client, testKey, tc.cfg)
			for _, err := range []error{rerr, serr} {
				if tc.field == "" {
					require.NoError(t, err, "refused")
					continue
				}
				testenv.RequireProblems(t, err, redisstore.ErrConfig, []string{tc.field})
			}
		})
	}
}

func TestNewStoreRefusesBadKeys(t *testing.T) {
	c := unusedClient(t, true)
	for _, tc := range []struct {
		name string
		key  []byte
	}{
		{"nil", nil},
		{"16 bytes", testKey[:16]},
		{"33 bytes", append(append([]byte{}, testKey...), 'x')},
		{"all zeros", make([]byte, 32)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := redisstore.NewStore(c, tc.key, redisstore.Config{})
			testenv.RequireProblems(t, err, redisstore.ErrConfig, []string{"key"}, string(testKey[:16]))
		})
	}
}

// NewReplayCache and NewStore report every problem of their arguments at
// once, and never quote the key.
func TestConstructorsReportEveryProblem(t *testing.T) {
	cfg := redisstore.Config{Prefix: "a b", Timeout: time.Hour}
	_, err := redisstore.NewReplayCache(unusedClient(t, false), cfg)
	testenv.RequireProblems(t, err, redisstore.ErrConfig, []string{"client", "Prefix", "Timeout"})
	_, err = redisstore.NewStore(nil, testKey[:31], cfg)
	ps := testenv.RequireProblems(t, err, redisstore.ErrConfig, []string{"client", "Prefix", "Timeout", "key"}, string(testKey[:16]))
	require.Equal(t, "a b", ps[1].Value)
	require.Equal(t, cfgerr.Redacted, ps[3].Value)
	require.Contains(t, err.Error(), "redisstore: invalid store configuration: 4 problems")
}
