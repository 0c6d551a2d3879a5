package origin_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/origin"
)

// Adversarial cases written from the attacker's side, independent of the
// package's own tests: every pattern an operator could be tricked into
// writing, and every Origin value an attacker (or a confused client) could
// send. Each case asserts the secure outcome.

// TestAdversarialPatternsRejected lists entries that must never load: they
// either name something no browser sends, or would admit unrelated sites.
func TestAdversarialPatternsRejected(t *testing.T) {
	cases := []struct{ name, pattern string }{
		// Found by adversarial review and fixed: wildcards over a
		// public-suffix wildcard rule, and empty punycode labels.
		{"wildcard over an ICANN wildcard rule", "https://*.kawasaki.jp"},
		{"wildcard over compute-1.amazonaws.com", "https://*.compute-1.amazonaws.com"},
		{"wildcard over elb.amazonaws.com", "https://*.elb.amazonaws.com"},
		{"wildcard over compute.amazonaws.com", "https://*.compute.amazonaws.com"},
		{"empty punycode label", "https://xn--.example"},
		{"wildcard over empty punycode label", "https://*.xn--.example"},
		// null in any case or dress.
		{"null lowercase", "null"},
		{"null uppercase", "NULL"},
		{"null mixed case", "nUlL"},
		{"null with trailing space", "null "},
		{"null with leading tab", "\tnull"},
		{"null as a scheme", "null://example.com"},

		// Wildcards directly above public suffixes, ICANN and private.
		{"wildcard over com", "https://*.com"},
		{"wildcard over co.uk", "https://*.co.uk"},
		{"wildcard over uk", "https://*.uk"},
		{"wildcard over github.io", "https://*.github.io"},
		{"wildcard over GITHUB.IO uppercase", "https://*.GITHUB.IO"},
		{"wildcard over appspot.com", "https://*.appspot.com"},
		{"wildcard over blogspot.com", "https://*.blogspot.com"},
		{"wildcard over s3.amazonaws.com", "https://*.s3.amazonaws.com"},
		{"wildcard over herokuapp.com", "https://*.herokuapp.com"},
		{"wildcard over cloudfront.net", "https://*.cloudfront.net"},
		{"wildcard over azurewebsites.net", "https://*.azurewebsites.net"},
		{"wildcard over vercel.app", "https://*.vercel.app"},
		{"wildcard over pages.dev", "https://*.pages.dev"},
		{"wildcard over a PSL wildcard child (us-east-1.compute.amazonaws.com)", "https://*.us-east-1.compute.amazonaws.com"},
		{"wildcard over ck (PSL wildcard rule)", "https://*.ck"},
		{"wildcard over fullwidth com", "https://*.\uff43\uff4f\uff4d"},
		{"wildcard over ideographic-dot co.uk", "https://*.co\u3002uk"},
		{"wildcard over Unicode TLD", "https://*.\u4e2d\u56fd"},
		{"wildcard over punycode TLD", "https://*.xn--fiqs8s"},
		{"wildcard over uppercase punycode TLD", "https://*.XN--FIQS8S"},
		{"wildcard over Unicode public suffix", "https://*.\u516c\u53f8.cn"},
		{"wildcard over an unlisted single label", "https://*.intranet"},
		{"wildcard over local", "https://*.local"},
		{"wildcard with any port over com", "https://*.com:*"},
		{"wildcard over co.uk with trailing dot", "https://*.co.uk."},

		// Wildcards anywhere but the whole first label.
		{"bare wildcard host", "https://*"},
		{"bare wildcard host and port", "https://*:*"},
		{"wildcard scheme", "*://example.com"},
		{"wildcard without scheme", "*.example.com"},
		{"wildcard glued to label", "https://*example.com"},
		{"wildcard with suffix in label", "https://*-x.example.com"},
		{"wildcard in middle label", "https://a.*.example.com"},
		{"two wildcards", "https://*.*.example.com"},
		{"double star", "https://**.example.com"},
		{"wildcard then empty label", "https://*..example.com"},
		{"wildcard after ideographic dot", "https://*\u3002example.com"},
		{"wildcard after fullwidth dot", "https://*\uff0eexample.com"},
		{"wildcard over IPv4", "https://*.1.2.3.4"},
		{"wildcard over IPv6", "https://*.[::1]"},
		{"wildcard in port digits", "https://example.com:8*"},
		{"wildcard in the middle of the port", "https://example.com:*8"},
		{"percent-encoded wildcard", "https://%2a.example.com"},

		// Schemes and separators.
		{"no scheme", "www.example.com"},
		{"scheme-relative", "//www.example.com"},
		{"one slash", "https:/www.example.com"},
		{"three slashes", "https:///www.example.com"},
		{"backslashes", `https:\\www.example.com`},
		{"trailing backslash", `https://www.example.com\`},
		{"backslash in host", `https://www.example.com\@evil.example`},
		{"ws scheme", "ws://www.example.com"},
		{"wss scheme", "wss://www.example.com"},
		{"ftp scheme", "ftp://www.example.com"},
		{"file scheme", "file://"},
		{"blob origin", "blob:https://www.example.com"},
		{"javascript scheme", "javascript://www.example.com"},
		{"httpx scheme", "httpx://www.example.com"},
		{"space in scheme", "ht tps://www.example.com"},

		// Paths, queries, fragments, userinfo.
		{"trailing slash", "https://www.example.com/"},
		{"path", "https://www.example.com/store"},
		{"query", "https://www.example.com?x"},
		{"empty query", "https://www.example.com?"},
		{"fragment", "https://www.example.com#x"},
		{"userinfo", "https://user@www.example.com"},
		{"userinfo with password", "https://user:pw@www.example.com"},
		{"empty userinfo", "https://@www.example.com"},
		{"trailing at", "https://www.example.com@"},
		{"host as userinfo", "https://www.example.com@evil.example"},
		{"two origins with comma", "https://a.example, https://b.example"},
		{"two origins with space", "https://a.example https://b.example"},

		// Hosts no browser serialises.
		{"trailing dot", "https://www.example.com."},
		{"trailing dot and port", "https://www.example.com.:443"},
		{"trailing ideographic dot", "https://www.example.com\u3002"},
		{"leading dot", "https://.example.com"},
		{"double dot", "https://www..example.com"},
		{"empty host", "https://"},
		{"empty host with port", "https://:443"},
		{"percent-encoding in host", "https://ex%61mple.com"},
		{"encoded slash in host", "https://example.com%2fevil"},
		{"space in host", "https://exa mple.com"},
		{"tab in host", "https://exa\tmple.com"},
		{"newline in host", "https://exa\nmple.com"},
		{"NUL in host", "https://exa\x00mple.com"},
		{"DEL in host", "https://exa\x7fmple.com"},
		{"leading space", " https://www.example.com"},
		{"trailing newline", "https://www.example.com\n"},
		{"trailing CRLF", "https://www.example.com\r\n"},
		{"invalid UTF-8", "https://www.ex\xffample.com"},
		{"zero-width joiner", "https://www.exam\u200dple.com"},
		{"one-dot leader", "https://www.example\u2024com"},
		{"fullwidth solidus", "https://www.example.com\uff0fevil"},
		{"fullwidth commercial at", "https://evil\uff20www.example.com"},
		{"label over 63 bytes", "https://" + strings.Repeat("a", 64) + ".example.com"},
		{"host over 253 bytes", "https://" + strings.Repeat("a.", 127) + "example.com"},
		{"invalid punycode", "https://xn--zz.example.com"},
		{"invalid punycode after lowercasing", "https://XN--ZZ.example.com"},

		// IPv4 in forms browsers rewrite.
		{"short IPv4", "http://127.1"},
		{"hex IPv4 octet", "http://0x7f.0.0.1"},
		{"octal IPv4 octet", "http://0177.0.0.1"},
		{"IPv4 as one number", "http://2130706433"},
		{"IPv4 leading zero", "http://127.0.0.01"},
		{"IPv4 octet over 255", "http://127.0.0.256"},
		{"IPv4 five parts", "http://1.2.3.4.5"},
		{"IPv4 trailing dot", "http://127.0.0.1."},
		{"host ending in hex number", "https://a.0x1"},
		{"host ending in bare 0x", "https://a.0x"},
		{"host ending in a number", "https://example.1"},

		// IPv6.
		{"IPv6 zone", "http://[fe80::1%25eth0]"},
		{"IPv6 raw zone", "http://[::1%eth0]"},
		{"IPv4-mapped IPv6", "http://[::ffff:127.0.0.1]"},
		{"IPv4-mapped IPv6 hex", "http://[::ffff:7f00:1]"},
		{"unbracketed IPv6", "http://::1"},
		{"unclosed bracket", "http://[::1"},
		{"junk after bracket", "http://[::1]x"},
		{"nested brackets", "http://[[::1]]"},
		{"not an address", "http://[example.com]"},

		// Ports.
		{"empty port", "https://www.example.com:"},
		{"plus port", "https://www.example.com:+8443"},
		{"negative port", "https://www.example.com:-1"},
		{"port zero", "https://www.example.com:0"},
		{"port leading zero", "https://www.example.com:08443"},
		{"default port leading zero", "https://www.example.com:0443"},
		{"port 65536", "https://www.example.com:65536"},
		{"huge port", "https://www.example.com:99999999999999999999"},
		{"hex port", "https://www.example.com:0x1bb"},
		{"two ports", "https://www.example.com:443:443"},
		{"port with space", "https://www.example.com: 443"},
		{"fullwidth port digits", "https://www.example.com:\uff18\uff14\uff14\uff13"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := origin.NewMatcher([]string{tc.pattern})
			require.Nilf(t, m, "NewMatcher accepted %q as %q", tc.pattern, m.Patterns())
			require.Errorf(t, err, "NewMatcher accepted %q", tc.pattern)
			require.ErrorIs(t, err, origin.ErrInvalidPattern)
			var pe *cfgerr.Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.pattern, pe.Value, "the error names the entry")
			require.Equal(t, "[0]", pe.Field, "the error names the entry")
			// In a list, the bad entry is reported with its index even
			// next to good ones.
			m, err = origin.NewMatcher([]string{"https://ok.example", tc.pattern})
			require.Nilf(t, m, "NewMatcher accepted a list holding %q", tc.pattern)
			require.ErrorIs(t, err, origin.ErrInvalidPattern)
			require.ErrorAs(t, err, &pe)
			require.Equal(t, "[1]", pe.Field, "NewMatcher names index 1")
		})
	}
}

