package origin

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// The reference implementation below is deliberately simple and slow: a
// regular expression for the canonical form and a linear scan with string
// operations. The property test and the fuzz target check the compiled
// matcher against it.

var refCanonical = regexp.MustCompile(`^(https?)://([a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])(?::([1-9][0-9]{0,4}))?$`)

type refOrigin struct {
	scheme, host, port string
}

func refParse(s string) (refOrigin, bool) {
	m := refCanonical.FindStringSubmatch(s)
	if m == nil || len(m[2]) > 253 {
		return refOrigin{}, false
	}
	o := refOrigin{scheme: m[1], host: m[2], port: m[3]}
	if v6, ok := strings.CutPrefix(o.host, "["); ok {
		a, err := netip.ParseAddr(strings.TrimSuffix(v6, "]"))
		if err != nil || !a.Is6() {
			return refOrigin{}, false
		}
		want := a.String()
		if a.Is4In6() { // browsers never write a dotted quad in IPv6
			b := a.As16()
			want = fmt.Sprintf("::ffff:%x:%x", int(b[12])<<8|int(b[13]), int(b[14])<<8|int(b[15]))
		}
		if "["+want+"]" != o.host {
			return refOrigin{}, false
		}
		return o, refPortOK(o)
	}
	for _, l := range strings.Split(o.host, ".") {
		if len(l) > 63 {
			return refOrigin{}, false
		}
	}
	if !refPortOK(o) {
		return refOrigin{}, false
	}
	labels := strings.Split(o.host, ".")
	for _, l := range labels {
		if strings.HasPrefix(l, "xn--") && !refPunycode(l) {
			return refOrigin{}, false
		}
	}
	last := labels[len(labels)-1]
	if strings.HasPrefix(last, "0x") || strings.Trim(last, "0123456789") == "" {
		a, err := netip.ParseAddr(o.host)
		if err != nil || !a.Is4() || a.String() != o.host {
			return refOrigin{}, false
		}
	}
	return o, true
}

func refPortOK(o refOrigin) bool {
	if o.port == "" {
		return true
	}
	n, _ := strconv.Atoi(o.port)
	return n <= 65535 && !(o.scheme == "https" && n == 443) && !(o.scheme == "http" && n == 80)
}

func refIsIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

func refSite(host string) string {
	if strings.HasPrefix(host, "[") || refIsIP(host) {
		return host
	}
	site, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return site
}

func refAllows(patterns []string, sameSite bool, s string) bool {
	o, ok := refParse(s)
	if !ok {
		return false
	}
	for _, p := range patterns {
		if p == "*" {
			return true
		}
		scheme, rest, _ := strings.Cut(p, "://")
		host, port := rest, ""
		if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.HasSuffix(rest, "]") {
			host, port = rest[:i], rest[i+1:]
		}
		if scheme != o.scheme {
			continue
		}
		portOK := port == "*" || port == o.port
		if suffix, wild := strings.CutPrefix(host, "*."); wild {
			if portOK && strings.HasSuffix(o.host, "."+suffix) && (suffix == "localhost" || len(refSite(o.host)) <= len(suffix)) {
				return true
			}
			host = suffix
		} else if portOK && host == o.host {
			return true
		}
		if sameSite && refSite(host) == refSite(o.host) {
			return true
		}
	}
	return false
}

var (
	propSchemes = []string{"https", "http", "HTTPS", "ftp", ""}
	propLabels  = []string{"www", "a", "b", "uplusbank", "uplus", "evil", "com", "co", "uk", "example", "localhost", "s3", "amazonaws", "xn--bcher-kva", "xn--zz", "xn--", "_x", "-", "WWW"}
	propPorts   = []string{"", ":80", ":443", ":8080", ":08080", ":0", ":65536", ":*", ":"}
	propTails   = []string{"", "", "", "", "/", "/store", ".", "?q", "#f", " ", "@evil.example"}
)

