package policy

import (
	"slices"

	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/secretdata"
)

// FuzzParse: no panic on any document; whatever loads validates again,
// lints, and compiles; and no error message ever quotes the secret the
// environment holds.
func FuzzParse(f *testing.F) {
	for _, s := range []string{validConn, twoConnsSeed, "connections: []", "{}", "connections: [{id: a, token: {secret_data: optional}}]",
		`{"connections": [{"id": "x", "allowed_domains": ["https://a.example"], "token": {"secret_data": "optional"}}]}`,
		"connections:\n  - &a {id: a, token: {secret_data: optional}}\n  - *a\n",
		"connections: [{id: a, keys: [{id: k, secret: {value: c2VjcmV0, insecure_inline: true}}], token: {issuer: i}}]"} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(`{"connections": []}`), true)
	f.Fuzz(func(t *testing.T, doc []byte, asJSON bool) {
		name := "fuzz.yaml"
		if asJSON {
			name = "fuzz.json"
		}
		file, err := Parse(doc, LoadOptions{
			Name:      name,
			LookupEnv: func(string) (string, bool) { return testSecret, true },
			ReadFile:  func(string) ([]byte, error) { return []byte(testSecret), nil },
		})
		if err != nil {
			require.NotContains(t, err.Error(), testSecret, "an error quotes the secret")
			require.NotContains(t, err.Error(), string(testSecretBytes), "an error quotes the secret")
			require.ErrorIs(t, err, ErrInvalid)
			require.NotEmptyf(t, slices.Collect(cfgerr.All(err)), "not a list of policy problems: %T %v", err, err)
			return
		}
		require.NoError(t, file.Validate(), "loaded but does not validate")
		_ = file.Lint()
		for i := range file.Connections {
			c := &file.Connections[i]
			if c.JWKSURL != "" {
				continue // would fetch
			}
			_, err := c.Compile(context.Background(), CompileOptions{KeySet: noKeySet})
			require.NoErrorf(t, err, "valid connection %q does not compile", c.ID)
		}
	})
}

const twoConnsSeed = `connections:
  - {id: a, allowed_domains: ["https://a.example"], token: {secret_data: optional}}
  - {id: b, allowed_domains: ["https://*.b.example:*", "http://localhost:*"], domain_matching: same-site, allowed_cookies: [x, "y_*"], token: {secret_data: optional}, mode: report-only}
`

func noKeySet(context.Context, string) (*secretdata.RemoteKeySet, error) {
	return nil, errors.New("no network in fuzzing")
}
