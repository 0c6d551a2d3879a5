package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
)

// Token formats from other JWT libraries, through the command line (issue
// 13): Ed25519 keys and tokens, signing with a private key, the warning
// for customer data in the wrong place, and policy check's JWKS report.

// newKeyFiles runs keys new and returns the private and public key files.
func (e *testEnv) newKeyFiles(t *testing.T, alg, kid string) (priv, pub string) {
	t.Helper()
	dir := t.TempDir()
	priv, pub = filepath.Join(dir, kid+".key"), filepath.Join(dir, kid+".pub")
	r := e.run(t, "", "keys", "new", "--alg", alg, "--kid", kid, "--rsa-bits", "2048", "--out-private", priv, "--out-public", pub)
	require.Equal(t, exitOK, r.code, r.stderr)
	return priv, pub
}

// keyPolicy is a policy whose one connection verifies with the public key
// in pubPath, bound to alg.
func keyPolicy(t *testing.T, alg, kid, pubPath, token string) string {
	return writeFile(t, "p.yaml", fmt.Sprintf(`connections:
  - id: retail-bank
    allowed_domains: [https://www.uplusbank.com]
    allowed_cookies: []
    keys:
      - {id: %s, algorithm: %s, public_key: {file: %q}}
    token: {issuer: uplusbank-backend%s}
`, kid, alg, pubPath, token))
}

func tokenHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.SplitN(tok, ".", 2)[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(raw, &h))
	return h
}

func TestKeysNewEd25519(t *testing.T) {
	e := newTestEnv()
	r := e.run(t, "", "keys", "new", "--alg", "Ed25519", "--kid", "ed", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var kp keyPair
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &kp))
	require.Equal(t, "Ed25519", kp.Algorithm)
	keys, skipped, err := secretdata.ParseJWKS(kp.JWKS)
	require.NoError(t, err)
	require.Empty(t, skipped)
	require.Equal(t, secretdata.Ed25519, keys[0].Algorithm(), "the JWKS says alg Ed25519")
}

func TestSignWithKeyFlag(t *testing.T) {
	e := newTestEnv()
	sign := func(t *testing.T, policyPath string, args ...string) result {
		t.Helper()
		return e.run(t, "", append([]string{"sign", "--policy", policyPath, "--connection", connID, "--data", customerData}, args...)...)
	}
	cases := []struct {
		keyAlg, policyAlg string // what keys new made, what the policy binds
		signArgs          []string
		wantAlg           string
	}{
		{"EdDSA", "EdDSA", nil, "EdDSA"},
		{"EdDSA", "EdDSA", []string{"--alg", "Ed25519"}, "Ed25519"},
		{"Ed25519", "EdDSA", []string{"--alg", "Ed25519"}, "Ed25519"},
		{"EdDSA", "Ed25519", nil, "EdDSA"},
		{"ES256", "ES256", nil, "ES256"},
		{"RS256", "RS256", nil, "RS256"},
		{"RS256", "PS256", []string{"--alg", "PS256"}, "PS256"},
	}
	for _, tc := range cases {
		t.Run(tc.keyAlg+" key, policy "+tc.policyAlg+", "+strings.Join(tc.signArgs, " "), func(t *testing.T) {
			priv, pub := e.newKeyFiles(t, tc.keyAlg, "k1")
			p := keyPolicy(t, tc.policyAlg, "k1", pub, ", type: secretdata+jwt")
			r := sign(t, p, append([]string{"--key", priv, "--kid", "k1"}, tc.signArgs...)...)
			require.Equal(t, exitOK, r.code, r.stderr)
			tok := strings.TrimSpace(r.stdout)
			h := tokenHeader(t, tok)
			require.Equal(t, tc.wantAlg, h["alg"])
			require.Equal(t, "k1", h["kid"])
			require.Equal(t, "secretdata+jwt", h["typ"], "the policy's token.type")
			v := e.run(t, "", "verify", "--policy", p, "--connection", connID, tok)
			require.Equal(t, exitOK, v.code, v.stdout+v.stderr)
		})
	}

	priv, pub := e.newKeyFiles(t, "ES256", "k1")
	p := keyPolicy(t, "ES256", "k1", pub, "")
	t.Run("--key needs --kid", func(t *testing.T) {
		requireOneLineError(t, sign(t, p, "--key", priv), "--private-key needs --kid")
	})
	t.Run("--alg must fit the key", func(t *testing.T) {
		requireOneLineError(t, sign(t, p, "--key", priv, "--kid", "k1", "--alg", "EdDSA"), "algorithm needs an ed25519 key")
	})
	t.Run("--alg without --key", func(t *testing.T) {
		requireOneLineError(t, sign(t, examplePath, "--alg", "ES256"), "--alg goes with --private-key")
	})
	t.Run("a public key is not a private key", func(t *testing.T) {
		requireOneLineError(t, sign(t, p, "--key", pub, "--kid", "k1"), "want a private key")
	})
}

// hs256Token signs payload with secret as a bank's library would.
func hs256Token(secret []byte, payload string) string {
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(in))
	return in + "." + enc.EncodeToString(m.Sum(nil))
}

