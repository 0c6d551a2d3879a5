package cookies_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/msgsec/msgsec/cookies"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Adversarial Cookie headers and allowlists, written from the attacker's
// side and independent of the package's own tests. Every case asserts the
// secure outcome: what is forwarded, and that the rewritten header parses
// (with net/http) to exactly that and nothing else.

// advAllowlist admits two exact names and one prefix.
func advAllowlist(t *testing.T, opts ...cookies.Option) *cookies.Allowlist {
	t.Helper()
	return mustAllowlist(t, []string{"page_viewed", "dummy", "cart_*"}, opts...)
}

// advPairs renders cookies as "name=value" for comparison (nil for none).
func advPairs(cs []*http.Cookie) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name+"="+c.Value)
	}
	return out
}

// advCheckRewrite runs RewriteRequest on a copy of lines and checks that
// net/http reads back exactly the kept cookies (net/http strips the quotes
// around a quoted value and reports Quoted), on one line, with no other
// spelling of the header left behind.
func advCheckRewrite(t *testing.T, a *cookies.Allowlist, lines []string, extra http.Header, want []string) {
	t.Helper()
	h := http.Header{}
	if lines != nil {
		h["Cookie"] = append([]string(nil), lines...)
	}
	for k, v := range extra {
		h[k] = v
	}
	r := &http.Request{Header: h}
	kept := a.RewriteRequest(r)
	require.Equal(t, want, advPairs(kept), "RewriteRequest kept")
	var reparsed []string
	for _, c := range r.Cookies() {
		v := c.Value
		if c.Quoted {
			v = `"` + v + `"`
		}
		reparsed = append(reparsed, c.Name+"="+v)
	}
	require.Equal(t, want, reparsed, "net/http reads the rewritten header %q", r.Header["Cookie"])
	if n := len(r.Header["Cookie"]); n > 1 || (n == 1 && len(want) == 0 && r.Header["Cookie"][0] != "") {
		require.Failf(t, "rewritten header", "%q, want one line holding only %q", r.Header["Cookie"], want)
	}
	for k := range r.Header {
		require.False(t, k != "Cookie" && strings.EqualFold(k, "Cookie"), "header spelled %q survived the rewrite", k)
	}
}

