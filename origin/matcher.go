package origin

import (
	"github.com/msgsec/msgsec/cfgerr"
	"math/bits"
	"strconv"
	"strings"
)

// Reason says why an origin was or was not allowed.
type Reason uint8

const (
	// ReasonAllowed: a pattern admitted the origin.
	ReasonAllowed Reason = iota
	// ReasonEmpty: the value is empty (or the header is missing).
	ReasonEmpty
	// ReasonNull: the opaque origin "null".
	ReasonNull
	// ReasonMalformed: not an origin at all (a path, userinfo, bad bytes...).
	ReasonMalformed
	// ReasonNotCanonical: an origin, but not as a browser serialises it
	// (uppercase, default port written out, trailing dot, Unicode host...).
	ReasonNotCanonical
	// ReasonScheme: the scheme is not http or https, or no pattern admits
	// the host with this scheme.
	ReasonScheme
	// ReasonPort: the port is invalid, or no pattern admits the host on
	// this port.
	ReasonPort
	// ReasonNoMatch: a well-formed origin that no pattern admits.
	ReasonNoMatch
)

var reasonNames = [...]string{
	ReasonAllowed:      "allowed",
	ReasonEmpty:        "empty",
	ReasonNull:         "null",
	ReasonMalformed:    "malformed",
	ReasonNotCanonical: "not canonical",
	ReasonScheme:       "scheme",
	ReasonPort:         "port",
	ReasonNoMatch:      "no matching pattern",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// Decision is the outcome of Explain, made to be logged.
type Decision struct {
	// Origin is the value that was checked, as given.
	Origin string
	// Allowed reports whether a pattern admitted it.
	Allowed bool
	// Pattern is the normalised pattern that admitted the origin, or, for a
	// denial, the pattern the Detail refers to (may be empty).
	Pattern string
	// Reason classifies the outcome.
	Reason Reason
	// Detail says it in words.
	Detail string
}

// String renders the decision on one line; the origin is quoted, so control
// bytes in a hostile value cannot forge log lines.
func (d Decision) String() string {
	o := d.Origin
	if len(o) > maxOriginLen {
		o = o[:maxOriginLen] + "..."
	}
	if d.Allowed {
		return strconv.Quote(o) + " allowed by " + d.Pattern + " (" + d.Detail + ")"
	}
	return strconv.Quote(o) + " denied: " + d.Reason.String() + ": " + d.Detail
}

// Option configures a Matcher.
type Option func(*config)

type config struct {
	sameSite bool
}

// SameSite makes every entry admit each origin with the same scheme and the
// same registrable domain (eTLD+1, from the public suffix list), on any port:
// https://www.uplusbank.com then also admits https://account.uplusbank.com
// and https://uplusbank.com:8443, but not http://www.uplusbank.com nor
// https://www.uplus.com. Hosts without a registrable domain (IP addresses,
// localhost, a public suffix) are their own site.
func SameSite() Option { return func(c *config) { c.sameSite = true } }

// hostKey indexes exact hosts on any port.
type hostKey struct {
	host   string
	port   int32
	scheme scheme
}

// siteKey indexes same-site entries.
type siteKey struct {
	site   string
	scheme scheme
}

// Matcher is a compiled, immutable origin allowlist. It is safe for
// concurrent use.
type Matcher struct {
	patterns []pattern
	sameSite bool

	anyIdx int32                  // index of "*", or -1
	exact  map[string]int32       // whole canonical origin -> pattern index
	hosts  map[hostKey]int32      // exact hosts on any port (":*")
	wild   map[string][]wildEntry // wildcard suffix -> its patterns
	sites  map[siteKey]int32      // same-site mode only
	wildN  uint64                 // bit n set: some wildcard suffix has n labels
	memo   *siteMemo              // registrable domains of wildcard hits
	_      [0]func()              // not comparable
}

// wildEntry is one wildcard pattern under a suffix; a suffix rarely has
// more than one or two (schemes, ports), so they are scanned.
type wildEntry struct {
	idx    int32
	port   int32
	scheme scheme
}

// NewMatcher validates and compiles patterns (see the package doc for the
// grammar). Every invalid or duplicate entry is reported at once: the
// error holds one *cfgerr.Error per entry (Field "[i]", walk them with
// cfgerr.All), each matching ErrInvalidPattern. An empty list yields a
// matcher that allows nothing.
func NewMatcher(patterns []string, opts ...Option) (*Matcher, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	m := &Matcher{
		patterns: make([]pattern, 0, len(patterns)),
		sameSite: cfg.sameSite,
		anyIdx:   -1,
		exact:    make(map[string]int32),
		hosts:    make(map[hostKey]int32),
		wild:     make(map[string][]wildEntry),
		memo:     newSiteMemo(),
	}
	if cfg.sameSite {
		m.sites = make(map[siteKey]int32)
	}
	var problems []*cfgerr.Error
	seen := make(map[string]int, len(patterns))
	for i, s := range patterns {
		p, reason := parsePattern(s)
		if reason == "" {
			if first, dup := seen[p.norm]; dup {
				reason = "duplicate of entry " + strconv.Itoa(first) + " (" + p.norm + ")"
			}
		}
		if reason != "" {
			problems = append(problems, &cfgerr.Error{Field: "[" + strconv.Itoa(i) + "]", Value: s, Reason: reason, Kind: ErrInvalidPattern})
			continue
		}
		seen[p.norm] = i
		m.add(p)
	}
	if err := cfgerr.Join("origin: invalid patterns", problems); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Matcher) add(p pattern) {
	idx := int32(len(m.patterns))
	m.patterns = append(m.patterns, p)
	setIfAbsent := func(k hostKey) {
		if _, ok := m.hosts[k]; !ok {
			m.hosts[k] = idx
		}
	}
	switch p.kind {
	case kindAny:
		m.anyIdx = idx
		return
	case kindExact:
		if p.port == portAny {
			setIfAbsent(hostKey{host: p.host, port: portAny, scheme: p.scheme})
		} else {
			m.exact[p.norm] = idx
		}
	case kindWildcard:
		m.wild[p.host] = append(m.wild[p.host], wildEntry{idx: idx, port: p.port, scheme: p.scheme})
		if n := strings.Count(p.host, ".") + 1; n < 64 {
			m.wildN |= 1 << n
		}
	}
	if m.sites != nil {
		k := siteKey{site: p.site(), scheme: p.scheme}
		if _, ok := m.sites[k]; !ok {
			m.sites[k] = idx
		}
	}
}

// Allows reports whether origin, a request's Origin header value, is
// admitted. It does not allocate and is safe for concurrent use. A nil
// Matcher allows nothing.
func (m *Matcher) Allows(origin string) bool {
	_, r, _ := m.match(origin)
	return r == ReasonAllowed
}

// match returns the index of the admitting pattern, or a reason and a
// constant detail string.
func (m *Matcher) match(s string) (int32, Reason, string) {
	if m == nil {
		return -1, ReasonNoMatch, "no allowlist"
	}
	// Every key of the exact map is a canonical origin, so a hit needs no
	// parsing; everything else is parsed (and so validated) first.
	if i, ok := m.exact[s]; ok {
		return i, ReasonAllowed, "exact match"
	}
	var o reqOrigin
	if r, d := parseRequest(s, &o); r != ReasonAllowed {
		return -1, r, d
	}
	if len(m.hosts) > 0 {
		if i, ok := m.hosts[hostKey{host: o.host, port: portAny, scheme: o.scheme}]; ok {
			return i, ReasonAllowed, "host match on any port"
		}
	}
	if m.wildN != 0 && o.kind == hostDNS {
		if i, ok := m.matchWildcard(&o); ok {
			return i, ReasonAllowed, "subdomain of a wildcard"
		}
	}
	if m.sites != nil {
		if i, ok := m.matchSite(&o); ok {
			return i, ReasonAllowed, "same site (same scheme and registrable domain)"
		}
	}
	if m.anyIdx >= 0 {
		return m.anyIdx, ReasonAllowed, "any origin"
	}
	return -1, ReasonNoMatch, "no pattern admits this origin"
}

// matchWildcard probes each proper suffix of the host whose label count
// some wildcard has, longest first, so the most specific pattern wins. It
// jumps to each suffix through the dot offsets parseRequest recorded.
func (m *Matcher) matchWildcard(o *reqOrigin) (int32, bool) {
	if o.labels > maxDots+1 || o.labels >= 64 {
		return m.matchWildcardSlow(o)
	}
	// Suffixes of k labels, 1 <= k < labels, that some wildcard has.
	mask := m.wildN & (uint64(1)<<o.labels - 1) &^ 1
	for mask != 0 {
		k := bits.Len64(mask) - 1
		mask &^= 1 << k
		h := o.host[int(o.dots[o.labels-1-k])+1:]
		for _, e := range m.wild[h] {
			if e.scheme == o.scheme && (e.port == o.port || e.port == portAny) {
				return e.idx, m.sameOwner(o.host, h)
			}
		}
	}
	return -1, false
}

// sameOwner reports whether host, a subdomain of a wildcard's suffix,
// belongs to the same registrable domain as the suffix (or a parent of
// it): a public suffix between them (s3.amazonaws.com between a bucket and
// amazonaws.com) makes the host someone else's site, which a wildcard
// never admits.
func (m *Matcher) sameOwner(host, suffix string) bool {
	if wildcardOverLoopback(suffix) {
		return true
	}
	return len(m.memo.siteOf(host)) <= len(suffix)
}

// matchWildcardSlow walks the labels of a very deep host.
func (m *Matcher) matchWildcardSlow(o *reqOrigin) (int32, bool) {
	h := o.host
	labels := o.labels
	for {
		dot := strings.IndexByte(h, '.')
		if dot < 0 {
			return -1, false
		}
		h = h[dot+1:]
		labels--
		if labels >= 64 || m.wildN&(1<<labels) == 0 {
			continue
		}
		for _, e := range m.wild[h] {
			if e.scheme == o.scheme && (e.port == o.port || e.port == portAny) {
				return e.idx, m.sameOwner(o.host, h)
			}
		}
	}
}

// matchSite finds a same-site entry. It probes the host and each of its
// parent domains, so a miss costs a few map lookups and no allocation; only
// a candidate below a listed site is confirmed with the public suffix list
// (whose lookup allocates once), since a suffix rule between the two (as
// s3.amazonaws.com below amazonaws.com) makes them different sites.
func (m *Matcher) matchSite(o *reqOrigin) (int32, bool) {
	if o.kind != hostDNS {
		i, ok := m.sites[siteKey{site: o.host, scheme: o.scheme}]
		return i, ok
	}
	h := o.host
	for {
		if i, ok := m.sites[siteKey{site: h, scheme: o.scheme}]; ok {
			if len(h) == len(o.host) || siteOf(o.host, o.kind) == h {
				return i, true
			}
			return -1, false
		}
		dot := strings.IndexByte(h, '.')
		if dot < 0 {
			return -1, false
		}
		h = h[dot+1:]
	}
}

// Explain reports whether origin is admitted and why: the pattern that
// admitted it, or the reason nothing did, with a hint when a pattern names
// the same host with another scheme or port, or is a wildcard over it.
func (m *Matcher) Explain(origin string) Decision {
	d := Decision{Origin: origin}
	i, r, detail := m.match(origin)
	d.Reason, d.Detail = r, detail
	if r == ReasonAllowed {
		d.Allowed = true
		d.Pattern = m.patterns[i].norm
		return d
	}
	if r == ReasonNoMatch && m != nil {
		m.hint(origin, &d)
	}
	return d
}

// hint looks for a near miss to explain a denial. It scans the list, which
// is fine off the hot path.
func (m *Matcher) hint(s string, d *Decision) {
	var o reqOrigin
	parseRequest(s, &o)
	for _, p := range m.patterns {
		switch {
		case p.kind == kindExact && p.host == o.host && p.scheme != o.scheme:
			d.Reason, d.Pattern = ReasonScheme, p.norm
			d.Detail = "the host is allowed only over " + p.scheme.String()
			return
		case p.kind == kindExact && p.host == o.host && p.port != o.port:
			d.Reason, d.Pattern = ReasonPort, p.norm
			d.Detail = "the host is allowed only on another port"
			return
		case p.kind == kindWildcard && p.host == o.host && p.scheme == o.scheme:
			d.Pattern = p.norm
			d.Detail = "a wildcard admits subdomains only, never the domain itself; list it on its own"
			return
		}
	}
	if o.kind != hostDNS {
		return
	}
	site := siteOf(o.host, o.kind)
	if m.sameSite {
		d.Detail = "its site (" + o.scheme.String() + "://" + site + ") is not the site of any entry"
		return
	}
	for _, p := range m.patterns {
		if p.kind != kindAny && p.site() == site && p.scheme == o.scheme { // sites are schemeful
			d.Pattern = p.norm
			d.Detail = "same site as " + p.norm + " but the matching mode is exact; list the origin or use same-site matching"
			return
		}
	}
}

// Patterns returns the normalised patterns in list order.
func (m *Matcher) Patterns() []string {
	if m == nil {
		return nil
	}
	out := make([]string, len(m.patterns))
	for i, p := range m.patterns {
		out[i] = p.norm
	}
	return out
}
