package origin

import (
	"errors"
	"github.com/msgsec/msgsec/cfgerr"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustMatcher(t testing.TB, patterns []string, opts ...Option) *Matcher {
	t.Helper()
	m, err := NewMatcher(patterns, opts...)
	require.NoError(t, err)
	return m
}

// The worked example of DESIGN.md: U+ Bank's connection "retail-bank".
func TestUPlusBank(t *testing.T) {
	patterns := []string{"https://www.uplusbank.com"}
	exact := mustMatcher(t, patterns)
	sameSite := mustMatcher(t, patterns, SameSite())

	tests := []struct {
		name           string
		origin         string
		exact, sameSte bool
	}{
		{"the listed origin", "https://www.uplusbank.com", true, true},
		{"a sibling subdomain is same-site", "https://account.uplusbank.com", false, true},
		{"the apex is same-site", "https://uplusbank.com", false, true},
		{"a deeper subdomain is same-site", "https://a.b.uplusbank.com", false, true},
		{"another port is same-site", "https://www.uplusbank.com:8443", false, true},
		{"another registrable domain needs its own entry", "https://www.uplus.com", false, false},
		{"http is another site (schemeful)", "http://www.uplusbank.com", false, false},
		{"a suffix trick is not same-site", "https://www.uplusbank.com.evil.example", false, false},
		{"a hyphenated look-alike is not same-site", "https://evil-uplusbank.com", false, false},
		{"a page path is not an origin", "https://www.uplusbank.com/store", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.exact, exact.Allows(tc.origin), "exact mode")
			assert.Equal(t, tc.sameSte, sameSite.Allows(tc.origin), "same-site mode")
		})
	}
}

