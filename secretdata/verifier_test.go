package secretdata_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
)

var ctx = context.Background()

func TestVerifyAcceptsValidToken(t *testing.T) {
	v := newVerifier(t, nil, hmacKey(t, "k1"))
	c, err := v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().json()))
	require.NoError(t, err)
	require.Equal(t, testIssuer, c.Issuer)
	require.Equal(t, testAudience, c.Audience)
	require.Equal(t, "customer-42", c.Subject)
	require.Equal(t, testJTI, c.ID)
	require.Equal(t, t0.Unix()+240, c.ExpiresAt.Unix())
	require.Equal(t, t0.Unix()-60, c.IssuedAt.Unix())
	status, ok := c.AuthenticationStatus()
	require.True(t, ok)
	require.Equal(t, "authenticated", status)
	id, ok := c.CustomerID()
	require.True(t, ok)
	require.Equal(t, "C-1001", id)
}

func TestVerifyRejectsAlgorithmAttacks(t *testing.T) {
	claims := baseClaims().json()
	var cases []rejectCase
	for _, none := range []string{"none", "None", "NONE", "nOnE"} {
		h := `{"alg":"` + none + `","kid":"k1","typ":"JWT"}`
		cases = append(cases,
			rejectCase{"alg " + none + " unsigned", b64(h) + "." + b64(claims) + ".", secretdata.ErrSignature},
			rejectCase{"alg " + none + " with a valid hmac", hs256(testSecret, h, claims), secretdata.ErrSignature})
	}
	hs512 := func(h, p string) string {
		in := b64(h) + "." + b64(p)
		m := hmac.New(sha512.New, testSecret)
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	cases = append(cases,
		rejectCase{"hs512 against a key bound to hs256", hs512(`{"alg":"HS512","kid":"k1"}`, claims), secretdata.ErrSignature},
		rejectCase{"alg in lower case", hs256(testSecret, `{"alg":"hs256","kid":"k1"}`, claims), secretdata.ErrSignature},
		rejectCase{"alg missing", hs256(testSecret, `{"kid":"k1"}`, claims), secretdata.ErrMalformed},
		rejectCase{"alg not a string", hs256(testSecret, `{"alg":["HS256"],"kid":"k1"}`, claims), secretdata.ErrMalformed},
	)
	runRejects(t, func() *secretdata.Verifier { return newVerifier(t, nil, hmacKey(t, "k1")) }, cases)
}

func TestVerifyRejectsHMACWithRSAPublicKey(t *testing.T) {
	priv := rsaOnce()
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	require.NoError(t, err)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pub, err := secretdata.NewPublicKey("rsa1", secretdata.RS256, &priv.PublicKey)
	require.NoError(t, err)
	claims := baseClaims().json()
	h := `{"alg":"HS256","kid":"rsa1","typ":"JWT"}`

	// PS256 correctly signed with the very RSA key, but the key is bound to RS256.
	psInput := b64(`{"alg":"PS256","kid":"rsa1"}`) + "." + b64(claims)
	d := sha256.Sum256([]byte(psInput))
	psSig, err := rsa.SignPSS(rand.Reader, priv, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	require.NoError(t, err)

	runRejects(t, func() *secretdata.Verifier { return newVerifier(t, nil, pub) }, []rejectCase{
		{"hs256 keyed with the public key pem", hs256(pemBytes, h, claims), secretdata.ErrSignature},
		{"hs256 keyed with the public key der", hs256(der, h, claims), secretdata.ErrSignature},
		{"ps256 against a key bound to rs256", psInput + "." + base64.RawURLEncoding.EncodeToString(psSig), secretdata.ErrSignature},
	})
	// And the confusion cannot be set up from the other side either.
	_, err = secretdata.NewHMACKey("rsa1", secretdata.HS256, pemBytes)
	require.ErrorIs(t, err, secretdata.ErrConfig)
	_, err = secretdata.NewHMACKey("rsa1", secretdata.HS256, der)
	require.ErrorIs(t, err, secretdata.ErrConfig)
}

func TestVerifyRejectsHeaders(t *testing.T) {
	claims := baseClaims().json()
	signed := func(h string) string { return hs256(testSecret, h, claims) }
	cases := []rejectCase{
		{"unknown kid", signed(`{"alg":"HS256","kid":"k2"}`), secretdata.ErrUnknownKey},
		{"kid used as a path", signed(`{"alg":"HS256","kid":"../../../../dev/null"}`), secretdata.ErrUnknownKey},
		{"kid empty", signed(`{"alg":"HS256","kid":""}`), secretdata.ErrUnknownKey},
		{"kid not a string", signed(`{"alg":"HS256","kid":1}`), secretdata.ErrMalformed},
		{"typ not jwt", signed(`{"alg":"HS256","kid":"k1","typ":"at+jwt"}`), secretdata.ErrMalformed},
		{"duplicate alg", signed(`{"alg":"HS256","alg":"HS256","kid":"k1"}`), secretdata.ErrMalformed},
		{"duplicate kid", signed(`{"alg":"HS256","kid":"k2","kid":"k1"}`), secretdata.ErrMalformed},
		{"duplicate via escape", signed(`{"alg":"HS256","\u0061lg":"HS256","kid":"k1"}`), secretdata.ErrMalformed},
		{"unknown header parameter", signed(`{"alg":"HS256","kid":"k1","foo":"bar"}`), secretdata.ErrMalformed},
		{"cty in a jws", signed(`{"alg":"HS256","kid":"k1","cty":"JWT"}`), secretdata.ErrMalformed},
		{"enc in a jws", signed(`{"alg":"HS256","kid":"k1","enc":"A256GCM"}`), secretdata.ErrMalformed},
		{"header not an object", signed(`["alg","HS256"]`), secretdata.ErrMalformed},
		{"header trailing data", signed(`{"alg":"HS256","kid":"k1"}{}`), secretdata.ErrMalformed},
		{"header invalid utf-8", signed("{\"alg\":\"HS256\",\"kid\":\"k1\xff\"}"), secretdata.ErrMalformed},
	}
	for _, p := range []string{"crit", "jku", "x5u", "jwk", "x5c", "zip", "b64"} {
		val := `"x"`
		if p == "crit" || p == "x5c" {
			val = `["x"]`
		}
		cases = append(cases, rejectCase{p + " header", signed(`{"alg":"HS256","kid":"k1","` + p + `":` + val + `}`), secretdata.ErrMalformed})
	}
	runRejects(t, func() *secretdata.Verifier { return newVerifier(t, nil, hmacKey(t, "k1")) }, cases)
}

func TestVerifyRejectsEncodings(t *testing.T) {
	valid := hs256(testSecret, stdHeader, baseClaims().json())
	parts := strings.Split(valid, ".")

	// A payload whose encoding contains '-' or '_' in base64url, so the
	// standard alphabet spells it differently ('+' or '/').
	odd := baseClaims().plus(`"note":"~~~???>>>"`).json()
	stdIn := base64.RawStdEncoding.EncodeToString([]byte(stdHeader)) + "." + base64.RawStdEncoding.EncodeToString([]byte(odd))
	require.True(t, strings.ContainsAny(stdIn, "+/"), "test payload must exercise the standard alphabet")
	m := hmac.New(sha256.New, testSecret)
	m.Write([]byte(stdIn))
	stdToken := stdIn + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))

	// Same decoded bytes, different spelling: the last character of a
	// 32-byte signature carries 2 unused bits.
	sig := parts[2]
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", sig[len(sig)-1])
	nonCanonical := parts[0] + "." + parts[1] + "." + sig[:len(sig)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last|1])

	jsonSerialization := fmt.Sprintf(`{"payload":%q,"protected":%q,"signature":%q}`, parts[1], parts[0], parts[2])

	runRejects(t, func() *secretdata.Verifier { return newVerifier(t, nil, hmacKey(t, "k1")) }, []rejectCase{
		{"padded signature", valid + "=", secretdata.ErrMalformed},
		{"padded header", parts[0] + "==." + parts[1] + "." + parts[2], secretdata.ErrMalformed},
		{"non-canonical trailing bits", nonCanonical, secretdata.ErrMalformed},
		{"standard alphabet", stdToken, secretdata.ErrMalformed},
		{"leading space", " " + valid, secretdata.ErrMalformed},
		{"trailing newline", valid + "\n", secretdata.ErrMalformed},
		{"tab inside", parts[0] + ".\t" + parts[1] + "." + parts[2], secretdata.ErrMalformed},
		{"jws json serialization", jsonSerialization, secretdata.ErrMalformed},
		{"jws general json serialization", `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`, secretdata.ErrMalformed},
		{"empty token", "", secretdata.ErrMalformed},
		{"one segment", parts[0], secretdata.ErrMalformed},
		{"four segments", valid + ".x", secretdata.ErrMalformed},
		{"only dots", strings.Repeat(".", 4000), secretdata.ErrMalformed},
		{"empty segments", "..", secretdata.ErrMalformed},
		{"tampered payload", parts[0] + "." + b64(baseClaims().with(`"sub":"evil"`).json()) + "." + parts[2], secretdata.ErrSignature},
		{"empty signature", parts[0] + "." + parts[1] + ".", secretdata.ErrSignature},
		{"truncated signature", parts[0] + "." + parts[1] + "." + parts[2][:40], secretdata.ErrSignature},
	})
}

