package origin

import (
	"testing"

	"golang.org/x/net/idna"
)

func TestValidPunycode(t *testing.T) {
	for _, u := range []string{"bücher", "例え", "mañana", "пример", "ü", "ab-ü-cd", "😀", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaü"} {
		a, err := idna.Lookup.ToASCII(u)
		if err != nil {
			t.Fatal(err)
		}
		if !validPunycodeLabels(a) {
			t.Errorf("%s (%s) refused", a, u)
		}
	}
	for _, bad := range []string{"xn--", "xn--zz", "xn--abc-", "xn---", "xn--a", "xn--99999999999", "xn--_x", "xn--ab.example", "ok.xn--.example"} {
		if validPunycodeLabels(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	if !validPunycodeLabels("www.example.com") {
		t.Error("plain ASCII host refused")
	}
}

// Whatever validPunycode accepts, x/net/idna decodes.
func FuzzValidPunycode(f *testing.F) {
	for _, s := range []string{"bcher-kva", "r8jz45g", "zz", "", "-", "a-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxLabelLen-len("xn--") {
			return // checkHost refuses longer labels first
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return // checkHost admits only these in a label
			}
		}
		if validPunycode(s) {
			if _, err := idna.Punycode.ToUnicode("xn--" + s); err != nil {
				t.Fatalf("accepted %q, idna says %v", s, err)
			}
		}
	})
}