// TestAdversarialFilter sends hostile Cookie headers. want is what may be
// forwarded, in order, values byte-exact as sent.
func TestAdversarialFilter(t *testing.T) {
	big := strings.Repeat("a", 5000)
	// Many pairs, but fewer than a browser may send (the bound on pairs is
	// tested in TestAdversarialLimits).
	many := strings.Repeat("x=1; ", 300) + "page_viewed=home"
	cases := []struct {
		name  string
		lines []string
		want  []string
	}{
		// Cookie sandwich (RFC 2109 $Version + an unclosed quote): a lenient
		// parser reads the secret as part of an allowed cookie's value. Pairs
		// are read one by one, as the browser wrote them, and never joined:
		// the quoted bytes never become part of a kept value, and a pair
		// between the quotes is just another cookie (kept only if allowed).
		{"sandwich classic", []string{`$Version=1; session="deadbeef; PHPSESSID=secret; dummy=qaz"`}, nil},
		{"sandwich opened by an allowed name", []string{`$Version=1; page_viewed="deadbeef; PHPSESSID=secret; dummy=qaz"`}, nil},
		{"sandwich: an allowed pair between the quotes is its own cookie", []string{`$Version=1; x="a; page_viewed=injected; y=b"`}, []string{"page_viewed=injected"}},
		{"sandwich: the quoted secret never joins the allowed value", []string{`page_viewed="x; session_id=s; y"`}, nil},
		{"sandwich: a separate allowed pair after it is kept", []string{`page_viewed="x; session_id=s; y"; dummy=ok`}, []string{"dummy=ok"}},
		{"sandwich: an allowed pair before it is kept", []string{`dummy=ok; page_viewed="x; PHPSESSID=secret; cart_a=qaz"`}, []string{"dummy=ok"}},
		{"sandwich closed by an allowed name", []string{`x="a; PHPSESSID=secret; page_viewed=injected"; dummy=ok`}, []string{"dummy=ok"}},
		{"sandwich without $Version", []string{`page_viewed="deadbeef; PHPSESSID=secret; dummy=qaz"`}, nil},
		{"sandwich split over HTTP/2 lines", []string{`$Version=1; page_viewed="deadbeef`, `PHPSESSID=secret`, `dummy=qaz"`}, nil},
		{"sandwich with escaped quote", []string{`page_viewed="a\"; PHPSESSID=secret; dummy=\""`}, nil},
		{"sandwich with comma separators", []string{`$Version=1, page_viewed="x", PHPSESSID=secret`}, nil},
		{"quote opened in the name", []string{`"page_viewed=x; PHPSESSID=secret; dummy="`}, nil},
		{"quote opened in a nameless cookie", []string{`"x; page_viewed=1; y"`}, []string{"page_viewed=1"}},
		{"JSON value drops only itself", []string{`_ga=GA1.1.1; prefs={"theme":"dark"}; page_viewed=home; cart_n=3`}, []string{"page_viewed=home", "cart_n=3"}},
		{"quoted value with semicolon", []string{`page_viewed="a;b"`}, nil},
		{"quoted value with space", []string{`page_viewed="a b"`}, nil},
		{"quoted value with comma", []string{`page_viewed="a,b"`}, nil},
		{"quoted value with backslash", []string{`page_viewed="a\b"`}, nil},
		{"lone quote value", []string{`page_viewed="`}, nil},
		{"closing quote only", []string{`page_viewed=abc"`}, nil},
		{"quote in the middle", []string{`page_viewed=a"b"`}, nil},
		{"three quotes", []string{`page_viewed="""`}, nil},
		{"well-formed $Version around a quoted value", []string{`$Version="1"; page_viewed="home"; $Path="/"`}, []string{`page_viewed="home"`}},
		{"empty quoted value kept as sent", []string{`page_viewed=""`}, []string{`page_viewed=""`}},

		// Cookie tossing: a sibling subdomain sets the same name again.
		// A malformed quote must not hide the genuine twin later on the
		// line (found by adversarial review): every pair is read, so both
		// twins are seen and the name is dropped.
		{"malformed quote hides a tossed twin", []string{`page_viewed=tossed; x="; page_viewed=genuine`}, nil},
		{"mid-value quote hides a tossed twin", []string{`page_viewed=tossed; x=a"b; page_viewed=genuine`}, nil},
		{"bare quote hides a tossed twin", []string{`page_viewed=tossed; "; page_viewed=genuine`}, nil},
		{"quoted semicolon hides a tossed twin", []string{`page_viewed=tossed; x="a;b"; page_viewed=genuine`}, nil},
		{"malformed quote hides a twin on another line", []string{"page_viewed=tossed", `x="; page_viewed=genuine`}, nil},
		{"malformed quote before a prefix twin", []string{`cart_a=tossed; x="; cart_a=genuine`}, nil},
		{"duplicate on one line", []string{"page_viewed=tossed; page_viewed=genuine"}, nil},
		{"duplicate without space", []string{"page_viewed=tossed;page_viewed=genuine"}, nil},
		{"duplicate across lines", []string{"page_viewed=tossed", "page_viewed=genuine"}, nil},
		{"duplicate with quoted twin", []string{`page_viewed=genuine; page_viewed="tossed"`}, nil},
		{"duplicate whose twin has a bad value", []string{"page_viewed=genuine; page_viewed=bad value"}, nil},
		{"duplicate whose twin is oversized", []string{"page_viewed=genuine; page_viewed=" + big}, nil},
		{"duplicate under a prefix", []string{"cart_x=1; dummy=2; cart_x=3"}, []string{"dummy=2"}},
		{"triplicate", []string{"dummy=1", "dummy=2", "dummy=3"}, nil},
		{"duplicate after many others", []string{many, "page_viewed=tossed"}, nil},
		{"case variant is another name", []string{"page_viewed=genuine; Page_viewed=x; PAGE_VIEWED=y"}, []string{"page_viewed=genuine"}},
		{"nameless cookie whose value is the name", []string{"page_viewed; page_viewed=genuine"}, []string{"page_viewed=genuine"}},
		{"empty name carrying name=value", []string{"=page_viewed=x; page_viewed=genuine"}, []string{"page_viewed=genuine"}},

		// Names that only look like the allowed one.
		{"NBSP before name", []string{"\u00a0page_viewed=x"}, nil},
		{"BOM before name", []string{"\ufeffpage_viewed=x"}, nil},
		{"zero-width space before name", []string{"\u200bpage_viewed=x"}, nil},
		{"ideographic space before name", []string{"\u3000page_viewed=x"}, nil},
		{"en space before name", []string{"\u2002page_viewed=x"}, nil},
		{"NEL before name", []string{"\u0085page_viewed=x"}, nil},
		{"line separator before name", []string{"\u2028page_viewed=x"}, nil},
		{"vertical tab before name", []string{"\vpage_viewed=x"}, nil},
		{"form feed before name", []string{"\fpage_viewed=x"}, nil},
		{"CR before name", []string{"\rpage_viewed=x"}, nil},
		{"LF before name", []string{"\npage_viewed=x"}, nil},
		{"NUL before name", []string{"\x00page_viewed=x"}, nil},
		{"zero-width joiner inside name", []string{"page\u200d_viewed=x"}, nil},
		{"space before equals", []string{"page_viewed =x"}, nil},
		{"tab before equals", []string{"page_viewed\t=x"}, nil},
		{"fullwidth name", []string{"\uff50age_viewed=x"}, nil},
		{"8-bit byte in name", []string{"page_viewed\xff=x"}, nil},
		{"percent-encoded name", []string{"page%5Fviewed=x"}, nil},
		{"dollar name", []string{"$page_viewed=x"}, nil},
		{"Unicode-space twin does not hide the real one", []string{"\u00a0page_viewed=tossed; page_viewed=genuine"}, []string{"page_viewed=genuine"}},

		// Values outside cookie-octet.
		{"space in value", []string{"page_viewed=a b"}, nil},
		{"leading space in value", []string{"page_viewed= a"}, nil},
		{"tab in value", []string{"page_viewed=\ta"}, nil},
		{"comma in value", []string{"page_viewed=1,PHPSESSID=secret"}, nil},
		{"backslash in value", []string{`page_viewed=a\b`}, nil},
		{"NUL in value", []string{"page_viewed=a\x00"}, nil},
		{"control byte in value", []string{"page_viewed=a\x01"}, nil},
		{"DEL in value", []string{"page_viewed=a\x7f"}, nil},
		{"CRLF in value", []string{"page_viewed=a\r\nSet-Cookie: x=y"}, nil},
		{"UTF-8 in value", []string{"page_viewed=caf\u00e9"}, nil},
		{"8-bit byte in value", []string{"page_viewed=\xff"}, nil},
		{"vertical tab glues two pairs", []string{"page_viewed=1\vdummy=2"}, nil},
		{"percent-encoding is not decoded", []string{"page_viewed=%3B%20PHPSESSID%3Dx"}, []string{"page_viewed=%3B%20PHPSESSID%3Dx"}},
		{"equals in value: split at the first", []string{"page_viewed==x=y"}, []string{"page_viewed==x=y"}},

		// Sensitive names reached through a prefix entry, in any case.
		{"prefix admits no session", []string{"cart_session=s; cart_SID=s; cart_Token=s; cart_auth=s; cart_JWT=s; cart_csrf=s; cart_ok=1"}, []string{"cart_ok=1"}},
		{"prefix is case-sensitive", []string{"CART_x=1; Cart_x=2"}, nil},
		{"prefix does not admit __Host-", []string{"__Host-cart_x=1; __Secure-cart_x=2"}, nil},

		// Separators and empty pairs.
		{"empty pairs", []string{";;; page_viewed=home ;;; ; "}, []string{"page_viewed=home"}},
		{"tabs around pairs", []string{"\tpage_viewed=home\t;\tdummy=1\t"}, []string{"page_viewed=home", "dummy=1"}},
		{"empty line", []string{""}, nil},
		{"only separators", []string{"; ; ;"}, nil},
		{"many unlisted cookies before a listed one", []string{many}, []string{"page_viewed=home"}},
		{"oversized value", []string{"page_viewed=" + big}, nil},
	}
	a := advAllowlist(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, advPairs(a.Filter(tc.lines)), "Filter(%q)", tc.lines)
			kept, dropped := a.FilterReport(tc.lines)
			require.Equal(t, tc.want, advPairs(kept), "FilterReport")
			for _, d := range dropped {
				// A Drop never carries a value; our values are all marked.
				for _, v := range []string{"secret", "tossed", "injected", "deadbeef"} {
					require.NotContains(t, d.String(), v, "a drop repeats a value")
				}
			}
			advCheckNotJoined(t, tc.lines, kept)
			advCheckRewrite(t, a, tc.lines, nil, tc.want)
		})
	}
}