func TestVerifyRefusesOversizedTokenBeforeDecoding(t *testing.T) {
	v := newVerifier(t, nil, hmacKey(t, "k1"))
	big := baseClaims().plus(`"pad":"` + strings.Repeat("a", 64<<10) + `"`).json()
	token := hs256(testSecret, stdHeader, big)
	require.Greater(t, len(token), 64<<10)

	_, err := v.Verify(ctx, token)
	var te *secretdata.TokenError
	require.ErrorAs(t, err, &te)
	require.ErrorIs(t, err, secretdata.ErrMalformed)
	require.Equal(t, "token", te.Field)
	require.Equal(t, "too large", te.Reason)

	// A cap raised to fit accepts the very same token: the refusal was the cap.
	v = newVerifier(t, func(c *secretdata.VerifierConfig) { c.MaxTokenBytes = 128 << 10 }, hmacKey(t, "k1"))
	_, err = v.Verify(ctx, token)
	require.NoError(t, err)
}

func TestVerifyRejectsClaims(t *testing.T) {
	base := baseClaims()
	signed := func(c claimSet) string { return hs256(testSecret, stdHeader, c.json()) }
	at := func(name string, d time.Duration) string { return fmt.Sprintf(`"%s":%d`, name, t0.Add(d).Unix()) }
	// No leeway, so the time cases below sit exactly on their edges.
	noLeeway := func(c *secretdata.VerifierConfig) { c.Leeway = -1 }
	runRejects(t, func() *secretdata.Verifier { return newVerifier(t, noLeeway, hmacKey(t, "k1")) }, []rejectCase{
		{"missing exp", signed(base.without("exp")), secretdata.ErrClaims},
		{"missing iat", signed(base.without("iat")), secretdata.ErrClaims},
		{"missing jti", signed(base.without("jti")), secretdata.ErrClaims},
		{"missing iss", signed(base.without("iss")), secretdata.ErrClaims},
		{"missing aud", signed(base.without("aud")), secretdata.ErrClaims},
		{"EXP instead of exp", signed(base.without("exp").plus(at("EXP", time.Hour))), secretdata.ErrClaims},
		{"Exp instead of exp", signed(base.without("exp").plus(at("Exp", time.Hour))), secretdata.ErrClaims},
		{"EXP does not extend an expired exp", signed(base.with(at("exp", -time.Second)).plus(at("EXP", time.Hour))), secretdata.ErrExpired},
		{"ISS does not stand in for iss", signed(base.without("iss").plus(`"ISS":"` + testIssuer + `"`)), secretdata.ErrClaims},
		{"duplicate exp", signed(base.plus(at("exp", time.Hour))), secretdata.ErrMalformed},
		{"duplicate exp via escape", signed(base.plus(fmt.Sprintf(`"\u0065xp":%d`, t0.Add(time.Hour).Unix()))), secretdata.ErrMalformed},
		{"duplicate unknown claim", signed(base.plus(`"x":1`).plus(`"x":2`)), secretdata.ErrMalformed},
		{"duplicate inside secret data", signed(base.with(`"customer_secret_data":{"customer_id":"a","customer_id":"b"}`)), secretdata.ErrMalformed},
		{"duplicate deep inside secret data", signed(base.with(`"customer_secret_data":{"a":[{"b":1,"b":2}]}`)), secretdata.ErrMalformed},
		{"exp as a string", signed(base.with(fmt.Sprintf(`"exp":"%d"`, t0.Add(time.Hour).Unix()))), secretdata.ErrClaims},
		{"exp as a float", signed(base.with(fmt.Sprintf(`"exp":%d.5`, t0.Add(time.Hour).Unix()))), secretdata.ErrClaims},
		{"exp with exponent", signed(base.with(`"exp":1.8e9`)), secretdata.ErrClaims},
		{"exp negative", signed(base.with(`"exp":-1`)), secretdata.ErrClaims},
		{"exp null", signed(base.with(`"exp":null`)), secretdata.ErrClaims},
		{"aud as a number", signed(base.with(`"aud":123`)), secretdata.ErrClaims},
		{"aud array with a number", signed(base.with(`"aud":["` + testAudience + `",1]`)), secretdata.ErrClaims},
		{"iss as an array", signed(base.with(`"iss":["` + testIssuer + `"]`)), secretdata.ErrClaims},
		{"jti as a number", signed(base.with(`"jti":12345678901234567890`)), secretdata.ErrClaims},
		{"secret data as a string", signed(base.with(`"customer_secret_data":"{}"`)), secretdata.ErrClaims},
		{"invalid utf-8 in a claim", signed(base.with("\"sub\":\"customer-\xff\"")), secretdata.ErrMalformed},
		{"overlong utf-8", signed(base.with("\"sub\":\"\xc0\xaf\"")), secretdata.ErrMalformed},
		{"utf-8 encoded surrogate", signed(base.with("\"sub\":\"\xed\xa0\x80\"")), secretdata.ErrMalformed},
		{"lone escaped surrogate", signed(base.with(`"sub":"\ud800"`)), secretdata.ErrMalformed},
		{"invalid utf-8 in a member name", signed(base.plus("\"\xff\":1")), secretdata.ErrMalformed},
		{"control character in a string", signed(base.with("\"sub\":\"a\nb\"")), secretdata.ErrMalformed},
		{"payload not an object", hs256(testSecret, stdHeader, `[1]`), secretdata.ErrMalformed},
		{"payload trailing garbage", hs256(testSecret, stdHeader, base.json()+"x"), secretdata.ErrMalformed},
		{"payload too deep", signed(base.with(`"customer_secret_data":{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`)), secretdata.ErrMalformed},
		{"expired", signed(base.with(at("exp", -time.Second))), secretdata.ErrExpired},
		{"expiring exactly now", signed(base.with(at("exp", 0))), secretdata.ErrExpired},
		{"nbf in the future", signed(base.plus(at("nbf", 10*time.Second))), secretdata.ErrNotYetValid},
		{"iat in the future", signed(base.with(at("iat", 10*time.Second))), secretdata.ErrNotYetValid},
		{"lifetime above maximum", signed(base.with(at("iat", -time.Minute)).with(at("exp", 15*time.Minute))), secretdata.ErrClaims},
		{"exp before iat", signed(base.with(at("iat", 0)).with(at("exp", -time.Hour))), secretdata.ErrExpired},
		{"exp equal to iat", signed(base.with(at("iat", time.Minute)).with(at("exp", time.Minute))), secretdata.ErrNotYetValid},
		{"wrong iss", signed(base.with(`"iss":"https://evil.example"`)), secretdata.ErrClaims},
		{"iss differing in case", signed(base.with(`"iss":"https://BANK.example"`)), secretdata.ErrClaims},
		{"wrong aud", signed(base.with(`"aud":"other-connection"`)), secretdata.ErrClaims},
		{"aud array without us", signed(base.with(`"aud":["other-connection"]`)), secretdata.ErrClaims},
		{"empty aud array", signed(base.with(`"aud":[]`)), secretdata.ErrClaims},
		{"jti too short to hold 128 bits", signed(base.with(`"jti":"1"`)), secretdata.ErrClaims},
		{"session-bound token outside VerifySession", signed(base.plus(`"sid":"session-1"`)), secretdata.ErrClaims},
	})
}

