package policy

import (
	"context"
	"encoding/base64"
	"errors"
	"github.com/msgsec/msgsec/cfgerr"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
)

// testSecret is what an operator would put in UPLUS_JWT_SECRET; with the
// default encoding (raw) its text bytes are the key.
var testSecretBytes = []byte("0123456789abcdef0123456789abcdef-uplus-test-secret")
var testSecret = string(testSecretBytes)

func envWith(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func parseYAML(t *testing.T, doc string, env map[string]string) (*File, error) {
	t.Helper()
	return Parse([]byte(doc), LoadOptions{LookupEnv: envWith(env), ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }})
}

func loadUPlus(t *testing.T) *File {
	t.Helper()
	f, err := LoadWith("../examples/policies/uplusbank.yaml", LoadOptions{LookupEnv: envWith(map[string]string{"UPLUS_JWT_SECRET": testSecret})})
	require.NoError(t, err)
	return f
}

func TestUPlusBankFile(t *testing.T) {
	f := loadUPlus(t)
	require.Len(t, f.Connections, 1)
	c, err := f.Connections[0].Compile(context.Background(), CompileOptions{})
	require.NoError(t, err)
	assert.Equal(t, "retail-bank", c.ID())
	assert.Equal(t, "retail-bank", c.cfg.effectiveAudience())
	assert.False(t, c.cfg.anyWebsite())

	for o, want := range map[string]bool{
		"https://www.uplusbank.com":     true,
		"https://account.uplusbank.com": true,
		"https://uplusbank.com":         true,
		"https://www.uplus.com":         false,
		"http://www.uplusbank.com":      false,
	} {
		assert.Equal(t, want, c.Origins().Allows(o), o)
	}
	assert.Equal(t, []string{"cart_contents", "page_viewed"}, sortedNames(c.Cookies().Names()))
	assert.Equal(t, "frame-ancestors https://www.uplusbank.com https://uplusbank.com:* https://*.uplusbank.com:*", c.view.FrameAncestorsCSP)

	// The secret from the environment verifies what the bank signs with it.
	key, err := secretdata.NewHMACKey("uplus-2026-11", secretdata.HS256, testSecretBytes)
	require.NoError(t, err)
	signer, err := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: "uplusbank-backend", Audience: "retail-bank"})
	require.NoError(t, err)
	tok, err := signer.Sign(secretdata.Claims{Subject: "cust-1", SecretData: map[string]any{"authentication_status": "authenticated", "customer_id": "C-42"}})
	require.NoError(t, err)
	claims, err := c.Verifier().Verify(context.Background(), tok)
	require.NoError(t, err)
	id, _ := claims.CustomerID()
	assert.Equal(t, "C-42", id)

	// A token for another connection is refused.
	other, err := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: "uplusbank-backend", Audience: "mortgages"})
	require.NoError(t, err)
	tok2, err := other.Sign(secretdata.Claims{Subject: "cust-1"})
	require.NoError(t, err)
	_, err = c.Verifier().Verify(context.Background(), tok2)
	assert.Error(t, err)
}

