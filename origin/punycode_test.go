package origin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/idna"
)

func TestValidPunycode(t *testing.T) {
	for _, u := range []string{"bücher", "例え", "mañana", "пример", "ü", "ab-ü-cd", "😀", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaü"} {
		a, err := idna.Lookup.ToASCII(u)
		require.NoError(t, err)
		assert.Truef(t, validPunycodeLabels(a), "%s (%s) refused", a, u)
	}
	for _, bad := range []string{"xn--", "xn--zz", "xn--abc-", "xn---", "xn--a", "xn--99999999999", "xn--_x", "xn--ab.example", "ok.xn--.example"} {
		assert.Falsef(t, validPunycodeLabels(bad), "%q accepted", bad)
	}
	assert.True(t, validPunycodeLabels("www.example.com"), "plain ASCII host refused")
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
			_, err := idna.Punycode.ToUnicode("xn--" + s)
			require.NoErrorf(t, err, "accepted %q, idna refuses it", s)
		}
	})
}