// TestAdversarialPatternsNormalised checks that entries written in an
// unusual but valid way load as exactly what a browser would send for that
// host (WHATWG URL host parsing: UTS #46 mapping, punycode, default port
// elided), so the operator's intent and the browser's serialisation agree.
func TestAdversarialPatternsNormalised(t *testing.T) {
	cases := []struct{ name, pattern, want string }{
		{"uppercase everything", "HTTPS://WWW.EXAMPLE.COM", "https://www.example.com"},
		{"default https port", "https://www.example.com:443", "https://www.example.com"},
		{"default http port", "http://www.example.com:80", "http://www.example.com"},
		{"https on port 80 is not default", "https://www.example.com:80", "https://www.example.com:80"},
		{"ideographic full stops", "https://www\u3002example\u3002com", "https://www.example.com"},
		{"fullwidth full stop", "https://www\uff0eexample.com", "https://www.example.com"},
		{"halfwidth ideographic full stop", "https://www\uff61example.com", "https://www.example.com"},
		{"fullwidth letters", "https://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "https://example.com"},
		{"soft hyphen is ignored", "https://www.exam\u00adple.com", "https://www.example.com"},
		{"zero-width space is ignored", "https://www.exam\u200bple.com", "https://www.example.com"},
		{"byte-order mark is ignored", "https://www.exam\ufeffple.com", "https://www.example.com"},
		{"Unicode host to punycode", "https://b\u00fccher.example", "https://xn--bcher-kva.example"},
		{"uppercase Unicode host", "https://B\u00dcCHER.example", "https://xn--bcher-kva.example"},
		{"uppercase punycode", "https://XN--BCHER-KVA.example", "https://xn--bcher-kva.example"},
		{"Cyrillic look-alike stays distinct", "https://ex\u0430mple.com", "https://xn--exmple-4nf.com"},
		{"sharp s is not folded to ss", "https://fa\u00df.de", "https://xn--fa-hia.de"},
		{"wildcard over ideographic-dot domain", "https://*.example\u3002com", "https://*.example.com"},
		{"wildcard over a registrable domain below a private suffix", "https://*.sub.github.io", "https://*.sub.github.io"},
		{"wildcard over a PSL exception", "https://*.city.kawasaki.jp", "https://*.city.kawasaki.jp"},
		{"localhost wildcard on any port", "http://*.localhost:*", "http://*.localhost:*"},
		{"IPv6 expanded", "http://[0:0:0:0:0:0:0:1]", "http://[::1]"},
		{"IPv6 uppercase", "http://[2001:DB8::1]", "http://[2001:db8::1]"},
		{"IPv6 non-shortest", "http://[2001:db8:0:0:1:0:0:1]", "http://[2001:db8::1:0:0:1]"},
		{"IPv6 any port", "http://[::1]:*", "http://[::1]:*"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := origin.NewMatcher([]string{tc.pattern})
			require.NoErrorf(t, err, "NewMatcher(%q)", tc.pattern)
			require.Equal(t, []string{tc.want}, m.Patterns(), "NewMatcher(%q) loads", tc.pattern)
			// A pattern written two ways is one entry: a list holding both
			// spellings is a duplicate, not two rules.
			if _, err := origin.NewMatcher([]string{tc.want, tc.pattern}); tc.want != tc.pattern {
				require.Errorf(t, err, "NewMatcher took %q and %q as two entries", tc.want, tc.pattern)
			}
		})
	}
}

