package secretdata

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// b64Strict is the reference our decoder must agree with.
var b64Strict = base64.RawURLEncoding.Strict()

func checkB64(t *testing.T, s string) {
	t.Helper()
	want, wantErr := b64Strict.DecodeString(s)
	n, ok := b64Len(len(s))
	var got []byte
	if ok {
		got = make([]byte, n)
		ok = b64Decode(got, s)
	}
	if wantErr != nil || bytes.ContainsAny([]byte(s), "\r\n") {
		// The stdlib skips \r and \n; we refuse them like everything else
		// it refuses.
		require.False(t, ok, "accepted %q", s)
		return
	}
	require.True(t, ok, "refused %q which the stdlib accepts", s)
	require.Equal(t, want, got)
}

func TestB64DecodeMatchesStrictStdlib(t *testing.T) {
	alphabet := "AQgw_-+/=. \n"
	var rec func(prefix string, depth int)
	rec = func(prefix string, depth int) {
		checkB64(t, prefix)
		if depth == 0 {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			rec(prefix+alphabet[i:i+1], depth-1)
		}
	}
	rec("", 5)
}

func FuzzB64Decode(f *testing.F) {
	for _, s := range []string{"", "AA", "AQ", "AB", "AAA", "AAE", "AAAA", "_-_-", "A===", "+/+/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkB64(t, s) })
}

func TestStrictJSONValues(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"object", `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, true},
		{"escapes", `{"a":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`, true},
		{"utf-8", "{\"a\":\"\u00e9\U0001F600\"}", true},
		{"numbers", `{"a":[0,-1,1.5,1e9,-0.5E-3]}`, true},
		{"whitespace", " { \"a\" : 1 } ", true},
		{"duplicate", `{"a":1,"a":1}`, false},
		{"duplicate nested", `{"a":{"b":1,"b":2}}`, false},
		{"duplicate after escape", `{"a":1,"\u0061":2}`, false},
		{"leading zero", `{"a":01}`, false},
		{"bare fraction", `{"a":.5}`, false},
		{"trailing dot", `{"a":1.}`, false},
		{"plus sign", `{"a":+1}`, false},
		{"nan", `{"a":NaN}`, false},
		{"single quotes", `{'a':1}`, false},
		{"trailing comma", `{"a":1,}`, false},
		{"bad escape", `{"a":"\x"}`, false},
		{"short unicode escape", `{"a":"\u12"}`, false},
		{"lone high surrogate", `{"a":"\ud800x"}`, false},
		{"high surrogate then non-low", `{"a":"\ud800\u0041"}`, false},
		{"raw control char", "{\"a\":\"\x01\"}", false},
		{"invalid utf-8", "{\"a\":\"\xfe\"}", false},
		{"truncated", `{"a":`, false},
		{"trailing data", `{"a":1} x`, false},
		{"capitalised literal", `{"a":True}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := parser{b: []byte(tc.in)}
			p.ws()
			_, err := p.objectValue()
			if err == nil {
				err = p.end()
			}
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

// FuzzStrictJSON: whatever our parser accepts, encoding/json accepts too and
// reads the same value (ours is a strict subset).
func FuzzStrictJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,"x",{"b":null}]}`, `{"a":"\ud83d\ude00"}`, `{"a":1,"a":2}`, `{"exp":1,"EXP":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p := parser{b: in}
		p.ws()
		if p.peek() != '{' {
			return
		}
		got, err := p.objectValue()
		if err == nil {
			err = p.end()
		}
		if err != nil {
			return
		}
		var want map[string]any
		d := json.NewDecoder(bytes.NewReader(in))
		d.UseNumber()
		require.NoError(t, d.Decode(&want), "encoding/json refuses what we accepted: %q", in)
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		require.JSONEq(t, string(wantJSON), string(gotJSON))
	})
}
