package policy

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aliasBomb builds a small YAML document whose aliases expand to
// n*n nodes inside typed fields (connections × allowed_domains): the
// schema walk follows aliases, so without a bound its work and its line
// index grow with the expansion, not with the file.
func aliasBomb(n int) string {
	var b strings.Builder
	b.WriteString("x: &d [")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"https://a.example"`)
	}
	b.WriteString("]\nconnections:\n- &c {id: a, allowed_domains: *d, allowed_cookies: []}\n")
	for i := 1; i < n; i++ {
		b.WriteString("- *c\n")
	}
	return b.String()
}

func TestAliasExpansionIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		ok   bool
	}{
		{"bomb", aliasBomb(3000), false},
		{"a few shared lists", "base: &d [\"https://a.example\", \"https://b.example\"]\nconnections:\n" +
			"- {id: a, allowed_domains: *d, allowed_cookies: [], token: {secret_data: optional}}\n" +
			"- {id: b, allowed_domains: *d, allowed_cookies: [], token: {secret_data: optional}}\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := parseYAML(t, tc.doc, nil)
			runtime.ReadMemStats(&after)
			// 3000*3000 = 9M expanded nodes; the document is ~70 KB.
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "bytes allocated")
			require.Error(t, err) // "x"/"base" are unknown fields either way
			if !tc.ok {
				assert.Contains(t, err.Error(), "aliases expand to more than")
			} else {
				assert.NotContains(t, err.Error(), "aliases expand to more than")
			}
		})
	}
}

// Merge keys would let one connection inherit another's fields out of
// sight of a reviewer; the loader refuses them as unknown fields.
func TestMergeKeyRefused(t *testing.T) {
	doc := "connections:\n- &a {id: a, allowed_domains: [\"https://a.example\"], allowed_cookies: [], token: {secret_data: optional}}\n" +
		"- <<: *a\n  id: b\n"
	_, err := parseYAML(t, doc, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "<<")
}

// A !!binary scalar decodes into a Go string as its base64 content, so a
// policy could say report-only, or admit a website, in text no reviewer
// reads as such. Tags that change a value's meaning are refused.
func TestTagsThatHideValuesRefused(t *testing.T) {
	const rest = `allowed_cookies: [], token: {secret_data: optional}`
	for _, tc := range []struct {
		name string
		conn string
		ok   bool
	}{
		{"binary domain", `allowed_domains: [!!binary aHR0cHM6Ly9ldmlsLmV4YW1wbGU=], ` + rest, false},
		{"binary mode", `allowed_domains: ["https://a.example"], mode: !!binary cmVwb3J0LW9ubHk=, ` + rest, false},
		{"local tag", `allowed_domains: [!x "https://a.example"], ` + rest, false},
		{"plain", `allowed_domains: ["https://a.example"], mode: report-only, ` + rest, true},
		{"explicit str", `allowed_domains: [!!str "https://a.example"], ` + rest, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseYAML(t, "connections:\n- {id: a, "+tc.conn+"}\n", nil)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "is not allowed; write the value as plain text")
		})
	}
}
