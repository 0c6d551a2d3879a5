package policy

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Credentials go only to origins the allowed domains name, and only when
// the policy turns them on.
func TestCredentialsFor(t *testing.T) {
	for _, tc := range []struct {
		name            string
		domains         []string
		sameSite, creds bool
		yes, no         []string
	}{
		{"off by default", []string{"https://www.uplusbank.com"}, false, false, nil,
			[]string{"https://www.uplusbank.com", "https://evil.example", "null"}},
		{"on: listed only", []string{"https://www.uplusbank.com"}, false, true,
			[]string{"https://www.uplusbank.com"}, []string{"https://account.uplusbank.com", "https://evil.example", "null"}},
		{"on, same-site: the entry's site", []string{"https://www.uplusbank.com"}, true, true,
			[]string{"https://www.uplusbank.com", "https://account.uplusbank.com"}, []string{"https://www.uplus.com", "null"}},
		{"on, empty list (any website): nobody", nil, false, true, nil,
			[]string{"https://www.uplusbank.com", "https://evil.example", "null"}},
		{"on, star: nobody", []string{"*"}, false, true, nil, []string{"https://evil.example", "null"}},
		{"on, star and a name: the name only", []string{"*", "https://www.uplusbank.com"}, false, true,
			[]string{"https://www.uplusbank.com"}, []string{"https://evil.example", "null"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ConnectionPolicy{ID: "c", AllowedDomains: tc.domains, AllowCredentials: tc.creds,
				Token: TokenRules{SecretData: SecretDataOptional}}
			if tc.sameSite {
				c.DomainMatching = MatchSameSite
			}
			p, err := c.Compile(context.Background(), CompileOptions{})
			require.NoError(t, err)
			for _, o := range tc.yes {
				assert.True(t, p.view.CredentialsFor(o), o)
			}
			for _, o := range tc.no {
				assert.False(t, p.view.CredentialsFor(o), o)
			}
		})
	}
}

func TestLintCredentialsWithAnyWebsite(t *testing.T) {
	codes := func(doc string) []string {
		f, err := parseYAML(t, doc, nil)
		require.NoError(t, err)
		var out []string
		for _, w := range f.Lint() {
			out = append(out, w.Code)
		}
		return out
	}
	assert.Contains(t, codes("connections:\n  - id: c\n    allowed_domains: []\n    allow_credentials: true\n    token: {secret_data: optional}\n"), LintCredentialsAnyWebsite)
	assert.Contains(t, codes("connections:\n  - id: c\n    allowed_domains: ['*']\n    allow_credentials: true\n    token: {secret_data: optional}\n"), LintCredentialsAnyWebsite)
	assert.NotContains(t, codes("connections:\n  - id: c\n    allowed_domains: [https://a.example]\n    allow_credentials: true\n    token: {secret_data: optional}\n"), LintCredentialsAnyWebsite)
	assert.NotContains(t, codes("connections:\n  - id: c\n    allowed_domains: []\n    token: {secret_data: optional}\n"), LintCredentialsAnyWebsite)
}