func TestVerifyLeewayBoundaries(t *testing.T) {
	const leeway = 30 * time.Second
	at := func(name string, d time.Duration) string { return fmt.Sprintf(`"%s":%d`, name, t0.Add(d).Unix()) }
	tests := []struct {
		name   string
		claims claimSet
		want   error
	}{
		{"exp inside the leeway", baseClaims().with(at("exp", -leeway+time.Second)), nil},
		{"exp at the leeway", baseClaims().with(at("exp", -leeway)), secretdata.ErrExpired},
		{"nbf at the leeway", baseClaims().plus(at("nbf", leeway)), nil},
		{"nbf beyond the leeway", baseClaims().plus(at("nbf", leeway+time.Second)), secretdata.ErrNotYetValid},
		{"iat at the leeway", baseClaims().with(at("iat", leeway)), nil},
		{"iat beyond the leeway", baseClaims().with(at("iat", leeway+time.Second)), secretdata.ErrNotYetValid},
		{"exp before iat, both inside the leeway", baseClaims().with(at("iat", 20*time.Second)).with(at("exp", 10*time.Second)), secretdata.ErrClaims},
		{"lifetime exactly the maximum", baseClaims().with(at("iat", -time.Minute)).with(at("exp", 14*time.Minute)), nil},
		{"lifetime one second above", baseClaims().with(at("iat", -time.Minute)).with(at("exp", 14*time.Minute+time.Second)), secretdata.ErrClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, func(c *secretdata.VerifierConfig) { c.Leeway = leeway }, hmacKey(t, "k1"))
			_, err := v.Verify(ctx, hs256(testSecret, stdHeader, tc.claims.json()))
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.want)
			}
		})
	}
}

