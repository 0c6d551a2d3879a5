package redisstore

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyLayout(t *testing.T) {
	const p = "pfx"
	for _, tc := range []struct {
		name     string
		a, b     string
		distinct bool
	}{
		{"same identity, same key", replayKey(p, "iss", "jti"), replayKey(p, "iss", "jti"), false},
		{"replay: field boundary is not ambiguous", replayKey(p, "a:b", "c"), replayKey(p, "a", "b:c"), true},
		{"replay: empty field is not ambiguous", replayKey(p, "ab", ""), replayKey(p, "a", "b"), true},
		{"replay: issuer separates", replayKey(p, "iss1", "jti"), replayKey(p, "iss2", "jti"), true},
		{"replay: prefix separates", replayKey("p1", "iss", "jti"), replayKey("p2", "iss", "jti"), true},
		{"store: field boundary is not ambiguous", storeKey(p, "a:b", "c"), storeKey(p, "a", "b:c"), true},
		{"store: session separates", storeKey(p, "conn", "s1"), storeKey(p, "conn", "s2"), true},
		{"replay and store never share a key", replayKey(p, "x", "y"), storeKey(p, "x", "y"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.distinct {
				require.NotEqual(t, tc.a, tc.b)
			} else {
				require.Equal(t, tc.a, tc.b)
			}
		})
	}
}

// TestKeysHideIdentity checks that no input byte sequence reaches a key,
// including inputs shaped like key syntax or Redis hash tags.
func TestKeysHideIdentity(t *testing.T) {
	for _, tc := range []struct{ name, owner, id string }{
		{"plain", "https://bank.example", "jti-AAAAAAAAAAAAAAAAAAAAAA"},
		{"hash tag", "{slot}", "{slot}"},
		{"key syntax", "msgsec:replay:", "*:?[]"},
		{"newline injection", "iss\r\nFLUSHALL", "x\r\nDEL *"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{replayKey("pfx", tc.owner, tc.id), storeKey("pfx", tc.owner, tc.id)} {
				assert.NotContains(t, k, tc.owner, "a key contains its input")
				assert.NotContains(t, k, tc.id, "a key contains its input")
				assert.False(t, strings.ContainsAny(k, "{}\r\n *?[]"), "key %q has a byte outside the layout", k)
			}
		})
	}
	// One issuer's keys share their tag, so an operator can scan them.
	a, b := replayKey("pfx", "iss", "j1"), replayKey("pfx", "iss", "j2")
	assert.True(t, a[:len("pfx:replay:")+tagHexLen] == b[:len("pfx:replay:")+tagHexLen], "keys of one issuer have different tags: %q %q", a, b)
}
