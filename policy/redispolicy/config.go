package redispolicy

import (
	"cmp"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/redisopt"
)

// Defaults and bounds for Config.
const (
	// DefaultPrefix starts every key and the change channel when
	// Config.Prefix is empty.
	DefaultPrefix = "msgsec:policy"
	// defaultTimeout bounds each List and Swap. A List reads every
	// connection (pipelined): a second covers thousands on a busy Redis.
	defaultTimeout = time.Second
	maxTimeout     = 30 * time.Second
	maxPrefixLen   = 64

	// MaxDocumentBytes bounds a stored document, as Load bounds a policy
	// file: a larger one is refused on write, and on read without being
	// fetched.
	MaxDocumentBytes = 1 << 20
)

// Config configures New.
type Config struct {
	// Client is the Redis connection: a *redis.Client (single node or
	// Sentinel failover) or a *redis.ClusterClient, with
	// ContextTimeoutEnabled set so that Timeout bounds every call. A
	// *redis.Ring is refused: its shards share no pub/sub, so instances
	// would miss changes. Required.
	Client redis.UniversalClient
	// Prefix starts every key and the change channel, so several
	// environments can share one Redis. 1 to 64 printable ASCII bytes, no
	// space, no braces (they form Cluster hash tags) and no glob
	// characters (* ? [ ] \), which SCAN MATCH would read as patterns.
	// Zero means DefaultPrefix.
	Prefix string
	// Timeout bounds each List and Swap (dial, pool wait, retries and
	// reply included). Zero means 1s; at most 30s. A caller's context with
	// an earlier deadline wins.
	Timeout time.Duration

	// WaitReplicas makes every write (Swap) wait, with Redis's WAIT on the
	// connection that ran it, until it has reached this many replicas
	// before it is reported as done. A write not acknowledged within
	// WaitTimeout fails with an error matching policy.ErrUnavailable — but
	// it may nonetheless have landed (on the primary, and on fewer
	// replicas): re-read before writing again; a retry that names the old
	// version then fails as a conflict, which tells. Zero (the default)
	// does not wait. See the package doc for what it guarantees across a
	// failover. Needs a *redis.Client (single node or Sentinel) or a
	// *redis.ClusterClient whose ReadTimeout is longer than WaitTimeout.
	WaitReplicas int
	// WaitTimeout bounds the wait: zero means 100ms; at least 1ms and
	// below Timeout.
	WaitTimeout time.Duration
}

// defaultWaitTimeout bounds a WAIT when Config.WaitTimeout is zero: a
// replica on the same network acknowledges in about a millisecond, and
// policy writes are rare.
const defaultWaitTimeout = 100 * time.Millisecond

// settings is a validated Config.
type settings struct {
	client       redis.UniversalClient
	prefix       string
	timeout      time.Duration
	waitReplicas int
	waitTimeout  time.Duration
}

func (cfg Config) validate() (settings, error) {
	var problems []*cfgerr.Error
	switch c := cfg.Client.(type) {
	case nil:
		problems = append(problems, problem("Client", "", "required"))
	case *redis.Ring:
		problems = append(problems, problem("Client", "", "a Ring's shards share no pub/sub: use a Client (single node or Sentinel) or a ClusterClient"))
	default:
		if !redisopt.ContextTimeoutEnabled(c) {
			problems = append(problems, problem("Client", "", "ContextTimeoutEnabled must be true so Timeout bounds every call"))
		}
	}
	s := settings{client: cfg.Client, prefix: cmp.Or(cfg.Prefix, DefaultPrefix), timeout: cmp.Or(cfg.Timeout, defaultTimeout)}
	if !validPrefix(s.prefix) {
		problems = append(problems, problem("Prefix", cfg.Prefix, "1 to 64 printable ascii bytes, no space, braces or glob characters (* ? [ ] \\)"))
	}
	if s.timeout < time.Millisecond || s.timeout > maxTimeout {
		problems = append(problems, problem("Timeout", cfg.Timeout.String(), "must be between 1ms and 30s (zero means 1s)"))
	}
	s.waitReplicas, s.waitTimeout = cfg.WaitReplicas, cmp.Or(cfg.WaitTimeout, defaultWaitTimeout)
	switch rt := redisopt.ReadTimeout(cfg.Client); {
	case cfg.WaitReplicas < 0 || cfg.WaitReplicas > 16:
		problems = append(problems, problem("WaitReplicas", strconv.Itoa(cfg.WaitReplicas), "must be between 0 and 16"))
	case cfg.WaitReplicas > 0 && cfg.Client != nil && !redisopt.Waitable(cfg.Client):
		problems = append(problems, problem("WaitReplicas", strconv.Itoa(cfg.WaitReplicas), "WAIT needs a *redis.Client (single node or Sentinel) or a *redis.ClusterClient"))
	case cfg.WaitReplicas > 0 && rt > 0 && rt <= s.waitTimeout:
		problems = append(problems, problem("WaitTimeout", s.waitTimeout.String(), "the client's ReadTimeout ("+rt.String()+") must be longer than WaitTimeout, or every slow replica retries the write"))
	}
	if cfg.WaitTimeout != 0 && (cfg.WaitTimeout < time.Millisecond || cfg.WaitTimeout >= s.timeout) {
		problems = append(problems, problem("WaitTimeout", cfg.WaitTimeout.String(), "must be at least 1ms and below Timeout"))
	} else if cfg.WaitReplicas > 0 && s.waitTimeout >= s.timeout {
		problems = append(problems, problem("WaitTimeout", s.waitTimeout.String(), "must be below Timeout ("+s.timeout.String()+")"))
	}
	return s, cfgerr.Join("redispolicy: invalid configuration", problems)
}

func problem(field, value, reason string) *cfgerr.Error {
	return &cfgerr.Error{Field: field, Value: value, Reason: reason, Kind: ErrConfig}
}

func validPrefix(p string) bool {
	if len(p) == 0 || len(p) > maxPrefixLen {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch b := p[i]; {
		case b <= ' ' || b >= 0x7f:
			return false
		case b == '{' || b == '}' || b == '*' || b == '?' || b == '[' || b == ']' || b == '\\':
			return false
		}
	}
	return true
}

// validID is policy's rule for connection IDs (a letter or digit, then
// letters, digits, '.', '_' or '-'; at most 64 bytes), so an ID can never
// close a hash tag or form a glob.
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		alnum := 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9'
		if !alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-')) {
			return false
		}
	}
	return true
}
