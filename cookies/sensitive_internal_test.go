package cookies

import (
	"strings"
	"testing"
)

// TestSensitiveAtCoversList keeps the fast first-byte dispatch in
// sensitiveAt in step with the documented list: every listed substring is
// found alone, in upper case, and embedded in a longer name.
func TestSensitiveAtCoversList(t *testing.T) {
	for _, k := range sensitiveSubstrings() {
		for _, name := range []string{k, strings.ToUpper(k), "x_" + k + "_y", "A" + strings.ToUpper(k)} {
			if !IsSensitiveName(name) {
				t.Errorf("substring %q: IsSensitiveName(%q) = false", k, name)
			}
		}
	}
	for _, p := range sensitiveStarts() {
		if !IsSensitiveName(p+"x") || !IsSensitiveName(strings.ToUpper(p)+"x") {
			t.Errorf("start %q not detected", p)
		}
		if IsSensitiveName("x"+p[:len(p)-1]) && !strings.Contains(p, "sess") {
			t.Errorf("start %q matched away from the start", p)
		}
	}
	for _, e := range sensitiveExact() {
		if !IsSensitiveName(e) || !IsSensitiveName(strings.ToUpper(e)) {
			t.Errorf("exact %q not detected", e)
		}
	}
}

func TestByteClasses(t *testing.T) {
	// Checked against the RFC grammars byte by byte.
	const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for c := 0; c < 256; c++ {
		b := byte(c)
		if got, want := isTokenByte(b), strings.IndexByte(tchar, b) >= 0; got != want {
			t.Errorf("isTokenByte(%#x) = %v", c, got)
		}
		wantOctet := c == 0x21 || (0x23 <= c && c <= 0x2b) || (0x2d <= c && c <= 0x3a) ||
			(0x3c <= c && c <= 0x5b) || (0x5d <= c && c <= 0x7e)
		if got := isOctetByte(b); got != wantOctet {
			t.Errorf("isOctetByte(%#x) = %v", c, got)
		}
	}
}