// advMatchers builds the matchers the request cases run against: every
// kind of entry, so a value that slips past any lookup path is caught.
func advMatchers(t *testing.T) map[string]*origin.Matcher {
	t.Helper()
	build := func(patterns []string, opts ...origin.Option) *origin.Matcher {
		m, err := origin.NewMatcher(patterns, opts...)
		require.NoError(t, err)
		return m
	}
	list := []string{
		"https://www.uplusbank.com",
		"https://*.uplusbank.com",
		"http://localhost:*",
		"http://*.localhost:*",
		"http://127.0.0.1:8080",
		"http://[::1]:8080",
		"https://xn--bcher-kva.example",
		"https://foo.github.io",
	}
	return map[string]*origin.Matcher{
		"exact and wildcard": build(list),
		"same-site":          build(list, origin.SameSite()),
		"any":                build([]string{"*"}),
		"any same-site":      build([]string{"*", "https://www.uplusbank.com"}, origin.SameSite()),
	}
}

// TestAdversarialRequestsDenied sends Origin values that are not the
// byte-exact browser serialisation of an http(s) origin, or are but belong
// to nobody on the list. Every matcher, even "*", must deny them, and
// Explain must agree with Allows.
func TestAdversarialRequestsDenied(t *testing.T) {
	long := "https://" + strings.Repeat("a", 300) + ".uplusbank.com"
	// malformed values are denied by every matcher, "*" included;
	// listsOnly are well-formed origins that no list entry covers (denied
	// by the exact and same-site lists, admitted by "*"); exactOnly are
	// admitted by same-site matching too.
	const (
		malformed = iota
		listsOnly
		exactOnly
	)
	cases := []struct {
		name, origin string
		kind         int
	}{
		{"empty", "", malformed},
		{"null", "null", malformed},
		{"NULL", "NULL", malformed},
		{"Null", "Null", malformed},
		{"null with space", "null ", malformed},
		{"null then origin", "null https://www.uplusbank.com", malformed},
		{"star", "*", malformed},
		{"wildcard literally", "https://*.uplusbank.com", malformed},
		// Found by adversarial review and fixed: no browser sends these.
		{"ipv4-mapped ipv6 in dotted form", "http://[::ffff:127.0.0.1]:8080", malformed},
		{"invalid punycode label", "https://xn--zz.uplusbank.com", malformed},
		{"empty punycode label", "https://xn--.uplusbank.com", malformed},
		{"invalid punycode registrable domain", "https://xn--zz.com", malformed},
		{"percent-encoded star", "https://%2a.uplusbank.com", malformed},

		{"uppercase scheme", "HTTPS://www.uplusbank.com", malformed},
		{"mixed-case scheme", "Https://www.uplusbank.com", malformed},
		{"uppercase host", "https://WWW.uplusbank.com", malformed},
		{"uppercase localhost", "http://LOCALHOST:3000", malformed},
		{"trailing dot", "https://www.uplusbank.com.", malformed},
		{"trailing dot on subdomain", "https://a.uplusbank.com.", malformed},
		{"trailing dot on localhost", "http://localhost.:3000", malformed},
		{"default port written", "https://www.uplusbank.com:443", malformed},
		{"default http port written", "http://localhost:80", malformed},
		{"port with leading zero", "https://www.uplusbank.com:0443", malformed},
		{"non-default port with leading zero", "http://127.0.0.1:08080", malformed},
		{"empty port", "https://www.uplusbank.com:", malformed},
		{"plus port", "https://www.uplusbank.com:+443", malformed},
		{"negative port", "http://localhost:-1", malformed},
		{"port zero", "http://localhost:0", malformed},
		{"port 65536", "http://localhost:65536", malformed},
		{"huge port", "http://localhost:4294967297", malformed},
		{"two ports", "http://127.0.0.1:8080:8080", malformed},
		{"trailing slash", "https://www.uplusbank.com/", malformed},
		{"path", "https://www.uplusbank.com/store", malformed},
		{"query", "https://www.uplusbank.com?", malformed},
		{"fragment", "https://www.uplusbank.com#", malformed},
		{"leading space", " https://www.uplusbank.com", malformed},
		{"trailing space", "https://www.uplusbank.com ", malformed},
		{"trailing tab", "https://www.uplusbank.com\t", malformed},
		{"tab inside", "https://www.uplus\tbank.com", malformed},
		{"newline inside", "https://www.uplus\nbank.com", malformed},
		{"trailing CRLF", "https://www.uplusbank.com\r\n", malformed},
		{"trailing NUL", "https://www.uplusbank.com\x00", malformed},
		{"NUL before suffix", "https://evil.example\x00.uplusbank.com", malformed},
		{"leading BOM", "\ufeffhttps://www.uplusbank.com", malformed},
		{"trailing zero-width space", "https://www.uplusbank.com\u200b", malformed},
		{"soft hyphen", "https://www.uplus\u00adbank.com", malformed},
		{"ideographic dots", "https://www\u3002uplusbank\u3002com", malformed},
		{"fullwidth dot", "https://www\uff0euplusbank.com", malformed},
		{"halfwidth ideographic dot", "https://www\uff61uplusbank.com", malformed},
		{"Unicode host", "https://b\u00fccher.example", malformed},
		{"uppercase punycode", "https://XN--BCHER-KVA.example", malformed},
		{"Cyrillic look-alike", "https://www.upl\u0443sbank.com", malformed},
		{"Cyrillic look-alike in punycode", "https://www.xn--uplsbank-9rg.com", listsOnly},
		{"invalid UTF-8", "https://www.uplusbank.com\xff", malformed},

		{"suffix attack", "https://www.uplusbank.com.evil.example", listsOnly},
		{"prefix attack", "https://evil-uplusbank.com", listsOnly},
		{"glued prefix", "https://evilwww.uplusbank.co", listsOnly},
		{"userinfo", "https://evil.example@www.uplusbank.com", malformed},
		{"userinfo the other way", "https://www.uplusbank.com@evil.example", malformed},
		{"encoded at", "https://evil.example%40www.uplusbank.com", malformed},
		{"encoded dot", "https://www%2euplusbank.com", malformed},
		{"backslash authority", `https:\\www.uplusbank.com`, malformed},
		{"backslash after host", `https://www.uplusbank.com\`, malformed},
		{"backslash path to evil", `https://evil.example\.uplusbank.com`, malformed},
		{"one slash", "https:/www.uplusbank.com", malformed},
		{"three slashes", "https:///www.uplusbank.com", malformed},
		{"no scheme", "www.uplusbank.com", malformed},
		{"scheme-relative", "//www.uplusbank.com", malformed},
		{"two origins comma", "https://www.uplusbank.com,https://evil.example", malformed},
		{"two origins comma space", "https://www.uplusbank.com, https://www.uplusbank.com", malformed},
		{"two origins space", "https://evil.example https://www.uplusbank.com", malformed},
		{"ws scheme", "ws://www.uplusbank.com", malformed},
		{"wss scheme", "wss://www.uplusbank.com", malformed},
		{"ftp scheme", "ftp://www.uplusbank.com", malformed},
		{"file scheme", "file://", malformed},
		{"blob", "blob:https://www.uplusbank.com", malformed},
		{"chrome-extension", "chrome-extension://abcdefghijklmnopabcdefghijklmnop", malformed},

		{"empty label", "https://a..uplusbank.com", malformed},
		{"leading dot", "https://.uplusbank.com", malformed},
		{"label over 63 bytes", "https://" + strings.Repeat("a", 64) + ".uplusbank.com", malformed},
		{"very long value", long, malformed},
		{"very very long value", strings.Repeat("https://www.uplusbank.com", 10000), malformed},

		{"short IPv4", "http://127.1:8080", malformed},
		{"hex IPv4", "http://0x7f.0.0.1:8080", malformed},
		{"octal IPv4", "http://0177.0.0.1:8080", malformed},
		{"integer IPv4", "http://2130706433:8080", malformed},
		{"zero-padded IPv4", "http://127.000.000.001:8080", malformed},
		{"IPv4 trailing dot", "http://127.0.0.1.:8080", malformed},
		{"host ending in a number", "https://www.uplusbank.1", malformed},
		{"IPv6 expanded", "http://[0:0:0:0:0:0:0:1]:8080", malformed},
		{"IPv6 leading zeros", "http://[0000::1]:8080", malformed},
		{"IPv6 uppercase", "http://[::A]:8080", malformed},
		{"IPv6 zone", "http://[::1%25lo]:8080", malformed},
		{"IPv6 raw zone", "http://[::1%lo]:8080", malformed},
		{"IPv6 unbracketed", "http://::1:8080", malformed},
		{"IPv6 unclosed", "http://[::1:8080", malformed},
		{"IPv6 doubled brackets", "http://[[::1]]:8080", malformed},
		{"IPv6 junk after bracket", "http://[::1]x:8080", malformed},
		{"IPv6 with path", "http://[::1]:8080/", malformed},

		{"apex against wildcard only list", "https://uplusbank.com.evil.example", listsOnly},
		{"other scheme on listed host", "http://www.uplusbank.com", listsOnly},
		{"other scheme on wildcard", "http://a.uplusbank.com", listsOnly},
		{"sibling under a private suffix", "https://bar.github.io", listsOnly},
		{"the private suffix itself", "https://github.io", listsOnly},
		{"other IPv4", "http://127.0.0.2:8080", listsOnly},
		{"other port on exact IPv4", "http://127.0.0.1:8081", exactOnly},
	}
	for name, m := range advMatchers(t) {
		for _, tc := range cases {
			switch {
			case tc.kind == listsOnly && strings.HasPrefix(name, "any"),
				tc.kind == exactOnly && name != "exact and wildcard":
				continue
			}
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				require.Falsef(t, m.Allows(tc.origin), "Allows(%q)", tc.origin)
				d := m.Explain(tc.origin)
				require.Falsef(t, d.Allowed, "Explain(%q) allowed it: %v", tc.origin, d)
				require.NotEqualf(t, origin.ReasonAllowed, d.Reason, "Explain(%q) allowed it: %v", tc.origin, d)
				// The decision line is safe to log: no raw control bytes
				// and no unbounded echo of the attacker's value.
				s := d.String()
				require.Falsef(t, strings.ContainsAny(s, "\n\r\x00"), "Decision.String() is not log-safe: %q", s)
				require.LessOrEqualf(t, len(s), 1024, "Decision.String() is not log-safe: %q", s)
			})
		}
	}
}

