package delivery

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/secretdata"
)

// Defaults for MemoryStoreConfig.
const (
	defaultMaxEntries = 100_000
	defaultMaxBytes   = 256 << 20
	// entryOverhead approximates an entry's bookkeeping (map slot, heap
	// slot, struct) in the byte budget.
	entryOverhead = 128
)

// MemoryStoreConfig configures NewMemoryStore. The zero value means the
// defaults.
type MemoryStoreConfig struct {
	// MaxEntries bounds the number of sessions held. Zero means 100,000.
	MaxEntries int
	// MaxBytes bounds the sealed bytes held, plus IDs and a fixed
	// per-entry overhead. Zero means 256 MiB.
	MaxBytes int
	// Now is the clock (tests pin it). Default time.Now.
	Now func() time.Time
}

// MemoryStore is a bounded, in-process Store, safe for concurrent use. It
// suits one chat-server instance; several need a shared store (the Redis
// adapter).
//
// Data is sealed with a Sealer before it enters the map, so the map holds
// only ciphertext bound to its (connection, session). When the store is
// full of live sessions, Put fails with ErrStoreFull (which matches
// ErrStoreUnavailable): it never evicts a live session to make room.
// Expired entries are dropped in expiry order on every call (amortised
// O(log n) each), and Get never returns one, so there is no background
// goroutine and nothing to close.
type MemoryStore struct {
	sealer     *Sealer
	now        func() time.Time
	maxEntries int
	maxBytes   int
	// table holds the entries behind a closure: they are keyed by session
	// IDs, which must not print with a MemoryStore (fmt shows fields
	// through a pointer under a verb that does not fit, such as %s on a
	// struct holding a MemoryStore in an unexported field, but a func only
	// as an address). It also keeps the mutex out of MemoryStore, so its
	// redacting methods take values.
	table func() *memTable
}

type memTable struct {
	mu      sync.Mutex
	entries map[storeKey]*entry
	byExp   expiryHeap
	size    int // bytes counted against maxBytes
}

type storeKey struct{ connection, session string }

type entry struct {
	key    storeKey
	sealed []byte // never modified in place: Put swaps in a new slice
	exp    int64  // unix nanoseconds
	idx    int    // position in byExp
}

func (e *entry) cost() int {
	return len(e.sealed) + len(e.key.connection) + len(e.key.session) + entryOverhead
}

// NewMemoryStore returns an empty store that seals its data with key, 32
// random bytes (see NewSealer; kept out of source and logs). It reports
// every problem of key and cfg at once (see ErrConfig); the key is never
// quoted.
func NewMemoryStore(key []byte, cfg MemoryStoreConfig) (*MemoryStore, error) {
	problems := checkKey(nil, "key", key)
	maxEntries := cmp.Or(cfg.MaxEntries, defaultMaxEntries)
	if maxEntries < 0 {
		problems = append(problems, cfgProblem("MaxEntries", strconv.Itoa(cfg.MaxEntries), "must be positive (zero means 100,000)"))
	}
	maxBytes := cmp.Or(cfg.MaxBytes, defaultMaxBytes)
	if maxBytes < 0 {
		problems = append(problems, cfgProblem("MaxBytes", strconv.Itoa(cfg.MaxBytes), "must be positive (zero means 256 MiB)"))
	}
	if err := cfgerr.Join("delivery: invalid memory store configuration", problems); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	t := &memTable{entries: make(map[storeKey]*entry)}
	return &MemoryStore{
		sealer: newSealer(key), now: cfg.Now, maxEntries: maxEntries, maxBytes: maxBytes,
		table: func() *memTable { return t },
	}, nil
}

// Put implements Store. Sealing happens before the lock is taken.
func (s *MemoryStore) Put(ctx context.Context, connection, session string, claims *secretdata.Claims, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkPut(connection, session, claims, ttl); err != nil {
		return err
	}
	now := s.now()
	expires := now.Add(ttl)
	sealed, err := s.sealer.SealClaims(connection, session, claims, expires)
	if err != nil {
		return err
	}
	next := &entry{key: storeKey{connection, session}, sealed: sealed, exp: expires.UnixNano()}

	t := s.table()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.evict(now.UnixNano())
	prev, replacing := t.entries[next.key]
	size := t.size + next.cost()
	if replacing {
		size -= prev.cost()
	}
	if (!replacing && len(t.entries) >= s.maxEntries) || size > s.maxBytes {
		return fmt.Errorf("%w (max %d entries, %d bytes)", ErrStoreFull, s.maxEntries, s.maxBytes)
	}
	t.size = size
	if replacing {
		prev.sealed, prev.exp = next.sealed, next.exp
		heap.Fix(&t.byExp, prev.idx)
		return nil
	}
	t.entries[next.key] = next
	heap.Push(&t.byExp, next)
	return nil
}

// Get implements Store. Decryption happens after the lock is released.
func (s *MemoryStore) Get(ctx context.Context, connection, session string) (*secretdata.Claims, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !ValidID(connection) || !ValidID(session) {
		return nil, ErrInvalidID
	}
	now := s.now()
	t := s.table()
	t.mu.Lock()
	t.evict(now.UnixNano())
	e, ok := t.entries[storeKey{connection, session}]
	var sealed []byte
	if ok {
		sealed = e.sealed
	}
	t.mu.Unlock()
	if !ok {
		return nil, ErrNotFound
	}
	return s.sealer.OpenClaims(connection, session, sealed, now)
}

// Delete implements Store.
func (s *MemoryStore) Delete(ctx context.Context, connection, session string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := s.table()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.evict(s.now().UnixNano())
	if e, ok := t.entries[storeKey{connection, session}]; ok {
		t.remove(e)
	}
	return nil
}

// evict drops entries whose deadline is not after now, soonest first.
func (t *memTable) evict(now int64) {
	for len(t.byExp) > 0 && t.byExp[0].exp <= now {
		t.remove(t.byExp[0])
	}
}

func (t *memTable) remove(e *entry) {
	heap.Remove(&t.byExp, e.idx)
	delete(t.entries, e.key)
	t.size -= e.cost()
}

// expiryHeap orders entries by deadline; each entry tracks its index so
// replace and delete are O(log n) and the heap never holds stale entries.
type expiryHeap []*entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].exp < h[j].exp }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.idx = len(*h)
	*h = append(*h, e)
}
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
