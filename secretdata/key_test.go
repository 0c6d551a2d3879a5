package secretdata_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
)

func TestNewHMACKeyRefuses(t *testing.T) {
	der, err := x509.MarshalPKIXPublicKey(&rsaOnce().PublicKey)
	require.NoError(t, err)
	tests := []struct {
		name   string
		id     string
		alg    secretdata.Algorithm
		secret []byte
	}{
		{"6-byte secret", "k", secretdata.HS256, []byte("secret")},
		{"31 bytes for hs256", "k", secretdata.HS256, bytes.Repeat([]byte{7}, 31)},
		{"47 bytes for hs384", "k", secretdata.HS384, bytes.Repeat([]byte{7}, 47)},
		{"63 bytes for hs512", "k", secretdata.HS512, bytes.Repeat([]byte{7}, 63)},
		{"asymmetric algorithm", "k", secretdata.RS256, testSecret},
		{"none", "k", "none", testSecret},
		{"empty id", "", secretdata.HS256, testSecret},
		{"id with a space", "a b", secretdata.HS256, testSecret},
		{"pem public key as secret", "k", secretdata.HS256, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})},
		{"der public key as secret", "k", secretdata.HS256, der},
		{"pkcs1 public key as secret", "k", secretdata.HS256, x509.MarshalPKCS1PublicKey(&rsaOnce().PublicKey)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := secretdata.NewHMACKey(tc.id, tc.alg, tc.secret)
			require.ErrorIs(t, err, secretdata.ErrConfig)
		})
	}
}

func TestNewHMACKeyAcceptsHashSizedSecrets(t *testing.T) {
	for alg, size := range map[secretdata.Algorithm]int{secretdata.HS256: 32, secretdata.HS384: 48, secretdata.HS512: 64} {
		k, err := secretdata.NewHMACKey("k", alg, secretdata.GenerateSecret()[:size])
		require.NoError(t, err, alg)
		require.Equal(t, alg, k.Algorithm())
	}
	require.Len(t, secretdata.GenerateSecret(), 64)
	require.NotEqual(t, secretdata.GenerateSecret(), secretdata.GenerateSecret())
}

func TestNewHMACKeyCopiesSecret(t *testing.T) {
	secret := bytes.Clone(testSecret)
	k, err := secretdata.NewHMACKey("k1", secretdata.HS256, secret)
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
		alg  secretdata.Algorithm
		priv crypto.Signer
		ok   bool
	}{
		{"rsa 2048 rs256", secretdata.RS256, rs, true},
		{"rsa 2048 ps256", secretdata.PS256, rs, true},
		{"rsa 1024 refused", secretdata.RS256, rsa1024, false},
		{"rsa 1024 refused for ps256", secretdata.PS256, rsa1024, false},
		{"p-256 es256", secretdata.ES256, ec, true},
		{"p-384 for es256 refused", secretdata.ES256, p384, false},
		{"ed25519 eddsa", secretdata.EdDSA, ed, true},
		{"rsa key for es256 refused", secretdata.ES256, rs, false},
		{"ec key for rs256 refused", secretdata.RS256, ec, false},
		{"ed25519 key for es256 refused", secretdata.ES256, ed, false},
		{"hmac algorithm for a private key refused", secretdata.HS256, rs, false},
		{"wrapped signer ok", secretdata.ES256, weakSigner{ec}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errPriv := secretdata.NewPrivateKey("k", tc.alg, tc.priv)
			_, errPub := secretdata.NewPublicKey("k", tc.alg, tc.priv.Public())
			if tc.ok {
				require.NoError(t, errPriv)
				require.NoError(t, errPub)
			} else {
				require.ErrorIs(t, errPriv, secretdata.ErrConfig)
				require.ErrorIs(t, errPub, secretdata.ErrConfig)
			}
		})
	}
	_, err = secretdata.NewPrivateKey("k", secretdata.ES256, nil)
	require.ErrorIs(t, err, secretdata.ErrConfig)
}

func TestKeyValidityWindow(t *testing.T) {
	k := hmacKey(t, "k1")
	_, err := k.WithValidity(t0, t0)
	require.ErrorIs(t, err, secretdata.ErrConfig)
	_, err = secretdata.Key{}.WithValidity(t0, time.Time{})
	require.ErrorIs(t, err, secretdata.ErrConfig)
	w, err := k.WithValidity(t0, t0.Add(time.Hour))
	require.NoError(t, err)
	notBefore, retireAfter := w.Validity()
	require.Equal(t, t0, notBefore)
	require.Equal(t, t0.Add(time.Hour), retireAfter)
	notBefore, retireAfter = k.Validity()
	require.True(t, notBefore.IsZero() && retireAfter.IsZero(), "WithValidity must not change the original")
}

