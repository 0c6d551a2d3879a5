package cookies_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/msgsec/msgsec/cookies"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pairsOf renders kept cookies as "name=value" for comparison.
func pairsOf(cs []*http.Cookie) []string {
	var out []string
	for _, c := range cs {
		if c.Quoted || c.Path != "" || c.Domain != "" || c.Raw != "" {
			panic("filter set a field other than Name and Value")
		}
		out = append(out, c.Name+"="+c.Value)
	}
	return out
}

type drop = cookies.Drop

func TestFilter(t *testing.T) {
	base := []string{"page_viewed", "cart_contents", "lang", "cart_*"}
	tests := []struct {
		name    string
		entries []string // nil: base
		opts    []cookies.Option
		lines   []string
		want    []string
		drops   []drop
	}{
		{
			name:  "allowed cookies kept in order, others dropped",
			lines: []string{"_ga=GA1.2.3; page_viewed=/loans; JSESSIONID=abc; lang=en"},
			want:  []string{"page_viewed=/loans", "lang=en"},
			drops: []drop{{"_ga", cookies.ReasonNotAllowed}, {"JSESSIONID", cookies.ReasonNotAllowed}},
		},
		{
			name:  "names are case-sensitive",
			lines: []string{"Page_Viewed=a; PAGE_VIEWED=b; Lang=c"},
			drops: []drop{{"Page_Viewed", cookies.ReasonNotAllowed}, {"PAGE_VIEWED", cookies.ReasonNotAllowed}, {"Lang", cookies.ReasonNotAllowed}},
		},
		{
			name:  "prefix entry admits names with that prefix only",
			lines: []string{"cart_total=12; cart=1; xcart_a=2"},
			want:  []string{"cart_total=12"},
			drops: []drop{{"cart", cookies.ReasonNotAllowed}, {"xcart_a", cookies.ReasonNotAllowed}},
		},
		{
			name:  "split header lines (HTTP/2) are all read, in order",
			lines: []string{"lang=en", "_ga=1", "page_viewed=/home", "cart_x=9"},
			want:  []string{"lang=en", "page_viewed=/home", "cart_x=9"},
			drops: []drop{{"_ga", cookies.ReasonNotAllowed}},
		},
		{
			name:  "duplicate name in one line drops every occurrence",
			lines: []string{"page_viewed=genuine; lang=en; page_viewed=tossed"},
			want:  []string{"lang=en"},
			drops: []drop{{"page_viewed", cookies.ReasonDuplicate}, {"page_viewed", cookies.ReasonDuplicate}},
		},
		{
			name:  "duplicate name across lines drops every occurrence",
			lines: []string{"page_viewed=genuine", "lang=en", "page_viewed=tossed"},
			want:  []string{"lang=en"},
			drops: []drop{{"page_viewed", cookies.ReasonDuplicate}, {"page_viewed", cookies.ReasonDuplicate}},
		},
		{
			name:  "an invalid second occurrence still makes the name a duplicate",
			lines: []string{"page_viewed=genuine; page_viewed=bad value"},
			drops: []drop{{"page_viewed", cookies.ReasonDuplicate}, {"page_viewed", cookies.ReasonInvalidValue}},
		},
		{
			name:  "an occurrence past the count limit still makes the name a duplicate",
			opts:  []cookies.Option{cookies.WithMaxCount(1)},
			lines: []string{"page_viewed=genuine; lang=en; page_viewed=tossed"},
			want:  []string{"lang=en"},
			drops: []drop{{"page_viewed", cookies.ReasonDuplicate}, {"page_viewed", cookies.ReasonDuplicate}},
		},
		{
			name:  "duplicates of a prefix-admitted name",
			lines: []string{"cart_a=1; cart_b=2", "cart_a=3"},
			want:  []string{"cart_b=2"},
			drops: []drop{{"cart_a", cookies.ReasonDuplicate}, {"cart_a", cookies.ReasonDuplicate}},
		},
		{
			name:  "no-break space before a name is not trimmed into an allowed name",
			lines: []string{"\u00a0page_viewed=x"},
			drops: []drop{{`"\u00a0page_viewed"`, cookies.ReasonInvalidName}},
		},
		{
			name:  "thin space, ideographic space, zero-width space and BOM prefixes",
			lines: []string{"\u2009page_viewed=a; \u3000lang=b; \u200bpage_viewed=c; \ufefflang=d"},
			drops: []drop{
				{`"\u2009page_viewed"`, cookies.ReasonInvalidName}, {`"\u3000lang"`, cookies.ReasonInvalidName},
				{`"\u200bpage_viewed"`, cookies.ReasonInvalidName}, {`"\ufefflang"`, cookies.ReasonInvalidName},
			},
		},
		{
			name:  "a Unicode-space variant does not count as a duplicate of the real name",
			lines: []string{"page_viewed=x; \u00a0page_viewed=y"},
			want:  []string{"page_viewed=x"},
			drops: []drop{{`"\u00a0page_viewed"`, cookies.ReasonInvalidName}},
		},
		{
			name:  "ASCII spaces and tabs around pairs are ignored",
			lines: []string{"  page_viewed=a ;\tlang=b\t;cart_x=c"},
			want:  []string{"page_viewed=a", "lang=b", "cart_x=c"},
		},
		{
			name:  "other ASCII whitespace and control bytes are not trimmed",
			lines: []string{"\vpage_viewed=a; \flang=b; \x00cart_x=c; \rcart_y=d"},
			drops: []drop{
				{`"\vpage_viewed"`, cookies.ReasonInvalidName}, {`"\flang"`, cookies.ReasonInvalidName},
				{`"\x00cart_x"`, cookies.ReasonInvalidName}, {`"\rcart_y"`, cookies.ReasonInvalidName},
			},
		},
		{
			name:  "space before = makes the name invalid",
			lines: []string{"page_viewed =x"},
			drops: []drop{{`"page_viewed "`, cookies.ReasonInvalidName}},
		},
		{
			name:  "space after = makes the value invalid",
			lines: []string{"page_viewed= x"},
			drops: []drop{{"page_viewed", cookies.ReasonInvalidValue}},
		},
		{
			name: "values outside cookie-octet are dropped",
			lines: []string{
				"cart_sp=a b", "cart_comma=a,b", "cart_bs=a\\b", "cart_del=a\x7fb", "cart_nul=a\x00b",
				"cart_tab=a\tb", "cart_utf8=caf\u00e9", "cart_nbsp=a\u00a0", "cart_ok=a!#$%&'()*+-./:<=>?@[]^_`{|}~",
			},
			want: []string{"cart_ok=a!#$%&'()*+-./:<=>?@[]^_`{|}~"},
			drops: []drop{
				{"cart_sp", cookies.ReasonInvalidValue}, {"cart_comma", cookies.ReasonInvalidValue},
				{"cart_bs", cookies.ReasonInvalidValue}, {"cart_del", cookies.ReasonInvalidValue},
				{"cart_nul", cookies.ReasonInvalidValue}, {"cart_tab", cookies.ReasonInvalidValue},
				{"cart_utf8", cookies.ReasonInvalidValue}, {"cart_nbsp", cookies.ReasonInvalidValue},
			},
		},
		{
			name:  "no URL decoding of names or values",
			lines: []string{"page%5Fviewed=x; lang=%65n"},
			want:  []string{"lang=%65n"},
			drops: []drop{{"page%5Fviewed", cookies.ReasonNotAllowed}},
		},
		{
			name:  "comma is not a pair separator",
			lines: []string{"page_viewed=a, lang=b"},
			drops: []drop{{"page_viewed", cookies.ReasonInvalidValue}},
		},
		{
			name:  "split on the first = only",
			lines: []string{"page_viewed=a=b; lang==x"},
			want:  []string{"page_viewed=a=b", "lang==x"},
		},
		{
			name:  "empty values, quoted or not, are kept",
			lines: []string{`page_viewed=; lang=""`},
			want:  []string{"page_viewed=", `lang=""`},
		},
		{
			name:  "quotes around a value are kept as sent",
			lines: []string{`page_viewed="abc"`},
			want:  []string{`page_viewed="abc"`},
		},
		{
			name:  "empty name",
			lines: []string{"=page_viewed; lang=en"},
			want:  []string{"lang=en"},
			drops: []drop{{"", cookies.ReasonInvalidName}},
		},
		{
			name:  "pair without = is a nameless value, never reported as a name",
			lines: []string{"page_viewed; lang=en"},
			want:  []string{"lang=en"},
			drops: []drop{{"", cookies.ReasonNoEquals}},
		},
		{
			name:  "empty pairs and stray semicolons are skipped",
			lines: []string{";; page_viewed=a;;  ; lang=b;", "", ";"},
			want:  []string{"page_viewed=a", "lang=b"},
		},
		{
			name:  "$-prefixed names are reserved",
			lines: []string{"$Version=1; lang=en; $Path=/"},
			want:  []string{"lang=en"},
			drops: []drop{{"$Version", cookies.ReasonReservedName}, {"$Path", cookies.ReasonReservedName}},
		},
		{
			name:  "cookie sandwich leaks nothing from inside the quotes",
			lines: []string{`$Version=1; session="deadbeef; PHPSESSID=secret; dummy=qaz"`},
			drops: []drop{
				{"$Version", cookies.ReasonReservedName}, {"session", cookies.ReasonMalformedQuote},
				{"PHPSESSID", cookies.ReasonNotAllowed}, {"dummy", cookies.ReasonMalformedQuote},
			},
		},
		{
			name:    "cookie sandwich with every name allowed: the quoted bytes never join a kept value",
			entries: []string{"page_viewed", "dummy", "lang"},
			lines:   []string{`lang=en; page_viewed="deadbeef; lang2=x; dummy=qaz"`},
			want:    []string{"lang=en"},
			drops:   []drop{{"page_viewed", cookies.ReasonMalformedQuote}, {"lang2", cookies.ReasonNotAllowed}, {"dummy", cookies.ReasonMalformedQuote}},
		},
		{
			name:  "the pair split out of a broken quote is just another pair, dropped unless allowed",
			lines: []string{`page_viewed="x; session_id=s; y"`},
			drops: []drop{{"page_viewed", cookies.ReasonMalformedQuote}, {"session_id", cookies.ReasonNotAllowed}, {"", cookies.ReasonMalformedQuote}},
		},
		{
			name:    "the pair split out of a broken quote is kept when allowed, and alone",
			entries: []string{"page_viewed", "session_id"},
			opts:    []cookies.Option{cookies.DangerouslyAllowSensitiveNames()},
			lines:   []string{`page_viewed="x; session_id=s; y"`},
			want:    []string{"session_id=s"},
			drops:   []drop{{"page_viewed", cookies.ReasonMalformedQuote}, {"", cookies.ReasonMalformedQuote}},
		},
		{
			name:  "a malformed quote drops only its own pair",
			lines: []string{`cart_a="open; lang=x`, "page_viewed=ok"},
			want:  []string{"lang=x", "page_viewed=ok"},
			drops: []drop{{"cart_a", cookies.ReasonMalformedQuote}},
		},
		{
			name:  "a malformed last pair is dropped alone",
			lines: []string{`lang=en; page_viewed="open;  ;`},
			want:  []string{"lang=en"},
			drops: []drop{{"page_viewed", cookies.ReasonMalformedQuote}},
		},
		{
			name:  "a JSON value drops only its own pair",
			lines: []string{`_ga=GA1.1.1; prefs={"theme":"dark"}; page_viewed=home; cart_contents=3`},
			want:  []string{"page_viewed=home", "cart_contents=3"},
			drops: []drop{{"_ga", cookies.ReasonNotAllowed}, {"prefs", cookies.ReasonMalformedQuote}},
		},
		{
			name:  "non-token names and invalid values drop only their own pair",
			lines: []string{"\u00a0lang=x; page_viewed=a b; lang=en; cart_x=\x00; cart_y=1"},
			want:  []string{"lang=en", "cart_y=1"},
			drops: []drop{{`"\u00a0lang"`, cookies.ReasonInvalidName}, {"page_viewed", cookies.ReasonInvalidValue}, {"cart_x", cookies.ReasonInvalidValue}},
		},
		{
			name:  "a malformed quote does not hide a tossed twin",
			lines: []string{`page_viewed=tossed; x="; page_viewed=genuine`},
			drops: []drop{{"page_viewed", cookies.ReasonDuplicate}, {"x", cookies.ReasonMalformedQuote}, {"page_viewed", cookies.ReasonDuplicate}},
		},
		{
			name:  "a malformed twin still makes the name a duplicate",
			lines: []string{`page_viewed="tossed; lang=en`, "page_viewed=genuine"},
			want:  []string{"lang=en"},
			drops: []drop{{"page_viewed", cookies.ReasonMalformedQuote}, {"page_viewed", cookies.ReasonDuplicate}},
		},
		{
			name: "quote forms that are not DQUOTE *cookie-octet DQUOTE",
			lines: []string{
				`cart_a="abc"def`, `cart_b=abc"`, `cart_c="`, `cart_d=a"b"c`, `cart_e="a b"`, `cart_f="a\"b"`,
				`"cart_g"=x`, `cart_h"=x`, `"nameless`,
			},
			drops: []drop{
				{"cart_a", cookies.ReasonMalformedQuote}, {"cart_b", cookies.ReasonMalformedQuote},
				{"cart_c", cookies.ReasonMalformedQuote}, {"cart_d", cookies.ReasonMalformedQuote},
				{"cart_e", cookies.ReasonMalformedQuote}, {"cart_f", cookies.ReasonMalformedQuote},
				{`"\"cart_g\""`, cookies.ReasonMalformedQuote}, {`"cart_h\""`, cookies.ReasonMalformedQuote},
				{"", cookies.ReasonMalformedQuote},
			},
		},
		{
			name:  "a quote inside a not-allowed pair does not drop the pairs after it",
			lines: []string{`_ga="x; page_viewed=home`},
			want:  []string{"page_viewed=home"},
			drops: []drop{{"_ga", cookies.ReasonMalformedQuote}},
		},
		{
			name:  "a prefix entry never admits a sensitive name",
			lines: []string{"cart_session=s; cart_TOKEN=t; cart_sid=u; cart_id=v"},
			want:  []string{"cart_id=v"},
			drops: []drop{{"cart_session", cookies.ReasonSensitive}, {"cart_TOKEN", cookies.ReasonSensitive}, {"cart_sid", cookies.ReasonSensitive}},
		},
		{
			name:  "with the opt-in, a prefix entry admits sensitive names",
			opts:  []cookies.Option{cookies.DangerouslyAllowSensitiveNames()},
			lines: []string{"cart_session=s; cart_id=v"},
			want:  []string{"cart_session=s", "cart_id=v"},
		},
		{
			name:    "__Host- case variants do not match an allowed __Host- name",
			entries: []string{"__Host-pref"},
			opts:    []cookies.Option{cookies.DangerouslyAllowSensitiveNames()},
			lines:   []string{"__HOST-pref=a; __host-pref=b; __Host-Pref=c; __Host-pref=d"},
			want:    []string{"__Host-pref=d"},
			drops:   []drop{{"__HOST-pref", cookies.ReasonNotAllowed}, {"__host-pref", cookies.ReasonNotAllowed}, {"__Host-Pref", cookies.ReasonNotAllowed}},
		},
		{
			name:  "cookie of exactly the size limit is kept, one byte more is dropped",
			opts:  []cookies.Option{cookies.WithMaxCookieBytes(16), cookies.WithMaxTotalBytes(1000)},
			lines: []string{"lang=" + strings.Repeat("v", 12) + "; cart_x=" + strings.Repeat("v", 11)},
			want:  []string{"lang=" + strings.Repeat("v", 12)},
			drops: []drop{{"cart_x", cookies.ReasonTooLarge}},
		},
		{
			name:  "default size limit is 4096 bytes including the name",
			lines: []string{"lang=" + strings.Repeat("v", 4092), "page_viewed=" + strings.Repeat("v", 4086)},
			want:  []string{"lang=" + strings.Repeat("v", 4092)},
			drops: []drop{{"page_viewed", cookies.ReasonTooLarge}},
		},
		{
			name:  "quotes count towards the size limit",
			opts:  []cookies.Option{cookies.WithMaxCookieBytes(6)},
			lines: []string{`lang="a"`},
			drops: []drop{{"lang", cookies.ReasonTooLarge}},
		},
		{
			name:  "over the count limit nothing past it is forwarded",
			opts:  []cookies.Option{cookies.WithMaxCount(2)},
			lines: []string{"lang=1; _ga=x; page_viewed=2; cart_a=3", "cart_b=4"},
			want:  []string{"lang=1", "page_viewed=2"},
			drops: []drop{{"_ga", cookies.ReasonNotAllowed}, {"cart_a", cookies.ReasonTooMany}, {"cart_b", cookies.ReasonTooMany}},
		},
		{
			name:  "default count limit is 50",
			lines: []string{manyCarts(51)},
			want:  strings.Split(strings.ReplaceAll(manyCarts(50), "; ", ";"), ";"),
			drops: []drop{{"cart_50", cookies.ReasonTooMany}},
		},
		{
			name:  "over the total limit nothing past it is forwarded, even if smaller",
			opts:  []cookies.Option{cookies.WithMaxTotalBytes(20)},
			lines: []string{"lang=12345; cart_a=1234567; page_viewed=; cart_b=1"},
			want:  []string{"lang=12345"},
			drops: []drop{{"cart_a", cookies.ReasonTotalTooLarge}, {"page_viewed", cookies.ReasonTotalTooLarge}, {"cart_b", cookies.ReasonTotalTooLarge}},
		},
		{
			name:  "non-token names are reported quoted and cut to 64 bytes",
			lines: []string{strings.Repeat("é", 40) + "=x"},
			drops: []drop{{fmt.Sprintf("%+q", strings.Repeat("é", 32)), cookies.ReasonInvalidName}},
		},
		{
			name:  "no Cookie header",
			lines: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := tt.entries
			if entries == nil {
				entries = base
			}
			a := mustAllowlist(t, entries, tt.opts...)
			assert.Equal(t, tt.want, pairsOf(a.Filter(tt.lines)), "Filter")
			kept, dropped := a.FilterReport(tt.lines)
			assert.Equal(t, tt.want, pairsOf(kept), "FilterReport kept")
			assert.Equal(t, tt.drops, dropped, "FilterReport dropped")
		})
	}
}

