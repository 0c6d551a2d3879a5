package redisstore

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/redisopt"
)

// Defaults and bounds for Config.
const (
	// defaultPrefix starts every key this package writes.
	defaultPrefix = "msgsec"
	// defaultTimeout bounds each Redis call (dial, pool wait, retries,
	// reply included). A Redis on the same network answers in about a
	// millisecond; half a second leaves room for a busy server without
	// letting a dead one hold a chat request for long.
	defaultTimeout = 500 * time.Millisecond

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
	// key onto one slot). Zero means "msgsec".
	Prefix string
	// Timeout bounds each call to Redis (dial, pool wait, retries and
	// reply included). Zero means 500ms, enough for a busy Redis on the
	// same network without letting a dead one hold a chat request for
	// long; at most 30s. A caller's context with an earlier deadline wins.
	Timeout time.Duration
	// Now is the clock that turns an expiry into a TTL. Default time.Now.
	Now func() time.Time

	// WaitReplicas (replay cache only) makes Record wait, with Redis's
	// WAIT, until its entry has reached this many replicas before a token
	// is accepted; an entry not acknowledged within WaitTimeout refuses
	// the token as ErrReplayCheckUnavailable (the 503), never accepts it.
	// Zero (the default) does not wait. See the package doc for what it
	// guarantees across a failover and what it does not. Not for a
	// *redis.Ring or other client types: a *redis.Client (single node or
	// Sentinel) or *redis.ClusterClient, whose ReadTimeout is longer than
	// WaitTimeout.
	WaitReplicas int
	// WaitTimeout bounds the wait: zero means 50ms; at least 1ms and
	// below Timeout.
	WaitTimeout time.Duration
}

// settings is a validated Config.
type settings struct {
	prefix       string
	timeout      time.Duration
	now          func() time.Time
	waitReplicas int
	waitTimeout  time.Duration
}

// defaultWaitTimeout bounds a WAIT when Config.WaitTimeout is zero: a
// replica on the same network acknowledges in about a millisecond.
const defaultWaitTimeout = 50 * time.Millisecond

// validate checks c and cfg and records every problem (Field "client" for
// c, the Config field otherwise).
func (cfg Config) validate(c redis.UniversalClient) (settings, []*cfgerr.Error) {
	var problems []*cfgerr.Error
	switch {
	case c == nil:
		problems = append(problems, cfgProblem("client", "", "required"))
	case !redisopt.ContextTimeoutEnabled(c):
		problems = append(problems, cfgProblem("client", "", "ContextTimeoutEnabled must be true so Timeout bounds every call"))
	}
	s := settings{prefix: cmp.Or(cfg.Prefix, defaultPrefix), timeout: cmp.Or(cfg.Timeout, defaultTimeout), now: cfg.Now}
	if !validPrefix(s.prefix) {
		problems = append(problems, cfgProblem("Prefix", cfg.Prefix, "1 to 64 printable ascii bytes, no space or braces"))
	}
	if s.timeout < time.Millisecond || s.timeout > maxTimeout {
		problems = append(problems, cfgProblem("Timeout", cfg.Timeout.String(), "must be between 1ms and 30s (zero means 500ms)"))
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.waitReplicas, s.waitTimeout = cfg.WaitReplicas, cmp.Or(cfg.WaitTimeout, defaultWaitTimeout)
	switch {
	case cfg.WaitReplicas < 0 || cfg.WaitReplicas > 16:
		problems = append(problems, cfgProblem("WaitReplicas", strconv.Itoa(cfg.WaitReplicas), "must be between 0 and 16"))
	case cfg.WaitReplicas > 0 && !redisopt.Waitable(c):
		problems = append(problems, cfgProblem("WaitReplicas", strconv.Itoa(cfg.WaitReplicas), "WAIT needs a *redis.Client (single node or Sentinel) or a *redis.ClusterClient"))
	case cfg.WaitReplicas > 0 && redisopt.ReadTimeout(c) > 0 && redisopt.ReadTimeout(c) <= s.waitTimeout:
		problems = append(problems, cfgProblem("WaitTimeout", s.waitTimeout.String(), "the client's ReadTimeout ("+redisopt.ReadTimeout(c).String()+") must be longer than WaitTimeout, or every slow replica retries the record"))
	}
	if cfg.WaitTimeout != 0 && (cfg.WaitTimeout < time.Millisecond || cfg.WaitTimeout >= s.timeout) {
		problems = append(problems, cfgProblem("WaitTimeout", cfg.WaitTimeout.String(), "must be at least 1ms and below Timeout"))
	} else if cfg.WaitReplicas > 0 && s.waitTimeout >= s.timeout {
		problems = append(problems, cfgProblem("WaitTimeout", s.waitTimeout.String(), "must be below Timeout ("+s.timeout.String()+")"))
	}
	return s, problems
}

func cfgProblem(field, value, reason string) *cfgerr.Error {
	return &cfgerr.Error{Field: field, Value: value, Reason: reason, Kind: ErrConfig}
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
