package secretdata_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
)

func sampleClaims() secretdata.Claims {
	return secretdata.Claims{
		Subject: "customer-42",
		SecretData: map[string]any{
			secretdata.ClaimAuthenticationStatus: "authenticated",
			secretdata.ClaimCustomerID:           "C-1001",
			"segment":                            "gold",
			"balance_cents":                      json.Number("12345678901234567890"),
		},
	}
}

func TestSignVerifyRoundTripEveryAlgorithm(t *testing.T) {
	ec, ed, rs := ecKey(t), edKey(t), rsaOnce()
	tests := []struct {
		alg  secretdata.Algorithm
		sign func(t *testing.T) secretdata.Key
		pub  crypto.PublicKey // nil for hmac: the verifier needs the secret
	}{
		{secretdata.HS256, func(t *testing.T) secretdata.Key {
			k, err := secretdata.NewHMACKey("k", secretdata.HS256, secretdata.GenerateSecret()[:32])
			require.NoError(t, err)
			return k
		}, nil},
		{secretdata.HS384, func(t *testing.T) secretdata.Key {
			k, err := secretdata.NewHMACKey("k", secretdata.HS384, secretdata.GenerateSecret()[:48])
			require.NoError(t, err)
			return k
		}, nil},
		{secretdata.HS512, func(t *testing.T) secretdata.Key {
			k, err := secretdata.NewHMACKey("k", secretdata.HS512, secretdata.GenerateSecret())
			require.NoError(t, err)
			return k
		}, nil},
		{secretdata.RS256, func(t *testing.T) secretdata.Key {
			k, err := secretdata.NewPrivateKey("k", secretdata.RS256, rs)
			require.NoError(t, err)
			return k
		}, rs.Public()},
		{secretdata.PS256, func(t *testing.T) secretdata.Key {
			k, err := secretdata.NewPrivateKey("k", secretdata.PS256, rs)
			require.NoError(t, err)
			return k
		}, rs.Public()},
		{secretdata.ES256, func(t *testing.T) secretdata.Key {
			k, err := secretdata.NewPrivateKey("k", secretdata.ES256, ec)
			require.NoError(t, err)
			return k
		}, ec.Public()},
		{secretdata.EdDSA, func(t *testing.T) secretdata.Key {
			k, err := secretdata.NewPrivateKey("k", secretdata.EdDSA, ed)
			require.NoError(t, err)
			return k
		}, ed.Public()},
	}
	for _, tc := range tests {
		t.Run(string(tc.alg), func(t *testing.T) {
			key := tc.sign(t)
			verifyKey := key
			if tc.pub != nil {
				var err error
				verifyKey, err = secretdata.NewPublicKey("k", tc.alg, tc.pub)
				require.NoError(t, err)
			}
			token, err := newSigner(t, key, nil).Sign(sampleClaims())
			require.NoError(t, err)

			var hdr map[string]any
			raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &hdr))
			require.Equal(t, map[string]any{"alg": string(tc.alg), "kid": "k", "typ": "JWT"}, hdr)

			// The verifier gets only the public half.
			c, err := newVerifier(t, nil, verifyKey).Verify(ctx, token)
			require.NoError(t, err)
			require.Equal(t, "customer-42", c.Subject)
			require.Equal(t, t0.Unix(), c.IssuedAt.Unix())
			require.Equal(t, t0.Add(secretdata.DefaultLifetime).Unix(), c.ExpiresAt.Unix())
			require.GreaterOrEqual(t, len(c.ID), 22)
			id, _ := c.CustomerID()
			require.Equal(t, "C-1001", id)
			require.Equal(t, json.Number("12345678901234567890"), c.SecretData["balance_cents"])

			// Change the signature's first character: refused.
			b := []byte(token)
			i := strings.LastIndexByte(token, '.') + 1
			b[i] = "AB"[strings.IndexByte("A", b[i])+1]
			_, err = newVerifier(t, nil, verifyKey).Verify(ctx, string(b))
			require.Error(t, err)
		})
	}
}

func TestSignSetsFreshJTI(t *testing.T) {
	s := newSigner(t, hmacKey(t, "k1"), nil)
	v := newVerifier(t, nil, hmacKey(t, "k1"))
	seen := map[string]bool{}
	for range 50 {
		token, err := s.Sign(secretdata.Claims{})
		require.NoError(t, err)
		c, err := v.Verify(ctx, token) // the default replay cache would refuse a reused jti
		require.NoError(t, err)
		require.False(t, seen[c.ID])
		seen[c.ID] = true
		raw, err := base64.RawURLEncoding.DecodeString(c.ID)
		require.NoError(t, err)
		require.Len(t, raw, 16, "128 random bits")
	}
}