// manyCarts returns "cart_0=v; cart_1=v; …" with n pairs.
func manyCarts(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("cart_%d=v", i)
	}
	return strings.Join(parts, "; ")
}

func TestFilterManyAllowedNamesStillFindsDuplicates(t *testing.T) {
	// More allowed names than the stack buffer: the map path must agree.
	a := mustAllowlist(t, []string{"cart_*"}, cookies.WithMaxCount(1000), cookies.WithMaxTotalBytes(1<<20))
	kept, dropped := a.FilterReport([]string{manyCarts(100), "cart_7=tossed"})
	assert.Len(t, kept, 99)
	assert.NotContains(t, pairsOf(kept), "cart_7=v", "the duplicated cart_7 was kept")
	assert.Equal(t, []drop{{"cart_7", cookies.ReasonDuplicate}, {"cart_7", cookies.ReasonDuplicate}}, dropped)
}

func TestDropsNeverContainValues(t *testing.T) {
	const secret = "s3cr3t-VALUE"
	a := mustAllowlist(t, []string{"lang", "cart_*"}, cookies.WithMaxCount(1), cookies.WithMaxCookieBytes(40))
	lines := []string{
		"JSESSIONID=" + secret, "lang=" + secret, "lang=x", "cart_a=" + secret + " x", secret,
		"=" + secret, "cart_b=\"" + secret, "cart_c=" + secret + strings.Repeat("x", 40),
		"\u00a0name=" + secret, "cart_d=" + secret, "cart_e=" + secret,
	}
	_, dropped := a.FilterReport(lines)
	require.NotEmpty(t, dropped)
	for _, s := range []string{fmt.Sprint(dropped), fmt.Sprintf("%+v", dropped), fmt.Sprintf("%#v", dropped)} {
		assert.NotContains(t, s, secret, "the drop report contains a value")
	}
}

