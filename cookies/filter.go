package cookies

import (
	"net/http"
	"slices"
	"strings"

	"github.com/msgsec/msgsec/internal/cookieline"
)

// pair is one cookie-pair found in the input, with its verdict.
type pair struct {
	name, value string
	reason      Reason // zero while the pair may still be forwarded
	allowed     bool   // the name is on the allowlist: it takes part in duplicate detection
	duplicate   bool
}

// stackPairs is how many pairs Filter handles without a heap allocation.
const stackPairs = 32

// maxHeaderPairs is the most cookie-pairs the Cookie lines of one request
// may hold together: a request with more forwards nothing and reports
// ReasonTooManyPairs. It is what a browser can send for one site. A request
// carries the cookies that domain-match its host, those of the host and of
// its parent domains up to the registrable domain, and browsers cap them
// per registrable domain, not per host: Chromium keys its limit of 180
// (kDomainMaxCookies in net/cookies/cookie_monster.h) by eTLD+1, Firefox
// applies network.cookie.maxPerHost = 180 per base domain. Partitioned
// cookies (CHIPS) have a second limit of 180 per partition and domain
// (kPerPartitionDomainMaxCookies), and a request carries those of one
// partition (its top-level site) only: 2 × 180. More pairs than that is not
// a browser's header but a hand-made one (or one built to make a server
// parse a lot), so none of it is trusted. Empty pairs (";;") are not
// counted: they are no cookie.
const maxHeaderPairs = 2 * 180

// Filter returns the cookies of a request's Cookie header lines
// (r.Header["Cookie"]; HTTP/2 sends one line per cookie) that the allowlist
// admits, in the order they were sent, or nil if there are none.
//
// Each returned Cookie has only Name and Value set. Value is byte-exactly
// as sent, including surrounding double quotes if there were any (Quoted is
// always false), so that nothing is normalised. See the package
// documentation for the parsing rules and [Reason] for what is dropped.
func (a *Allowlist) Filter(lines []string) []*http.Cookie {
	var buf [stackPairs]pair
	ps := a.scanLines(lines, buf[:0])
	return collect(ps, a.resolve(ps))
}

// FilterReport is [Allowlist.Filter] that also returns what was dropped and
// why, in input order. Drops never contain values. To know what
// [Allowlist.RewriteRequest] drops, call it on r.Header["Cookie"] before
// the rewrite.
func (a *Allowlist) FilterReport(lines []string) (kept []*http.Cookie, dropped []Drop) {
	var buf [stackPairs]pair
	ps := a.scanLines(lines, buf[:0])
	return collect(ps, a.resolve(ps)), drops(ps)
}

// FilterValues filters the cookies the widget sends in its payload, read
// from document.cookie on the customer's page, as a name → value map. The
// same rules as [Allowlist.Filter] apply, except that a map cannot carry
// duplicates (the widget must leave out a name it sees twice) and the bound
// on a header's pairs does not apply (the caller bounds the payload's size,
// and the count limit what is forwarded). The result is sorted by name
// (byte order), which is also the order in which the count and total
// limits apply, so the output is deterministic; nil if nothing is kept.
// Every entry of m that is not returned was dropped.
func (a *Allowlist) FilterValues(m map[string]string) []*http.Cookie {
	ps := a.scanMap(m)
	return collect(ps, a.resolve(ps))
}

// RewriteRequest filters r's Cookie header in place so that handlers after
// it see only the allowed cookies (r.Cookie and r.Cookies included),
// serialised as "name=value; name=value" on a single line exactly as they
// were sent. The header is removed when nothing is kept, and so are Cookie
// headers spelled in another case (which net/http never produces, but a
// hand-built request might). It returns the kept cookies, as
// [Allowlist.Filter] does. It must not run concurrently with other users
// of r.
func (a *Allowlist) RewriteRequest(r *http.Request) []*http.Cookie {
	var buf [stackPairs]pair
	ps, n := a.rewrite(r.Header, buf[:0])
	return collect(ps, n)
}

// rewriteLine is RewriteRequest for the middleware, which may never need
// the cookies as values (it reaches it through internal/cookieline): it
// rewrites the header the same way and returns the Cookie line left (""
// when nothing is kept), which Filter turns into the kept cookies later,
// at no allocation now. With report it also returns the kept cookies and
// the drops, from the same pass.
func (a *Allowlist) rewriteLine(r *http.Request, report bool) (line string, kept []*http.Cookie, dropped []Drop) {
	var buf [stackPairs]pair
	ps, n := a.rewrite(r.Header, buf[:0])
	if v := r.Header["Cookie"]; len(v) == 1 {
		line = v[0]
	}
	if report {
		kept, dropped = collect(ps, n), drops(ps)
	}
	return line, kept, dropped
}

