package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
)

const customerData = `{"authentication_status":"authenticated","customer_id":"C-1001","segments":["gold",7]}`

// sign mints a token through the command line and returns it.
func (e *testEnv) sign(t *testing.T, extra ...string) string {
	t.Helper()
	args := append([]string{"sign", "--policy", examplePath, "--connection", connID, "--data", customerData}, extra...)
	r := e.run(t, "", args...)
	require.Equal(t, exitOK, r.code, "stderr=%q", r.stderr)
	require.Empty(t, r.stderr)
	require.Equal(t, 1, strings.Count(r.stdout, "\n"), "sign prints only the token")
	return strings.TrimSpace(r.stdout)
}

func (e *testEnv) verify(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return e.run(t, stdin, append([]string{"verify", "--policy", examplePath, "--connection", connID}, args...)...)
}

// signDirect mints a token with secretdata itself (not the CLI), with a
// pinned clock: how the expired and not-yet-valid cases get their tokens.
func (e *testEnv) signDirect(t *testing.T, secret []byte, now time.Time) string {
	t.Helper()
	key, err := secretdata.NewHMACKey("uplus-2026-11", secretdata.HS256, secret)
	require.NoError(t, err)
	s, err := secretdata.NewSigner(secretdata.SignerConfig{
		Key: key, Issuer: "uplusbank-backend", Audience: connID, Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	tok, err := s.Sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-1001"}})
	require.NoError(t, err)
	return tok
}

func TestSignVerifyRoundTrip(t *testing.T) {
	e := newTestEnv()
	tok := e.sign(t, "--subject", "customer-42")

	t.Run("token argument, values masked", func(t *testing.T) {
		r := e.verify(t, "", tok)
		require.Equal(t, exitOK, r.code, "stdout=%q stderr=%q", r.stdout, r.stderr)
		require.True(t, strings.HasPrefix(r.stdout, "valid\n"))
		for _, s := range []string{"issuer:      uplusbank-backend", "audience:    retail-bank", "subject:     ***", `"customer_id": "***"`, `"authentication_status": "***"`, "values masked"} {
			require.Contains(t, r.stdout, s)
		}
		for _, s := range []string{"customer-42", "C-1001", "authenticated\"", "gold"} {
			require.NotContains(t, r.stdout, s)
		}
	})
	t.Run("stdin, shown on request", func(t *testing.T) {
		r := e.verify(t, tok+"\n", "--show-secret-data", "-")
		require.Equal(t, exitOK, r.code)
		for _, s := range []string{"subject:     customer-42", `"customer_id": "C-1001"`, `"gold"`, "7"} {
			require.Contains(t, r.stdout, s)
		}
		require.NotContains(t, r.stdout, "masked")
	})
	t.Run("json", func(t *testing.T) {
		r := e.verify(t, "", "--json", tok)
		require.Equal(t, exitOK, r.code)
		var rep verifyReport
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
		require.True(t, rep.Valid)
		require.True(t, rep.Masked)
		require.Equal(t, "uplusbank-backend", rep.Claims.Issuer)
		require.Equal(t, connID, rep.Claims.Audience)
		require.Equal(t, "***", rep.Claims.Subject)
		require.Equal(t, map[string]any{"authentication_status": "***", "customer_id": "***", "segments": []any{"***", "***"}}, rep.Claims.SecretData)
		require.Equal(t, 5*time.Minute, rep.Claims.ExpiresAt.Sub(rep.Claims.IssuedAt))
		require.NotEmpty(t, rep.Claims.ID)
	})
}

func TestSignOptions(t *testing.T) {
	e := newTestEnv()
	t.Run("lifetime", func(t *testing.T) {
		r := e.verify(t, "", "--json", e.sign(t, "--lifetime", "2m"))
		var rep verifyReport
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
		require.Equal(t, 2*time.Minute, rep.Claims.ExpiresAt.Sub(rep.Claims.IssuedAt))
	})
	t.Run("data from stdin and from a file", func(t *testing.T) {
		for _, src := range []struct{ arg, stdin string }{
			{"-", customerData},
			{"@" + writeFile(t, "data.json", customerData), ""},
		} {
			r := e.run(t, src.stdin, "sign", "--policy", examplePath, "--connection", connID, "--data", src.arg)
			require.Equal(t, exitOK, r.code, r.stderr)
			v := e.verify(t, "", "--json", "--show-secret-data", strings.TrimSpace(r.stdout))
			require.Equal(t, exitOK, v.code)
			require.Contains(t, v.stdout, `"customer_id": "C-1001"`)
		}
	})
	t.Run("kid selects the key", func(t *testing.T) {
		require.NotEmpty(t, e.sign(t, "--kid", "uplus-2026-11"))
	})
}

func TestSessionBoundTokens(t *testing.T) {
	e := newTestEnv()
	cases := []struct {
		name    string
		signSID string
		args    []string
		code    int
		want    string
	}{
		{"same session", "S-1", []string{"--session", "S-1"}, exitOK, "session:     S-1"},
		{"other session", "S-1", []string{"--session", "S-2"}, exitFail, "invalid: invalid claims"},
		{"bound token without --session", "S-1", nil, exitFail, "hint: a token bound to a chat session verifies only with --session SID"},
		{"unbound token with --session", "", []string{"--session", "S-1"}, exitFail, "invalid: invalid claims"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var extra []string
			if tc.signSID != "" {
				extra = []string{"--session", tc.signSID}
			}
			tok := e.sign(t, extra...)
			r := e.verify(t, "", append(tc.args, tok)...)
			require.Equal(t, tc.code, r.code, r.stdout)
			require.Contains(t, r.stdout, tc.want)
		})
	}
}

// tamper changes one character in the middle of the payload, keeping the
// base64url canonical, so only the signature check can catch it.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	p := []byte(parts[1])
	i := len(p) / 2
	if p[i] == 'A' {
		p[i] = 'B'
	} else {
		p[i] = 'A'
	}
	parts[1] = string(p)
	return strings.Join(parts, ".")
}

