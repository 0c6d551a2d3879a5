package origin

import (
	"net/netip"
	"strconv"
	"strings"
)

// scheme is one of the two schemes an allowed origin may have.
type scheme uint8

const (
	schemeHTTP scheme = iota + 1
	schemeHTTPS
)

func (s scheme) String() string {
	if s == schemeHTTPS {
		return "https"
	}
	return "http"
}

func (s scheme) defaultPort() int32 {
	if s == schemeHTTPS {
		return 443
	}
	return 80
}

const (
	// portDefault stands for the scheme's default port, which a browser
	// never writes out.
	portDefault int32 = 0
	// portAny is a pattern's ":*".
	portAny int32 = -1

	maxHostLen  = 253
	maxLabelLen = 63
	// maxOriginLen bounds the work done on a request value: the longest
	// canonical origin is "https://" + a 253-byte host + ":65535".
	maxOriginLen = len("https://") + maxHostLen + len(":65535")
)

// hostKind tells DNS names from IP literals.
type hostKind uint8

const (
	hostDNS hostKind = iota + 1
	hostIPv4
	hostIPv6
)

// reqOrigin is a request Origin known to be in canonical browser form.
type reqOrigin struct {
	scheme scheme
	host   string // as sent; IPv6 keeps its brackets
	port   int32  // portDefault or an explicit non-default port
	kind   hostKind
	labels int // number of DNS labels (0 for IP literals)
	// dots holds the offsets of the first len(dots) dots in host, so the
	// wildcard lookup jumps straight to each suffix.
	dots [maxDots]uint8
}

// maxDots bounds the dot offsets kept per host (hosts are at most 253
// bytes, so an offset fits a byte); deeper hosts take a slower path.
const maxDots = 24

// parseRequest checks that s is a canonical browser serialisation of an http
// or https origin. It never allocates. On failure it returns a reason and a
// constant detail string.
func parseRequest(s string, o *reqOrigin) (Reason, string) {
	switch {
	case s == "":
		return ReasonEmpty, "the Origin value is empty"
	case s == "null":
		return ReasonNull, `the browser sent "null" (opaque origin: sandboxed frame, file:, data:, or a redirect)`
	case len(s) > maxOriginLen:
		return ReasonMalformed, "longer than any origin can be"
	}
	var rest string
	switch {
	case strings.HasPrefix(s, "https://"):
		o.scheme, rest = schemeHTTPS, s[len("https://"):]
	case strings.HasPrefix(s, "http://"):
		o.scheme, rest = schemeHTTP, s[len("http://"):]
	default:
		if i := strings.Index(s, "://"); i > 0 {
			if sch := s[:i]; strings.EqualFold(sch, "http") || strings.EqualFold(sch, "https") {
				return ReasonNotCanonical, "the scheme is not lowercase"
			}
			if isSchemeName(s[:i]) {
				return ReasonScheme, "the scheme is not http or https"
			}
		}
		return ReasonMalformed, `no "scheme://"`
	}
	host, port, hasPort := splitHostPort(rest)
	kind, labels, r, d := checkHost(host, &o.dots)
	if r != ReasonAllowed {
		return r, d
	}
	o.host, o.kind, o.labels = host, kind, labels
	if hasPort {
		p, r, d := parsePort(port, o.scheme)
		if r != ReasonAllowed {
			return r, d
		}
		o.port = p
	}
	return ReasonAllowed, ""
}

