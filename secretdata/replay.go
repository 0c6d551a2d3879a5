package secretdata

import (
	"cmp"
	"context"
	"hash/maphash"
	"strconv"
	"sync"
	"time"

	"github.com/msgsec/msgsec/cfgerr"
)

// ReplayCache records each accepted token's (issuer, jti) pair until the
// token expires, so the same token (or any token reusing its jti) is
// accepted at most once.
//
// Record must be atomic: it returns nil the first time it sees the pair, an
// error wrapping ErrReplayed if the pair is already recorded, and an error
// wrapping ErrReplayCheckUnavailable when it cannot answer (backend down,
// cache full). A Verifier refuses the token on any non-nil error.
type ReplayCache interface {
	Record(ctx context.Context, issuer, jti string, expires time.Time) error
}

// defaultReplayCacheEntries is the default bound of the in-memory cache.
// At roughly 100 bytes an entry it costs about 100 MiB when full, and holds
// 1,000 tokens a second for a 15-minute maximum lifetime.
const defaultReplayCacheEntries = 1 << 20

const replayShards = 16

// MemoryReplayCacheConfig configures NewMemoryReplayCache.
type MemoryReplayCacheConfig struct {
	// MaxEntries bounds the cache; when it is full of unexpired entries,
	// Record fails closed with ErrReplayCheckUnavailable. Zero means 1<<20
	// (about 100 MiB when full: 1,000 tokens a second for a 15-minute
	// maximum lifetime); at least 16.
	MaxEntries int
	// Now is the clock used to expire entries. Default time.Now.
	Now func() time.Time
}

// MemoryReplayCache is a bounded, in-process ReplayCache, safe for
// concurrent use. It suits a single chat-server instance; several instances
// need a shared cache (see the Redis adapter). Entries are keyed on
// issuer + jti, never on the token text, so a re-encoded token cannot slip
// past it. Expired entries are evicted in expiry order as new ones arrive.
type MemoryReplayCache struct {
	now    func() time.Time
	perCap int
	seed   maphash.Seed
	shards [replayShards]replayShard
}

type replayShard struct {
	mu      sync.Mutex
	entries map[replayKey]int64 // expiry, unix nanoseconds
	byExp   expiryHeap
}

type replayKey struct{ issuer, jti string }

type expiryEntry struct {
	key replayKey
	exp int64
}

// expiryHeap is a binary min-heap on exp, written out (rather than through
// container/heap) so pushing does not box every entry in an interface.
type expiryHeap []expiryEntry

func (h *expiryHeap) push(e expiryEntry) {
	*h = append(*h, e)
	a := *h
	for i := len(a) - 1; i > 0; {
		parent := (i - 1) / 2
		if a[parent].exp <= a[i].exp {
			break
		}
		a[parent], a[i] = a[i], a[parent]
		i = parent
	}
}

func (h *expiryHeap) pop() expiryEntry {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a[last] = expiryEntry{} // drop the strings for the GC
	a = a[:last]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < len(a) && a[l].exp < a[small].exp {
			small = l
		}
		if r := l + 1; r < len(a) && a[r].exp < a[small].exp {
			small = r
		}
		if small == i {
			break
		}
		a[i], a[small] = a[small], a[i]
		i = small
	}
	*h = a
	return top
}

// NewMemoryReplayCache returns an empty cache. A problem of cfg is
// reported as ErrConfig.
func NewMemoryReplayCache(cfg MemoryReplayCacheConfig) (*MemoryReplayCache, error) {
	maxEntries := cmp.Or(cfg.MaxEntries, defaultReplayCacheEntries)
	if maxEntries < replayShards {
		return nil, cfgerr.Join("secretdata: invalid replay cache configuration",
			[]*cfgerr.Error{problem("MaxEntries", strconv.Itoa(cfg.MaxEntries), "must be at least 16 (zero means 1<<20)")})
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return newMemoryReplayCache(maxEntries, cfg.Now), nil
}

func newMemoryReplayCache(maxEntries int, now func() time.Time) *MemoryReplayCache {
	c := &MemoryReplayCache{now: now, perCap: maxEntries / replayShards, seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].entries = make(map[replayKey]int64)
	}
	return c
}

// Record implements ReplayCache.
func (c *MemoryReplayCache) Record(_ context.Context, issuer, jti string, expires time.Time) error {
	now := c.now().UnixNano()
	k := replayKey{issuer, jti}
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(issuer)
	h.WriteByte(0)
	h.WriteString(jti)
	s := &c.shards[h.Sum64()%replayShards]

	s.mu.Lock()
	defer s.mu.Unlock()
	s.evict(now)
	if exp, ok := s.entries[k]; ok && exp > now {
		return ErrReplayed
	}
	if len(s.entries) >= c.perCap {
		return ErrReplayCheckUnavailable
	}
	e := expires.UnixNano()
	s.entries[k] = e
	s.byExp.push(expiryEntry{k, e})
	return nil
}

// evict drops entries whose expiry has passed, oldest first. Each Record
// evicts what has expired since the last one, so the work is amortised
// O(log n) per insert.
func (s *replayShard) evict(now int64) {
	for len(s.byExp) > 0 && s.byExp[0].exp <= now {
		e := s.byExp.pop()
		if cur, ok := s.entries[e.key]; ok && cur == e.exp {
			delete(s.entries, e.key)
		}
	}
}