// TestAdversarialRequestsAllowed is the control for the denials above: the
// canonical form of each attacked value is admitted, so the denials are not
// an accident of a matcher that denies everything.
func TestAdversarialRequestsAllowed(t *testing.T) {
	ms := advMatchers(t)
	cases := []struct{ name, origin string }{
		{"exact", "https://www.uplusbank.com"},
		{"wildcard one label", "https://a.uplusbank.com"},
		{"wildcard deep", "https://a.b.c.uplusbank.com"},
		{"wildcard underscore label", "https://a_b.uplusbank.com"},
		{"wildcard very deep", "https://" + strings.Repeat("a.", 100) + "uplusbank.com"},
		{"localhost any port", "http://localhost:3000"},
		{"localhost default port", "http://localhost"},
		{"localhost subdomain", "http://app.localhost:5173"},
		{"IPv4", "http://127.0.0.1:8080"},
		{"IPv6", "http://[::1]:8080"},
		{"punycode", "https://xn--bcher-kva.example"},
		{"below private suffix", "https://foo.github.io"},
	}
	for name, m := range ms {
		if name == "any same-site" {
			continue
		}
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				require.Truef(t, m.Allows(tc.origin), "Allows(%q): %v", tc.origin, m.Explain(tc.origin))
				d := m.Explain(tc.origin)
				require.Truef(t, d.Allowed, "Explain(%q) = %v", tc.origin, d)
				require.NotEmptyf(t, d.Pattern, "Explain(%q) = %v", tc.origin, d)
			})
		}
	}
}