func sortedNames(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestSeedRuleNoDomainMeansAnyWebsite(t *testing.T) {
	for _, doc := range []string{
		"connections: [{id: a, token: {secret_data: optional}}]",
		"connections: [{id: a, allowed_domains: ['*'], token: {secret_data: optional}}]",
	} {
		f, err := parseYAML(t, doc, nil)
		require.NoError(t, err)
		c, err := f.Connections[0].Compile(context.Background(), CompileOptions{})
		require.NoError(t, err)
		assert.True(t, c.cfg.anyWebsite())
		assert.True(t, c.Origins().Allows("https://anything.example"))
		assert.False(t, c.Origins().Allows("null"), "any website never includes opaque origins")
		assert.Nil(t, c.Verifier())
		assert.Equal(t, "frame-ancestors https: http:", c.view.FrameAncestorsCSP)
	}
}

const validConn = `
connections:
  - id: retail-bank
    allowed_domains: [https://www.uplusbank.com]
    allowed_cookies: [page_viewed]
    keys:
      - id: k1
        secret: {env: S}
    token: {issuer: bank}
`

// TestTokenDefaultsAreSecretdatas: a policy that names neither leeway nor
// max_lifetime verifies with secretdata's defaults, and its bounds are
// secretdata's.
func TestTokenDefaultsAreSecretdatas(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	key, err := secretdata.NewHMACKey("k1", secretdata.HS256, testSecretBytes)
	require.NoError(t, err)
	signAt := func(t *testing.T, iat time.Time, lifetime time.Duration) string {
		s, err := secretdata.NewSigner(secretdata.SignerConfig{
			Key: key, Issuer: "bank", Audience: "retail-bank", Lifetime: lifetime, MaxLifetime: secretdata.MaxLifetimeLimit,
			Now: func() time.Time { return iat },
		})
		require.NoError(t, err)
		tok, err := s.Sign(secretdata.Claims{})
		require.NoError(t, err)
		return tok
	}
	f, err := parseYAML(t, validConn, map[string]string{"S": testSecret})
	require.NoError(t, err)
	c, err := f.Connections[0].Compile(context.Background(), CompileOptions{Now: func() time.Time { return now }})
	require.NoError(t, err)
	assert.Equal(t, secretdata.DefaultMaxLifetime, c.cfg.maxLifetime())

	lifetime := time.Minute
	_, err = c.Verifier().Verify(context.Background(), signAt(t, now.Add(-lifetime-secretdata.DefaultLeeway+time.Second), lifetime))
	require.NoError(t, err, "expired inside the default leeway")
	_, err = c.Verifier().Verify(context.Background(), signAt(t, now.Add(-lifetime-secretdata.DefaultLeeway), lifetime))
	require.ErrorIs(t, err, secretdata.ErrExpired, "expired for the whole default leeway")
	_, err = c.Verifier().Verify(context.Background(), signAt(t, now, secretdata.DefaultMaxLifetime+time.Second))
	require.ErrorIs(t, err, secretdata.ErrClaims, "longer than the default maximum lifetime")

	for field, limit := range map[string]time.Duration{"leeway": secretdata.MaxLeeway, "max_lifetime": secretdata.MaxLifetimeLimit} {
		at := strings.Replace(validConn, "{issuer: bank}", "{issuer: bank, "+field+": "+limit.String()+"}", 1)
		_, err := parseYAML(t, at, map[string]string{"S": testSecret})
		require.NoError(t, err, "%s at the limit", field)
		above := strings.Replace(validConn, "{issuer: bank}", "{issuer: bank, "+field+": "+(limit+time.Second).String()+"}", 1)
		_, err = parseYAML(t, above, map[string]string{"S": testSecret})
		require.ErrorIs(t, err, ErrValue, "%s above the limit", field)
		require.ErrorContains(t, err, limit.String())
	}
}

func TestValidationErrors(t *testing.T) {
	env := map[string]string{"S": testSecret, "SHORT": "short", "BAD": "!!not base64!!",
		"SHORT64": base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789"))}
	tests := []struct {
		name string
		doc  string
		path string
		kind error
		msg  string
	}{
		{"empty file", "", "", ErrSyntax, "empty"},
		{"not yaml", "connections: [", "", ErrSyntax, ""},
		{"no connections", "connections: []", "connections", ErrMissing, "no connections"},
		{"unknown top-level field", "connection: []", "connection", ErrUnknownField, ""},
		{"unknown field with a hint", strings.Replace(validConn, "allowed_domains", "Allowed_Domains", 1), "connections[0].Allowed_Domains", ErrUnknownField, `did you mean "allowed_domains"`},
		{"duplicate field", strings.Replace(validConn, "    token: {issuer: bank}", "    token: {issuer: bank}\n    token: {issuer: other}", 1), "connections[0].token", ErrSyntax, "given twice"},
		{"yaml null in a list", strings.Replace(validConn, "[https://www.uplusbank.com]", "[~]", 1), "connections[0].allowed_domains[0]", ErrSyntax, "null"},
		{"yaml null field", strings.Replace(validConn, "[https://www.uplusbank.com]", "", 1), "connections[0].allowed_domains", ErrSyntax, "null"},
		{"wrong type", strings.Replace(validConn, "[page_viewed]", "{a: b}", 1), "", ErrSyntax, "line 5"},
		{"missing id", strings.Replace(validConn, "id: retail-bank", "name: x", 1), "connections[0].id", ErrMissing, ""},
		{"bad id", strings.Replace(validConn, "id: retail-bank", "id: retail/bank", 1), "connections[0].id", ErrValue, "URLs"},
		{"duplicate connection", validConn + "  - {id: retail-bank, token: {secret_data: optional}}\n", "connections[1].id", ErrValue, "already defined"},
		{"bad domain", strings.Replace(validConn, "https://www.uplusbank.com", "https://www.uplusbank.com, https://*.co.uk", 1), "connections[0].allowed_domains[1]", ErrValue, "public suffix"},
		{"bad matching mode", strings.Replace(validConn, "    allowed_cookies", "    domain_matching: fuzzy\n    allowed_cookies", 1), "connections[0].domain_matching", ErrValue, "same-site"},
		{"bad cookie", strings.Replace(validConn, "[page_viewed]", "[page_viewed, 'bad name']", 1), "connections[0].allowed_cookies[1]", ErrValue, "token"},
		{"sensitive cookie", strings.Replace(validConn, "[page_viewed]", "[JSESSIONID]", 1), "connections[0].allowed_cookies[0]", ErrValue, "dangerously_allow_sensitive_cookies"},
		{"key without id", strings.Replace(validConn, "- id: k1", "- algorithm: HS256", 1), "connections[0].keys[0].id", ErrMissing, "kid"},
		{"unknown algorithm", strings.Replace(validConn, "- id: k1", "- id: k1\n        algorithm: none", 1), "connections[0].keys[0].algorithm", ErrValue, "unsupported"},
		{"hmac without secret", strings.Replace(validConn, "        secret: {env: S}\n", "", 1), "connections[0].keys[0].secret", ErrMissing, ""},
		{"rsa with secret", strings.Replace(validConn, "- id: k1", "- id: k1\n        algorithm: RS256", 1), "connections[0].keys[0].secret", ErrValue, "public key"},
		{"env not set", strings.Replace(validConn, "{env: S}", "{env: UNSET}", 1), "connections[0].keys[0].secret.env", ErrSecret, "UNSET is not set"},
		{"file missing", strings.Replace(validConn, "{env: S}", "{file: /nope}", 1), "connections[0].keys[0].secret.file", ErrSecret, "no such file"},
		{"inline without flag", strings.Replace(validConn, "{env: S}", "{value: "+testSecret+"}", 1), "connections[0].keys[0].secret.value", ErrSecret, "insecure_inline"},
		{"two sources", strings.Replace(validConn, "{env: S}", "{env: S, file: x}", 1), "connections[0].keys[0].secret", ErrSecret, "only one"},
		{"no source", strings.Replace(validConn, "{env: S}", "{encoding: hex}", 1), "connections[0].keys[0].secret", ErrSecret, "one of"},
		{"undecodable secret", strings.Replace(validConn, "{env: S}", "{env: BAD, encoding: base64url}", 1), "connections[0].keys[0].secret", ErrSecret, "decode the secret as base64url"},
		{"unknown encoding", strings.Replace(validConn, "{env: S}", "{env: S, encoding: utf8}", 1), "connections[0].keys[0].secret.encoding", ErrValue, "want raw, base64url"},
		{"short secret", strings.Replace(validConn, "{env: S}", "{env: SHORT}", 1), "connections[0].keys[0].secret", ErrValue, "at least 32 characters"},
		{"short decoded secret", strings.Replace(validConn, "{env: S}", "{env: SHORT64, encoding: base64url}", 1), "connections[0].keys[0].secret", ErrValue, "at least 32 random bytes"},
		{"duplicate kid", strings.Replace(validConn, "        secret: {env: S}\n", "        secret: {env: S}\n      - id: k1\n        secret: {env: S}\n", 1), "connections[0].keys[1].id", ErrValue, "already used"},
		{"retire before not-before", strings.Replace(validConn, "- id: k1", "- id: k1\n        not_before: 2026-02-01T00:00:00Z\n        retire_after: 2026-01-01T00:00:00Z", 1), "connections[0].keys[0].retire_after", ErrValue, "after not_before"},
		{"http jwks", strings.Replace(validConn, "    token:", "    jwks_url: http://bank.example/jwks\n    token:", 1), "connections[0].jwks_url", ErrValue, "https"},
		{"http jwks to a name that looks like loopback", strings.Replace(validConn, "    token:", "    jwks_url: http://127.evil.example/jwks\n    token:", 1), "connections[0].jwks_url", ErrValue, "https"},
		{"keys without issuer", strings.Replace(validConn, "{issuer: bank}", "{}", 1), "connections[0].token.issuer", ErrMissing, ""},
		{"lifetime too long", strings.Replace(validConn, "{issuer: bank}", "{issuer: bank, max_lifetime: 48h}", 1), "connections[0].token.max_lifetime", ErrValue, ""},
		{"negative leeway", strings.Replace(validConn, "{issuer: bank}", "{issuer: bank, leeway: -1s}", 1), "connections[0].token.leeway", ErrValue, ""},
		{"duration without unit", strings.Replace(validConn, "{issuer: bank}", "{issuer: bank, leeway: 30}", 1), "connections[0].token.leeway", ErrSyntax, "unit"},
		{"duration that does not parse", strings.Replace(validConn, "{issuer: bank}", "{issuer: bank, leeway: 30 s}", 1), "connections[0].token.leeway", ErrSyntax, "invalid duration"},
		{"duration as a list", strings.Replace(validConn, "{issuer: bank}", "{issuer: bank, max_lifetime: [1m]}", 1), "connections[0].token.max_lifetime", ErrSyntax, "unit"},
		{"bad secret_data", strings.Replace(validConn, "{issuer: bank}", "{issuer: bank, secret_data: maybe}", 1), "connections[0].token.secret_data", ErrValue, ""},
		{"required without keys", "connections: [{id: a}]", "connections[0].token.secret_data", ErrValue, "no keys"},
		{"reserved header", strings.Replace(validConn, "{issuer: bank}", "{issuer: bank, header: Cookie}", 1), "connections[0].token.header", ErrValue, ""},
		{"bad mode", strings.Replace(validConn, "    token:", "    mode: audit\n    token:", 1), "connections[0].mode", ErrValue, "report-only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseYAML(t, tc.doc, env)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.ErrorIs(t, err, tc.kind)
			var found *cfgerr.Error
			for p := range cfgerr.All(err) {
				if p.Field == tc.path && errors.Is(p, tc.kind) {
					found = p
				}
			}
			require.NotNil(t, found, "no problem at %q in %v", tc.path, err)
			assert.Contains(t, found.Reason, tc.msg)
			assert.NotContains(t, found.Value, testSecret, "a problem never quotes a secret")
			if tc.path != "" {
				assert.Positive(t, found.Line, "line number for %s", tc.path)
			}
		})
	}
}

// TestBadDurationDoesNotHideOtherProblems: a duration that does not parse
// is reported at its path, and decoding goes on to report the rest.
func TestBadDurationDoesNotHideOtherProblems(t *testing.T) {
	doc := strings.Replace(validConn, "{issuer: bank}", "{issuer: bank, leeway: 30, max_lifetime: 2d}", 1)
	doc = strings.Replace(doc, "    keys:", "    mode: audit\n    keys:", 1)
	_, err := parseYAML(t, doc, map[string]string{"S": testSecret})
	require.Error(t, err)
	var fields []string
	for p := range cfgerr.All(err) {
		fields = append(fields, p.Field)
	}
	assert.ElementsMatch(t, []string{"connections[0].token.leeway", "connections[0].token.max_lifetime", "connections[0].mode"}, fields)
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	doc := `
connections:
  - id: "bad id"
    allowed_domains: ["null", "https://*.com"]
    allowed_cookies: [PHPSESSID]
    mode: loud
`
	_, err := parseYAML(t, doc, nil)
	var paths []string
	values := map[string]string{}
	for p := range cfgerr.All(err) {
		paths = append(paths, p.Field)
		values[p.Field] = p.Value
	}
	for _, want := range []string{"connections[0].id", "connections[0].allowed_domains[0]", "connections[0].allowed_domains[1]", "connections[0].allowed_cookies[0]", "connections[0].mode", "connections[0].token.secret_data"} {
		assert.Contains(t, paths, want)
	}
	assert.Contains(t, err.Error(), `line 4: connections[0].allowed_domains[1]: "https://*.com": `)
	assert.Equal(t, "https://*.com", values["connections[0].allowed_domains[1]"], "the offending value is named")
	assert.Equal(t, "loud", values["connections[0].mode"])
}

func TestHTTPJWKSOnlyToLoopback(t *testing.T) {
	for _, u := range []string{"http://localhost:8080/jwks", "http://127.0.0.1/jwks", "http://[::1]:9/jwks", "https://bank.example/jwks"} {
		doc := strings.Replace(validConn, "    token:", "    jwks_url: "+u+"\n    token:", 1)
		_, err := parseYAML(t, doc, map[string]string{"S": testSecret})
		require.NoError(t, err, u)
	}
}

func TestJSONFormat(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.json")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret.txt"), []byte(testSecret+"\n"), 0o600))
	doc := `{
	"connections": [{
		"id": "retail-bank",
		"allowed_domains": ["https://www.uplusbank.com"],
		"keys": [{"id": "k1", "secret": {"file": "secret.txt"}}],
		"token": {"issuer": "bank"}
	}]
}`
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	f, err := Load(path)
	require.NoError(t, err, "relative secret files resolve against the policy's directory")
	assert.Equal(t, testSecretBytes, f.Connections[0].Keys[0].Secret.secretValue().Bytes())

	// YAML-only syntax in a .json file is refused.
	require.NoError(t, os.WriteFile(path, []byte("connections: []"), 0o600))
	_, err = Load(path)
	assert.ErrorIs(t, err, ErrSyntax)
	// Parse decides the same way by LoadOptions.Name.
	_, err = Parse([]byte("connections: []"), LoadOptions{Name: "embedded.JSON"})
	assert.ErrorIs(t, err, ErrSyntax)
	_, err = Parse([]byte("connections: []"), LoadOptions{Name: "embedded.yaml"})
	assert.NotErrorIs(t, err, ErrSyntax, "YAML syntax is fine outside .json (the file is refused for having no connections)")

	// encoding/json would fold "ID" into "id"; the schema does not.
	require.NoError(t, os.WriteFile(path, []byte(`{"connections": [{"ID": "x"}]}`), 0o600))
	_, err = Load(path)
	assert.ErrorIs(t, err, ErrUnknownField)

	_, err = Load(filepath.Join(dir, "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestInlineSecretNeedsOptIn(t *testing.T) {
	doc := strings.Replace(validConn, "{env: S}", "{value: "+testSecret+", insecure_inline: true}", 1)
	f, err := parseYAML(t, doc, nil)
	require.NoError(t, err)
	assert.Equal(t, testSecretBytes, f.Connections[0].Keys[0].Secret.secretValue().Bytes())
	assert.Contains(t, codes(f.Lint()), LintInlineSecret)
}

func codes(ws []Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return out
}

func TestLint(t *testing.T) {
	env := map[string]string{"S": testSecret}
	tests := []struct {
		name string
		doc  string
		code string
		path string
	}{
		{"no domains", "connections: [{id: a, token: {secret_data: optional}}]", LintAnyWebsite, "connections[0].allowed_domains"},
		{"star", "connections: [{id: a, allowed_domains: ['*'], token: {secret_data: optional}}]", LintStarOrigin, "connections[0].allowed_domains[0]"},
		{"http origin", strings.Replace(validConn, "https://www.uplusbank.com", "http://www.uplusbank.com", 1), LintInsecureOrigin, "connections[0].allowed_domains[0]"},
		{"long lifetime", strings.Replace(validConn, "{issuer: bank}", "{issuer: bank, max_lifetime: 1h}", 1), LintLongLifetime, "connections[0].token.max_lifetime"},
		{"secret data optional", strings.Replace(validConn, "{issuer: bank}", "{issuer: bank, secret_data: optional}", 1), LintSecretDataOptional, "connections[0].token.secret_data"},
		{"sensitive cookie", strings.Replace(validConn, "[page_viewed]", "[JSESSIONID]\n    dangerously_allow_sensitive_cookies: true", 1), LintSensitiveCookie, "connections[0].allowed_cookies[0]"},
		{"report-only", strings.Replace(validConn, "    token:", "    mode: report-only\n    token:", 1), LintReportOnly, "connections[0].mode"},
		{"no keys", "connections: [{id: a, allowed_domains: ['https://a.example'], token: {secret_data: optional}}]", LintNoKeys, "connections[0].keys"},
		{"frame-ancestors off", strings.Replace(validConn, "    token:", "    frame_ancestors: false\n    token:", 1), LintNoFrameAncestors, "connections[0].frame_ancestors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseYAML(t, tc.doc, env)
			require.NoError(t, err)
			var hit *Warning
			for _, w := range f.Lint() {
				if w.Code == tc.code {
					hit = &w
				}
			}
			require.NotNil(t, hit, "want %s in %v", tc.code, f.Lint())
			assert.Equal(t, tc.path, hit.Path)
		})
	}
	t.Run("loopback http is not flagged", func(t *testing.T) {
		f, err := parseYAML(t, strings.Replace(validConn, "https://www.uplusbank.com", "http://localhost:8081", 1), env)
		require.NoError(t, err)
		assert.NotContains(t, codes(f.Lint()), LintInsecureOrigin)
	})
	t.Run("the strict default has no warnings", func(t *testing.T) {
		f, err := parseYAML(t, validConn, env)
		require.NoError(t, err)
		assert.Empty(t, f.Lint())
	})
}
