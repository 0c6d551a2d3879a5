package redispolicy

import (
	"cmp"
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
}

// settings is a validated Config.
type settings struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
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