// advCheckNotJoined checks that every kept cookie is one whole pair of the
// input, as a browser wrote it: never glued from the bytes of several
// pairs, never cut from inside a quoted value.
func advCheckNotJoined(t *testing.T, lines []string, kept []*http.Cookie) {
	t.Helper()
	sent := map[string]bool{}
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			sent[strings.Trim(part, " \t")] = true
		}
	}
	for _, c := range kept {
		require.True(t, sent[c.Name+"="+c.Value], "kept %s=%s is not one of the pairs sent", c.Name, c.Value)
	}
}

// TestAdversarialLimits pushes the size and count limits: nothing past the
// count or total limit is forwarded, and the per-cookie limit counts the
// name and the value as sent.
func TestAdversarialLimits(t *testing.T) {
	a := advAllowlist(t)
	name := "page_viewed"
	atLimit := name + "=" + strings.Repeat("v", cookies.DefaultMaxCookieBytes-len(name))
	overLimit := atLimit + "v"
	var fifty, sixty []string
	for i := 0; i < 60; i++ {
		p := "cart_" + string(rune('A'+i%26)) + string(rune('a'+i/26)) + "=1"
		if i < cookies.DefaultMaxCount {
			fifty = append(fifty, p)
		}
		sixty = append(sixty, p)
	}
	cases := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"cookie at the byte limit", []string{atLimit}, []string{atLimit}},
		{"cookie one byte over", []string{overLimit}, nil},
		{"quotes count toward the limit", []string{name + `="` + strings.Repeat("v", cookies.DefaultMaxCookieBytes-len(name)-1) + `"`}, nil},
		{"count limit, one line", []string{strings.Join(sixty, "; ")}, fifty},
		{"count limit, one cookie per line", sixty, fifty},
		{"nothing forwarded past the count limit", []string{strings.Join(sixty, "; ") + "; page_viewed=late"}, fifty},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, advPairs(a.Filter(tc.lines)))
			advCheckRewrite(t, a, tc.lines, nil, tc.want)
		})
	}
	t.Run("total bytes limit closes the rest", func(t *testing.T) {
		small := mustAllowlist(t, []string{"cart_*", "page_viewed"}, cookies.WithMaxTotalBytes(20))
		lines := []string{"cart_a=123456; cart_b=1234567; cart_c=1; page_viewed=x"}
		want := []string{"cart_a=123456"}
		require.Equal(t, want, advPairs(small.Filter(lines)))
		advCheckRewrite(t, small, lines, nil, want)
	})
	t.Run("a megabyte header", func(t *testing.T) {
		line := strings.Repeat("page_viewed=x;", 1<<16)
		assert.Nil(t, a.Filter([]string{line}), "a name sent 65536 times was forwarded")
		unique := strings.Repeat("x=1; ", 1<<17) + "page_viewed=home"
		kept, dropped := a.FilterReport([]string{unique})
		assert.Nil(t, kept, "a 640 KB header of unlisted pairs")
		assert.Equal(t, []cookies.Drop{{Reason: cookies.ReasonTooManyPairs}}, dropped)
	})
}