func init() { cookieline.Install((*Allowlist).rewriteLine) }

// rewrite filters h's Cookie lines and replaces them with the kept pairs on
// one line (removing the header when nothing is kept, and other spellings
// of its key). It returns the pairs and how many are kept.
func (a *Allowlist) rewrite(h http.Header, buf []pair) ([]pair, int) {
	lines := h["Cookie"]
	ps := a.scanLines(lines, buf)
	n := a.resolve(ps)
	deleteOtherSpellings(h)
	switch {
	case n == 0:
		delete(h, "Cookie")
	case n == len(ps) && len(lines) == 1 && isJoined(ps, lines[0]):
		// One line, every pair kept, already in canonical "a=b; c=d" form:
		// the header is what it would be rewritten to.
	default:
		h["Cookie"] = []string{joinKept(ps, n)}
	}
	return ps, n
}

// isJoined reports whether line is exactly the "name=value; ..."
// serialisation of the (all kept) pairs, so no rewrite is needed.
func isJoined(ps []pair, line string) bool {
	pos := 0
	for i, p := range ps {
		if i > 0 {
			if !strings.HasPrefix(line[pos:], "; ") {
				return false
			}
			pos += 2
		}
		rest := line[pos:]
		n := len(p.name) + 1 + len(p.value)
		if len(rest) < n || rest[:len(p.name)] != p.name || rest[len(p.name)] != '=' || rest[len(p.name)+1:n] != p.value {
			return false
		}
		pos += n
	}
	return pos == len(line)
}

// joinKept serialises the n kept pairs as "name=value; name=value".
func joinKept(ps []pair, n int) string {
	size := 2 * (n - 1)
	for i := range ps {
		if ps[i].reason == 0 {
			size += len(ps[i].name) + 1 + len(ps[i].value)
		}
	}
	var b strings.Builder
	b.Grow(size)
	for i := range ps {
		if ps[i].reason != 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(ps[i].name)
		b.WriteByte('=')
		b.WriteString(ps[i].value)
	}
	return b.String()
}

// scanLines splits every line into pairs. Past maxHeaderPairs pairs it
// stops reading and returns a single pair with ReasonTooManyPairs in place
// of all of them, so such a header forwards nothing and costs no more to
// read than one of maxHeaderPairs pairs.
func (a *Allowlist) scanLines(lines []string, ps []pair) []pair {
	for _, line := range lines {
		var ok bool
		if ps, ok = a.scanLine(line, ps); !ok {
			return append(ps[:0], pair{reason: ReasonTooManyPairs})
		}
	}
	return ps
}

// scanLine splits one Cookie line into pairs in a single pass, as browsers
// serialise them: pairs end at ";" (which no valid name or value contains,
// quoted or not), ASCII spaces and tabs around a pair are ignored, empty
// pairs are skipped, and each pair is split at its first "=". Every pair is
// classified on its own: a malformed one (a stray quote, a byte outside
// cookie-octet, a non-token name) is dropped alone and the pairs after it
// are read as the separate cookies the browser sent. Pairs are never
// joined, so the bytes of a broken pair cannot end up in a kept value.
// It returns false, having stopped reading, once the pairs in ps exceed
// maxHeaderPairs.
func (a *Allowlist) scanLine(line string, ps []pair) ([]pair, bool) {
	for line != "" {
		raw := line
		if i := strings.IndexByte(line, ';'); i >= 0 {
			raw, line = line[:i], line[i+1:]
		} else {
			line = ""
		}
		raw = trimSPHT(raw)
		if raw == "" {
			continue
		}
		if len(ps) == maxHeaderPairs {
			return ps, false
		}
		name, value, found := raw, "", false
		if i := strings.IndexByte(raw, '='); i >= 0 {
			name, value, found = raw[:i], raw[i+1:], true
		}
		ps = append(ps, a.classify(name, value, found, strings.IndexByte(raw, '"') >= 0))
	}
	return ps, true
}

func (a *Allowlist) scanMap(m map[string]string) []pair {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	ps := make([]pair, 0, len(names))
	for _, name := range names {
		value := m[name]
		ps = append(ps, a.classify(name, value, true, strings.IndexByte(name, '"') >= 0 || strings.IndexByte(value, '"') >= 0))
	}
	return ps
}