func TestFilterValues(t *testing.T) {
	tests := []struct {
		name string
		opts []cookies.Option
		in   map[string]string
		want []string
	}{
		{
			name: "allowed entries kept, sorted by name",
			in:   map[string]string{"page_viewed": "/loans", "cart_b": "2", "lang": "en", "cart_a": "1", "_ga": "x"},
			want: []string{"cart_a=1", "cart_b=2", "lang=en", "page_viewed=/loans"},
		},
		{
			name: "invalid names and values dropped",
			in: map[string]string{
				"\u00a0lang": "x", "": "y", "$Version": "1", "cart_a": "a b", "cart_b": `"open`,
				"cart_c": `"quoted"`, "cart_d": "caf\u00e9", "lang": "en",
			},
			want: []string{`cart_c="quoted"`, "lang=en"},
		},
		{
			name: "a malformed quote drops only that entry",
			in:   map[string]string{"cart_a": `"x; lang=y`, "lang": "en"},
			want: []string{"lang=en"},
		},
		{
			name: "sensitive names under a prefix dropped",
			in:   map[string]string{"cart_session": "s", "cart_x": "1"},
			want: []string{"cart_x=1"},
		},
		{
			name: "limits apply in name order",
			opts: []cookies.Option{cookies.WithMaxCount(2)},
			in:   map[string]string{"lang": "en", "cart_b": "2", "cart_a": "1"},
			want: []string{"cart_a=1", "cart_b=2"},
		},
		{
			name: "oversize value dropped",
			opts: []cookies.Option{cookies.WithMaxCookieBytes(8)},
			in:   map[string]string{"lang": "12345", "cart_a": "1"},
			want: []string{"cart_a=1"},
		},
		{
			name: "nil map",
			in:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustAllowlist(t, []string{"page_viewed", "lang", "cart_*"}, tt.opts...)
			kept := a.FilterValues(tt.in)
			assert.Equal(t, tt.want, pairsOf(kept))
		})
	}
}

