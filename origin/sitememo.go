package origin

import (
	"strings"

	"github.com/msgsec/msgsec/internal/cowmap"
)

// maxSiteMemo bounds the hosts whose registrable domain a matcher
// remembers: forged Origins can name any number of them.
const maxSiteMemo = 1024

// siteMemo remembers the registrable domain of hosts that hit a wildcard,
// so the public-suffix check on wildcard hits (see sameOwner) costs a map
// lookup and no allocation after the first time: x/net/publicsuffix
// allocates on every lookup, and an allowed site has few hosts.
type siteMemo struct{ m *cowmap.Map[string, string] }

func newSiteMemo() *siteMemo { return &siteMemo{m: cowmap.New[string, string](maxSiteMemo)} }

func (s *siteMemo) siteOf(host string) string {
	if site, ok := s.m.Get(host); ok {
		return site
	}
	site := siteOf(host, hostDNS)
	key := strings.Clone(host) // keep no reference to the request
	s.m.Add(key, key[len(key)-len(site):])
	return site
}