// classify gives a pair its first applicable Reason (zero if it may be
// forwarded) and marks whether its name is allowed, which matters for
// duplicate detection whatever the value.
func (a *Allowlist) classify(name, value string, found, hasQuote bool) pair {
	if !found {
		// Browsers send a cookie with an empty name as its bare value: the
		// text is a value, so it is never kept as a name.
		name, value = "", name
	}
	p := pair{name: name, value: value}
	token := found && isToken(name)
	if token && name[0] != '$' {
		switch a.match(name) {
		case matchAllowed:
			p.allowed = true
		case matchSensitive:
			p.reason = ReasonSensitive
		default:
			p.reason = ReasonNotAllowed
		}
	}
	switch {
	case hasQuote && !(token && isQuotedValue(value)):
		// The only double quotes a pair may hold are the two around its
		// value; anything else is where cookie-sandwich attacks live.
		p.reason = ReasonMalformedQuote
	case !found:
		p.reason = ReasonNoEquals
	case !token:
		p.reason = ReasonInvalidName
	case name[0] == '$':
		p.reason = ReasonReservedName
	case p.reason != 0: // not allowed or sensitive
	case !isValidValue(value):
		p.reason = ReasonInvalidValue
	case len(name)+len(value) > a.maxCookieBytes:
		p.reason = ReasonTooLarge
	}
	return p
}

// resolve drops every occurrence of a duplicated allowed name, then applies
// the count and total limits in order. It returns how many pairs are kept.
func (a *Allowlist) resolve(ps []pair) int {
	markDuplicates(ps)
	kept, total := 0, 0
	var closed Reason // once a limit is hit, nothing after it is forwarded
	for i := range ps {
		p := &ps[i]
		if p.reason != 0 {
			continue
		}
		size := len(p.name) + len(p.value)
		switch {
		case p.duplicate:
			p.reason = ReasonDuplicate
		case closed != 0:
			p.reason = closed
		case kept == a.maxCount:
			p.reason, closed = ReasonTooMany, ReasonTooMany
		case total+size > a.maxTotalBytes:
			p.reason, closed = ReasonTotalTooLarge, ReasonTotalTooLarge
		default:
			kept++
			total += size
		}
	}
	return kept
}

// markDuplicates flags every pair whose allowed name occurs more than once.
// Few allowed names are the norm and are compared pairwise without
// allocating; many (an attacker's doing) use a map so the cost stays linear.
func markDuplicates(ps []pair) {
	var idx [stackPairs]int
	allowed := idx[:0]
	for i := range ps {
		if ps[i].allowed {
			allowed = append(allowed, i)
		}
	}
	if len(allowed) <= stackPairs {
		for x, i := range allowed {
			for _, j := range allowed[:x] {
				if ps[i].name == ps[j].name {
					ps[i].duplicate, ps[j].duplicate = true, true
				}
			}
		}
		return
	}
	count := make(map[string]int, len(allowed))
	for _, i := range allowed {
		count[ps[i].name]++
	}
	for _, i := range allowed {
		ps[i].duplicate = count[ps[i].name] > 1
	}
}

// smallKept is how many kept cookies collect returns in one allocation.
const smallKept = 4

// collect returns the n kept pairs as cookies: one allocation up to
// smallKept cookies (the usual case: a handful of public names), two above.
func collect(ps []pair, n int) []*http.Cookie {
	if n == 0 {
		return nil
	}
	var cs []http.Cookie
	var out []*http.Cookie
	switch {
	case n <= 2:
		block := new(struct {
			cs  [2]http.Cookie
			out [2]*http.Cookie
		})
		cs, out = block.cs[:n:n], block.out[:n:n]
	case n <= smallKept:
		block := new(struct {
			cs  [smallKept]http.Cookie
			out [smallKept]*http.Cookie
		})
		cs, out = block.cs[:n:n], block.out[:n:n]
	default:
		cs, out = make([]http.Cookie, n), make([]*http.Cookie, n)
	}
	k := 0
	for i := range ps {
		if ps[i].reason == 0 {
			cs[k] = http.Cookie{Name: ps[i].name, Value: ps[i].value}
			out[k] = &cs[k]
			k++
		}
	}
	return out
}

func drops(ps []pair) []Drop {
	var ds []Drop
	for _, p := range ps {
		if p.reason != 0 {
			ds = append(ds, Drop{Name: reportName(p.name, p.reason), Reason: p.reason})
		}
	}
	return ds
}

// deleteOtherSpellings removes Cookie headers keyed in another case, which
// net/http never produces but a hand-built request might.
func deleteOtherSpellings(h http.Header) {
	for k := range h {
		if len(k) == len("Cookie") && k != "Cookie" && strings.EqualFold(k, "Cookie") {
			delete(h, k)
		}
	}
}
