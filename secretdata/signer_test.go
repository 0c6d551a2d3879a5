package secretdata

import (
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
)

func sampleClaims() Claims {
	return Claims{
		Subject: "customer-42",
		SecretData: map[string]any{
			ClaimAuthenticationStatus: "authenticated",
			ClaimCustomerID:           "C-1001",
			"segment":                 "gold",
			"balance_cents":           json.Number("12345678901234567890"),
		},
	}
}

func TestSignVerifyRoundTripEveryAlgorithm(t *testing.T) {
	ec, ed, rs := ecKey(t), edKey(t), rsaOnce()
	tests := []struct {
		alg  Algorithm
		sign func(t *testing.T) Key
	}{
		{HS256, func(t *testing.T) Key {
			k, err := NewHMACKey("k", HS256, NewSecret()[:32])
			require.NoError(t, err)
			return k
		}},
		{HS384, func(t *testing.T) Key {
			k, err := NewHMACKey("k", HS384, NewSecret()[:48])
			require.NoError(t, err)
			return k
		}},
		{HS512, func(t *testing.T) Key {
			k, err := NewHMACKey("k", HS512, NewSecret())
			require.NoError(t, err)
			return k
		}},
		{RS256, func(t *testing.T) Key { k, err := NewPrivateKey("k", RS256, rs); require.NoError(t, err); return k }},
		{PS256, func(t *testing.T) Key { k, err := NewPrivateKey("k", PS256, rs); require.NoError(t, err); return k }},
		{ES256, func(t *testing.T) Key { k, err := NewPrivateKey("k", ES256, ec); require.NoError(t, err); return k }},
		{EdDSA, func(t *testing.T) Key { k, err := NewPrivateKey("k", EdDSA, ed); require.NoError(t, err); return k }},
	}
	for _, tc := range tests {
		t.Run(string(tc.alg), func(t *testing.T) {
			key := tc.sign(t)
			token, err := newSigner(t, key, nil).Sign(sampleClaims())
			require.NoError(t, err)

			var hdr map[string]any
			raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &hdr))
			require.Equal(t, map[string]any{"alg": string(tc.alg), "kid": "k", "typ": "JWT"}, hdr)

			// The verifier gets only the public half.
			c, err := newVerifier(t, nil, key.Public()).Verify(ctx, token)
			require.NoError(t, err)
			require.Equal(t, "customer-42", c.Subject)
			require.Equal(t, t0.Unix(), c.IssuedAt.Unix())
			require.Equal(t, t0.Add(DefaultLifetime).Unix(), c.ExpiresAt.Unix())
			require.GreaterOrEqual(t, len(c.ID), 22)
			id, _ := c.CustomerID()
			require.Equal(t, "C-1001", id)
			require.Equal(t, json.Number("12345678901234567890"), c.SecretData["balance_cents"])

			// Flip one signature bit: refused.
			b := []byte(token)
			i := strings.LastIndexByte(token, '.') + 1
			b[i] ^= 0x01
			if b[i] == '.' || b64Rev[b[i]] == 0xff {
				b[i] = 'A'
			}
			if b[i] == token[i] { // it was 'A' already
				b[i] = 'B'
			}
			_, err = newVerifier(t, nil, key.Public()).Verify(ctx, string(b))
			require.Error(t, err)
		})
	}
}

func TestSignSetsFreshJTI(t *testing.T) {
	s := newSigner(t, hmacKey(t, "k1"), nil)
	v := newVerifier(t, nil, hmacKey(t, "k1"))
	seen := map[string]bool{}
	for range 50 {
		token, err := s.Sign(Claims{})
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
	token, err := newSigner(t, hmacKey(t, "k1"), nil).Sign(Claims{SessionID: "session-1"})
	require.NoError(t, err)
	v := newVerifier(t, nil, hmacKey(t, "k1"))
	_, err = v.Verify(ctx, token)
	require.ErrorIs(t, err, ErrClaims, "session tokens are only for VerifySession")
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
		key    Key
		claims Claims
	}{
		{"other issuer", k, Claims{Issuer: "https://evil.example"}},
		{"other audience", k, Claims{Audience: "other"}},
		{"caller-chosen jti", k, Claims{ID: "AAAAAAAAAAAAAAAAAAAAAA"}},
		{"caller-chosen exp", k, Claims{ExpiresAt: t0.Add(time.Hour)}},
		{"caller-chosen iat", k, Claims{IssuedAt: t0}},
		{"nbf after exp", k, Claims{NotBefore: t0.Add(time.Hour)}},
		{"invalid utf-8 subject", k, Claims{Subject: "\xff"}},
		{"secret data not encodable", k, Claims{SecretData: map[string]any{"f": func() {}}}},
		{"retired key", retired, Claims{}},
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
	pub, err := NewPublicKey("p", ES256, ecKey(t).Public())
	require.NoError(t, err)
	tests := []struct {
		name string
		cfg  SignerConfig
	}{
		{"zero key", SignerConfig{Issuer: testIssuer, Audience: testAudience}},
		{"public key", SignerConfig{Key: pub, Issuer: testIssuer, Audience: testAudience}},
		{"no issuer", SignerConfig{Key: k, Audience: testAudience}},
		{"no audience", SignerConfig{Key: k, Issuer: testIssuer}},
		{"lifetime above default maximum", SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience, Lifetime: 16 * time.Minute}},
		{"lifetime above set maximum", SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience, Lifetime: 2 * time.Minute, MaxLifetime: time.Minute}},
		{"negative lifetime", SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience, Lifetime: -time.Minute}},
		{"max lifetime above MaxLifetimeLimit", SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience, MaxLifetime: MaxLifetimeLimit + time.Second}},
		{"negative max lifetime", SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience, MaxLifetime: -time.Minute}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSigner(tc.cfg)
			require.ErrorIs(t, err, ErrConfig)
		})
	}
}

