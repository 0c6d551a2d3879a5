package policy_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

// secretsConn is one connection with an HMAC key (secret in S) and the
// given extra lines (decryption keys) before its token rules.
func secretsConn(secret, extra string) string {
	return `
connections:
  - id: retail-bank
    allowed_domains: [https://www.uplusbank.com]
    allowed_cookies: []
    keys:
      - id: k1
        secret: ` + secret + `
` + extra + `    token: {issuer: bank}
`
}

func parseWith(doc string, env map[string]string) (*policy.File, error) {
	return policy.Parse([]byte(doc), policy.LoadOptions{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
}

func compileOne(t *testing.T, f *policy.File) *policy.Compiled {
	t.Helper()
	c, err := f.Connections[0].Compile(context.Background(), policy.CompileOptions{})
	require.NoError(t, err)
	return c
}

func hmacToken(t *testing.T, secret []byte, enc secretdata.EncryptionKey) string {
	t.Helper()
	key, err := secretdata.NewHMACKey("k1", secretdata.HS256, secret)
	require.NoError(t, err)
	s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: "bank", Audience: "retail-bank", Encryption: enc})
	require.NoError(t, err)
	tok, err := s.Sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-1"}})
	require.NoError(t, err)
	return tok
}

// The string `msgsec secret new` prints is the HMAC secret: a policy that
// names no encoding uses its text bytes, as every JWT library does with a
// string. A bank that decodes it instead gets a bad signature whose
// reason says how the policy reads the secret, never the secret.
func TestHMACSecretAsPrinted(t *testing.T) {
	printed := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret())
	decoded, err := base64.RawURLEncoding.DecodeString(printed)
	require.NoError(t, err)
	env := map[string]string{"S": printed}

	t.Run("default: the text bytes", func(t *testing.T) {
		f, err := parseWith(secretsConn("{env: S}", ""), env)
		require.NoError(t, err)
		assert.Equal(t, "raw", f.Connections[0].Keys[0].Secret.Encoding, "Load records the encoding it used")
		v := compileOne(t, f).Verifier()
		_, err = v.Verify(context.Background(), hmacToken(t, []byte(printed), secretdata.EncryptionKey{}))
		require.NoError(t, err, "signed with the string as printed")

		_, err = v.Verify(context.Background(), hmacToken(t, decoded, secretdata.EncryptionKey{}))
		require.ErrorIs(t, err, secretdata.ErrSignature, "signed with the decoded bytes")
		assert.Contains(t, err.Error(), "HMAC key k1: the secret is used as its text bytes (encoding raw")
		assert.Contains(t, err.Error(), "encoding: base64url")
		assert.NotContains(t, err.Error(), printed[:16])
	})
	t.Run("encoding base64url: the decoded bytes (files written before issue 13)", func(t *testing.T) {
		f, err := parseWith(secretsConn("{env: S, encoding: base64url}", ""), env)
		require.NoError(t, err)
		v := compileOne(t, f).Verifier()
		_, err = v.Verify(context.Background(), hmacToken(t, decoded, secretdata.EncryptionKey{}))
		require.NoError(t, err)

		_, err = v.Verify(context.Background(), hmacToken(t, []byte(printed), secretdata.EncryptionKey{}))
		require.ErrorIs(t, err, secretdata.ErrSignature)
		assert.Contains(t, err.Error(), "HMAC key k1: the secret is base64url-decoded")
		assert.NotContains(t, err.Error(), printed[:16])
	})
	t.Run("a key built in code has no hint", func(t *testing.T) {
		c := policy.ConnectionPolicy{ID: "retail-bank", Keys: []policy.KeyConfig{{ID: "k1", Secret: policy.SecretBytes([]byte(printed))}},
			Token: policy.TokenRules{Issuer: "bank"}}
		p, err := c.Compile(context.Background(), policy.CompileOptions{})
		require.NoError(t, err)
		_, err = p.Verifier().Verify(context.Background(), hmacToken(t, decoded, secretdata.EncryptionKey{}))
		require.ErrorIs(t, err, secretdata.ErrSignature)
		assert.NotContains(t, err.Error(), "encoding")
	})
	t.Run("weak secrets are refused in either encoding", func(t *testing.T) {
		short := map[string]string{"S": strings.Repeat("x", 31), "S64": base64.RawURLEncoding.EncodeToString(make([]byte, 31))}
		_, err := parseWith(secretsConn("{env: S}", ""), short)
		require.ErrorIs(t, err, policy.ErrValue)
		assert.Contains(t, err.Error(), "at least 32 characters")
		_, err = parseWith(secretsConn("{env: S64, encoding: base64url}", ""), short)
		require.ErrorIs(t, err, policy.ErrValue)
		assert.Contains(t, err.Error(), "at least 32 random bytes")
		ok := map[string]string{"S": strings.Repeat("x", 32)}
		_, err = parseWith(secretsConn("{env: S}", ""), ok)
		require.NoError(t, err, "32 bytes is the HS256 minimum")
	})
}