// TestAdversarialWildcardBoundaries attacks the wildcard lookup: the apex,
// look-alike suffixes, other schemes and ports, and hosts whose labels line
// up with the suffix only as strings.
func TestAdversarialWildcardBoundaries(t *testing.T) {
	m, err := origin.NewMatcher([]string{"https://*.uplusbank.com", "https://*.a.example:8443", "http://*.b.example:*"})
	require.NoError(t, err)
	cases := []struct {
		name, origin string
		allow        bool
	}{
		{"apex", "https://uplusbank.com", false},
		{"apex on other port", "https://uplusbank.com:8443", false},
		{"label glued to suffix", "https://eviluplusbank.com", false},
		{"hyphen glued to suffix", "https://evil-uplusbank.com", false},
		{"suffix followed by more", "https://a.uplusbank.com.evil", false},
		{"suffix as a middle label", "https://a.uplusbank.com.uplusbank.co", false},
		{"other TLD", "https://a.uplusbank.co", false},
		{"http scheme", "http://a.uplusbank.com", false},
		{"non-default port", "https://a.uplusbank.com:8443", false},
		{"subdomain", "https://a.uplusbank.com", true},
		{"sub-subdomain", "https://x.y.uplusbank.com", true},
		{"suffix repeated", "https://uplusbank.com.uplusbank.com", true},
		{"port wildcard wrong port", "https://x.a.example:8444", false},
		{"port wildcard default port", "https://x.a.example", false},
		{"port wildcard right port", "https://x.a.example:8443", true},
		{"any-port wildcard default", "http://x.b.example", true},
		{"any-port wildcard other", "http://x.b.example:1", true},
		{"any-port wildcard apex", "http://b.example:1", false},
		{"any-port wildcard https", "https://x.b.example", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equalf(t, tc.allow, m.Allows(tc.origin), "Allows(%q) (%v)", tc.origin, m.Explain(tc.origin))
		})
	}
}