// TestAdversarialPairBound: a browser sends at most 360 cookies for one
// site (see the package documentation), counted over every Cookie line.
// A header with more is not a browser's, and nothing of it is forwarded.
func TestAdversarialPairBound(t *testing.T) {
	const bound = 360
	a := advAllowlist(t)
	fill := func(n int) []string { // n-1 unlisted pairs, then one allowed
		ps := make([]string, n)
		for i := range ps[:n-1] {
			ps[i] = fmt.Sprintf("x%d=1", i)
		}
		ps[n-1] = "page_viewed=home"
		return ps
	}
	kept := []string{"page_viewed=home"}
	cases := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"bound pairs on one line", []string{strings.Join(fill(bound), "; ")}, kept},
		{"bound+1 pairs on one line", []string{strings.Join(fill(bound+1), "; ")}, nil},
		{"bound pairs, one per line (HTTP/2)", fill(bound), kept},
		{"bound+1 pairs, one per line (HTTP/2)", fill(bound + 1), nil},
		{"bound+1 pairs over two lines", []string{strings.Join(fill(bound)[:200], "; "), strings.Join(fill(bound + 1)[200:], "; ")}, nil},
		{"empty pairs are not counted", []string{strings.Join(fill(bound), ";; ; ") + "; ;;"}, kept},
		{"malformed pairs are counted", []string{strings.Repeat(`q="; `, bound) + "page_viewed=home"}, nil},
		{"nameless pairs are counted", []string{strings.Repeat("v; ", bound) + "page_viewed=home"}, nil},
		{"the allowed pair first does not escape the bound", []string{"page_viewed=home; " + strings.Repeat("x=1; ", bound)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, advPairs(a.Filter(tc.lines)))
			k, dropped := a.FilterReport(tc.lines)
			require.Equal(t, tc.want, advPairs(k), "FilterReport")
			if tc.want == nil {
				require.Equal(t, []cookies.Drop{{Reason: cookies.ReasonTooManyPairs}}, dropped)
			} else {
				require.False(t, slices.ContainsFunc(dropped, func(d cookies.Drop) bool { return d.Reason == cookies.ReasonTooManyPairs }),
					"a header within the bound was reported as too many pairs")
			}
			advCheckRewrite(t, a, tc.lines, nil, tc.want)
		})
	}
}