const decKeys = `    decryption_keys:
      - id: jwe-1
        secret: {env: JWE}
`

// Decryption keys in a policy: the connection then takes only JWE (dir +
// A256GCM) around its signed token, and SignerConfig encrypts.
func TestDecryptionKeys(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef-uplus"
	jweBytes := secretdata.GenerateSecret()[:32]
	env := map[string]string{"S": secret, "JWE": base64.RawURLEncoding.EncodeToString(jweBytes)}
	enc, err := secretdata.NewEncryptionKey("jwe-1", jweBytes)
	require.NoError(t, err)

	f, err := parseWith(secretsConn("{env: S}", decKeys), env)
	require.NoError(t, err)
	conn := f.Connections[0]
	assert.Equal(t, "base64url", conn.DecryptionKeys[0].Secret.Encoding, "a decryption key's default encoding")
	v := compileOne(t, f).Verifier()

	_, err = v.Verify(context.Background(), hmacToken(t, []byte(secret), enc))
	require.NoError(t, err, "a JWE with the policy's key")
	_, err = v.Verify(context.Background(), hmacToken(t, []byte(secret), secretdata.EncryptionKey{}))
	require.ErrorIs(t, err, secretdata.ErrMalformed, "a plain JWS is refused where JWE is configured")
	other, err := secretdata.NewEncryptionKey("jwe-1", make([]byte, 32))
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), hmacToken(t, []byte(secret), other))
	require.ErrorIs(t, err, secretdata.ErrSignature, "a JWE under another key")

	// SignerConfig encrypts with the first decryption key.
	cfg, err := conn.SignerConfig("", time.Now())
	require.NoError(t, err)
	s, err := secretdata.NewSigner(cfg)
	require.NoError(t, err)
	tok, err := s.Sign(secretdata.Claims{})
	require.NoError(t, err)
	assert.Equal(t, 4, strings.Count(tok, "."), "compact JWE")
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)

	// Without decryption keys, a JWE is refused.
	plain, err := parseWith(secretsConn("{env: S}", ""), env)
	require.NoError(t, err)
	_, err = compileOne(t, plain).Verifier().Verify(context.Background(), tok)
	require.ErrorIs(t, err, secretdata.ErrMalformed)

	// Nothing prints the key.
	for _, out := range []string{conn.DecryptionKeys[0].Secret.String(), formatted(t, conn)} {
		assert.NotContains(t, out, env["JWE"][:16])
	}
}

func formatted(t *testing.T, conn policy.ConnectionPolicy) string {
	t.Helper()
	b, err := json.Marshal(conn)
	require.NoError(t, err)
	return string(b) + fmt.Sprintf("%v %+v %#v", conn, conn, conn)
}

