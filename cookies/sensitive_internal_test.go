package cookies

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSensitiveAtCoversList keeps the fast first-byte dispatch in
// sensitiveAt in step with the documented list: every listed substring is
// found alone, in upper case, and embedded in a longer name.
func TestSensitiveAtCoversList(t *testing.T) {
	for _, k := range sensitiveSubstrings() {
		for _, name := range []string{k, strings.ToUpper(k), "x_" + k + "_y", "A" + strings.ToUpper(k)} {
			assert.True(t, IsSensitiveName(name), "substring %q: IsSensitiveName(%q)", k, name)
		}
	}
	for _, p := range sensitiveStarts() {
		assert.True(t, IsSensitiveName(p+"x"), "start %q", p)
		assert.True(t, IsSensitiveName(strings.ToUpper(p)+"x"), "start %q in upper case", p)
		if !strings.Contains(p, "sess") {
			assert.False(t, IsSensitiveName("x"+p[:len(p)-1]), "start %q matched away from the start", p)
		}
	}
	for _, e := range sensitiveExact() {
		assert.True(t, IsSensitiveName(e), "exact %q", e)
		assert.True(t, IsSensitiveName(strings.ToUpper(e)), "exact %q in upper case", e)
	}
}