func TestSignSessionToken(t *testing.T) {
	token, err := newSigner(t, hmacKey(t, "k1"), nil).Sign(secretdata.Claims{SessionID: "session-1"})
	require.NoError(t, err)
	v := newVerifier(t, nil, hmacKey(t, "k1"))
	_, err = v.Verify(ctx, token)
	require.ErrorIs(t, err, secretdata.ErrClaims, "session tokens are only for VerifySession")
	c, err := v.VerifySession(ctx, token, "session-1")
	require.NoError(t, err)
	require.Equal(t, "session-1", c.SessionID)
}

func TestSignRefuses(t *testing.T) {
	k := hmacKey(t, "k1")
	retired, err := k.WithValidity(time.Time{}, t0.Add(-time.Minute))
	require.NoError(t, err)
	tests := []struct {
		name   string
		key    secretdata.Key
		claims secretdata.Claims
	}{
		{"other issuer", k, secretdata.Claims{Issuer: "https://evil.example"}},
		{"other audience", k, secretdata.Claims{Audience: "other"}},
		{"caller-chosen jti", k, secretdata.Claims{ID: "AAAAAAAAAAAAAAAAAAAAAA"}},
		{"caller-chosen exp", k, secretdata.Claims{ExpiresAt: t0.Add(time.Hour)}},
		{"caller-chosen iat", k, secretdata.Claims{IssuedAt: t0}},
		{"nbf after exp", k, secretdata.Claims{NotBefore: t0.Add(time.Hour)}},
		{"invalid utf-8 subject", k, secretdata.Claims{Subject: "\xff"}},
		{"secret data not encodable", k, secretdata.Claims{SecretData: map[string]any{"f": func() {}}}},
		{"retired key", retired, secretdata.Claims{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newSigner(t, tc.key, nil).Sign(tc.claims)
			require.Error(t, err)
		})
	}
}

func TestNewSignerRefuses(t *testing.T) {
	k := hmacKey(t, "k1")
	pub, err := secretdata.NewPublicKey("p", secretdata.ES256, ecKey(t).Public())
	require.NoError(t, err)
	tests := []struct {
		name string
		cfg  secretdata.SignerConfig
	}{
		{"zero key", secretdata.SignerConfig{Issuer: testIssuer, Audience: testAudience}},
		{"public key", secretdata.SignerConfig{Key: pub, Issuer: testIssuer, Audience: testAudience}},
		{"no issuer", secretdata.SignerConfig{Key: k, Audience: testAudience}},
		{"no audience", secretdata.SignerConfig{Key: k, Issuer: testIssuer}},
		{"lifetime above default maximum", secretdata.SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience, Lifetime: 16 * time.Minute}},
		{"lifetime above set maximum", secretdata.SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience, Lifetime: 2 * time.Minute, MaxLifetime: time.Minute}},
		{"negative lifetime", secretdata.SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience, Lifetime: -time.Minute}},
		{"max lifetime above MaxLifetimeLimit", secretdata.SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience, MaxLifetime: secretdata.MaxLifetimeLimit + time.Second}},
		{"negative max lifetime", secretdata.SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience, MaxLifetime: -time.Minute}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := secretdata.NewSigner(tc.cfg)
			require.ErrorIs(t, err, secretdata.ErrConfig)
		})
	}
}