func TestAllowsRequestStrictness(t *testing.T) {
	m := mustMatcher(t, []string{
		"https://www.uplusbank.com",
		"https://*.uplusbank.com",
		"http://localhost:*",
		"http://127.0.0.1:8080",
		"http://[::1]:3000",
		"https://xn--bcher-kva.example",
	})
	tests := []struct {
		name   string
		origin string
		want   bool
		reason Reason
	}{
		{"exact hit", "https://www.uplusbank.com", true, ReasonAllowed},
		{"wildcard hit one label", "https://account.uplusbank.com", true, ReasonAllowed},
		{"wildcard hit two labels", "https://a.b.uplusbank.com", true, ReasonAllowed},
		{"wildcard never the apex", "https://uplusbank.com", false, ReasonNoMatch},
		{"wildcard on label boundary only", "https://evil-uplusbank.com", false, ReasonNoMatch},
		{"wildcard not glued to a label", "https://evilwww.uplusbank.com.evil.example", false, ReasonNoMatch},
		{"suffix of a listed origin", "https://www.uplusbank.com.evil.example", false, ReasonNoMatch},
		{"wildcard scheme must match", "http://account.uplusbank.com", false, ReasonNoMatch},
		{"wildcard port must match", "https://account.uplusbank.com:8443", false, ReasonNoMatch},
		{"any-port host, explicit port", "http://localhost:5173", true, ReasonAllowed},
		{"any-port host, default port", "http://localhost", true, ReasonAllowed},
		{"any-port host, other scheme", "https://localhost:5173", false, ReasonScheme},
		{"ipv4 exact", "http://127.0.0.1:8080", true, ReasonAllowed},
		{"ipv4 other port", "http://127.0.0.1:8081", false, ReasonPort},
		{"ipv4 non-canonical", "http://127.1:8080", false, ReasonNotCanonical},
		{"ipv4 leading zero", "http://127.0.0.01:8080", false, ReasonNotCanonical},
		{"ipv4 hex", "http://0x7f.0.0.1:8080", false, ReasonNotCanonical},
		{"ipv6 exact", "http://[::1]:3000", true, ReasonAllowed},
		{"ipv6 non-canonical", "http://[0:0:0:0:0:0:0:1]:3000", false, ReasonNotCanonical},
		{"ipv6 uppercase", "http://[::A]:3000", false, ReasonNotCanonical},
		{"ipv6 zone", "http://[fe80::1%25eth0]:3000", false, ReasonMalformed},
		{"ipv6 unclosed", "http://[::1:3000", false, ReasonMalformed},
		{"ipv6 junk after bracket", "http://[::1]x:3000", false, ReasonMalformed},
		{"punycode host", "https://xn--bcher-kva.example", true, ReasonAllowed},
		{"unicode host is not what browsers send", "https://bücher.example", false, ReasonNotCanonical},
		{"null", "null", false, ReasonNull},
		{"NULL", "NULL", false, ReasonMalformed},
		{"empty", "", false, ReasonEmpty},
		{"uppercase host", "https://WWW.uplusbank.com", false, ReasonNotCanonical},
		{"uppercase scheme", "HTTPS://www.uplusbank.com", false, ReasonNotCanonical},
		{"mixed-case scheme", "Https://www.uplusbank.com", false, ReasonNotCanonical},
		{"trailing dot", "https://www.uplusbank.com.", false, ReasonNotCanonical},
		{"leading dot", "https://.www.uplusbank.com", false, ReasonNotCanonical},
		{"double dot", "https://www..uplusbank.com", false, ReasonNotCanonical},
		{"default port written out", "https://www.uplusbank.com:443", false, ReasonNotCanonical},
		{"http default port written out", "http://localhost:80", false, ReasonNotCanonical},
		{"port with leading zero", "http://localhost:08080", false, ReasonPort},
		{"port zero", "http://localhost:0", false, ReasonPort},
		{"port out of range", "http://localhost:65536", false, ReasonPort},
		{"port too long", "http://localhost:000080", false, ReasonPort},
		{"empty port", "https://www.uplusbank.com:", false, ReasonMalformed},
		{"signed port", "http://localhost:+80", false, ReasonMalformed},
		{"userinfo", "https://evil.example@www.uplusbank.com", false, ReasonMalformed},
		{"userinfo with colon", "https://u:p@www.uplusbank.com", false, ReasonMalformed},
		{"trailing slash", "https://www.uplusbank.com/", false, ReasonMalformed},
		{"path", "https://www.uplusbank.com/store", false, ReasonMalformed},
		{"query", "https://www.uplusbank.com?x", false, ReasonMalformed},
		{"fragment", "https://www.uplusbank.com#x", false, ReasonMalformed},
		{"backslash", `https://www.uplusbank.com\@evil.example`, false, ReasonMalformed},
		{"leading space", " https://www.uplusbank.com", false, ReasonMalformed},
		{"trailing space", "https://www.uplusbank.com ", false, ReasonMalformed},
		{"trailing newline", "https://www.uplusbank.com\n", false, ReasonMalformed},
		{"tab inside", "https://www.uplus\tbank.com", false, ReasonMalformed},
		{"nul byte", "https://www.uplusbank.com\x00", false, ReasonMalformed},
		{"percent-encoded", "https://www%2Euplusbank.com", false, ReasonMalformed},
		{"two origins space", "https://www.uplusbank.com https://evil.example", false, ReasonMalformed},
		{"two origins comma", "https://www.uplusbank.com,https://evil.example", false, ReasonMalformed},
		{"cyrillic look-alike", "https://www.uplusb\u0430nk.com", false, ReasonNotCanonical},
		{"fullwidth dot", "https://www\uff0euplusbank.com", false, ReasonNotCanonical},
		{"fullwidth letters", "https://\uff57ww.uplusbank.com", false, ReasonNotCanonical},
		{"other scheme", "ftp://www.uplusbank.com", false, ReasonScheme},
		{"ws scheme", "wss://www.uplusbank.com", false, ReasonScheme},
		{"file scheme", "file://", false, ReasonScheme},
		{"no scheme", "www.uplusbank.com", false, ReasonMalformed},
		{"scheme-relative", "//www.uplusbank.com", false, ReasonMalformed},
		{"no host", "https://", false, ReasonMalformed},
		{"only port", "https://:443", false, ReasonMalformed},
		{"label too long", "https://" + strings.Repeat("a", 64) + ".uplusbank.com", false, ReasonMalformed},
		{"host too long", "https://" + strings.Repeat("a.", 127) + "uplusbank.com", false, ReasonMalformed},
		{"huge value", "https://" + strings.Repeat("a", 100000), false, ReasonMalformed},
		{"wildcard literal in request", "https://*.uplusbank.com", false, ReasonMalformed},
		{"very deep subdomain (slow path)", "https://" + strings.Repeat("a.", 40) + "uplusbank.com", true, ReasonAllowed},
		{"very deep look-alike (slow path)", "https://" + strings.Repeat("a.", 40) + "evil-uplusbank.com", false, ReasonNoMatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, m.Allows(tc.origin))
			d := m.Explain(tc.origin)
			assert.Equal(t, tc.want, d.Allowed)
			assert.Equal(t, tc.reason, d.Reason, d.String())
			assert.NotEmpty(t, d.Detail)
		})
	}
}