func TestRewriteRequest(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   []string // Cookie header after the rewrite; nil: removed
	}{
		{
			name:   "keeps only allowed cookies, byte-exact, on one line",
			header: http.Header{"Cookie": {`JSESSIONID=abc; lang="en"`, "page_viewed=/x", "_ga=1"}},
			want:   []string{`lang="en"; page_viewed=/x`},
		},
		{
			name:   "removes the header when nothing is allowed",
			header: http.Header{"Cookie": {"JSESSIONID=abc; _ga=1"}},
		},
		{
			name:   "removes Cookie headers spelled in another case",
			header: http.Header{"Cookie": {"lang=en"}, "cookie": {"JSESSIONID=abc"}, "COOKIE": {"PHPSESSID=x"}},
			want:   []string{"lang=en"},
		},
		{
			name:   "removes a non-canonical Cookie header even without a canonical one",
			header: http.Header{"cookie": {"lang=en"}},
		},
		{
			name:   "cookie sandwich rewritten to the kept pairs only",
			header: http.Header{"Cookie": {`lang=en; $Version=1; page_viewed="deadbeef; PHPSESSID=secret; dummy=qaz"`}},
			want:   []string{"lang=en"},
		},
		{
			name:   "kept pairs around a broken quote, without its bytes",
			header: http.Header{"Cookie": {`lang=en; page_viewed="x; PHPSESSID=secret; dummy=1; y"`}},
			want:   []string{"lang=en; dummy=1"},
		},
		{
			name:   "the realistic page header",
			header: http.Header{"Cookie": {`_ga=GA1.1.1; prefs={"theme":"dark"}; page_viewed=home; lang=en`}},
			want:   []string{"page_viewed=home; lang=en"},
		},
		{
			name:   "more pairs than a browser sends: the header is removed",
			header: http.Header{"Cookie": {"lang=en; " + manyCarts(360)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustAllowlist(t, []string{"lang", "page_viewed", "dummy"})
			r := httptest.NewRequest(http.MethodGet, "https://chat.example/", nil)
			r.Header = tt.header
			kept := a.RewriteRequest(r)
			for k := range r.Header {
				assert.False(t, k != "Cookie" && strings.EqualFold(k, "Cookie"), "header %q survived", k)
			}
			assert.Equal(t, tt.want, r.Header["Cookie"])
			// What the next handler parses with net/http is what was kept.
			var stdNames, keptNames []string
			for _, c := range r.Cookies() {
				stdNames = append(stdNames, c.Name)
			}
			for _, c := range kept {
				keptNames = append(keptNames, c.Name)
			}
			assert.Equal(t, keptNames, stdNames, "net/http after the rewrite")
		})
	}
}

