package admin

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Entry is one audited change: who made it, when, to which connection,
// and the connection before and after (as the API shows it: never a
// secret).
type Entry struct {
	Time       time.Time       `json:"time"`
	Principal  string          `json:"principal"`
	Connection string          `json:"connection"`
	Action     string          `json:"action"`
	Detail     string          `json:"detail,omitempty"`
	Version    uint64          `json:"version,omitempty"`
	Before     *ConnectionView `json:"before,omitempty"`
	After      *ConnectionView `json:"after,omitempty"`
}

// Refusal is an origin a report-only connection would have refused, and
// how many times it was seen in the window.
type Refusal struct {
	Origin string `json:"origin"`
	Count  int64  `json:"count"`
}

// Journal keeps the audit trail and the roll-out counts of refused
// origins, shared by every instance ([NewMemoryJournal] for one process;
// package admin/redisadmin for a fleet). Implementations bound what they
// keep.
type Journal interface {
	// Record appends an audit entry.
	Record(ctx context.Context, e Entry) error
	// Entries returns up to limit entries, newest first; of one
	// connection, or of all when connection is "".
	Entries(ctx context.Context, connection string, limit int) ([]Entry, error)
	// AddRefusals adds counts of refused origins seen for connection in
	// the hour that starts at hour.
	AddRefusals(ctx context.Context, connection string, hour time.Time, counts map[string]int64) error
	// Refusals returns the most refused origins of connection in the
	// hour that starts at hour, most first, at most limit.
	Refusals(ctx context.Context, connection string, hour time.Time, limit int) ([]Refusal, error)
}

// Bounds of a MemoryJournal (and of the Redis one).
const (
	// MaxEntries is the number of audit entries kept (the oldest go).
	MaxEntries = 10000
	// MaxOriginsPerHour bounds the distinct origins counted per
	// connection and hour; later ones are counted under OtherOrigins.
	MaxOriginsPerHour = 1000
	// OtherOrigins counts the refusals of origins past the bound.
	OtherOrigins = "(other origins)"
)

// MemoryJournal is a Journal in process memory.
type MemoryJournal struct {
	mu      sync.Mutex
	entries []Entry // oldest first, at most MaxEntries
	counts  map[refusalKey]map[string]int64
}

type refusalKey struct {
	conn string
	hour int64
}

// NewMemoryJournal returns an empty MemoryJournal.
func NewMemoryJournal() *MemoryJournal {
	return &MemoryJournal{counts: map[refusalKey]map[string]int64{}}
}

// Record implements Journal.
func (m *MemoryJournal) Record(_ context.Context, e Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) == MaxEntries {
		copy(m.entries, m.entries[1:])
		m.entries = m.entries[:MaxEntries-1]
	}
	m.entries = append(m.entries, e)
	return nil
}

// Entries implements Journal.
func (m *MemoryJournal) Entries(_ context.Context, connection string, limit int) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Entry
	for i := len(m.entries) - 1; i >= 0 && len(out) < limit; i-- {
		if connection == "" || m.entries[i].Connection == connection {
			out = append(out, m.entries[i])
		}
	}
	return out, nil
}

// AddRefusals implements Journal. Hours older than two are dropped.
func (m *MemoryJournal) AddRefusals(_ context.Context, connection string, hour time.Time, counts map[string]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := hour.Unix()
	for k := range m.counts {
		if k.hour < h-2*3600 {
			delete(m.counts, k)
		}
	}
	key := refusalKey{connection, h}
	c := m.counts[key]
	if c == nil {
		c = map[string]int64{}
		m.counts[key] = c
	}
	for o, n := range counts {
		if _, ok := c[o]; !ok && o != OtherOrigins && len(c) >= MaxOriginsPerHour {
			o = OtherOrigins
		}
		c[o] += n
	}
	return nil
}

// Refusals implements Journal.
func (m *MemoryJournal) Refusals(_ context.Context, connection string, hour time.Time, limit int) ([]Refusal, error) {
	m.mu.Lock()
	c := m.counts[refusalKey{connection, hour.Unix()}]
	out := make([]Refusal, 0, len(c))
	for o, n := range c {
		out = append(out, Refusal{Origin: o, Count: n})
	}
	m.mu.Unlock()
	return topRefusals(out, limit), nil
}

// topRefusals sorts by count (then origin) and keeps limit.
func topRefusals(rs []Refusal, limit int) []Refusal {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Count != rs[j].Count {
			return rs[i].Count > rs[j].Count
		}
		return rs[i].Origin < rs[j].Origin
	})
	if len(rs) > limit {
		rs = rs[:limit]
	}
	return rs
}