// TestVerifyLeewaySetting pins what VerifierConfig.Leeway means: zero is
// DefaultLeeway, a negative value is none, MaxLeeway is accepted.
func TestVerifyLeewaySetting(t *testing.T) {
	expIn := func(d time.Duration) string { // a one-minute token whose exp is t0+d
		c := baseClaims().with(fmt.Sprintf(`"exp":%d`, t0.Add(d).Unix())).with(fmt.Sprintf(`"iat":%d`, t0.Add(d-time.Minute).Unix()))
		return hs256(testSecret, stdHeader, c.json())
	}
	tests := []struct {
		name   string
		leeway time.Duration
		want   time.Duration // the leeway the Verifier applies
	}{
		{"zero means DefaultLeeway", 0, secretdata.DefaultLeeway},
		{"negative means none", -1, 0},
		{"a large negative also means none", -time.Hour, 0},
		{"explicit", 10 * time.Second, 10 * time.Second},
		{"MaxLeeway", secretdata.MaxLeeway, secretdata.MaxLeeway},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, func(c *secretdata.VerifierConfig) { c.Leeway = tc.leeway; c.DangerouslyDisableReplayProtection = true }, hmacKey(t, "k1"))
			_, err := v.Verify(ctx, expIn(-tc.want+time.Second))
			require.NoError(t, err, "expired for less than the leeway: accepted")
			_, err = v.Verify(ctx, expIn(-tc.want))
			require.ErrorIs(t, err, secretdata.ErrExpired, "expired for the whole leeway: refused")
		})
	}
}

