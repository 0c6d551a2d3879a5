package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
)

// jweEnv is a testEnv with a decryption key in UPLUS_JWE_KEY and a policy
// whose connection "sealed" has it (and "plain" has none).
func jweEnv(t *testing.T) (*testEnv, string) {
	t.Helper()
	e := newTestEnv()
	e.vars["UPLUS_JWE_KEY"] = base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret()[:32])
	p := writeFile(t, "jwe.yaml", `connections:
  - id: sealed
    keys: [{id: k1, secret: {env: UPLUS_JWT_SECRET}}]
    decryption_keys: [{id: jwe-1, secret: {env: UPLUS_JWE_KEY}}]
    token: {issuer: bank}
  - id: plain
    keys: [{id: k1, secret: {env: UPLUS_JWT_SECRET}}]
    token: {issuer: bank}
`)
	return e, p
}

func TestSignEncryptAndVerifyJWE(t *testing.T) {
	e, p := jweEnv(t)
	sign := func(conn string, extra ...string) result {
		return e.run(t, "", append([]string{"sign", "--policy", p, "--connection", conn, "--data", `{"customer_id":"C-1001"}`}, extra...)...)
	}
	verify := func(conn, tok string) result {
		return e.run(t, "", "verify", "--json", "--policy", p, "--connection", conn, tok)
	}

	r := sign("sealed", "--encrypt")
	require.Equal(t, exitOK, r.code, r.stderr)
	jwe := strings.TrimSpace(r.stdout)
	require.Equal(t, 4, strings.Count(jwe, "."), "a compact JWE")
	hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(jwe, ".")[0])
	require.NoError(t, err)
	require.JSONEq(t, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"jwe-1"}`, string(hdr))
	require.NotContains(t, jwe, base64.RawURLEncoding.EncodeToString([]byte(`"C-1001"`))[:6], "the data is not readable in the token")

	var rep verifyReport
	v := verify("sealed", jwe)
	require.Equal(t, exitOK, v.code, v.stdout)
	require.NoError(t, json.Unmarshal([]byte(v.stdout), &rep))
	require.True(t, rep.Valid)

	plain := strings.TrimSpace(sign("plain").stdout)
	for _, tc := range []struct {
		name, conn, tok, hint string
	}{
		{"a JWE where the connection has no decryption key", "plain", jwe, "the token is a JWE, and connection plain has no decryption_keys"},
		{"a plain JWS where the connection takes JWE", "sealed", plain, "connection sealed takes only JWE tokens"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := verify(tc.conn, tc.tok)
			require.Equal(t, exitFail, v.code)
			var rep verifyReport
			require.NoError(t, json.Unmarshal([]byte(v.stdout), &rep))
			require.False(t, rep.Valid)
			require.Equal(t, "malformed", rep.Reason)
			require.Contains(t, rep.Hint, tc.hint)
			text := e.run(t, "", "verify", "--policy", p, "--connection", tc.conn, tc.tok)
			require.Contains(t, text.stdout, "hint: "+tc.hint)
		})
	}

	t.Run("sign refuses what the connection would refuse", func(t *testing.T) {
		requireOneLineError(t, sign("sealed"), "connection sealed takes only JWE tokens (it has decryption_keys): add --encrypt")
		requireOneLineError(t, sign("plain", "--encrypt"), "connection plain has no decryption_keys to encrypt with")
	})
	t.Run("no key material printed", func(t *testing.T) {
		for _, out := range []string{r.stdout + r.stderr, v.stdout + v.stderr} {
			require.NotContains(t, out, e.vars["UPLUS_JWE_KEY"])
			require.NotContains(t, out, e.encoded[:16])
		}
	})
}

// msgsec sign --private-key: the bank's asymmetric key, checked by the
// chat server against the public key the policy names.
func TestSignWithPrivateKey(t *testing.T) {
	e := newTestEnv()
	for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			k := e.run(t, "", "keys", "new", "--alg", alg, "--kid", "bank-1", "--rsa-bits", "2048", "--json")
			require.Equal(t, exitOK, k.code)
			var kp keyPair
			require.NoError(t, json.Unmarshal([]byte(k.stdout), &kp))
			priv, pub := writeFile(t, "bank.key", kp.PrivateKey), writeFile(t, "bank.pub", kp.PublicKey)
			p := writeFile(t, "p.yaml", "connections:\n  - id: shop\n    keys: [{id: bank-1, algorithm: "+alg+", public_key: {file: "+pub+"}}]\n    token: {issuer: bank}\n")
			args := []string{"sign", "--policy", p, "--connection", "shop", "--data", `{"customer_id":"C-7"}`, "--private-key", priv, "--kid", "bank-1"}
			if alg == "PS256" { // an RSA key signs RS256 unless --alg says PS256
				args = append(args, "--alg", alg)
			}
			r := e.run(t, "", args...)
			require.Equal(t, exitOK, r.code, r.stderr)
			tok := strings.TrimSpace(r.stdout)
			hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
			require.NoError(t, err)
			require.JSONEq(t, `{"alg":"`+alg+`","kid":"bank-1","typ":"JWT"}`, string(hdr))
			v := e.run(t, "", "verify", "--policy", p, "--connection", "shop", tok)
			require.Equal(t, exitOK, v.code, v.stdout)
			require.NotContains(t, r.stdout+r.stderr+v.stdout+v.stderr, "PRIVATE KEY")
		})
	}

	k := e.run(t, "", "keys", "new", "--alg", "ES256", "--kid", "bank-1", "--json")
	var kp keyPair
	require.NoError(t, json.Unmarshal([]byte(k.stdout), &kp))
	priv, pub := writeFile(t, "bank.key", kp.PrivateKey), writeFile(t, "bank.pub", kp.PublicKey)
	p := writeFile(t, "p.yaml", "connections:\n  - id: shop\n    keys: [{id: bank-1, algorithm: ES256, public_key: {file: "+pub+"}}]\n    token: {issuer: bank}\n")
	base := []string{"sign", "--policy", p, "--connection", "shop", "--data", "{}"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no kid", []string{"--private-key", priv}, "--private-key needs --kid"},
		{"alg without a private key", []string{"--alg", "ES256"}, "--alg goes with --private-key"},
		{"a public key is not a private key", []string{"--private-key", pub, "--kid", "bank-1"}, `PEM block is "PUBLIC KEY"; want a private key`},
		{"alg that does not fit the key", []string{"--private-key", priv, "--kid", "bank-1", "--alg", "RS256"}, "with --alg RS256: priv: algorithm needs an rsa key"},
		{"not PEM", []string{"--private-key", writeFile(t, "x.key", "hello"), "--kid", "bank-1"}, "no PEM block found"},
		{"no such file", []string{"--private-key", "/does/not/exist", "--kid", "bank-1"}, "cannot read /does/not/exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, "", append(append([]string{}, base...), tc.args...)...)
			requireOneLineError(t, r, tc.want)
			require.NotContains(t, r.stderr, "BEGIN")
		})
	}
	// A policy with public keys only can still mint with the bank's key.
	r := e.run(t, "", append(base, "--private-key", priv, "--kid", "bank-1")...)
	require.Equal(t, exitOK, r.code, r.stderr)
}

// A token the bank signed with the decoded secret fails, and verify says
// how the policy reads it (never the secret).
func TestVerifyHMACHint(t *testing.T) {
	e := newTestEnv()
	decoded, err := base64.RawURLEncoding.DecodeString(e.encoded)
	require.NoError(t, err)
	r := e.verify(t, "", e.signDirect(t, decoded, time.Now()))
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stdout, "invalid: bad signature")
	require.Contains(t, r.stdout, "HMAC key uplus-2026-11: the secret is used as its text bytes (encoding raw")
	require.NotContains(t, r.stdout, e.encoded[:12])
}

// policy check says, per key, where its secret comes from and how the
// policy reads it.
func TestPolicyCheckShowsEncodings(t *testing.T) {
	e, p := jweEnv(t)
	r := e.run(t, "", "policy", "check", p)
	require.Equal(t, exitOK, r.code, r.stdout)
	require.Contains(t, r.stdout, "note: connections[0].keys[0]: HMAC key k1 (HS256), secret from env:UPLUS_JWT_SECRET: the text itself is the key (encoding raw)")
	require.Contains(t, r.stdout, "note: connections[0].decryption_keys[0]: JWE decryption key jwe-1 (dir, A256GCM), secret from env:UPLUS_JWE_KEY: the text is base64url-decoded")

	old := writeFile(t, "old.yaml", "connections:\n  - id: c\n    keys: [{id: k1, secret: {env: OLD, encoding: base64url}}]\n    token: {issuer: bank}\n")
	e.vars["OLD"] = e.encoded
	r = e.run(t, "", "policy", "check", "--json", old)
	require.Equal(t, exitOK, r.code, r.stdout)
	var rep checkReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	require.Equal(t, []keyNote{{Path: "connections[0].keys[0]", Kid: "k1", Algorithm: "HS256", Source: "env:OLD", Encoding: "base64url",
		Message: "HMAC key k1 (HS256), secret from env:OLD: the text is base64url-decoded into the key (encoding base64url): the bank decodes it the same way"}}, rep.Keys)

	// Without the variables (a CI job), the decryption key still checks.
	r = e.without().run(t, "", "policy", "check", p)
	require.Equal(t, exitOK, r.code, r.stdout)
	require.Contains(t, r.stdout, "connections[0].decryption_keys[0].secret.env: environment variable UPLUS_JWE_KEY is not set here")
}