// TestAdversarialHeaderSpellings: a hand-built request may carry the header
// under another key; net/http's Cookies reads only "Cookie", but a proxy
// would forward every spelling, so RewriteRequest must leave none behind.
func TestAdversarialHeaderSpellings(t *testing.T) {
	a := advAllowlist(t)
	cases := []struct {
		name  string
		lines []string
		extra http.Header
		want  []string
	}{
		{"lowercase twin", []string{"page_viewed=home"}, http.Header{"cookie": {"PHPSESSID=secret"}}, []string{"page_viewed=home"}},
		{"uppercase twin", []string{"page_viewed=home"}, http.Header{"COOKIE": {"PHPSESSID=secret"}}, []string{"page_viewed=home"}},
		{"mixed-case twin", []string{"page_viewed=home"}, http.Header{"cOoKiE": {"PHPSESSID=secret"}}, []string{"page_viewed=home"}},
		{"only a lowercase header", nil, http.Header{"cookie": {"page_viewed=home"}}, nil},
		{"canonical line kept, twin removed", []string{"page_viewed=home; dummy=1"}, http.Header{"cookie": {"dummy=2"}}, []string{"page_viewed=home", "dummy=1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			advCheckRewrite(t, a, tc.lines, tc.extra, tc.want)
		})
	}
}

// TestAdversarialFilterValues sends hostile widget payloads: the map must
// not smuggle a second cookie through a value or a name.
func TestAdversarialFilterValues(t *testing.T) {
	a := advAllowlist(t)
	cases := []struct {
		name string
		in   map[string]string
		want []string
	}{
		{"value smuggles a pair", map[string]string{"page_viewed": "x; PHPSESSID=secret"}, nil},
		{"value smuggles a quoted sandwich", map[string]string{"page_viewed": `"x; PHPSESSID=secret"`}, nil},
		{"name smuggles a pair", map[string]string{"page_viewed=x; PHPSESSID": "secret"}, nil},
		{"name with trailing space", map[string]string{"page_viewed ": "x"}, nil},
		{"name with NBSP", map[string]string{"\u00a0page_viewed": "x"}, nil},
		{"name with BOM", map[string]string{"\ufeffpage_viewed": "x"}, nil},
		{"empty name", map[string]string{"": "page_viewed=x"}, nil},
		{"dollar name", map[string]string{"$Version": "1"}, nil},
		{"sensitive name through prefix", map[string]string{"cart_session": "s", "cart_token": "t"}, nil},
		{"control byte in value", map[string]string{"page_viewed": "x\x00"}, nil},
		{"CRLF in value", map[string]string{"page_viewed": "x\r\nSet-Cookie: a=b"}, nil},
		{"non-ASCII value", map[string]string{"page_viewed": "caf\u00e9"}, nil},
		{"oversized value", map[string]string{"page_viewed": strings.Repeat("a", 5000)}, nil},
		{"quoted value kept as sent", map[string]string{"page_viewed": `"home"`}, []string{`page_viewed="home"`}},
		{"case variants are other names", map[string]string{"page_viewed": "a", "Page_Viewed": "b"}, []string{"page_viewed=a"}},
		{"sorted by name", map[string]string{"page_viewed": "a", "dummy": "b", "cart_z": "c"}, []string{"cart_z=c", "dummy=b", "page_viewed=a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, advPairs(a.FilterValues(tc.in)))
		})
	}
}