func TestJWERoundTrip(t *testing.T) {
	k := hmacKey(t, "k1")
	ek, err := secretdata.NewEncryptionKey("e1", secretdata.GenerateSecret()[:32])
	require.NoError(t, err)
	other, err := secretdata.NewEncryptionKey("e1", secretdata.GenerateSecret()[:32])
	require.NoError(t, err)
	token, err := newSigner(t, k, func(c *secretdata.SignerConfig) { c.Encryption = ek }).Sign(sampleClaims())
	require.NoError(t, err)
	require.Equal(t, 4, strings.Count(token, "."))
	require.NotContains(t, token, b64("C-1001")[:6], "content must not be readable")

	withDec := func(keys ...secretdata.EncryptionKey) *secretdata.Verifier {
		return newVerifier(t, func(c *secretdata.VerifierConfig) { c.DecryptionKeys = keys }, k)
	}
	c, err := withDec(ek).Verify(ctx, token)
	require.NoError(t, err)
	id, _ := c.CustomerID()
	require.Equal(t, "C-1001", id)

	parts := strings.Split(token, ".")
	flip := func(i int) string {
		p := append([]string(nil), parts...)
		b := []byte(p[i])
		b[0] = "AB"[map[bool]int{true: 1}[b[0] == 'A']]
		p[i] = string(b)
		return strings.Join(p, ".")
	}
	plain, err := newSigner(t, k, nil).Sign(sampleClaims())
	require.NoError(t, err)
	tests := []struct {
		name  string
		v     *secretdata.Verifier
		token string
		want  error
	}{
		{"wrong decryption key", withDec(other), token, secretdata.ErrSignature},
		{"unknown decryption kid", withDec(mustEncKey(t, "e2")), token, secretdata.ErrUnknownKey},
		{"tampered ciphertext", withDec(ek), flip(3), secretdata.ErrSignature},
		{"tampered tag", withDec(ek), flip(4), secretdata.ErrSignature},
		{"tampered iv", withDec(ek), flip(2), secretdata.ErrSignature},
		{"tampered header", withDec(ek), b64(`{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"e1","zip":"DEF"}`) + "." + strings.Join(parts[1:], "."), secretdata.ErrMalformed},
		{"header changed but still allowed", withDec(ek), b64(`{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"e1","typ":"JWT"}`) + "." + strings.Join(parts[1:], "."), secretdata.ErrSignature},
		{"other enc", withDec(ek), b64(`{"alg":"dir","enc":"A128GCM","cty":"JWT","kid":"e1"}`) + "." + strings.Join(parts[1:], "."), secretdata.ErrMalformed},
		{"encrypted key present", withDec(ek), parts[0] + ".AAAA." + strings.Join(parts[2:], "."), secretdata.ErrMalformed},
		{"plain jws when jwe is required", withDec(ek), plain, secretdata.ErrMalformed},
		{"jwe without decryption keys", newVerifier(t, nil, k), token, secretdata.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.v.Verify(ctx, tc.token)
			require.ErrorIs(t, err, tc.want)
		})
	}
	_, err = secretdata.NewEncryptionKey("e", make([]byte, 16))
	require.ErrorIs(t, err, secretdata.ErrConfig)
}

func mustEncKey(t *testing.T, id string) secretdata.EncryptionKey {
	k, err := secretdata.NewEncryptionKey(id, secretdata.GenerateSecret()[:32])
	require.NoError(t, err)
	return k
}

func TestVerifyECDSASignatureForms(t *testing.T) {
	priv := ecKey(t)
	k, err := secretdata.NewPrivateKey("ec1", secretdata.ES256, priv)
	require.NoError(t, err)
	pub, err := secretdata.NewPublicKey("ec1", secretdata.ES256, priv.Public())
	require.NoError(t, err)
	token, err := newSigner(t, k, nil).Sign(sampleClaims())
	require.NoError(t, err)
	i := strings.LastIndexByte(token, '.')
	input := token[:i]
	raw, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	require.NoError(t, err)

	// DER instead of the fixed 64-byte r||s form.
	d := sha256.Sum256([]byte(input))
	der, err := ecdsa.SignASN1(rand.Reader, priv, d[:])
	require.NoError(t, err)
	_, err = newVerifier(t, nil, pub).Verify(ctx, input+"."+base64.RawURLEncoding.EncodeToString(der))
	require.ErrorIs(t, err, secretdata.ErrSignature)

	// (r, n-s) is the same signature to ECDSA but a different token string:
	// the replay cache, keyed on iss+jti, still refuses it.
	n := elliptic.P256().Params().N
	s := new(big.Int).SetBytes(raw[32:])
	malleated := append(append([]byte{}, raw[:32]...), new(big.Int).Sub(n, s).FillBytes(make([]byte, 32))...)
	variant := input + "." + base64.RawURLEncoding.EncodeToString(malleated)
	require.NotEqual(t, token, variant)
	v := newVerifier(t, nil, pub)
	_, err = v.Verify(ctx, token)
	require.NoError(t, err)
	_, err = v.Verify(ctx, variant)
	require.ErrorIs(t, err, secretdata.ErrReplayed)
}

// NewSigner reports every problem of its configuration at once.
func TestNewSignerReportsEveryProblem(t *testing.T) {
	pub, err := secretdata.NewPublicKey("p", secretdata.ES256, ecKey(t).Public())
	require.NoError(t, err)
	_, err = secretdata.NewSigner(secretdata.SignerConfig{
		Key: pub, Audience: "\xff", Lifetime: -time.Second, MaxLifetime: -time.Minute,
	})
	ps := testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"Key", "Issuer", "Audience", "MaxLifetime", "Lifetime"})
	require.Equal(t, cfgerr.Redacted, ps[0].Value, "a key is never quoted")
	require.Equal(t, "required", ps[1].Reason)
	require.Equal(t, "-1m0s", ps[3].Value)
	require.Equal(t, "-1s", ps[4].Value)
	require.Contains(t, err.Error(), "secretdata: invalid signer configuration: 5 problems")

	// A zero key is missing, not redacted.
	_, err = secretdata.NewSigner(secretdata.SignerConfig{Issuer: testIssuer, Audience: testAudience})
	ps = testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"Key"})
	require.Empty(t, ps[0].Value)
}