// TestVerifyRecordsUntilExpPlusLeeway: the expiry handed to the replay
// cache is exp plus the Verifier's leeway, the last instant it would still
// accept the token. A cache that kept the entry only until exp would let
// the token be replayed for the whole leeway.
func TestVerifyRecordsUntilExpPlusLeeway(t *testing.T) {
	for _, leeway := range []time.Duration{-1, 0, secretdata.MaxLeeway} {
		t.Run(fmt.Sprint(leeway), func(t *testing.T) {
			rc := &recordingCache{}
			v := newVerifier(t, func(c *secretdata.VerifierConfig) { c.Leeway = leeway; c.Replay = rc }, hmacKey(t, "k1"))
			c, err := v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().json()))
			require.NoError(t, err)
			want := map[time.Duration]time.Duration{-1: 0, 0: secretdata.DefaultLeeway, secretdata.MaxLeeway: secretdata.MaxLeeway}[leeway]
			require.Equal(t, c.ExpiresAt.Add(want), rc.expires)
		})
	}

	// With the in-memory cache and MaxLeeway, the entry is still there one
	// second before exp + MaxLeeway, when the token is still acceptable.
	now := t0
	clock := func() time.Time { return now }
	mc, err := secretdata.NewMemoryReplayCache(secretdata.MemoryReplayCacheConfig{Now: clock})
	require.NoError(t, err)
	v := newVerifier(t, func(c *secretdata.VerifierConfig) { c.Leeway = secretdata.MaxLeeway; c.Replay = mc; c.Now = clock }, hmacKey(t, "k1"))
	token := hs256(testSecret, stdHeader, baseClaims().json())
	c, err := v.Verify(ctx, token)
	require.NoError(t, err)
	now = c.ExpiresAt.Add(secretdata.MaxLeeway - time.Second)
	_, err = v.Verify(ctx, token)
	require.ErrorIs(t, err, secretdata.ErrReplayed, "replayed within exp + MaxLeeway")
}