// TestAdversarialAllowlistEntries tries to configure an allowlist that
// admits a session cookie or a malformed name.
func TestAdversarialAllowlistEntries(t *testing.T) {
	cases := []struct {
		name  string
		entry string
		why   string
	}{
		{"empty", "", whyEmpty},
		{"bare star", "*", whyBareStar},
		{"double star", "**", whyPattern},
		{"leading star", "*_viewed", whyPattern},
		{"inner star", "page*viewed", whyPattern},
		{"two trailing stars", "cart_**", whyPattern},
		{"space in name", "page viewed", whyNotToken},
		{"NBSP suffix", "page_viewed\u00a0", whyNotToken},
		{"BOM prefix", "\ufeffpage_viewed", whyNotToken},
		{"pasted pair", "page_viewed=1", whyNotToken},
		{"semicolon", "page_viewed;", whyNotToken},
		{"NUL", "pv\x00", whyNotToken},
		{"non-ASCII", "caf\u00e9", whyNotToken},
		{"quoted name", `"page_viewed"`, whyNotToken},
		{"$Version", "$Version", whyReserved},
		{"dollar prefix", "$*", whyReserved},
		{"JSESSIONID", "JSESSIONID", whySensitive},
		{"jsessionid lowercase", "jsessionid", whySensitive},
		{"PHPSESSID", "PHPSESSID", whySensitive},
		{"ASP.NET_SessionId", "ASP.NET_SessionId", whySensitive},
		{"connect.sid", "connect.sid", whySensitive},
		{"laravel_session", "laravel_session", whySensitive},
		{"XSRF-TOKEN", "XSRF-TOKEN", whySensitive},
		{"csrftoken", "csrftoken", whySensitive},
		{".ASPXAUTH", ".ASPXAUTH", whySensitive},
		{"SID", "SID", whySensitive},
		{"remember-me", "remember-me", whySensitive},
		{"access_token", "access_token", whySensitive},
		{"__Host- prefix", "__Host-pv", whySensitive},
		{"__HOST- uppercase", "__HOST-pv", whySensitive},
		{"__host- lowercase", "__host-pv", whySensitive},
		{"__Secure- prefix", "__Secure-pv", whySensitive},
		{"__SECURE- uppercase", "__SECURE-pv", whySensitive},
		{"__Host-Http- prefix", "__Host-Http-pv", whySensitive},
		{"prefix that could admit __Host-", "__*", whySensitive},
		{"one underscore prefix", "_*", whySensitive},
		{"__Ho prefix", "__Ho*", whySensitive},
		{"JSESS prefix", "JSESS*", whySensitive},
		{"PHP prefix", "PHP*", whySensitive},
		{"sess prefix", "sess*", whySensitive},
		{"tok prefix", "tok*", whySensitive},
		{"connect. prefix", "connect.*", whySensitive},
		{"prefix holding session", "my_session_*", whySensitive},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkRefused(t, tc.entry, tc.why)
			_, err := cookies.NewAllowlist([]string{"page_viewed", tc.entry})
			require.NotContains(t, err.Error(), "=1", "the error repeats a pasted value")
		})
	}
	t.Run("duplicate entry", func(t *testing.T) {
		checkRefused(t, "page_viewed", "duplicate of entry 0")
	})
	t.Run("opt-in admits exact sensitive names but not malformed ones", func(t *testing.T) {
		_, err := cookies.NewAllowlist([]string{"JSESSIONID"}, cookies.DangerouslyAllowSensitiveNames())
		require.NoError(t, err, "the opt-in refused JSESSIONID")
		for _, bad := range []string{"*", "$Version", "page viewed"} {
			_, err := cookies.NewAllowlist([]string{bad}, cookies.DangerouslyAllowSensitiveNames())
			require.Error(t, err, "the opt-in accepted %q", bad)
		}
	})
}

// Well-known session and credential cookie names found missing by the
// adversarial review: each must be refused without the opt-in.
func TestAdversarialMoreSensitiveNames(t *testing.T) {
	for _, name := range []string{
		"CAKEPHP", "frontend", "adminhtml", "SVPNCOOKIE", "webvpn", "__client",
		"wp-postpass_0123abcd", "mybbuser", "xf_user", "phpMyAdmin", "pmaUser-1",
		"CloudFront-Signature", "CloudFront-Policy", "CloudFront-Key-Pair-Id",
		".ASPXROLES", "OAM_ID", "Horde", "PrestaShop-0123abcd",
	} {
		assert.True(t, cookies.IsSensitiveName(name), name)
		_, err := cookies.NewAllowlist([]string{name})
		assert.ErrorIs(t, err, cookies.ErrSensitiveName, "%q allowlisted without the opt-in", name)
	}
}