// FilterReport of the Cookie lines before RewriteRequest says what the
// rewrite drops.
func TestFilterReportBeforeRewriteRequest(t *testing.T) {
	a := mustAllowlist(t, []string{"lang"})
	r := httptest.NewRequest(http.MethodGet, "https://chat.example/", nil)
	r.Header.Set("Cookie", "lang=en; sid=1")
	_, dropped := a.FilterReport(r.Header["Cookie"])
	kept := a.RewriteRequest(r)
	assert.Equal(t, []string{"lang=en"}, pairsOf(kept))
	assert.Equal(t, []drop{{"sid", cookies.ReasonNotAllowed}}, dropped)
	assert.Equal(t, []string{"lang=en"}, r.Header["Cookie"])
}

func TestFilterConcurrentUse(t *testing.T) {
	a := mustAllowlist(t, []string{"page_viewed", "cart_*"})
	lines := []string{"page_viewed=/a; cart_x=1; _ga=2", "cart_y=3"}
	want := []string{"page_viewed=/a", "cart_x=1", "cart_y=3"}
	done := make(chan []string)
	for range 8 {
		go func() {
			var got []string
			for range 200 {
				got = pairsOf(a.Filter(lines))
				a.FilterValues(map[string]string{"cart_z": "1"})
				a.Names()
			}
			done <- got
		}()
	}
	for range 8 {
		assert.Equal(t, want, <-done, "concurrent Filter")
	}
}