func TestVerifyWarnsAboutMisplacedData(t *testing.T) {
	e := newTestEnv()
	policyFor := func(rule string) string {
		return writeFile(t, "p.yaml", `connections:
  - id: retail-bank
    allowed_domains: [https://www.uplusbank.com]
    allowed_cookies: []
    keys:
      - {id: uplus-2026-11, secret: {env: UPLUS_JWT_SECRET}}
    token: {issuer: uplusbank-backend, secret_data: `+rule+`}
`)
	}
	now := time.Now().Unix()
	tok := hs256Token(e.secret, fmt.Sprintf(`{"iss":"uplusbank-backend","aud":"retail-bank","iat":%d,"exp":%d,`+
		`"jti":"0123456789abcdef0123","customer_id":"C-7777","authentication_status":"authenticated"}`, now, now+60))

	r := e.run(t, "", "verify", "--json", "--policy", policyFor("optional"), "--connection", connID, tok)
	require.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stderr, `msgsec verify: warning: the token has no customer_secret_data but carries the top-level claims "customer_id", "authentication_status"`)
	var rep verifyReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	require.True(t, rep.Valid)
	require.Len(t, rep.Warnings, 1)
	require.Empty(t, rep.Claims.SecretData)
	for _, out := range []string{r.stdout, r.stderr} {
		require.NotContains(t, out, "C-7777", "never the values")
	}

	r = e.run(t, "", "verify", "--policy", policyFor("required"), "--connection", connID, tok)
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stdout, "invalid: invalid claims")
	require.Contains(t, r.stdout, "customer_secret_data: missing")
	require.Contains(t, r.stdout, `hint: put the customer data inside one claim`)
	require.NotContains(t, r.stdout+r.stderr, "C-7777")

	// A token with its data in place: no warning.
	good := e.run(t, "", "verify", "--policy", policyFor("required"), "--connection", connID, e.sign(t))
	require.Equal(t, exitOK, good.code, good.stdout+good.stderr)
	require.Empty(t, good.stderr)
}

func TestPolicyCheckFetchesJWKS(t *testing.T) {
	e := newTestEnv()
	docs := map[string]string{
		"/mixed": `{"keys":[
			{"kty":"OKP","crv":"Ed25519","kid":"ed-1","alg":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
			{"kty":"OKP","crv":"Ed25519","kid":"enc-1","use":"enc","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
			{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		"/lone": `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		"/none": `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"enc-1","use":"enc","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(doc))
	}))
	defer srv.Close()
	policyFor := func(path string) string {
		return writeFile(t, "p.yaml", `connections:
  - id: retail-bank
    allowed_domains: [https://www.uplusbank.com]
    allowed_cookies: []
    jwks_url: `+srv.URL+path+`
    token: {issuer: uplusbank-backend}
`)
	}
	check := func(t *testing.T, path string, args ...string) (result, checkReport) {
		t.Helper()
		r := e.run(t, "", append(append([]string{"policy", "check", "--json"}, args...), policyFor(path))...)
		var rep checkReport
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout+r.stderr)
		return r, rep
	}
	codes := func(rep checkReport) []string {
		var out []string
		for _, w := range rep.Warnings {
			out = append(out, w.Code+": "+w.Message)
		}
		return out
	}

	r, rep := check(t, "/mixed")
	require.Equal(t, exitOK, r.code)
	require.Equal(t, []string{
		`jwks-skipped-key: jwks ` + srv.URL + `/mixed: keys[1] (kid "enc-1") is skipped: use "enc": not a signature key`,
		`jwks-skipped-key: jwks ` + srv.URL + `/mixed: keys[2] (no kid) is skipped: no kid, and the set has several keys: no token can name it`,
	}, codes(rep))
	require.Equal(t, []jwksKey{{Kid: "ed-1", Alg: "Ed25519"}}, rep.JWKS[0].Keys)
	require.Len(t, rep.JWKS[0].Skipped, 2)
	require.NotContains(t, r.stdout, "11qYAYKx", "no key material")

	_, rep = check(t, "/lone")
	require.Empty(t, codes(rep), "a lone key without kid is usable")
	require.Equal(t, []jwksKey{{Kid: "", Alg: "EdDSA"}}, rep.JWKS[0].Keys)

	r, rep = check(t, "/none", "--strict")
	require.Equal(t, exitFail, r.code, "--strict fails on them")
	require.Len(t, codes(rep), 2)
	require.Contains(t, codes(rep)[1], "jwks-unavailable: jwks "+srv.URL+"/none: keys: no usable signature key")

	_, rep = check(t, "/gone")
	require.Equal(t, []string{"jwks-unavailable: jwks " + srv.URL + "/gone: fetch answered HTTP 404; the chat server refuses to start without a usable key"}, codes(rep))

	_, rep = check(t, "/mixed", "--no-fetch")
	require.Empty(t, rep.JWKS)
	require.Empty(t, codes(rep))

	// The text form lists the keys too.
	r = e.run(t, "", "policy", "check", policyFor("/mixed"))
	require.Contains(t, r.stdout, `jwks: connection retail-bank: `+srv.URL+`/mixed: 1 usable key ("ed-1" Ed25519), 2 skipped`)
	require.Contains(t, r.stdout, `warning: connections[0].jwks_url: jwks `+srv.URL+`/mixed: keys[1] (kid "enc-1") is skipped`)
}
