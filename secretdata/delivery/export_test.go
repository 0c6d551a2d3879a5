package delivery

import (
	"bytes"
	"time"
)

// Hooks for the external tests (package delivery_test).

// RawBytes returns every byte the store keeps, one slice per session.
func (s *MemoryStore) RawBytes() [][]byte {
	s.table().mu.Lock()
	defer s.table().mu.Unlock()
	var out [][]byte
	for _, e := range s.table().entries {
		out = append(out, bytes.Clone(e.sealed))
	}
	return out
}

// SetBackoff replaces the pause before each retry (tests do not wait).
func (c *Client) SetBackoff(f func(retry int) time.Duration) { c.backoff = f }

// Len drops expired entries and returns the number of live sessions.
func (s *MemoryStore) Len() int {
	t := s.table()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.evict(s.now().UnixNano())
	return len(t.entries)
}

// Held returns what the store holds right now, without dropping anything:
// entries, heap items and the bytes counted against MaxBytes.
func (s *MemoryStore) Held() (entries, heapItems, size int) {
	t := s.table()
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries), len(t.byExp), t.size
}

// EntryCost is what one entry for (connection, session) counts against
// MaxBytes, or -1 if there is none.
func (s *MemoryStore) EntryCost(connection, session string) int {
	t := s.table()
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[storeKey{connection, session}]
	if !ok {
		return -1
	}
	return e.cost()
}

// Consistent reports whether the heap, the map and the byte count agree.
func (s *MemoryStore) Consistent() bool {
	t := s.table()
	t.mu.Lock()
	defer t.mu.Unlock()
	size := 0
	for j, e := range t.byExp {
		if e.idx != j || t.entries[e.key] != e {
			return false
		}
		size += e.cost()
	}
	return len(t.byExp) == len(t.entries) && size == t.size
}

// CopySealed overwrites the sealed bytes kept for (toConn, toSess) with
// those of (fromConn, fromSess), as an attacker with write access to the
// backing memory might.
func (s *MemoryStore) CopySealed(fromConn, fromSess, toConn, toSess string) {
	t := s.table()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.entries[storeKey{toConn, toSess}].sealed = bytes.Clone(t.entries[storeKey{fromConn, fromSess}].sealed)
}

// ScrubError is what the Handler does to an error before an Event carries
// it: the session ID in its text becomes the session's hash.
var ScrubError = scrubError
