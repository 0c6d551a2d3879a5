package origin

import (
	"strings"
	"sync"
	"sync/atomic"
)

// siteMemo remembers the registrable domain of hosts that hit a wildcard,
// so the public-suffix check on wildcard hits (see matchWildcard) costs a
// map lookup and no allocation after the first time. x/net/publicsuffix
// allocates on every lookup; an allowed site has few hosts.
//
// Reads are lock-free (an immutable map behind an atomic pointer); a new
// host copies the map. It is bounded: past maxSiteMemo hosts (forged
// Origins can name any number), lookups are simply not remembered.
type siteMemo struct {
	m  atomic.Pointer[map[string]string]
	mu sync.Mutex
}

const maxSiteMemo = 1024

func (s *siteMemo) siteOf(host string) string {
	if m := s.m.Load(); m != nil {
		if site, ok := (*m)[host]; ok {
			return site
		}
	}
	site := siteOf(host, hostDNS)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m.Load()
	if old != nil && len(*old) >= maxSiteMemo {
		return site
	}
	next := make(map[string]string, 1+lenOf(old))
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	key := strings.Clone(host) // keep no reference to the request
	next[key] = key[len(key)-len(site):]
	s.m.Store(&next)
	return site
}

func lenOf(m *map[string]string) int {
	if m == nil {
		return 0
	}
	return len(*m)
}
