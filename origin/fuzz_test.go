package origin

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParsePattern: no panic; an accepted pattern's normalised form is
// lowercase ASCII and parses again to the same pattern.
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"https://www.uplusbank.com", "https://*.uplusbank.com:*", "http://localhost:*", "*", "null", "https://*.co.uk", "HTTPS://Bücher.example:443", "http://[::1]:8080", "https://u@x.example/p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePattern(s)
		if err != nil {
			return
		}
		norm := p.String()
		if norm != strings.ToLower(norm) || !isASCII(norm) || !utf8.ValidString(norm) {
			t.Fatalf("%q normalised to %q, not lowercase ASCII", s, norm)
		}
		again, err := ParsePattern(norm)
		if err != nil || again != p {
			t.Fatalf("%q -> %q does not parse to the same pattern: %v", s, norm, err)
		}
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
			if p, err := ParsePattern(s); err == nil && !contains(patterns, p.String()) {
				patterns = append(patterns, p.String())
			}
		}
		var opts []Option
		if sameSite {
			opts = append(opts, SameSite())
		}
		m, err := NewMatcher(patterns, opts...)
		if err != nil {
			t.Fatalf("normalised patterns %q rejected: %v", patterns, err)
		}
		got := m.Allows(origin)
		if want := refAllows(patterns, sameSite, origin); got != want {
			t.Fatalf("patterns %q same-site=%v origin %q: matcher %v, reference %v", patterns, sameSite, origin, got, want)
		}
		if got {
			if _, ok := refParse(origin); !ok {
				t.Fatalf("allowed a non-canonical origin %q", origin)
			}
		}
		if d := m.Explain(origin); d.Allowed != got {
			t.Fatalf("Explain %v disagrees with Allows %v", d, got)
		}
	})
}