func TestJWERoundTrip(t *testing.T) {
	k := hmacKey(t, "k1")
	ek, err := NewEncryptionKey("e1", NewSecret()[:32])
	require.NoError(t, err)
	other, err := NewEncryptionKey("e1", NewSecret()[:32])
	require.NoError(t, err)
	token, err := newSigner(t, k, func(c *SignerConfig) { c.Encryption = ek }).Sign(sampleClaims())
	require.NoError(t, err)
	require.Equal(t, 4, strings.Count(token, "."))
	require.NotContains(t, token, b64("C-1001")[:6], "content must not be readable")

	withDec := func(keys ...EncryptionKey) *Verifier {
		return newVerifier(t, func(c *VerifierConfig) { c.DecryptionKeys = keys }, k)
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
		v     *Verifier
		token string
		want  error
	}{
		{"wrong decryption key", withDec(other), token, ErrSignature},
		{"unknown decryption kid", withDec(mustEncKey(t, "e2")), token, ErrUnknownKey},
		{"tampered ciphertext", withDec(ek), flip(3), ErrSignature},
		{"tampered tag", withDec(ek), flip(4), ErrSignature},
		{"tampered iv", withDec(ek), flip(2), ErrSignature},
		{"tampered header", withDec(ek), b64(`{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"e1","zip":"DEF"}`) + "." + strings.Join(parts[1:], "."), ErrMalformed},
		{"header changed but still allowed", withDec(ek), b64(`{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"e1","typ":"JWT"}`) + "." + strings.Join(parts[1:], "."), ErrSignature},
		{"other enc", withDec(ek), b64(`{"alg":"dir","enc":"A128GCM","cty":"JWT","kid":"e1"}`) + "." + strings.Join(parts[1:], "."), ErrMalformed},
		{"encrypted key present", withDec(ek), parts[0] + ".AAAA." + strings.Join(parts[2:], "."), ErrMalformed},
		{"plain jws when jwe is required", withDec(ek), plain, ErrMalformed},
		{"jwe without decryption keys", newVerifier(t, nil, k), token, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.v.Verify(ctx, tc.token)
			require.ErrorIs(t, err, tc.want)
		})
	}
	_, err = NewEncryptionKey("e", make([]byte, 16))
	require.ErrorIs(t, err, ErrKeyConfig)
}

func mustEncKey(t *testing.T, id string) EncryptionKey {
	k, err := NewEncryptionKey(id, NewSecret()[:32])
	require.NoError(t, err)
	return k
}

func TestVerifyECDSASignatureForms(t *testing.T) {
	priv := ecKey(t)
	k, err := NewPrivateKey("ec1", ES256, priv)
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
	_, err = newVerifier(t, nil, k.Public()).Verify(ctx, input+"."+base64.RawURLEncoding.EncodeToString(der))
	require.ErrorIs(t, err, ErrSignature)

	// (r, n-s) is the same signature to ECDSA but a different token string:
	// the replay cache, keyed on iss+jti, still refuses it.
	n := elliptic.P256().Params().N
	s := new(big.Int).SetBytes(raw[32:])
	malleated := append(append([]byte{}, raw[:32]...), new(big.Int).Sub(n, s).FillBytes(make([]byte, 32))...)
	variant := input + "." + base64.RawURLEncoding.EncodeToString(malleated)
	require.NotEqual(t, token, variant)
	v := newVerifier(t, nil, k.Public())
	_, err = v.Verify(ctx, token)
	require.NoError(t, err)
	_, err = v.Verify(ctx, variant)
	require.ErrorIs(t, err, ErrReplayed)
}
