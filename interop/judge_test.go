package interop_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The matrix's rows are only honest if a known gap that closes, or a
// required refusal that stops, turns the row red. judge must say so.
func TestJudgeFlipsWhenAGapCloses(t *testing.T) {
	for _, c := range []struct {
		name string
		row  row
		want string // substring of judge's answer; "" = as expected
	}{
		{"plain row passes", row{}, ""},
		{"plain row fails", row{err: "msgsec verify: bad signature"}, "bad signature"},
		{"known gap reproduced", row{knownGap: "issue 13: x", gapErr: "signature does not verify", err: "bad signature: signature does not verify"}, ""},
		{"known gap closed: the row passes", row{knownGap: "issue 13: x", gapErr: "signature does not verify"}, "remove knownGap"},
		{"known gap changed: another error", row{knownGap: "issue 13: x", gapErr: "signature does not verify", err: "expired"}, "remove or update knownGap"},
		{"anchored pattern: a message that now says why", row{knownGap: "issue 13: x", gapErr: noUsableKey, err: "jwks: no usable signature key: key 0 has no kid"}, "remove or update knownGap"},
		{"anchored pattern: today's message", row{knownGap: "issue 13: x", gapErr: noUsableKey, err: "secretdata: jwks: no usable signature key\n"}, ""},
		{"gap closed into a refusal", row{knownGap: "issue 13: x", gapErr: "unknown field", refusal: refuseJWEIV, refuseErr: refuseJWEErr, err: "iv: invalid"}, "then expects the refusal"},
		{"required refusal holds", row{refusal: refuseNone, refuseErr: "bound to the key", err: "alg: not the algorithm bound to the key"}, ""},
		{"required refusal accepted", row{refusal: refuseNone, refuseErr: "bound to the key"}, "must be refused"},
		{"required refusal for another reason", row{refusal: refuseNone, refuseErr: "bound to the key", err: "expired"}, "not for the required reason"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.row.judge()
			if c.want == "" {
				assert.Empty(t, got, "judge()")
			} else {
				assert.Contains(t, got, c.want, "judge()")
			}
		})
	}
}