// Every key constructor reports all the problems of its arguments at once,
// each naming its parameter, and never quotes the secret or key material.
func TestKeyConstructorsReportEveryProblem(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	secret := "-----BEGIN S3CR3T" // too short, and shaped like a PEM public key

	t.Run("NewHMACKey", func(t *testing.T) {
		_, err := secretdata.NewHMACKey("a b", secretdata.HS256, []byte(secret))
		ps := testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"id", "secret", "secret"}, "S3CR3T")
		require.Equal(t, "a b", ps[0].Value, "a key ID is not secret")
		require.Equal(t, cfgerr.Redacted, ps[1].Value)
		require.Contains(t, ps[1].Reason, "shorter than the hash size")
		require.Contains(t, ps[2].Reason, "public key")
		require.Contains(t, err.Error(), "secretdata: invalid key: 3 problems")
	})
	t.Run("NewHMACKey with an asymmetric algorithm", func(t *testing.T) {
		_, err := secretdata.NewHMACKey("", secretdata.RS256, testSecret)
		ps := testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"id", "alg"}, string(testSecret))
		require.Equal(t, "RS256", ps[1].Value)
	})
	t.Run("NewPublicKey", func(t *testing.T) {
		_, err := secretdata.NewPublicKey("", secretdata.RS256, &rsa1024.PublicKey)
		ps := testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"id", "pub"})
		require.Equal(t, cfgerr.Redacted, ps[1].Value)
		require.Contains(t, ps[1].Reason, "2048")
	})
	t.Run("NewPublicKey with an hmac algorithm", func(t *testing.T) {
		_, err := secretdata.NewPublicKey("k\x00", secretdata.HS256, ecKey(t).Public())
		testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"id", "alg"})
	})
	t.Run("NewPrivateKey", func(t *testing.T) {
		_, err := secretdata.NewPrivateKey("", "none", nil)
		testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"id", "priv", "alg"})
		_, err = secretdata.NewPrivateKey("k 1", secretdata.ES256, rsa1024)
		testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"id", "priv"}, rsa1024.D.String())
	})
	t.Run("WithValidity", func(t *testing.T) {
		_, err := secretdata.Key{}.WithValidity(t0, t0.Add(-time.Hour))
		ps := testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"key", "retireAfter"})
		require.Equal(t, t0.Add(-time.Hour).UTC().Format(time.RFC3339), ps[1].Value)
	})
	t.Run("NewEncryptionKey", func(t *testing.T) {
		_, err := secretdata.NewEncryptionKey("", []byte("S3CR3T-16-bytes!"))
		ps := testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"id", "secret"}, "S3CR3T")
		require.Equal(t, cfgerr.Redacted, ps[1].Value)
	})
}

// The Ed25519 points of order 1, 2, 4 and 8 (y-coordinates, little
// endian), including the non-canonical encodings y+p, as listed by
// libsodium's blocklist. Under any of them a signature can be forged.
var smallOrderKeys = []string{
	"0000000000000000000000000000000000000000000000000000000000000000", // order 4
	"0100000000000000000000000000000000000000000000000000000000000000", // identity
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2 (p-1)
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p (= 0)
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p+1 (= 1)
}

func TestEd25519SmallOrderKeysRefused(t *testing.T) {
	for _, h := range smallOrderKeys {
		for _, sign := range []bool{false, true} {
			b, _ := hex.DecodeString(h)
			if sign {
				b[31] |= 0x80
			}
			_, err := secretdata.NewPublicKey("ed", secretdata.EdDSA, ed25519.PublicKey(b))
			require.ErrorIs(t, err, secretdata.ErrConfig, "%x", b)
		}
	}
	// The forgery the check prevents: identity key, signature R=identity, S=0.
	id, _ := hex.DecodeString(smallOrderKeys[1])
	sig := make([]byte, 64)
	sig[0] = 1
	if !ed25519.Verify(id, []byte("any message"), sig) {
		t.Log("note: this Go version refuses the identity forgery by itself")
	}
}

func TestEd25519RealKeysAccepted(t *testing.T) {
	for i := 0; i < 200; i++ {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		_, err = secretdata.NewPublicKey("ed", secretdata.EdDSA, pub)
		require.NoError(t, err, "a generated key is refused")
	}
}

func TestHMACSecretThatIsAPublicKeyRefused(t *testing.T) {
	for name, s := range map[string]string{
		"jwk":     `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}`,
		"ssh-rsa": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7vbqajDhA0123456789abcdefghijklmnopqrstuv user@host",
		"ecdsa":   "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT user@host",
	} {
		_, err := secretdata.NewHMACKey("k", secretdata.HS256, []byte(s))
		require.ErrorIs(t, err, secretdata.ErrConfig, name)
		require.ErrorContains(t, err, "public key", name)
	}
}

func TestWeakPublicKeysRefused(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	for _, e := range []int{1, 2, 65536} {
		pub := priv.PublicKey
		pub.E = e
		_, err := secretdata.NewPublicKey("r", secretdata.RS256, &pub)
		require.ErrorIs(t, err, secretdata.ErrConfig, "rsa exponent %d", e)
	}
	_, err = secretdata.NewPublicKey("r", secretdata.RS256, &priv.PublicKey)
	require.NoError(t, err, "a generated rsa key is refused")
	off := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}
	_, err = secretdata.NewPublicKey("e", secretdata.ES256, off)
	require.ErrorIs(t, err, secretdata.ErrConfig, "an off-curve point is accepted")
}