type recordingCache struct{ expires time.Time }

func (r *recordingCache) Record(_ context.Context, _, _ string, expires time.Time) error {
	r.expires = expires
	return nil
}

func TestVerifyAudienceArray(t *testing.T) {
	v := newVerifier(t, nil, hmacKey(t, "k1"))
	c, err := v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().with(`"aud":["other","`+testAudience+`"]`).json()))
	require.NoError(t, err)
	require.Equal(t, testAudience, c.Audience)
}

func TestVerifySession(t *testing.T) {
	tok := func(extra ...string) string {
		c := baseClaims()
		for _, e := range extra {
			c = c.plus(e)
		}
		return hs256(testSecret, stdHeader, c.json())
	}
	tests := []struct {
		name    string
		token   string
		session string
		want    error
	}{
		{"matching session", tok(`"sid":"session-1"`), "session-1", nil},
		{"other session", tok(`"sid":"session-2"`), "session-1", secretdata.ErrClaims},
		{"token without sid", tok(), "session-1", secretdata.ErrClaims},
		{"sid of the wrong type", tok(`"sid":1`), "session-1", secretdata.ErrClaims},
		{"empty session requested", tok(`"sid":""`), "", secretdata.ErrClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, nil, hmacKey(t, "k1"))
			c, err := v.VerifySession(ctx, tc.token, tc.session)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.session, c.SessionID)
		})
	}
}