// splitHostPort splits "host[:port]" and "[v6][:port]". Whatever follows is
// left inside host or port, where the checks reject it.
func splitHostPort(s string) (host, port string, hasPort bool) {
	if strings.HasPrefix(s, "[") {
		if end := strings.IndexByte(s, ']'); end >= 0 {
			host, s = s[:end+1], s[end+1:]
			if strings.HasPrefix(s, ":") {
				return host, s[1:], true
			}
			// Anything else after "]" is kept so checkHost rejects it.
			return host + s, "", false
		}
		return s, "", false
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// parsePort accepts 1-65535 in decimal without leading zeros, and never the
// scheme's default port (a browser elides it).
func parsePort(s string, sch scheme) (int32, Reason, string) {
	if s == "" {
		return 0, ReasonMalformed, `empty port after ":"`
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			return 0, ReasonMalformed, "the port is not a decimal number (path, query, userinfo or other characters after the host?)"
		}
	}
	if s[0] == '0' {
		return 0, ReasonPort, "the port has a leading zero"
	}
	if len(s) > 5 {
		return 0, ReasonPort, "the port is out of range"
	}
	var n int32
	for i := 0; i < len(s); i++ {
		n = n*10 + int32(s[i]-'0')
	}
	if n > 65535 {
		return 0, ReasonPort, "the port is out of range"
	}
	if n == sch.defaultPort() {
		return 0, ReasonNotCanonical, "the scheme's default port is written out"
	}
	return n, ReasonAllowed, ""
}

// checkHost accepts a host in canonical browser form: lowercase DNS labels
// of [a-z0-9_-] separated by single dots (no empty label, so no trailing
// dot), a canonical dotted-quad IPv4 address, or a bracketed IPv6 address in
// RFC 5952 form.
func checkHost(h string, dots *[maxDots]uint8) (hostKind, int, Reason, string) {
	if h == "" {
		return 0, 0, ReasonMalformed, "no host"
	}
	if h[0] == '[' {
		return checkIPv6(h)
	}
	if len(h) > maxHostLen {
		return 0, 0, ReasonMalformed, "the host is longer than 253 bytes"
	}
	labels, labelLen, lastStart := 1, 0, 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch hostByte[c] {
		case byteLabel:
			labelLen++
			if labelLen > maxLabelLen {
				return 0, 0, ReasonMalformed, "a host label is longer than 63 bytes"
			}
			continue
		case byteDot:
			if labelLen == 0 {
				return 0, 0, ReasonNotCanonical, "empty host label (leading, doubled or trailing dot)"
			}
			if labels <= maxDots {
				dots[labels-1] = uint8(i)
			}
			labels++
			labelLen = 0
			lastStart = i + 1
			continue
		}
		switch {
		case 'A' <= c && c <= 'Z':
			return 0, 0, ReasonNotCanonical, "uppercase letter in the host"
		case c >= 0x80:
			return 0, 0, ReasonNotCanonical, "non-ASCII host (a browser sends punycode)"
		case c == '/' || c == '?' || c == '#':
			return 0, 0, ReasonMalformed, "a path, query or fragment follows the host"
		case c == '@':
			return 0, 0, ReasonMalformed, "userinfo before the host"
		default:
			return 0, 0, ReasonMalformed, "a character that cannot appear in a host"
		}
	}
	if labelLen == 0 {
		return 0, 0, ReasonNotCanonical, "empty host label (leading, doubled or trailing dot)"
	}
	if endsInNumber(h[lastStart:]) {
		if !canonicalIPv4(h) {
			return 0, 0, ReasonNotCanonical, "the host ends in a number but is not a canonical dotted-quad IPv4 address"
		}
		return hostIPv4, 0, ReasonAllowed, ""
	}
	if strings.Contains(h, "xn--") && !validPunycodeLabels(h) {
		return 0, 0, ReasonMalformed, "an xn-- label is not valid punycode (no browser sends it)"
	}
	return hostDNS, labels, ReasonAllowed, ""
}

// Byte classes of a canonical host, looked up once per byte.
const (
	byteOther uint8 = iota
	byteLabel       // a-z 0-9 - _
	byteDot
)

var hostByte = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = byteLabel
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byteLabel
	}
	t['-'], t['_'], t['.'] = byteLabel, byteLabel, byteDot
	return t
}()

// endsInNumber follows the WHATWG URL rule: a host whose last label is a
// number (decimal, or 0x hex) is parsed as IPv4 by browsers.
func endsInNumber(label string) bool {
	if len(label) >= 2 && label[0] == '0' && label[1] == 'x' {
		return true
	}
	for i := 0; i < len(label); i++ {
		if label[i] < '0' || label[i] > '9' {
			return false
		}
	}
	return true
}

// canonicalIPv4 accepts exactly four decimal octets 0-255 without leading
// zeros.
func canonicalIPv4(h string) bool {
	parts := 0
	for len(h) > 0 {
		i := strings.IndexByte(h, '.')
		part := h
		if i >= 0 {
			part, h = h[:i], h[i+1:]
			if h == "" {
				return false
			}
		} else {
			h = ""
		}
		if part == "" || len(part) > 3 || (len(part) > 1 && part[0] == '0') {
			return false
		}
		n := 0
		for j := 0; j < len(part); j++ {
			c := part[j]
			if c < '0' || c > '9' {
				return false
			}
			n = n*10 + int(c-'0')
		}
		if n > 255 {
			return false
		}
		parts++
	}
	return parts == 4
}

// checkIPv6 accepts "[addr]" where addr is in the form netip prints
// (RFC 5952: lowercase, shortest, "::" for the longest zero run).
func checkIPv6(h string) (hostKind, int, Reason, string) {
	if len(h) < 2 || h[len(h)-1] != ']' {
		return 0, 0, ReasonMalformed, "an IPv6 literal is not closed by ']' (or something follows it)"
	}
	inner := h[1 : len(h)-1]
	a, err := netip.ParseAddr(inner)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return 0, 0, ReasonMalformed, "not an IPv6 address"
	}
	var buf [64]byte
	if string(appendIPv6(buf[:0], a)) != inner {
		return 0, 0, ReasonNotCanonical, "the IPv6 address is not in its canonical (RFC 5952) form"
	}
	return hostIPv6, 0, ReasonAllowed, ""
}

func netipParse(s string) (netip.Addr, error) { return netip.ParseAddr(s) }

// isSchemeName reports whether s has the syntax of a URL scheme (RFC 3986
// §3.1, lowercase), so "ftp" is a wrong scheme but " https" is malformed.
func isSchemeName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// appendIPv6 appends a in the form browsers serialise (WHATWG URL): RFC
// 5952 hex groups, never an embedded dotted quad, so the IPv4-mapped
// ::ffff:127.0.0.1 is written ::ffff:7f00:1.
func appendIPv6(b []byte, a netip.Addr) []byte {
	if !a.Is4In6() {
		return a.AppendTo(b)
	}
	v := a.As16()
	b = append(b, "::ffff:"...)
	b = strconv.AppendUint(b, uint64(v[12])<<8|uint64(v[13]), 16)
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(v[14])<<8|uint64(v[15]), 16)
}