func TestEmptyAndNilMatchNothing(t *testing.T) {
	m := mustMatcher(t, nil)
	assert.Empty(t, m.patterns)
	assert.False(t, m.Allows("https://www.uplusbank.com"))
	var nilM *Matcher
	assert.False(t, nilM.Allows("https://www.uplusbank.com"))
	assert.False(t, nilM.Explain("https://www.uplusbank.com").Allowed)
}

func TestAnyPattern(t *testing.T) {
	m := mustMatcher(t, []string{"*"})
	assert.True(t, m.Allows("https://anything.example"))
	assert.True(t, m.Allows("http://localhost:8080"))
	for _, bad := range []string{"null", "", "HTTPS://X.EXAMPLE", "ftp://x.example", "https://x.example/", "chrome-extension://abc"} {
		assert.False(t, m.Allows(bad), "%q", bad)
	}
}

func TestSameSiteDetails(t *testing.T) {
	m := mustMatcher(t, []string{
		"https://www.uplusbank.com",
		"http://localhost:8080",
		"https://www.amazonaws.com",
		"http://127.0.0.1",
	}, SameSite())
	tests := []struct {
		name   string
		origin string
		want   bool
	}{
		{"localhost is its own site, any port", "http://localhost:9999", true},
		{"a subdomain of localhost is another site", "http://a.localhost", false},
		{"ip is its own site, any port", "http://127.0.0.1:1234", true},
		{"another ip", "http://127.0.0.2", false},
		{"a sibling under the site", "https://x.amazonaws.com", true},
		{"the site itself", "https://amazonaws.com", true},
		{"under a public suffix below the site is another site", "https://bucket.s3.amazonaws.com", false},
		{"same-site is still schemeful", "http://uplusbank.com", false},
		{"public suffix alone is no site of ours", "https://com", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, m.Allows(tc.origin), m.Explain(tc.origin).String())
		})
	}
}

func TestExplain(t *testing.T) {
	m := mustMatcher(t, []string{"https://www.uplusbank.com", "https://*.uplusbank.com", "https://chat.uplus.com:8443"})
	tests := []struct {
		name    string
		origin  string
		allowed bool
		pattern string
		reason  Reason
		detail  string
	}{
		{"exact", "https://www.uplusbank.com", true, "https://www.uplusbank.com", ReasonAllowed, "exact"},
		{"wildcard", "https://a.uplusbank.com", true, "https://*.uplusbank.com", ReasonAllowed, "wildcard"},
		{"scheme hint", "http://www.uplusbank.com", false, "https://www.uplusbank.com", ReasonScheme, "only over https"},
		{"port hint", "https://chat.uplus.com", false, "https://chat.uplus.com:8443", ReasonPort, "another port"},
		{"apex hint", "https://uplusbank.com", false, "https://*.uplusbank.com", ReasonNoMatch, "never the domain itself"},
		{"same-site hint in exact mode", "https://www.uplus.com", false, "https://chat.uplus.com:8443", ReasonNoMatch, "same-site matching"},
		{"null", "null", false, "", ReasonNull, "opaque"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := m.Explain(tc.origin)
			assert.Equal(t, tc.allowed, d.Allowed)
			assert.Equal(t, tc.pattern, d.Pattern)
			assert.Equal(t, tc.reason, d.Reason)
			assert.Contains(t, d.Detail, tc.detail)
			assert.Contains(t, d.String(), tc.origin)
		})
	}
	t.Run("same-site miss names the site", func(t *testing.T) {
		ss := mustMatcher(t, []string{"https://www.uplusbank.com"}, SameSite())
		d := ss.Explain("https://www.uplus.com")
		assert.Equal(t, ReasonNoMatch, d.Reason)
		assert.Equal(t, "its site (https://uplus.com) is not the site of any entry", d.Detail)
	})
	t.Run("hostile origin is quoted in String", func(t *testing.T) {
		s := m.Explain("https://x\r\nforged: log").String()
		assert.NotContains(t, s, "\n")
		assert.NotContains(t, s, "\r")
	})
}

