package secretdata

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewHMACKeyRefuses(t *testing.T) {
	der, err := x509.MarshalPKIXPublicKey(&rsaOnce().PublicKey)
	require.NoError(t, err)
	tests := []struct {
		name   string
		id     string
		alg    Algorithm
		secret []byte
	}{
		{"6-byte secret", "k", HS256, []byte("secret")},
		{"31 bytes for hs256", "k", HS256, bytes.Repeat([]byte{7}, 31)},
		{"47 bytes for hs384", "k", HS384, bytes.Repeat([]byte{7}, 47)},
		{"63 bytes for hs512", "k", HS512, bytes.Repeat([]byte{7}, 63)},
		{"asymmetric algorithm", "k", RS256, testSecret},
		{"none", "k", "none", testSecret},
		{"empty id", "", HS256, testSecret},
		{"id with a space", "a b", HS256, testSecret},
		{"pem public key as secret", "k", HS256, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})},
		{"der public key as secret", "k", HS256, der},
		{"pkcs1 public key as secret", "k", HS256, x509.MarshalPKCS1PublicKey(&rsaOnce().PublicKey)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHMACKey(tc.id, tc.alg, tc.secret)
			require.ErrorIs(t, err, ErrKeyConfig)
		})
	}
}

func TestNewHMACKeyAcceptsHashSizedSecrets(t *testing.T) {
	for _, alg := range []Algorithm{HS256, HS384, HS512} {
		k, err := NewHMACKey("k", alg, NewSecret()[:alg.hash().Size()])
		require.NoError(t, err, alg)
		require.Equal(t, alg, k.Algorithm())
	}
	require.Len(t, NewSecret(), 64)
	require.NotEqual(t, NewSecret(), NewSecret())
}

func TestNewHMACKeyCopiesSecret(t *testing.T) {
	secret := bytes.Clone(testSecret)
	k, err := NewHMACKey("k1", HS256, secret)
	require.NoError(t, err)
	secret[0] ^= 0xff // the caller scribbles over its buffer
	v := newVerifier(t, nil, k)
	_, err = v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().json()))
	require.NoError(t, err)
}

// weakSigner wraps a key so NewPrivateKey sees only crypto.Signer.
type weakSigner struct{ crypto.Signer }

func TestAsymmetricKeyRules(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	ec, ed, rs := ecKey(t), edKey(t), rsaOnce()
	tests := []struct {
		name string
		alg  Algorithm
		priv crypto.Signer
		ok   bool
	}{
		{"rsa 2048 rs256", RS256, rs, true},
		{"rsa 2048 ps256", PS256, rs, true},
		{"rsa 1024 refused", RS256, rsa1024, false},
		{"rsa 1024 refused for ps256", PS256, rsa1024, false},
		{"p-256 es256", ES256, ec, true},
		{"p-384 for es256 refused", ES256, p384, false},
		{"ed25519 eddsa", EdDSA, ed, true},
		{"rsa key for es256 refused", ES256, rs, false},
		{"ec key for rs256 refused", RS256, ec, false},
		{"ed25519 key for es256 refused", ES256, ed, false},
		{"hmac algorithm for a private key refused", HS256, rs, false},
		{"wrapped signer ok", ES256, weakSigner{ec}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errPriv := NewPrivateKey("k", tc.alg, tc.priv)
			_, errPub := NewPublicKey("k", tc.alg, tc.priv.Public())
			if tc.ok {
				require.NoError(t, errPriv)
				require.NoError(t, errPub)
			} else {
				require.ErrorIs(t, errPriv, ErrKeyConfig)
				require.ErrorIs(t, errPub, ErrKeyConfig)
			}
		})
	}
	_, err = NewPrivateKey("k", ES256, nil)
	require.ErrorIs(t, err, ErrKeyConfig)
}

func TestKeyValidityWindow(t *testing.T) {
	k := hmacKey(t, "k1")
	_, err := k.WithValidity(t0, t0)
	require.ErrorIs(t, err, ErrKeyConfig)
	_, err = Key{}.WithValidity(t0, time.Time{})
	require.ErrorIs(t, err, ErrKeyConfig)
	w, err := k.WithValidity(t0, t0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, t0, w.NotBefore())
	require.Equal(t, t0.Add(time.Hour), w.RetireAfter())
	require.True(t, k.NotBefore().IsZero(), "WithValidity must not change the original")
}
