package redisstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/secretdata/delivery"
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
		cfg    Config
		field  string // "" means accepted
	}{
		{"defaults", good, Config{}, ""},
		{"all set", good, Config{Prefix: "chat:prod", Timeout: time.Second, Now: time.Now}, ""},
		{"nil client", nil, Config{}, "client"},
		{"client ignores context deadlines", unusedClient(t, false), Config{}, "client"},
		{"cluster client ignores context deadlines", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}}), Config{}, "client"},
		{"prefix with hash tag brace", good, Config{Prefix: "msgsec{x}"}, "Prefix"},
		{"prefix with space", good, Config{Prefix: "msg sec"}, "Prefix"},
		{"prefix with control byte", good, Config{Prefix: "msg\nsec"}, "Prefix"},
		{"prefix with non-ascii", good, Config{Prefix: "msgsé"}, "Prefix"},
		{"prefix too long", good, Config{Prefix: strings.Repeat("p", 65)}, "Prefix"},
		{"prefix at the limit", good, Config{Prefix: strings.Repeat("p", 64)}, ""},
		{"negative timeout", good, Config{Timeout: -time.Second}, "Timeout"},
		{"timeout below 1ms", good, Config{Timeout: time.Microsecond}, "Timeout"},
		{"timeout above 30s", good, Config{Timeout: time.Minute}, "Timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rerr := NewReplayCache(tc.client, tc.cfg)
			_, serr := NewStore(tc.client, testKey, tc.cfg)
			for _, err := range []error{rerr, serr} {
				if tc.field == "" {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					continue
				}
				var ce *ConfigError
				if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, ErrConfig) {
					t.Fatalf("got %v, want a ConfigError on %s", err, tc.field)
				}
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
			if _, err := NewStore(c, tc.key, Config{}); !errors.Is(err, delivery.ErrConfig) {
				t.Fatalf("got %v, want delivery.ErrConfig", err)
			}
		})
	}
}

func TestKeyLayout(t *testing.T) {
	const p = "pfx"
	for _, tc := range []struct {
		name     string
		a, b     string
		distinct bool
	}{
		{"same identity, same key", replayKey(p, "iss", "jti"), replayKey(p, "iss", "jti"), false},
		{"replay: field boundary is not ambiguous", replayKey(p, "a:b", "c"), replayKey(p, "a", "b:c"), true},
		{"replay: empty field is not ambiguous", replayKey(p, "ab", ""), replayKey(p, "a", "b"), true},
		{"replay: issuer separates", replayKey(p, "iss1", "jti"), replayKey(p, "iss2", "jti"), true},
		{"replay: prefix separates", replayKey("p1", "iss", "jti"), replayKey("p2", "iss", "jti"), true},
		{"store: field boundary is not ambiguous", storeKey(p, "a:b", "c"), storeKey(p, "a", "b:c"), true},
		{"store: session separates", storeKey(p, "conn", "s1"), storeKey(p, "conn", "s2"), true},
		{"replay and store never share a key", replayKey(p, "x", "y"), storeKey(p, "x", "y"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.a != tc.b) != tc.distinct {
				t.Fatalf("%q vs %q: distinct = %v, want %v", tc.a, tc.b, tc.a != tc.b, tc.distinct)
			}
		})
	}
}

// TestKeysHideIdentity checks that no input byte sequence reaches a key,
// including inputs shaped like key syntax or Redis hash tags.
func TestKeysHideIdentity(t *testing.T) {
	for _, tc := range []struct{ name, owner, id string }{
		{"plain", "https://bank.example", "jti-AAAAAAAAAAAAAAAAAAAAAA"},
		{"hash tag", "{slot}", "{slot}"},
		{"key syntax", "msgsec:replay:", "*:?[]"},
		{"newline injection", "iss\r\nFLUSHALL", "x\r\nDEL *"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{replayKey("pfx", tc.owner, tc.id), storeKey("pfx", tc.owner, tc.id)} {
				if n, ok := containsAny(k, tc.owner, tc.id); ok {
					t.Errorf("key %q contains input %q", k, n)
				}
				if strings.ContainsAny(k, "{}\r\n *?[]") {
					t.Errorf("key %q has a byte outside the layout", k)
				}
			}
		})
	}
	// One issuer's keys share their tag, so an operator can scan them.
	a, b := replayKey("pfx", "iss", "j1"), replayKey("pfx", "iss", "j2")
	if a[:len("pfx:replay:")+tagHexLen] != b[:len("pfx:replay:")+tagHexLen] {
		t.Errorf("keys of one issuer have different tags: %q %q", a, b)
	}
}
