package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
)

func TestSecretNew(t *testing.T) {
	e := newTestEnv()
	seen := map[string]bool{}
	for range 3 {
		r := e.run(t, "", "secret", "new")
		require.Equal(t, exitOK, r.code)
		s := strings.TrimSuffix(r.stdout, "\n")
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		require.NoError(t, err, "base64url without padding")
		require.Len(t, b, 64, "512 random bits")
		require.Len(t, s, 86)
		// The string itself is the key (as a JWT library takes it): long
		// enough for HS512 as text.
		_, err = secretdata.NewHMACKey("k", secretdata.HS512, []byte(s))
		require.NoError(t, err)
		require.False(t, seen[s], "every secret is fresh")
		seen[s] = true
	}

	t.Run("--jwe: 32 bytes in base64url, what a decryption key decodes", func(t *testing.T) {
		r := e.run(t, "", "secret", "new", "--jwe")
		require.Equal(t, exitOK, r.code)
		s := strings.TrimSuffix(r.stdout, "\n")
		require.Len(t, s, 43)
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		require.NoError(t, err)
		_, err = secretdata.NewEncryptionKey("jwe-1", b)
		require.NoError(t, err)
	})

	t.Run("out file is 0600 and never overwritten", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "s")
		r := e.run(t, "", "secret", "new", "--out", p)
		require.Equal(t, exitOK, r.code)
		require.Empty(t, r.stdout, "the secret goes to the file only")
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		before, _ := os.ReadFile(p)

		r = e.run(t, "", "secret", "new", "--out", p)
		requireOneLineError(t, r, "already exists; refusing to overwrite it")
		after, _ := os.ReadFile(p)
		require.Equal(t, before, after)
	})
}

func TestKeysNew(t *testing.T) {
	e := newTestEnv()
	for _, alg := range []secretdata.Algorithm{secretdata.ES256, secretdata.EdDSA, secretdata.RS256, secretdata.PS256} {
		t.Run(string(alg), func(t *testing.T) {
			r := e.run(t, "", "keys", "new", "--alg", string(alg), "--kid", "k-"+string(alg), "--rsa-bits", "2048")
			require.Equal(t, exitOK, r.code, r.stderr)

			// Text output: private PEM, public PEM, then the JWKS.
			privBlock, rest := pem.Decode([]byte(r.stdout))
			require.NotNil(t, privBlock)
			require.Equal(t, "PRIVATE KEY", privBlock.Type)
			pubBlock, rest := pem.Decode(rest)
			require.NotNil(t, pubBlock)
			require.Equal(t, "PUBLIC KEY", pubBlock.Type)

			keys, _, err := secretdata.ParseJWKS(rest)
			require.NoError(t, err)
			require.Len(t, keys, 1)
			require.Equal(t, "k-"+string(alg), keys[0].ID())
			require.Equal(t, alg, keys[0].Algorithm())
			require.False(t, keys[0].CanSign(), "the JWKS holds only the public key")

			parsed, err := x509.ParsePKCS8PrivateKey(privBlock.Bytes)
			require.NoError(t, err)
			signKey, err := secretdata.NewPrivateKey("k-"+string(alg), alg, parsed.(crypto.Signer))
			require.NoError(t, err)
			pub, err := x509.ParsePKIXPublicKey(pubBlock.Bytes)
			require.NoError(t, err)
			pemKey, err := secretdata.NewPublicKey("k-"+string(alg), alg, pub)
			require.NoError(t, err)

			// The three outputs are one key pair: a token signed with the
			// private key verifies with the JWKS key and with the PEM key.
			s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: signKey, Issuer: "bank", Audience: "conn"})
			require.NoError(t, err)
			tok, err := s.Sign(secretdata.Claims{})
			require.NoError(t, err)
			for _, vk := range []secretdata.Key{keys[0], pemKey} {
				v, err := secretdata.NewVerifier(secretdata.VerifierConfig{Keys: []secretdata.Key{vk}, Issuer: "bank", Audience: "conn"})
				require.NoError(t, err)
				_, err = v.Verify(context.Background(), tok)
				require.NoError(t, err)
			}
		})
	}
}

func TestKeysNewFilesAndJSON(t *testing.T) {
	e := newTestEnv()
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub")
	r := e.run(t, "", "keys", "new", "--alg", "ES256", "--out-private", priv, "--out-public", pub, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var kp keyPair
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &kp))
	require.Empty(t, kp.PrivateKey, "written to the file, not printed")
	require.Empty(t, kp.PublicKey)
	require.True(t, strings.HasPrefix(kp.KeyID, "es256-"), kp.KeyID)
	require.Equal(t, "ES256", kp.Algorithm)
	_, _, err := secretdata.ParseJWKS(kp.JWKS)
	require.NoError(t, err)
	require.NotContains(t, r.stdout, "PRIVATE KEY")

	fi, err := os.Stat(priv)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b, err := os.ReadFile(priv)
	require.NoError(t, err)
	block, _ := pem.Decode(b)
	require.Equal(t, "PRIVATE KEY", block.Type)

	r = e.run(t, "", "keys", "new", "--alg", "ES256", "--out-private", priv)
	requireOneLineError(t, r, "already exists; refusing to overwrite it")
	after, _ := os.ReadFile(priv)
	require.Equal(t, b, after)
}

func TestKeysNewErrors(t *testing.T) {
	e := newTestEnv()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no alg", nil, "--alg is required"},
		{"HMAC is not a key pair", []string{"--alg", "HS256"}, `unsupported --alg "HS256"`},
		{"none", []string{"--alg", "none"}, `unsupported --alg "none"`},
		{"weak RSA", []string{"--alg", "RS256", "--rsa-bits", "1024"}, "--rsa-bits must be between 2048 and 8192"},
		{"bad kid", []string{"--alg", "ES256", "--kid", strings.Repeat("k", 300)}, "secretdata: invalid key: id: \"kkkk"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireOneLineError(t, e.run(t, "", append([]string{"keys", "new"}, tc.args...)...), tc.want)
		})
	}
}