func TestVerifyReplay(t *testing.T) {
	v := newVerifier(t, nil, hmacKey(t, "k1"))
	token := hs256(testSecret, stdHeader, baseClaims().json())
	_, err := v.Verify(ctx, token)
	require.NoError(t, err)

	_, err = v.Verify(ctx, token)
	require.ErrorIs(t, err, secretdata.ErrReplayed, "same token twice")

	// Same iss and jti, different bytes: members reordered, header changed.
	reordered := baseClaims()
	reordered[0], reordered[1] = reordered[1], reordered[0]
	variant := hs256(testSecret, `{"kid":"k1","alg":"HS256"}`, reordered.json())
	require.NotEqual(t, token, variant)
	_, err = v.Verify(ctx, variant)
	require.ErrorIs(t, err, secretdata.ErrReplayed, "re-encoded variant")

	// A non-canonical spelling never reaches the cache.
	_, err = v.Verify(ctx, token+"=")
	require.ErrorIs(t, err, secretdata.ErrMalformed)

	// A different jti is a different token.
	_, err = v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().with(`"jti":"BBBBBBBBBBBBBBBBBBBBBB"`).json()))
	require.NoError(t, err)

	// Turned off only with the loud option: then the same token passes twice.
	off := newVerifier(t, func(c *secretdata.VerifierConfig) { c.DangerouslyDisableReplayProtection = true }, hmacKey(t, "k1"))
	for range 2 {
		_, err = off.Verify(ctx, token)
		require.NoError(t, err)
	}
}

func TestVerifyInvalidTokenDoesNotConsumeJTI(t *testing.T) {
	v := newVerifier(t, nil, hmacKey(t, "k1"))
	_, err := v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().with(`"aud":"other"`).json()))
	require.ErrorIs(t, err, secretdata.ErrClaims)
	_, err = v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().json()))
	require.NoError(t, err)
}

// failingCache answers every Record with err.
type failingCache struct{ err error }

func (f failingCache) Record(context.Context, string, string, time.Time) error { return f.err }

func TestVerifyFailsClosedWhenReplayCacheFails(t *testing.T) {
	tests := []struct {
		name     string
		cacheErr error
		want     error
	}{
		{"backend down", fmt.Errorf("redis: %w", secretdata.ErrReplayCheckUnavailable), secretdata.ErrReplayCheckUnavailable},
		{"unclassified error", errors.New("connection reset"), secretdata.ErrReplayCheckUnavailable},
		{"replayed", fmt.Errorf("redis: %w", secretdata.ErrReplayed), secretdata.ErrReplayed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, func(c *secretdata.VerifierConfig) { c.Replay = failingCache{tc.cacheErr} }, hmacKey(t, "k1"))
			c, err := v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().json()))
			require.Nil(t, c)
			require.ErrorIs(t, err, tc.want)
			require.ErrorIs(t, err, tc.cacheErr)
		})
	}
}

func TestVerifyKeySelectionAndRotation(t *testing.T) {
	k1 := hmacKey(t, "k1")
	other := []byte("fedcba9876543210fedcba9876543210-other-secret")
	k2, err := secretdata.NewHMACKey("k2", secretdata.HS256, other)
	require.NoError(t, err)
	retired, err := k1.WithValidity(time.Time{}, t0.Add(-time.Second))
	require.NoError(t, err)
	future, err := k1.WithValidity(t0.Add(time.Minute), time.Time{})
	require.NoError(t, err)
	current, err := k1.WithValidity(t0.Add(-time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)

	claims := baseClaims().json()
	noKid := hs256(testSecret, `{"alg":"HS256","typ":"JWT"}`, claims)
	tests := []struct {
		name  string
		keys  []secretdata.Key
		token string
		want  error
	}{
		{"kid selects among two keys", []secretdata.Key{k2, k1}, hs256(testSecret, stdHeader, claims), nil},
		{"kid selects the second secret", []secretdata.Key{k1, k2}, hs256(other, `{"alg":"HS256","kid":"k2"}`, claims), nil},
		{"kid names the wrong key", []secretdata.Key{k1, k2}, hs256(other, stdHeader, claims), secretdata.ErrSignature},
		{"no kid with exactly one key", []secretdata.Key{k1}, noKid, nil},
		{"no kid with two keys", []secretdata.Key{k1, k2}, noKid, secretdata.ErrUnknownKey},
		{"key past retire-after", []secretdata.Key{retired}, hs256(testSecret, stdHeader, claims), secretdata.ErrUnknownKey},
		{"key before not-before", []secretdata.Key{future}, hs256(testSecret, stdHeader, claims), secretdata.ErrUnknownKey},
		{"key inside its window", []secretdata.Key{current}, hs256(testSecret, stdHeader, claims), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, nil, tc.keys...)
			_, err := v.Verify(ctx, tc.token)
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.want)
			}
		})
	}
}

