package redisurl_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/redisopt"
	"github.com/msgsec/msgsec/internal/redisurl"
)

const secret = "S3cr3t-P4ss"

func TestParseForms(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		kind   redisurl.Kind
		addrs  []string
		check  func(t *testing.T, c redis.UniversalClient)
		master string
	}{
		{name: "standalone with db", raw: "redis://127.0.0.1:6380/2", kind: redisurl.Standalone, addrs: []string{"127.0.0.1:6380"},
			check: func(t *testing.T, c redis.UniversalClient) {
				o := c.(*redis.Client).Options()
				require.Equal(t, "127.0.0.1:6380", o.Addr)
				require.Equal(t, 2, o.DB)
				require.Nil(t, o.TLSConfig)
			}},
		{name: "standalone default port", raw: "redis://cache.internal", kind: redisurl.Standalone, addrs: []string{"cache.internal:6379"}},
		{name: "standalone with credentials and options", raw: "redis://app:" + secret + "@10.0.0.5:6379/0?dial_timeout=2s", kind: redisurl.Standalone, addrs: []string{"10.0.0.5:6379"},
			check: func(t *testing.T, c redis.UniversalClient) {
				o := c.(*redis.Client).Options()
				require.Equal(t, "app", o.Username)
				require.Equal(t, secret, o.Password)
				require.Equal(t, 2*time.Second, o.DialTimeout)
			}},
		{name: "standalone tls", raw: "rediss://redis.example:6380", kind: redisurl.Standalone, addrs: []string{"redis.example:6380"},
			check: func(t *testing.T, c redis.UniversalClient) {
				o := c.(*redis.Client).Options()
				require.NotNil(t, o.TLSConfig)
				require.Equal(t, "redis.example", o.TLSConfig.ServerName)
			}},
		{name: "standalone ipv6", raw: "redis://[::1]:7000/1", kind: redisurl.Standalone, addrs: []string{"[::1]:7000"}},
		{name: "cluster seeds", raw: "redis-cluster://10.0.0.1:7000,10.0.0.2:7001,10.0.0.3", kind: redisurl.Cluster,
			addrs: []string{"10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.3:6379"},
			check: func(t *testing.T, c redis.UniversalClient) {
				o := c.(*redis.ClusterClient).Options()
				require.Equal(t, []string{"10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.3:6379"}, o.Addrs)
				require.Nil(t, o.TLSConfig)
			}},
		{name: "cluster one seed, credentials, options, db 0", raw: "rediss-cluster://app:" + secret + "@node.example:7000/0?max_redirects=5", kind: redisurl.Cluster,
			addrs: []string{"node.example:7000"},
			check: func(t *testing.T, c redis.UniversalClient) {
				o := c.(*redis.ClusterClient).Options()
				require.Equal(t, "app", o.Username)
				require.Equal(t, secret, o.Password)
				require.Equal(t, 5, o.MaxRedirects)
				require.NotNil(t, o.TLSConfig)
			}},
		{name: "sentinel", raw: "redis-sentinel://127.0.0.1:26379,127.0.0.1:26380,127.0.0.1/mymaster?db=3", kind: redisurl.Sentinel,
			addrs: []string{"127.0.0.1:26379", "127.0.0.1:26380", "127.0.0.1:26379"}, master: "mymaster"},
		{name: "sentinel credentials: userinfo for the primary, options for the sentinels",
			raw:  "redis-sentinel://app:" + secret + "@s1:26379,s2:26379/prod-master?sentinel_username=sen&sentinel_password=" + secret + "x",
			kind: redisurl.Sentinel, addrs: []string{"s1:26379", "s2:26379"}, master: "prod-master"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := redisurl.Parse(tc.raw)
			require.NoError(t, err)
			require.Equal(t, tc.kind, u.Kind())
			require.Equal(t, tc.addrs, u.Addrs())
			require.Equal(t, tc.master, u.MasterName())
			requireNoSecret(t, u.String())
			requireNoSecret(t, fmt.Sprintf("%v %+v %s", u, u, u))
			c := u.Client()
			defer c.Close()
			require.True(t, redisopt.ContextTimeoutEnabled(c), "ContextTimeoutEnabled is always on")
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestSentinelOptions(t *testing.T) {
	// The failover client's options are not readable back from the
	// client; check what the sentinels and the primary are asked for
	// through a server that is not there: nothing panics and the master
	// name is kept.
	u, err := redisurl.Parse("redis-sentinel://app:" + secret + "@127.0.0.1:1/mymaster?db=3&sentinel_password=sp&dial_timeout=50ms")
	require.NoError(t, err)
	require.Equal(t, "mymaster", u.MasterName())
	c := u.Client()
	defer c.Close()
	o := c.(*redis.Client).Options()
	require.Equal(t, 3, o.DB)
	require.Equal(t, "app", o.Username)
	require.Equal(t, secret, o.Password)
	require.True(t, o.ContextTimeoutEnabled)
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ name, raw, reason string }{
		{"empty", "", "want redis://"},
		{"no scheme", "127.0.0.1:6379", "want redis://"},
		{"unknown scheme", "http://127.0.0.1:6379", "unknown scheme"},
		{"no host", "redis://", "no host"},
		{"several hosts standalone", "redis://a:1,b:2/0", "redis-cluster://"},
		{"empty host in list", "redis-cluster://a:7000,,b:7001", "empty host"},
		{"bad port", "redis-cluster://a:7000,b:99999", "port must be"},
		{"port with letters", "redis://a:63x9/0", "port must be"},
		{"leading zero port", "redis://a:06379", "port must be"},
		{"bare ipv6", "redis://::1:6379", "brackets"},
		{"standalone bad db", "redis://a:6379/x", "invalid database number"},
		{"standalone unknown option", "redis://a:6379/0?frobnicate=1", "unexpected option"},
		{"cluster db", "redis-cluster://a:7000/3", "only database 0"},
		{"cluster db option", "redis-cluster://a:7000?db=1", "only database 0"},
		{"cluster addr option", "redis-cluster://a:7000?addr=b:7001", "addr option"},
		{"sentinel without master", "redis-sentinel://s1:26379,s2:26379", "master set"},
		{"sentinel master as option", "redis-sentinel://s1:26379/m?master_name=x", "master_name"},
		{"sentinel password option", "redis-sentinel://s1:26379/m?password=" + secret, "password option"},
		{"sentinel nested path", "redis-sentinel://s1:26379/m/0", "master set"},
		{"sentinel route randomly", "redis-sentinel://s1:26379/m?route_randomly=true", "route_"},
		{"fragment", "redis://a:6379/0#x", "fragment"},
		{"malformed userinfo", "redis://us%zzer:" + secret + "@a:6379", "malformed user:password"},
		{"malformed userinfo in cluster", "redis-cluster://u%:" + secret + "@a:7000", "malformed user:password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := redisurl.Parse(tc.raw)
			require.Error(t, err)
			require.Nil(t, u)
			require.ErrorIs(t, err, redisurl.ErrInvalid)
			require.Contains(t, err.Error(), tc.reason)
			requireNoSecret(t, err.Error())
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		{"redis://app:" + secret + "@h:6379/0", "redis://app:xxxxx@h:6379/0"},
		{"redis://:" + secret + "@h:6379", "redis://:xxxxx@h:6379"},
		{"redis://user@h", "redis://user@h"},
		{"redis://a:b@c:" + secret + "@h:1/0", "redis://a:xxxxx@h:1/0"},
		{"redis-cluster://app:" + secret + "@a:1,b:2", "redis-cluster://app:xxxxx@a:1,b:2"},
		{"redis-sentinel://s:1/m?sentinel_password=" + secret + "&db=1", "redis-sentinel://s:1/m?sentinel_password=xxxxx&db=1"},
		{"redis-sentinel://s:1/m?password=" + secret, "redis-sentinel://s:1/m?password=xxxxx"},
		{"redis://h:1/0?%70assword=" + secret, "redis://h:1/0?password=xxxxx"},
		{secret, "xxxxx"},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got := redisurl.Redact(tc.raw)
			require.Equal(t, tc.want, got)
			requireNoSecret(t, got)
			if u, err := redisurl.Parse(tc.raw); err == nil {
				require.Equal(t, tc.want, u.String())
			}
		})
	}
}

// A server that does not answer: Connect fails in time, and its error
// names the redacted URL only.
func TestConnectErrorsAreRedacted(t *testing.T) {
	for _, raw := range []string{
		"redis://app:" + secret + "@127.0.0.1:1/0?dial_timeout=100ms",
		"redis-cluster://app:" + secret + "@127.0.0.1:1?dial_timeout=100ms",
		"redis-sentinel://app:" + secret + "@127.0.0.1:1/m?dial_timeout=100ms&sentinel_password=" + secret,
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, u, err := redisurl.Open(ctx, raw)
		cancel()
		require.Error(t, err, raw)
		require.Nil(t, c)
		require.NotNil(t, u)
		require.Contains(t, err.Error(), "does not answer")
		require.Contains(t, err.Error(), "xxxxx")
		requireNoSecret(t, err.Error())
	}
	_, _, err := redisurl.Open(context.Background(), "redis://app:"+secret+"@h:1,b:2")
	require.True(t, errors.Is(err, redisurl.ErrInvalid))
	requireNoSecret(t, err.Error())
}

func requireNoSecret(t *testing.T, s string) {
	t.Helper()
	require.False(t, strings.Contains(s, "S3cr3t") || strings.Contains(s, "P4ss"), "a password leaked: %s", s)
}
