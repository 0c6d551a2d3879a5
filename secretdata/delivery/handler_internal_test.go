package delivery

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseTokenBody checks the body parser against encoding/json: whatever
// it accepts must be one object with the single member "token" holding
// exactly the returned string, a compact-token alphabet only.
func FuzzParseTokenBody(f *testing.F) {
	for _, s := range []string{
		`{"token":"aaa.bbb.ccc"}`, ` { "token" : "a.b.c" } `, `{"token":"a.b.c","token":"x.y.z"}`,
		`{"token":"a.b.c"} x`, `{"token":1}`, `{"\u0074oken":"a.b.c"}`, `{"token":"a b"}`, `[]`, ``,
		`{"token":"a.b.c"}{}`, `{"Token":"a.b.c"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, ok := parseTokenBody(body)
		if !ok {
			require.Empty(t, tok, "refused body returned a token")
			return
		}
		require.True(t, isCompact(tok), "accepted token %q outside the alphabet", tok)
		dec := json.NewDecoder(bytes.NewReader(body))
		var m map[string]json.RawMessage
		require.NoError(t, dec.Decode(&m), "accepted %q, encoding/json refuses it", body)
		require.False(t, dec.More(), "accepted %q with trailing data", body)
		var v string
		require.Len(t, m, 1, "accepted %q", body)
		require.NoError(t, json.Unmarshal(m["token"], &v), "accepted %q", body)
		require.Equal(t, v, tok, "accepted %q; encoding/json reads another token", body)
	})
}