// TestAdversarialSameSite attacks same-site mode across public-suffix
// boundaries: registrable domains are computed with the PSL, including its
// private section and wildcard/exception rules, and IPs and hosts that are
// themselves public suffixes are their own site.
func TestAdversarialSameSite(t *testing.T) {
	cases := []struct {
		name    string
		entry   string
		origin  string
		allowed bool
	}{
		{"U+ Bank subdomain", "https://www.uplusbank.com", "https://account.uplusbank.com", true},
		{"U+ Bank apex", "https://www.uplusbank.com", "https://uplusbank.com", true},
		{"U+ Bank other port", "https://www.uplusbank.com", "https://uplusbank.com:8443", true},
		{"U+ Bank other scheme", "https://www.uplusbank.com", "http://www.uplusbank.com", false},
		{"U+ Bank other domain", "https://www.uplusbank.com", "https://www.uplus.com", false},
		{"U+ Bank suffix attack", "https://www.uplusbank.com", "https://uplusbank.com.evil.example", false},
		{"U+ Bank glued", "https://www.uplusbank.com", "https://eviluplusbank.com", false},
		{"co.uk sibling", "https://www.bank.co.uk", "https://evil.co.uk", false},
		{"co.uk itself", "https://www.bank.co.uk", "https://co.uk", false},
		{"co.uk same site", "https://www.bank.co.uk", "https://login.bank.co.uk", true},
		{"github.io sibling", "https://foo.github.io", "https://bar.github.io", false},
		{"github.io suffix itself", "https://foo.github.io", "https://github.io", false},
		{"github.io child", "https://foo.github.io", "https://x.foo.github.io", true},
		{"s3 bucket sibling", "https://mine.s3.amazonaws.com", "https://evil.s3.amazonaws.com", false},
		{"listed public suffix admits no child", "https://github.io", "https://evil.github.io", false},
		{"listed public suffix other port", "https://github.io", "https://github.io:8443", true},
		{"PSL wildcard rule sibling", "https://a.kawasaki.jp", "https://b.kawasaki.jp", false},
		{"PSL wildcard rule child is another site", "https://a.kawasaki.jp", "https://x.a.kawasaki.jp", false},
		{"PSL exception child", "https://city.kawasaki.jp", "https://www.city.kawasaki.jp", true},
		{"localhost sibling", "http://localhost:3000", "http://evil.localhost:3000", false},
		{"localhost other port", "http://localhost:3000", "http://localhost:9999", true},
		{"IPv4 other port", "http://127.0.0.1:3000", "http://127.0.0.1:9", true},
		{"IPv4 neighbour", "http://127.0.0.1:3000", "http://127.0.0.2:3000", false},
		{"IPv4 as suffix", "https://1.2.3.4", "https://5.1.2.3.4", false},
		{"IPv6 other port", "http://[::1]:3000", "http://[::1]:9", true},
		{"IPv6 neighbour", "http://[::1]:3000", "http://[::2]:3000", false},
		{"IPv6 not canonical", "http://[::1]:3000", "http://[0::1]:3000", false},
		{"uppercase still denied", "https://www.uplusbank.com", "https://ACCOUNT.uplusbank.com", false},
		{"trailing dot still denied", "https://www.uplusbank.com", "https://account.uplusbank.com.", false},
		{"default port still denied", "https://www.uplusbank.com", "https://account.uplusbank.com:443", false},
		{"Unicode entry, punycode request", "https://b\u00fccher.example", "https://www.xn--bcher-kva.example", true},
		{"Unicode entry, Unicode request", "https://b\u00fccher.example", "https://www.b\u00fccher.example", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := origin.NewMatcher([]string{tc.entry}, origin.SameSite())
			require.NoError(t, err)
			require.Equalf(t, tc.allowed, m.Allows(tc.origin), "same-site %q: Allows(%q) (%v)", tc.entry, tc.origin, m.Explain(tc.origin))
			d := m.Explain(tc.origin)
			require.Equalf(t, tc.allowed, d.Allowed, "Explain disagrees with Allows: %v", d)
		})
	}
}