func TestVerifyRefusals(t *testing.T) {
	e := newTestEnv()
	other := secretdata.GenerateSecret()
	cases := []struct {
		name   string
		token  string
		reason string
	}{
		{"tampered payload", tamper(e.sign(t)), "bad signature"},
		{"signed with another secret", e.signDirect(t, other, time.Now()), "bad signature"},
		{"expired", e.signDirect(t, e.secret, time.Now().Add(-time.Hour)), "expired"},
		{"issued in the future", e.signDirect(t, e.secret, time.Now().Add(time.Hour)), "not yet valid"},
		{"not a token", "hello", "malformed"},
		{"signature stripped", strings.Join(strings.Split(e.sign(t), ".")[:2], ".") + ".", "bad signature"},
		{"alg none", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(e.sign(t), ".")[1] + ".", "bad signature"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.verify(t, "", tc.token)
			require.Equal(t, exitFail, r.code, "stdout=%q stderr=%q", r.stdout, r.stderr)
			require.True(t, strings.HasPrefix(r.stdout, "invalid: "+tc.reason+" ("), r.stdout)
			require.NotContains(t, r.stdout, "C-1001")
			require.Empty(t, r.stderr)

			r = e.verify(t, "", "--json", tc.token)
			require.Equal(t, exitFail, r.code)
			var rep verifyReport
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
			require.False(t, rep.Valid)
			require.Equal(t, tc.reason, rep.Reason)
			require.Nil(t, rep.Claims, "nothing of an invalid token is shown")
		})
	}
}

