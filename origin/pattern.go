package origin

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/msgsec/msgsec/internal/loopback"
	"github.com/msgsec/msgsec/internal/originview"
	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// patternKind says what a pattern admits.
type patternKind uint8

const (
	// kindExact admits one scheme and host (on one port, or any port with ":*").
	kindExact patternKind = iota + 1
	// kindWildcard admits the strict subdomains of a suffix ("https://*.example.com").
	kindWildcard
	// kindAny is "*": every well-formed http or https origin.
	kindAny
)

// pattern is one validated, normalised allowlist entry.
type pattern struct {
	kind   patternKind
	scheme scheme
	host   string // the exact host, or the wildcard's suffix without "*."
	port   int32  // portDefault, portAny, or an explicit port
	hkind  hostKind
	norm   string
}

// secure reports whether every origin the pattern admits is delivered over a
// secure context: https, or http to a loopback host (localhost, *.localhost,
// 127.0.0.0/8, [::1]). "*" is not secure.
func (p pattern) secure() bool {
	if p.kind == kindAny {
		return false
	}
	return p.scheme == schemeHTTPS || isLoopback(p.host, p.hkind)
}

func init() {
	originview.Classify = func(s string) (anyWebsite, secure, ok bool) {
		p, reason := parsePattern(s)
		if reason != "" {
			return false, false, false
		}
		return p.kind == kindAny, p.secure(), true
	}
}

func isLoopback(host string, _ hostKind) bool { return loopback.Host(host) }

// wildcardOverLoopback reports whether a wildcard suffix is "localhost":
// the public suffix list's default rule makes it a public suffix, but
// every name under it is this machine (RFC 6761), so "*.localhost" is
// allowed at load and its subdomains are one owner's.
func wildcardOverLoopback(suffix string) bool { return suffix == "localhost" }

// site returns the pattern's registrable domain for same-site matching.
func (p pattern) site() string { return siteOf(p.host, p.hkind) }

// siteOf returns the registrable domain (eTLD+1) of a host, or the host
// itself for IP literals and hosts that are public suffixes, as browsers do.
// It does not allocate.
func siteOf(host string, k hostKind) string {
	if k != hostDNS {
		return host
	}
	ps, _ := publicsuffix.PublicSuffix(host)
	if len(ps) >= len(host) {
		return host
	}
	rest := host[:len(host)-len(ps)-1]
	return host[strings.LastIndexByte(rest, '.')+1:]
}

func publicSuffixOf(h string) string {
	ps, _ := publicsuffix.PublicSuffix(h)
	return ps
}

// parsePattern returns the pattern or a reason it is invalid.
func parsePattern(s string) (pattern, string) {
	var p pattern
	switch {
	case s == "":
		return p, "empty pattern"
	case strings.TrimSpace(s) != s:
		return p, "leading or trailing white space"
	case s == "*":
		p.kind, p.norm = kindAny, "*"
		return p, ""
	case strings.EqualFold(s, "null"):
		return p, `"null" is the opaque origin of sandboxed frames and local files; it can never be allowed`
	case !utf8.ValidString(s):
		return p, "not valid UTF-8"
	}
	i := strings.Index(s, "://")
	if i < 0 {
		return p, `missing scheme: write "https://" + host`
	}
	switch strings.ToLower(s[:i]) {
	case "https":
		p.scheme = schemeHTTPS
	case "http":
		p.scheme = schemeHTTP
	default:
		return p, "scheme must be http or https"
	}
	rest := s[i+3:]
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		if rest[j:] == "/" {
			return p, "an origin has no path: remove the trailing slash"
		}
		return p, "an origin has no path, query or fragment"
	}
	if strings.ContainsRune(rest, '@') {
		return p, "an origin has no userinfo"
	}
	if strings.ContainsRune(rest, '\\') {
		return p, `backslash in the host`
	}
	host, port, hasPort := splitHostPort(rest)
	if hasPort {
		if port == "*" {
			p.port = portAny
		} else if n, r, d := parsePort(port, p.scheme); r == ReasonAllowed {
			p.port = n
		} else if r == ReasonNotCanonical { // the default port, written out: elide it
			p.port = portDefault
		} else {
			return p, "invalid port: " + d
		}
	}
	if strings.HasPrefix(host, "*.") {
		p.kind = kindWildcard
		host = host[2:]
	} else {
		p.kind = kindExact
	}
	if strings.ContainsRune(host, '*') {
		return p, `a wildcard is only allowed as the whole first label ("https://*.example.com") or as the port (":*")`
	}
	h, hk, reason := normaliseHost(host)
	if reason != "" {
		return p, reason
	}
	p.host, p.hkind = h, hk
	if p.kind == kindWildcard {
		if hk != hostDNS {
			return p, "a wildcard needs a domain name, not an IP address"
		}
		if !wildcardOverLoopback(h) {
			if ps, _ := publicsuffix.PublicSuffix(h); ps == h {
				return p, "a wildcard directly above a public suffix (" + h + ") would admit unrelated sites"
			}
			// A wildcard rule in the list ("*.kawasaki.jp") makes every
			// child of h a public suffix of its own.
			if probe := "msgsec-probe." + h; publicSuffixOf(probe) == probe {
				return p, "every subdomain of " + h + " is a public suffix: a wildcard would admit unrelated sites"
			}
		}
	}
	p.norm = p.scheme.String() + "://"
	if p.kind == kindWildcard {
		p.norm += "*."
	}
	p.norm += p.host
	switch p.port {
	case portDefault:
	case portAny:
		p.norm += ":*"
	default:
		p.norm += ":" + strconv.Itoa(int(p.port))
	}
	return p, ""
}

// normaliseHost lowercases the host, converts Unicode to punycode, checks
// punycode labels decode, and then requires the canonical form checkHost
// accepts for request origins, so a pattern can only name what a browser can
// send.
func normaliseHost(host string) (string, hostKind, string) {
	if host == "" {
		return "", 0, "no host"
	}
	if host[0] == '[' {
		inner := strings.TrimSuffix(host[1:], "]")
		if a, err := netipParse(inner); err == nil && a.Is6() && !a.Is4In6() && a.Zone() == "" && len(inner) == len(host)-2 {
			return "[" + a.String() + "]", hostIPv6, ""
		}
		return "", 0, "not a valid IPv6 literal (zones and IPv4-mapped forms are not allowed)"
	}
	if strings.HasSuffix(host, ".") {
		return "", 0, "trailing dot in the host: browsers treat it as a different origin"
	}
	h := strings.ToLower(host)
	if !isASCII(h) {
		a, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return "", 0, "invalid internationalised host name: " + idnaReason(err)
		}
		h = a
	}
	for _, label := range strings.Split(h, ".") {
		if strings.HasPrefix(label, "xn--") {
			if _, err := idna.Lookup.ToUnicode(label); err != nil || !validPunycode(label[4:]) {
				return "", 0, "invalid punycode label " + strconv.Quote(label)
			}
		}
	}
	var dots [maxDots]uint8
	kind, _, r, d := checkHost(h, &dots)
	if r != ReasonAllowed {
		return "", 0, "invalid host: " + d
	}
	return h, kind, ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// idnaReason keeps the idna package's words but drops the quoted input it
// repeats.
func idnaReason(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '"'); i > 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return strings.TrimPrefix(msg, "idna: ")
}