func TestRewriteRequestKeepsCanonicalLineAndNormalisesOthers(t *testing.T) {
	a := mustAllowlist(t, []string{"page_viewed", "cart_contents"})
	for _, tc := range []struct{ in, want string }{
		{"page_viewed=1; cart_contents=2", "page_viewed=1; cart_contents=2"},
		{"page_viewed=1;cart_contents=2", "page_viewed=1; cart_contents=2"},
		{"page_viewed=1;  cart_contents=2 ", "page_viewed=1; cart_contents=2"},
		{"page_viewed=1; other=3", "page_viewed=1"},
		{`page_viewed="1"; cart_contents=2`, `page_viewed="1"; cart_contents=2`},
	} {
		r := httptest.NewRequest(http.MethodGet, "https://chat.example/", nil)
		r.Header["Cookie"] = []string{tc.in}
		r.Header["COOKIE"] = []string{"session_id=secret"}
		a.RewriteRequest(r)
		assert.Equal(t, []string{tc.want}, r.Header["Cookie"], tc.in)
		assert.NotContains(t, r.Header, "COOKIE", "%q: another spelling of Cookie survived", tc.in)
	}
}

// The header of a real page: a JSON cookie value with quotes costs only
// that cookie, and the allowed cookies after it are forwarded.
func TestFilterRealPageHeader(t *testing.T) {
	a := mustAllowlist(t, []string{"page_viewed", "cart_contents"})
	const line = `_ga=GA1.1.1; prefs={"theme":"dark"}; page_viewed=home; cart_contents=3`
	want := []string{"page_viewed=home", "cart_contents=3"}
	assert.Equal(t, want, pairsOf(a.Filter([]string{line})))
	kept, dropped := a.FilterReport([]string{line})
	assert.Equal(t, want, pairsOf(kept))
	assert.Equal(t, []drop{{"_ga", cookies.ReasonNotAllowed}, {"prefs", cookies.ReasonMalformedQuote}}, dropped)
	r := httptest.NewRequest(http.MethodGet, "https://chat.example/", nil)
	r.Header.Set("Cookie", line)
	assert.Equal(t, want, pairsOf(a.RewriteRequest(r)))
	assert.Equal(t, []string{"page_viewed=home; cart_contents=3"}, r.Header["Cookie"])
}

// A header with more pairs than a browser sends for one site (360, over
// all lines) forwards nothing and says why once; at the bound it is read
// as usual.
func TestFilterPairBound(t *testing.T) {
	a := mustAllowlist(t, []string{"lang", "cart_*"}, cookies.WithMaxCount(1000), cookies.WithMaxTotalBytes(1<<20))
	atBound := []string{manyCarts(359), "lang=en"}
	assert.Len(t, a.Filter(atBound), 360)
	_, dropped := a.FilterReport(atBound)
	assert.Nil(t, dropped, "360 pairs")

	over := []string{manyCarts(360), "lang=en"}
	want := []drop{{"", cookies.ReasonTooManyPairs}}
	kept, dropped := a.FilterReport(over)
	assert.Nil(t, kept, "361 pairs")
	assert.Equal(t, want, dropped, "361 pairs")
	assert.Nil(t, a.Filter([]string{manyCarts(360) + "; lang=en"}), "361 pairs on one line")

	r := httptest.NewRequest(http.MethodGet, "https://chat.example/", nil)
	r.Header["Cookie"] = over
	assert.Nil(t, a.RewriteRequest(r))
	assert.NotContains(t, r.Header, "Cookie", "361 pairs: the header is removed")
}