func TestSignVerifyInputErrors(t *testing.T) {
	e := newTestEnv()
	tok := e.sign(t)
	sign := func(extra ...string) []string {
		return append([]string{"sign", "--policy", examplePath, "--connection", connID}, extra...)
	}
	verify := func(extra ...string) []string {
		return append([]string{"verify", "--policy", examplePath, "--connection", connID}, extra...)
	}
	cases := []struct {
		name  string
		env   *testEnv
		stdin string
		args  []string
		want  string
	}{
		{"sign: missing secret variable", e.without(), "", sign("--data", "{}"), "environment variable UPLUS_JWT_SECRET is not set"},
		{"verify: missing secret variable", e.without(), "", verify(tok), "environment variable UPLUS_JWT_SECRET is not set"},
		{"sign: unknown connection", e, "", []string{"sign", "--policy", examplePath, "--connection", "nope", "--data", "{}"}, `unknown connection "nope"`},
		{"verify: unknown connection", e, "", []string{"verify", "--policy", examplePath, "--connection", "nope", tok}, `unknown connection "nope"`},
		{"sign: missing file", e, "", []string{"sign", "--policy", "nope.yaml", "--connection", connID, "--data", "{}"}, "no such file or directory"},
		{"verify: missing file", e, "", []string{"verify", "--policy", "nope.yaml", "--connection", connID, tok}, "no such file or directory"},
		{"verify: invalid YAML", e, "", []string{"verify", "--policy", writeFile(t, "p.yaml", invalidYAML), "--connection", connID, tok}, "p.yaml: line 2: did not find"},
		{"sign: no data", e, "", sign(), "--data is required"},
		{"sign: data is not JSON, not echoed", e, "", sign("--data", `{"customer_id": C-SECRET-9}`), "--data is not valid JSON (at byte 17)"},
		{"sign: data is not an object", e, "", sign("--data", `["C-1001"]`), "--data must be a JSON object"},
		{"sign: two JSON values", e, "", sign("--data", `{} {}`), "more than one JSON value"},
		{"sign: data file missing", e, "", sign("--data", "@nope.json"), "cannot read nope.json: no such file or directory"},
		{"sign: lifetime above the policy's maximum", e, "", sign("--data", "{}", "--lifetime", "1h"), "the policy's token.max_lifetime is 15m0s"},
		{"sign: unknown kid", e, "", sign("--data", "{}", "--kid", "other"), `no key "other"`},
		{"verify: no token", e, "", verify(), "missing the TOKEN"},
		{"verify: empty stdin", e, "", verify("-"), "the token is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.env.run(t, tc.stdin, tc.args...)
			requireOneLineError(t, r, tc.want)
			require.NotContains(t, r.stderr, "C-SECRET-9")
			require.NotContains(t, r.stderr, tok)
		})
	}
}

func TestSignRefusesPublicKeysAndInactiveKeys(t *testing.T) {
	e := newTestEnv()
	k := e.run(t, "", "keys", "new", "--alg", "EdDSA", "--kid", "bank-ed", "--json")
	require.Equal(t, exitOK, k.code)
	var kp keyPair
	require.NoError(t, json.Unmarshal([]byte(k.stdout), &kp))
	pub := writeFile(t, "bank-ed.pub", kp.PublicKey)
	p := writeFile(t, "p.yaml", `connections:
  - id: shop
    allowed_domains: [https://www.uplusbank.com]
    keys:
      - id: bank-ed
        algorithm: EdDSA
        public_key: {file: `+pub+`}
      - id: old
        secret: {env: UPLUS_JWT_SECRET}
        retire_after: 2020-01-01T00:00:00Z
    token: {issuer: bank}
`)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"first signing key is retired", nil, "no active key can sign"},
		{"kid names a public key", []string{"--kid", "bank-ed"}, `key "bank-ed" is a public key`},
		{"kid names a retired key", []string{"--kid", "old"}, `key "old" is not active now`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, "", append([]string{"sign", "--policy", p, "--connection", "shop", "--data", "{}"}, tc.args...)...)
			requireOneLineError(t, r, tc.want)
		})
	}
}

// A token signed with a key the connection does not have: the answer
// names the token's kid and the connection's keys, and how to add one.
func TestVerifyNamesTheUnknownKid(t *testing.T) {
	e := newTestEnv()
	key, err := secretdata.NewHMACKey("bank-2027-01", secretdata.HS256, e.secret)
	require.NoError(t, err)
	s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: "uplusbank-backend", Audience: connID})
	require.NoError(t, err)
	tok, err := s.Sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-1001"}})
	require.NoError(t, err)
	r := e.verify(t, "", tok)
	require.Equal(t, exitFail, r.code, r.stdout)
	require.Contains(t, r.stdout, "invalid: unknown key")
	require.Contains(t, r.stdout, `hint: the token's kid "bank-2027-01" is not a key of connection retail-bank (it has keys uplus-2026-11)`)
	require.Contains(t, r.stdout, "public_key: {file: bank.pub}")
	require.NotContains(t, r.stdout, "C-1001")
}