// TestAdversarialEmptyAndNil: no list means nothing is allowed here (the
// "any website" rule belongs to the policy layer), not even "*"-like values.
func TestAdversarialEmptyAndNil(t *testing.T) {
	empty, err := origin.NewMatcher(nil)
	require.NoError(t, err)
	sameSiteEmpty, err := origin.NewMatcher([]string{}, origin.SameSite())
	require.NoError(t, err)
	var nilMatcher *origin.Matcher
	for name, m := range map[string]*origin.Matcher{"empty": empty, "empty same-site": sameSiteEmpty, "nil": nilMatcher} {
		for _, o := range []string{"https://www.uplusbank.com", "http://localhost", "*", "null", ""} {
			t.Run(name+"/"+o, func(t *testing.T) {
				require.Falsef(t, m.Allows(o), "%s matcher allowed %q", name, o)
				require.Falsef(t, m.Explain(o).Allowed, "%s matcher explained %q as allowed", name, o)
			})
		}
	}
}

// A wildcard never crosses a public suffix below its own suffix: the
// bucket under s3.amazonaws.com is someone else's site. (Found by
// adversarial review and fixed.)
func TestAdversarialWildcardStopsAtNestedPublicSuffix(t *testing.T) {
	m, err := origin.NewMatcher([]string{"https://*.amazonaws.com", "https://*.uplusbank.com"})
	require.NoError(t, err)
	for o, want := range map[string]bool{
		"https://evil.s3.amazonaws.com":           false,
		"https://evil.s3.us-east-1.amazonaws.com": false,
		"https://s3.amazonaws.com":                false,
		"https://console.aws.amazonaws.com":       true,
		"https://a.b.uplusbank.com":               true,
	} {
		for i := 0; i < 2; i++ { // the second time from the memo
			assert.Equalf(t, want, m.Allows(o), "Allows(%q) (%s)", o, m.Explain(o))
		}
	}
	assert.Zero(t, testing.AllocsPerRun(50, func() { m.Allows("https://a.b.uplusbank.com") }), "a remembered wildcard hit allocates")
}

func TestAdversarialIPv4MappedIPv6BrowserForm(t *testing.T) {
	m, err := origin.NewMatcher([]string{"*"})
	require.NoError(t, err)
	assert.True(t, m.Allows("http://[::ffff:7f00:1]:8080"), "the browser's form of an IPv4-mapped address is refused")
	assert.False(t, m.Allows("http://[::ffff:127.0.0.1]:8080"), "the dotted form, which browsers never send, is allowed")
}
