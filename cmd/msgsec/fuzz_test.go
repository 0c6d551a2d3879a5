package main

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// Whatever an argument or a policy message holds, an error stays one line
// with no control characters that could move the cursor or forge output.
func FuzzOneLine(f *testing.F) {
	for _, s := range []string{"", "plain", "a\nb", "a\r\nb", "\x1b[2J", "\u2028\u2029", "\u0085", "\x85", "ü\x7f", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := oneLine(s)
		for _, r := range out {
			require.Falsef(t, unicode.IsControl(r) || r == '\u2028' || r == '\u2029', "oneLine(%q) = %q keeps control character %U", s, out, r)
		}
		clean := utf8.ValidString(s) // invalid bytes become U+FFFD, by design
		if clean && !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) {
			require.Equal(t, s, out, "oneLine changed a clean string")
		}
	})
}

// --data errors give positions, never the data.
func FuzzReadSecretData(f *testing.F) {
	for _, s := range []string{`{}`, `{"customer_id":"C-1001"}`, `{"a": SECRETVALUE}`, `[1]`, `{} {}`, `"x"`, `{"a":1,"a":2}`} {
		f.Add(s)
	}
	c := &cli{}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "-" || strings.HasPrefix(s, "@") {
			return // stdin and files are not under test here
		}
		m, err := c.readSecretData(s)
		if err == nil {
			require.NotNilf(t, m, "readSecretData(%q): nil object without error", s)
			return
		}
		msg := err.Error()
		for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if len(w) >= 6 && !strings.Contains(readSecretDataMessages, w) {
				require.NotContainsf(t, msg, w, "error %q echoes input word %q", msg, w)
			}
		}
	})
}

// readSecretDataMessages holds the fixed words of readSecretData's errors,
// which input may happen to contain.
const readSecretDataMessages = `--data is not valid JSON (at byte) holds more than one JSON value must be a JSON object, such as {"customer_id":"C-1001"}`