func TestDecryptionKeyValidation(t *testing.T) {
	jwe := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret()[:32])
	secret := "0123456789abcdef0123456789abcdef"
	env := map[string]string{
		"S": secret, "JWE": jwe, "JWE2": base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret()[:32]),
		"SHORT": base64.RawURLEncoding.EncodeToString(make([]byte, 16)),
		"SAME":  base64.RawURLEncoding.EncodeToString([]byte(secret)),
		// Both a valid HMAC secret as text (43 bytes) and a valid JWE key
		// decoded (32 bytes): different bytes, one secret.
		"SHARED": base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret()[:32]),
	}
	for _, tc := range []struct {
		name, extra, path string
		kind              error
		msg               string
	}{
		{"wrong size", "    decryption_keys:\n      - {id: jwe-1, secret: {env: SHORT}}\n",
			"connections[0].decryption_keys[0].secret", policy.ErrValue, "exactly 32 bytes, this is 16 after base64url decoding"},
		{"text is not 32 bytes", "    decryption_keys:\n      - {id: jwe-1, secret: {env: JWE, encoding: raw}}\n",
			"connections[0].decryption_keys[0].secret", policy.ErrValue, "this is 43 after raw decoding"},
		{"duplicate id", "    decryption_keys:\n      - {id: jwe-1, secret: {env: JWE}}\n      - {id: jwe-1, secret: {env: JWE2}}\n",
			"connections[0].decryption_keys[1].id", policy.ErrValue, "already used by decryption_keys[0]"},
		{"missing id", "    decryption_keys:\n      - {secret: {env: JWE}}\n",
			"connections[0].decryption_keys[0].id", policy.ErrMissing, "kid"},
		{"missing secret", "    decryption_keys:\n      - {id: jwe-1}\n",
			"connections[0].decryption_keys[0].secret", policy.ErrMissing, ""},
		{"unset env", "    decryption_keys:\n      - {id: jwe-1, secret: {env: NOPE}}\n",
			"connections[0].decryption_keys[0].secret.env", policy.ErrSecret, "NOPE is not set"},
		{"same secret as the HMAC key", "    decryption_keys:\n      - {id: jwe-1, secret: {env: SAME}}\n",
			"connections[0].decryption_keys[0].secret", policy.ErrValue, "same secret as keys[0]"},
		{"unknown field", "    decryption_keys:\n      - {id: jwe-1, secret: {env: JWE}, alg: dir}\n",
			"connections[0].decryption_keys[0].alg", policy.ErrUnknownField, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseWith(secretsConn("{env: S}", tc.extra), env)
			require.ErrorIs(t, err, tc.kind)
			var found *cfgerr.Error
			for p := range cfgerr.All(err) {
				if p.Field == tc.path && errors.Is(p, tc.kind) {
					found = p
				}
			}
			require.NotNil(t, found, "no problem at %s in %v", tc.path, err)
			assert.Contains(t, found.Reason, tc.msg)
			assert.Positive(t, found.Line)
			for _, s := range []string{jwe, env["SHORT"], env["SAME"]} {
				assert.NotContains(t, err.Error(), s[:16], "no error quotes a key")
			}
		})
	}
	// One variable as the HMAC secret (its text) and as the decryption key
	// (decoded): different bytes, but one secret.
	_, err := parseWith(secretsConn("{env: SHARED}", "    decryption_keys: [{id: jwe-1, secret: {env: SHARED}}]\n"), env)
	require.ErrorIs(t, err, policy.ErrValue)
	assert.Contains(t, err.Error(), "decryption_keys[0].secret: the same source as keys[0].secret")

	// Every problem at once.
	_, err = parseWith(secretsConn("{env: S}", "    decryption_keys:\n      - {id: jwe-1, secret: {env: SHORT}}\n      - {id: jwe-1}\n"), env)
	n := 0
	for range cfgerr.All(err) {
		n++
	}
	assert.Equal(t, 3, n, "%v", err)

	// Decryption keys need keys to verify the token inside.
	doc := "connections:\n  - id: c\n    decryption_keys: [{id: jwe-1, secret: {env: JWE}}]\n    token: {issuer: bank, secret_data: optional}\n"
	_, err = parseWith(doc, env)
	require.ErrorIs(t, err, policy.ErrValue)
	assert.Contains(t, err.Error(), "keys or jwks_url are needed")
}

func TestInlineDecryptionKeyLinted(t *testing.T) {
	jwe := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret()[:32])
	doc := secretsConn("{env: S}", "    decryption_keys: [{id: jwe-1, secret: {value: "+jwe+", insecure_inline: true}}]\n")
	f, err := parseWith(doc, map[string]string{"S": "0123456789abcdef0123456789abcdef"})
	require.NoError(t, err)
	var found bool
	for _, w := range f.Lint() {
		if w.Code == policy.LintInlineSecret && w.Path == "connections[0].decryption_keys[0].secret" {
			found = true
			assert.NotContains(t, w.Msg, jwe)
		}
	}
	assert.True(t, found, "%v", f.Lint())

	_, err = parseWith(strings.Replace(doc, ", insecure_inline: true", "", 1), map[string]string{"S": "0123456789abcdef0123456789abcdef"})
	require.ErrorIs(t, err, policy.ErrSecret, "inline needs the explicit flag")
}