func propHost(r *rand.Rand, wildcardOK bool) string {
	switch r.IntN(12) {
	case 0:
		return "127.0.0." + strconv.Itoa(r.IntN(3))
	case 1:
		return "127.1"
	}
	n := 1 + r.IntN(4)
	labels := make([]string, n)
	for i := range labels {
		labels[i] = propLabels[r.IntN(len(propLabels))]
	}
	h := strings.Join(labels, ".")
	if wildcardOK && r.IntN(3) == 0 {
		h = "*." + h
	}
	return h
}

func propValue(r *rand.Rand, pattern bool) string {
	if pattern && r.IntN(40) == 0 {
		return "*"
	}
	if r.IntN(30) == 0 {
		return "null"
	}
	s := propSchemes[r.IntN(len(propSchemes))]
	if s != "" {
		s += "://"
	}
	s += propHost(r, pattern) + propPorts[r.IntN(len(propPorts))]
	if r.IntN(8) == 0 {
		s += propTails[r.IntN(len(propTails))]
	}
	return s
}

// TestMatcherAgreesWithReference compares the compiled matcher with the
// reference over random pattern lists and origins built from parts that
// collide often (shared labels, ports, schemes), in both modes.
func TestMatcherAgreesWithReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	for it := 0; it < iterations; it++ {
		var patterns []string
		for range 1 + r.IntN(8) {
			if p, err := parseOne(propValue(r, true)); err == nil && !contains(patterns, p.norm) {
				patterns = append(patterns, p.norm)
			}
		}
		sameSite := r.IntN(2) == 0
		var opts []Option
		if sameSite {
			opts = append(opts, SameSite())
		}
		m := mustMatcher(t, patterns, opts...)
		for range 20 {
			o := propValue(r, false)
			if len(patterns) > 0 && r.IntN(2) == 0 {
				o = propNear(r, patterns[r.IntN(len(patterns))])
			}
			want := refAllows(patterns, sameSite, o)
			require.Equalf(t, want, m.Allows(o), "patterns %q same-site=%v origin %q: matcher vs reference (%s)", patterns, sameSite, o, m.Explain(o))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// propNear derives an origin from a pattern, so that hits and near misses
// are frequent: the wildcard or any-port filled in, a label added or taken
// away, the scheme or port changed.
func propNear(r *rand.Rand, p string) string {
	if p == "*" {
		return propValue(r, false)
	}
	if r.IntN(2) == 0 {
		p = strings.Replace(p, "*.", propLabels[r.IntN(len(propLabels))]+".", 1)
	} else {
		p = strings.Replace(p, "*.", "", 1)
	}
	switch r.IntN(4) {
	case 0:
		p = strings.Replace(p, ":*", propPorts[r.IntN(len(propPorts))], 1)
	case 1:
		p = strings.Replace(p, ":*", "", 1)
	default:
		p = strings.Replace(p, ":*", ":"+strconv.Itoa(8000+r.IntN(3)), 1)
	}
	switch r.IntN(6) {
	case 0:
		p = strings.Replace(p, "://", "://"+propLabels[r.IntN(len(propLabels))]+".", 1)
	case 1:
		if i := strings.Index(p, "://"); i >= 0 {
			if j := strings.IndexByte(p[i+3:], '.'); j >= 0 {
				p = p[:i+3] + p[i+3+j+1:]
			}
		}
	case 2:
		if strings.HasPrefix(p, "https") {
			p = "http" + p[5:]
		} else {
			p = "https" + p[4:]
		}
	case 3:
		p += propPorts[r.IntN(len(propPorts))]
	case 4:
		p += propTails[r.IntN(len(propTails))]
	}
	return p
}

// refPunycode decodes an xn-- label with x/net/idna's punycode decoder and
// requires a non-ASCII, non-control result, as browsers' encoders produce.
func refPunycode(label string) bool {
	u, err := idna.Punycode.ToUnicode(label)
	if err != nil || u == label || strings.HasPrefix(label, "xn---") {
		return false
	}
	nonASCII := false
	for _, r := range u {
		if r >= 0x80 && r < 0xA0 {
			return false
		}
		if r >= 0xA0 {
			nonASCII = true
		}
	}
	return nonASCII
}