func TestPatternNormalisation(t *testing.T) {
	tests := []struct {
		in, norm string
		kind     patternKind
		port     int
		secure   bool
	}{
		{"https://www.uplusbank.com", "https://www.uplusbank.com", kindExact, 0, true},
		{"HTTPS://WWW.UPLUSBANK.COM", "https://www.uplusbank.com", kindExact, 0, true},
		{"https://www.uplusbank.com:443", "https://www.uplusbank.com", kindExact, 0, true},
		{"http://www.uplusbank.com:80", "http://www.uplusbank.com", kindExact, 0, false},
		{"https://www.uplusbank.com:8443", "https://www.uplusbank.com:8443", kindExact, 8443, true},
		{"https://*.uplusbank.com", "https://*.uplusbank.com", kindWildcard, 0, true},
		{"https://*.Uplusbank.com:*", "https://*.uplusbank.com:*", kindWildcard, -1, true},
		{"http://localhost:*", "http://localhost:*", kindExact, -1, true},
		{"http://app.localhost:3000", "http://app.localhost:3000", kindExact, 3000, true},
		{"http://*.localhost:*", "http://*.localhost:*", kindWildcard, -1, true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", kindExact, 8080, true},
		{"http://[::1]:8080", "http://[::1]:8080", kindExact, 8080, true},
		{"http://[0:0::1]", "http://[::1]", kindExact, 0, true},
		{"http://10.0.0.1", "http://10.0.0.1", kindExact, 0, false},
		{"https://bücher.example", "https://xn--bcher-kva.example", kindExact, 0, true},
		{"https://*.bücher.example", "https://*.xn--bcher-kva.example", kindWildcard, 0, true},
		{"https://BÜCHER.example", "https://xn--bcher-kva.example", kindExact, 0, true},
		{"*", "*", kindAny, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := parseOne(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.norm, p.norm)
			assert.Equal(t, tc.kind, p.kind)
			assert.Equal(t, tc.port, int(p.port))
			assert.Equal(t, tc.secure, p.secure())
			again, err := parseOne(p.norm)
			require.NoError(t, err, "normalised form must parse again")
			assert.Equal(t, p, again, "normalisation is idempotent")
		})
	}
}

func TestPatternRejects(t *testing.T) {
	tests := []struct {
		name, in, reason string
	}{
		{"empty", "", "empty"},
		{"null", "null", "opaque"},
		{"NULL", "NULL", "opaque"},
		{"wildcard over a TLD", "https://*.com", "public suffix"},
		{"wildcard over a two-label public suffix", "https://*.co.uk", "public suffix"},
		{"wildcard over a private public suffix", "https://*.github.io", "public suffix"},
		{"wildcard glued to a label", "https://*uplusbank.com", "wildcard"},
		{"wildcard in the middle", "https://www.*.com", "wildcard"},
		{"wildcard at the end", "https://www.uplusbank.*", "wildcard"},
		{"two wildcards", "https://*.*.uplusbank.com", "wildcard"},
		{"wildcard scheme", "*://www.uplusbank.com", "scheme"},
		{"partial wildcard port", "https://www.uplusbank.com:8*", "port"},
		{"wildcard over an ip", "http://*.0.0.1", "IP"},
		{"path", "https://www.uplusbank.com/store", "path"},
		{"trailing slash", "https://www.uplusbank.com/", "trailing slash"},
		{"query", "https://www.uplusbank.com?x=1", "query"},
		{"fragment", "https://www.uplusbank.com#x", "fragment"},
		{"userinfo", "https://user@www.uplusbank.com", "userinfo"},
		{"userinfo with password", "https://u:p@www.uplusbank.com", "userinfo"},
		{"no scheme", "www.uplusbank.com", "missing scheme"},
		{"scheme-relative", "//www.uplusbank.com", "missing scheme"},
		{"other scheme", "ftp://www.uplusbank.com", "scheme"},
		{"ws scheme", "wss://www.uplusbank.com", "scheme"},
		{"leading space", " https://www.uplusbank.com", "white space"},
		{"trailing newline", "https://www.uplusbank.com\n", "white space"},
		{"trailing dot", "https://www.uplusbank.com.", "trailing dot"},
		{"empty label", "https://www..uplusbank.com", "host"},
		{"no host", "https://", "host"},
		{"port zero", "https://www.uplusbank.com:0", "port"},
		{"port too big", "https://www.uplusbank.com:65536", "port"},
		{"port leading zero", "https://www.uplusbank.com:0443", "port"},
		{"empty port", "https://www.uplusbank.com:", "port"},
		{"space in host", "https://www uplusbank.com", "host"},
		{"percent in host", "https://www%2euplusbank.com", "host"},
		{"backslash", `https://www.uplusbank.com\evil`, "backslash"},
		{"non-canonical ipv4", "http://127.1", "IPv4"},
		{"ipv6 zone", "http://[fe80::1%eth0]", "IPv6"},
		{"ipv4-mapped ipv6", "http://[::ffff:127.0.0.1]", "IPv6"},
		{"bad punycode", "https://xn--a.example", "punycode"},
		{"invalid utf-8", "https://\xff.example", "UTF-8"},
		{"label too long", "https://" + strings.Repeat("a", 64) + ".example", "63"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseOne(tc.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidPattern)
			var pe *cfgerr.Error
			require.True(t, errors.As(err, &pe))
			assert.Equal(t, "[0]", pe.Field)
			assert.Equal(t, tc.in, pe.Value)
			assert.Contains(t, pe.Reason, tc.reason)
		})
	}
}

