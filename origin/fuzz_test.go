package origin

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzPattern: no panic; an accepted pattern's normalised form is
// lowercase ASCII and parses again to the same pattern.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{"https://www.uplusbank.com", "https://*.uplusbank.com:*", "http://localhost:*", "*", "null", "https://*.co.uk", "HTTPS://Bücher.example:443", "http://[::1]:8080", "https://u@x.example/p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseOne(s)
		if err != nil {
			return
		}
		norm := p.norm
		require.Equal(t, strings.ToLower(norm), norm, "%q normalised to %q, not lowercase", s, norm)
		require.True(t, isASCII(norm) && utf8.ValidString(norm), "%q normalised to %q, not ASCII", s, norm)
		again, err := parseOne(norm)
		require.NoError(t, err, "%q -> %q does not parse again", s, norm)
		require.Equal(t, p, again, "%q -> %q does not parse to the same pattern", s, norm)
	})
}

// FuzzAllows: no panic; the matcher agrees with the reference; whatever is
// allowed is a canonical browser origin; Explain agrees with Allows.
func FuzzAllows(f *testing.F) {
	f.Add("https://www.uplusbank.com", "https://*.uplus.com", "https://account.uplusbank.com", true)
	f.Add("https://*.uplusbank.com", "http://localhost:*", "https://uplusbank.com", false)
	f.Add("*", "", "null", false)
	f.Add("http://127.0.0.1:8080", "http://[::1]", "http://[::1]", true)
	f.Add("https://www.uplusbank.com", "", "https://www.uplusbank.com.evil.example", true)
	f.Fuzz(func(t *testing.T, p1, p2, origin string, sameSite bool) {
		var patterns []string
		for _, s := range []string{p1, p2} {
			if p, err := parseOne(s); err == nil && !contains(patterns, p.norm) {
				patterns = append(patterns, p.norm)
			}
		}
		var opts []Option
		if sameSite {
			opts = append(opts, SameSite())
		}
		m, err := NewMatcher(patterns, opts...)
		require.NoError(t, err, "normalised patterns %q rejected", patterns)
		got := m.Allows(origin)
		require.Equal(t, refAllows(patterns, sameSite, origin), got, "patterns %q same-site=%v origin %q: matcher vs reference", patterns, sameSite, origin)
		if got {
			_, ok := refParse(origin)
			require.True(t, ok, "allowed a non-canonical origin %q", origin)
		}
		d := m.Explain(origin)
		require.Equal(t, got, d.Allowed, "Explain %v disagrees with Allows", d)
	})
}
