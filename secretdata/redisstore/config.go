package redisstore

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults and bounds for Config.
const (
	// DefaultPrefix starts every key this package writes.
	DefaultPrefix = "msgsec"
	// DefaultTimeout bounds each Redis call (dial, pool wait, retries,
	// reply included). A Redis on the same network answers in about a
	// millisecond; half a second leaves room for a busy server without
	// letting a dead one hold a chat request for long.
	DefaultTimeout = 500 * time.Millisecond

	maxPrefixLen = 64
	maxTimeout   = 30 * time.Second
	// minReplayTTL is the shortest life of a replay entry: a token recorded
	// at the edge of its validity is still refused for this long.
	minReplayTTL = time.Second
)

// Config configures NewReplayCache and NewStore. The zero value means the
// defaults.
type Config struct {
	// Prefix starts every key, so several applications (or environments)
	// can share one Redis. 1 to 64 printable ASCII bytes, no space and no
	// braces (a brace would form a Redis Cluster hash tag and pile every
	// key onto one slot). Default DefaultPrefix.
	Prefix string
	// Timeout bounds each call to Redis. Default DefaultTimeout, at most
	// 30s. A caller's context with an earlier deadline wins.
	Timeout time.Duration
	// Now is the clock that turns an expiry into a TTL. Default time.Now.
	Now func() time.Time
}

// settings is a validated Config.
type settings struct {
	prefix  string
	timeout time.Duration
	now     func() time.Time
}

func (cfg Config) validate(c redis.UniversalClient) (settings, error) {
	if c == nil {
		return settings{}, configErr("client", "nil")
	}
	if err := checkContextTimeout(c); err != nil {
		return settings{}, err
	}
	s := settings{prefix: cfg.Prefix, timeout: cfg.Timeout, now: cfg.Now}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if !validPrefix(s.prefix) {
		return settings{}, configErr("Prefix", "1 to 64 printable ascii bytes, no space or braces")
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.timeout < time.Millisecond || s.timeout > maxTimeout {
		return settings{}, configErr("Timeout", "must be between 1ms and 30s")
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// checkContextTimeout refuses the go-redis clients that would ignore our
// deadline: without ContextTimeoutEnabled they read and write with their own
// ReadTimeout/WriteTimeout (3s by default, per retry), so Config.Timeout
// would be a promise we could not keep. Other UniversalClient
// implementations are taken on trust.
func checkContextTimeout(c redis.UniversalClient) error {
	var enabled bool
	switch c := c.(type) {
	case *redis.Client:
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		enabled = c.Options().ContextTimeoutEnabled
	default:
		return nil
	}
	if !enabled {
		return configErr("client", "ContextTimeoutEnabled must be true so Timeout bounds every call")
	}
	return nil
}

func validPrefix(p string) bool {
	if len(p) == 0 || len(p) > maxPrefixLen {
		return false
	}
	for i := 0; i < len(p); i++ {
		if b := p[i]; b <= ' ' || b >= 0x7f || b == '{' || b == '}' {
			return false
		}
	}
	return true
}

// Key layout. Every key is the prefix, a kind, a short tag naming the
// issuer (replay) or connection (store), and a SHA-256 over the whole
// identity:
//
//	<prefix>:replay:<16 hex: issuer tag>:<64 hex: sha256(label, issuer, jti)>
//	<prefix>:sd:<16 hex: connection tag>:<64 hex: sha256(label, connection, session)>
//
// No byte of a jti, issuer, connection or session ID reaches a key, so
// user input can neither form nor probe a key, whatever it contains. The
// tag lets an operator SCAN one issuer's or connection's keys; the full
// hash alone decides identity, and its fields are length-prefixed, so
// ("a:b", "c") and ("a", "b:c") never meet. There are no hash tags: in a
// Redis Cluster the keys spread over every slot, and each command touches
// one key.
const (
	replayLabel = "msgsec/redisstore/replay/v1"
	storeLabel  = "msgsec/redisstore/secret-data/v1"
	tagLabel    = "msgsec/redisstore/tag/v1"
	tagHexLen   = 16
)

func replayKey(prefix, issuer, jti string) string {
	return buildKey(prefix, ":replay:", replayLabel, issuer, jti)
}

func storeKey(prefix, connection, session string) string {
	return buildKey(prefix, ":sd:", storeLabel, connection, session)
}

func buildKey(prefix, kind, label, owner, id string) string {
	tag := digest(tagLabel, owner, "")
	sum := digest(label, owner, id)
	b := make([]byte, 0, len(prefix)+len(kind)+tagHexLen+1+2*sha256.Size)
	b = append(b, prefix...)
	b = append(b, kind...)
	b = hex.AppendEncode(b, tag[:tagHexLen/2])
	b = append(b, ':')
	b = hex.AppendEncode(b, sum[:])
	return string(b)
}

// digest is SHA-256 over the label and two length-prefixed fields.
func digest(label, a, b string) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	h.Write([]byte(label))
	h.Write(binary.BigEndian.AppendUint64(n[:0], uint64(len(a))))
	h.Write([]byte(a))
	h.Write(binary.BigEndian.AppendUint64(n[:0], uint64(len(b))))
	h.Write([]byte(b))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}