func TestNewMatcherReportsEveryBadEntry(t *testing.T) {
	_, err := NewMatcher([]string{
		"https://ok.example",
		"null",
		"https://*.co.uk",
		"https://ok.example:443", // duplicate of entry 0 after normalisation
		"https://fine.example",
		"https://x.example/path",
	})
	require.Error(t, err)
	var fields []string
	var all []*cfgerr.Error
	for pe := range cfgerr.All(err) {
		fields = append(fields, pe.Field)
		all = append(all, pe)
		assert.ErrorIs(t, pe, ErrInvalidPattern)
	}
	assert.Equal(t, []string{"[1]", "[2]", "[3]", "[5]"}, fields)
	assert.ErrorIs(t, err, ErrInvalidPattern)
	assert.Contains(t, all[2].Reason, "duplicate of entry 0")
	assert.Contains(t, err.Error(), `[5]: "https://x.example/path"`)
}

func TestPatternsListsNormalisedForms(t *testing.T) {
	m := mustMatcher(t, []string{"HTTPS://A.Example:443", "http://*.b.example:*", "*"})
	assert.Equal(t, []string{"https://a.example", "http://*.b.example:*", "*"}, m.Patterns())
	assert.Len(t, m.patterns, 3)
	assert.False(t, m.sameSite)
}

func TestAllowsDoesNotAllocate(t *testing.T) {
	list := []string{"https://www.uplusbank.com", "https://*.uplus.com", "http://localhost:*", "http://[::1]:8080"}
	origins := []string{"https://www.uplusbank.com", "https://a.b.uplus.com", "https://evil.example", "https://a.evil.uplusbank.com.example", "http://localhost:1", "http://[::1]:8080", "HTTPS://X", "null"}
	for _, opts := range [][]Option{nil, {SameSite()}} {
		m := mustMatcher(t, list, opts...)
		for _, o := range origins {
			allocs := testing.AllocsPerRun(100, func() { m.Allows(o) })
			assert.Zero(t, allocs, "%s same-site=%v", o, m.sameSite)
		}
	}
	// A same-site match of a host other than the listed one is confirmed
	// against the public suffix list, whose lookup allocates once.
	m := mustMatcher(t, list, SameSite())
	allocs := testing.AllocsPerRun(100, func() { m.Allows("https://account.uplusbank.com") })
	assert.LessOrEqual(t, allocs, 1.0)
}

func TestCSPSources(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		opts     []Option
		want     []string
	}{
		{"exact", []string{"https://www.uplusbank.com"}, nil, []string{"https://www.uplusbank.com"}},
		{"wildcard and any port", []string{"https://*.uplus.com", "http://localhost:*"}, nil, []string{"https://*.uplus.com", "http://localhost:*"}},
		{"same-site", []string{"https://www.uplusbank.com"}, []Option{SameSite()}, []string{"https://www.uplusbank.com", "https://uplusbank.com:*", "https://*.uplusbank.com:*"}},
		{"same-site ip", []string{"http://127.0.0.1:8080"}, []Option{SameSite()}, []string{"http://127.0.0.1:8080", "http://127.0.0.1:*"}},
		{"any", []string{"https://www.uplusbank.com", "*"}, nil, []string{"https:", "http:"}},
		{"empty", nil, nil, []string{"'none'"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, mustMatcher(t, tc.patterns, tc.opts...).CSPSources())
		})
	}
}

// parseOne parses one pattern as NewMatcher does, with its error for a
// one-entry list.
func parseOne(s string) (pattern, error) {
	p, reason := parsePattern(s)
	if reason != "" {
		_, err := NewMatcher([]string{s})
		return pattern{}, err
	}
	return p, nil
}

// The exact-mode hint "same site as …, use same-site matching" applies to
// an origin of the same scheme only: sites are schemeful, so same-site
// matching would not admit http://example.com for https://*.example.com.
func TestExplainSameSiteHintIsSchemeful(t *testing.T) {
	m, err := NewMatcher([]string{"https://www.example.com"})
	require.NoError(t, err)
	require.Contains(t, m.Explain("https://other.example.com").Detail, "same site as https://www.example.com")
	require.NotContains(t, m.Explain("http://other.example.com").Detail, "same site")
}
