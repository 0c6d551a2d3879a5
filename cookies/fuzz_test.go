package cookies_test

import (
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/msgsec/msgsec/cookies"
	"github.com/stretchr/testify/require"
)

// The fuzz targets compare Filter with referenceFilter, a deliberately
// naive second implementation of the documented rules (strings.Split,
// regular expressions, explicit byte ranges), and check invariants that
// must hold whatever the input.

var refToken = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")

func refOctets(s string) bool {
	for _, c := range []byte(s) {
		ok := c == 0x21 || (0x23 <= c && c <= 0x2b) || (0x2d <= c && c <= 0x3a) ||
			(0x3c <= c && c <= 0x5b) || (0x5d <= c && c <= 0x7e)
		if !ok {
			return false
		}
	}
	return true
}

func refQuoted(v string) bool {
	return len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && refOctets(v[1:len(v)-1])
}

type refLimits struct{ cookie, count, total int }

// refMaxPairs is the documented bound on the pairs of one request's Cookie
// lines: 2 × 180, what a browser can send for one site.
const refMaxPairs = 360

// referenceFilter returns the "name=value" pairs the documented rules keep:
// every pair on its own, as browsers serialise them.
func referenceFilter(lines []string, allow func(string) bool, lim refLimits) []string {
	type occurrence struct {
		name, value string
		valid       bool
	}
	var occ []occurrence // occurrences of allowed names, in order
	pairs := 0
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			part = strings.Trim(part, " \t")
			if part == "" {
				continue
			}
			pairs++
			name, value, found := strings.Cut(part, "=")
			if !found || !refToken.MatchString(name) || strings.HasPrefix(name, "$") || !allow(name) {
				continue
			}
			// A stray quote is not a cookie-octet: it makes this value, and
			// nothing else, invalid. The name still counts as sent.
			valid := (refOctets(value) || refQuoted(value)) && len(name)+len(value) <= lim.cookie
			occ = append(occ, occurrence{name, value, valid})
		}
	}
	if pairs > refMaxPairs {
		return nil
	}
	seen := map[string]int{}
	for _, o := range occ {
		seen[o.name]++
	}
	var kept []string
	total := 0
	for _, o := range occ {
		if !o.valid || seen[o.name] > 1 {
			continue
		}
		if len(kept) == lim.count || total+len(o.name)+len(o.value) > lim.total {
			break
		}
		total += len(o.name) + len(o.value)
		kept = append(kept, o.name+"="+o.value)
	}
	return kept
}

func fuzzAllowlists(t *testing.T) []struct {
	a     *cookies.Allowlist
	allow func(string) bool
	lim   refLimits
} {
	exact := []string{"a", "b", "page_viewed", "__Host-x"}
	// With the opt-in: the exact names and anything under "c_".
	allowOptIn := func(n string) bool { return slices.Contains(exact, n) || strings.HasPrefix(n, "c_") }
	// Without: no __Host-x, and no sensitive name under "c_".
	allowStrict := func(n string) bool {
		return n != "__Host-x" && allowOptIn(n) && !(strings.HasPrefix(n, "c_") && cookies.IsSensitiveName(n))
	}
	small := refLimits{cookie: 12, count: 3, total: 24}
	def := refLimits{cookie: cookies.DefaultMaxCookieBytes, count: cookies.DefaultMaxCount, total: cookies.DefaultMaxTotalBytes}
	opt := cookies.DangerouslyAllowSensitiveNames()
	return []struct {
		a     *cookies.Allowlist
		allow func(string) bool
		lim   refLimits
	}{
		{mustAllowlist(t, []string{"a", "b", "page_viewed", "__Host-x", "c_*"}, opt,
			cookies.WithMaxCookieBytes(small.cookie), cookies.WithMaxCount(small.count), cookies.WithMaxTotalBytes(small.total)), allowOptIn, small},
		{mustAllowlist(t, []string{"a", "b", "page_viewed", "c_*"}), allowStrict, def},
	}
}

func checkKept(t *testing.T, a *cookies.Allowlist, kept []*http.Cookie) {
	t.Helper()
	for _, c := range kept {
		require.True(t, refToken.MatchString(c.Name) && a.Allows(c.Name), "kept a cookie with a disallowed name %q", c.Name)
		require.True(t, refOctets(c.Value) || refQuoted(c.Value), "kept %q with a value outside cookie-octet: %q", c.Name, c.Value)
	}
}

func FuzzFilter(f *testing.F) {
	f.Add("a=1; b=2", "c_x=3")
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		lines := []string{line1, line2}
		for _, al := range fuzzAllowlists(t) {
			kept := al.a.Filter(lines)
			got := pairsOf(kept)
			require.Equal(t, referenceFilter(lines, al.allow, al.lim), got, "Filter(%q) against the reference", lines)
			checkKept(t, al.a, kept)
			// Every kept cookie is one whole pair as sent: pairs are never
			// joined, so no kept value holds bytes of another pair.
			sent := map[string]bool{}
			for _, line := range lines {
				for _, part := range strings.Split(line, ";") {
					sent[strings.Trim(part, " \t")] = true
				}
			}
			for _, c := range kept {
				require.True(t, sent[c.Name+"="+c.Value], "kept %s=%s is not one whole pair of the input", c.Name, c.Value)
			}

			reportKept, dropped := al.a.FilterReport(lines)
			require.Equal(t, got, pairsOf(reportKept), "FilterReport against Filter")
			for _, d := range dropped {
				require.True(t, d.Name == "" || refToken.MatchString(d.Name) || strings.HasPrefix(d.Name, `"`), "drop name %q is neither a token nor quoted", d.Name)
				require.True(t, d.Reason >= cookies.ReasonTooManyPairs && d.Reason <= cookies.ReasonTotalTooLarge, "drop %v has an unknown reason", d)
			}
			if slices.Contains(dropped, cookies.Drop{Reason: cookies.ReasonTooManyPairs}) {
				require.True(t, len(dropped) == 1 && kept == nil, "too many pairs, but kept %d and dropped %d", len(kept), len(dropped))
			}

			// After the rewrite, net/http sees exactly the kept cookies, and
			// filtering again changes nothing.
			r := &http.Request{Header: http.Header{"Cookie": slices.Clone(lines)}}
			al.a.RewriteRequest(r)
			var std []string
			for _, c := range r.Cookies() {
				v := c.Value
				if c.Quoted {
					v = `"` + v + `"`
				}
				std = append(std, c.Name+"="+v)
			}
			require.Equal(t, got, std, "net/http after the rewrite")
			require.Equal(t, got, pairsOf(al.a.Filter(r.Header["Cookie"])), "filtering the rewritten header again")
		}
	})
}

func FuzzFilterValues(f *testing.F) {
	f.Add("c_x", `"v"`, "a", "1")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		m := map[string]string{n1: v1, n2: v2}
		for _, al := range fuzzAllowlists(t) {
			kept := al.a.FilterValues(m)
			checkKept(t, al.a, kept)
			var ref []string
			total := 0
			for _, n := range slices.Sorted(maps.Keys(m)) {
				v := m[n]
				if !refToken.MatchString(n) || n[0] == '$' || !al.allow(n) ||
					!(refOctets(v) || refQuoted(v)) || len(n)+len(v) > al.lim.cookie {
					continue
				}
				if len(ref) == al.lim.count || total+len(n)+len(v) > al.lim.total {
					break
				}
				total += len(n) + len(v)
				ref = append(ref, n+"="+v)
			}
			require.Equal(t, ref, pairsOf(kept), "FilterValues(%q) against the reference", m)
		}
	})
}