func TestNewVerifierRejectsConfig(t *testing.T) {
	k := hmacKey(t, "k1")
	tests := []struct {
		name string
		mod  func(*secretdata.VerifierConfig)
	}{
		{"no keys", func(c *secretdata.VerifierConfig) { c.Keys = nil }},
		{"zero key", func(c *secretdata.VerifierConfig) { c.Keys = []secretdata.Key{{}} }},
		{"duplicate key ids", func(c *secretdata.VerifierConfig) { c.Keys = []secretdata.Key{k, k} }},
		{"no issuer", func(c *secretdata.VerifierConfig) { c.Issuer = "" }},
		{"no audience", func(c *secretdata.VerifierConfig) { c.Audience = "" }},
		{"leeway above MaxLeeway", func(c *secretdata.VerifierConfig) { c.Leeway = secretdata.MaxLeeway + time.Nanosecond }},
		{"huge leeway", func(c *secretdata.VerifierConfig) { c.Leeway = time.Hour }},
		{"tiny max lifetime", func(c *secretdata.VerifierConfig) { c.MaxLifetime = time.Millisecond }},
		{"negative max lifetime", func(c *secretdata.VerifierConfig) { c.MaxLifetime = -time.Minute }},
		{"max lifetime above MaxLifetimeLimit", func(c *secretdata.VerifierConfig) { c.MaxLifetime = secretdata.MaxLifetimeLimit + time.Second }},
		{"tiny size cap", func(c *secretdata.VerifierConfig) { c.MaxTokenBytes = 10 }},
		{"huge size cap", func(c *secretdata.VerifierConfig) { c.MaxTokenBytes = 1 << 30 }},
		{"replay cache and disable together", func(c *secretdata.VerifierConfig) {
			c.Replay = failingCache{}
			c.DangerouslyDisableReplayProtection = true
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := secretdata.VerifierConfig{Keys: []secretdata.Key{k}, Issuer: testIssuer, Audience: testAudience}
			tc.mod(&cfg)
			_, err := secretdata.NewVerifier(cfg)
			require.ErrorIs(t, err, secretdata.ErrConfig)
		})
	}
}

// NewVerifier reports every problem of its configuration at once, naming
// each field (and each bad entry of Keys and DecryptionKeys by index),
// without quoting key material.
func TestNewVerifierReportsEveryProblem(t *testing.T) {
	k := hmacKey(t, "k1")
	_, err := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys:                               []secretdata.Key{k, {}, k},
		Leeway:                             time.Hour,
		MaxLifetime:                        time.Millisecond,
		MaxTokenBytes:                      10,
		Replay:                             failingCache{},
		DangerouslyDisableReplayProtection: true,
		DecryptionKeys:                     []secretdata.EncryptionKey{{}},
	})
	ps := testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{
		"Issuer", "Audience", "Leeway", "MaxLifetime", "MaxTokenBytes",
		"Keys[1]", "Keys[2]", "Replay", "DecryptionKeys[0]",
	}, string(testSecret))
	byField := map[string]*cfgerr.Error{}
	for _, p := range ps {
		byField[p.Field] = p
	}
	require.Equal(t, "1h0m0s", byField["Leeway"].Value)
	require.Equal(t, "10", byField["MaxTokenBytes"].Value)
	require.Equal(t, "zero key", byField["Keys[1]"].Reason)
	require.Equal(t, "k1", byField["Keys[2]"].Value, "a key ID is not secret")
	require.Contains(t, byField["Keys[2]"].Reason, "Keys[0]")
	require.Contains(t, err.Error(), "secretdata: invalid verifier configuration: 9 problems")

	_, err = secretdata.NewVerifier(secretdata.VerifierConfig{Issuer: testIssuer, Audience: testAudience})
	testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"Keys"})
}
