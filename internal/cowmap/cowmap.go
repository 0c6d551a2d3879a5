// Package cowmap is a bounded map for hot paths that read far more often
// than they write: reads are lock-free and allocation-free (an immutable
// map behind an atomic pointer), a write copies the map under a lock, and
// once Max entries are held further writes are dropped (the caller simply
// computes again). msgsec uses it to remember work whose inputs an attacker
// can vary, so it must stay bounded.
package cowmap

import (
	"sync"
	"sync/atomic"
)

// Map is safe for concurrent use. The zero value is not usable; use New.
type Map[K comparable, V any] struct {
	max int
	m   atomic.Pointer[map[K]V]
	mu  sync.Mutex
}

// New returns an empty map that holds at most max entries.
func New[K comparable, V any](max int) *Map[K, V] { return &Map[K, V]{max: max} }

// Get returns the value of k.
func (c *Map[K, V]) Get(k K) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// Add stores v under k unless the map is full or k is already there.
func (c *Map[K, V]) Add(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	n := 0
	if old != nil {
		if _, ok := (*old)[k]; ok {
			return
		}
		n = len(*old)
	}
	if n >= c.max {
		return
	}
	next := make(map[K]V, n+1)
	if old != nil {
		for kk, vv := range *old {
			next[kk] = vv
		}
	}
	next[k] = v
	c.m.Store(&next)
}

// Len reports how many entries are held.
func (c *Map[K, V]) Len() int {
	if m := c.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// Range calls f for each entry of a snapshot of the map.
func (c *Map[K, V]) Range(f func(K, V)) {
	if m := c.m.Load(); m != nil {
		for k, v := range *m {
			f(k, v)
		}
	}
}
