package secretdata

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

// rejectCase is one token the verifier must refuse, with the sentinel it
// must be refused with.
type rejectCase struct {
	name  string
	token string
	want  error
}

func runRejects(t *testing.T, v func() *Verifier, cases []rejectCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v().Verify(ctx, tc.token)
			require.Nil(t, c)
			require.ErrorIs(t, err, tc.want)
			// Errors never carry token contents.
			for _, secret := range []string{"customer-42", "C-1001", testJTI, "evil"} {
				require.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestVerifyRejectsAlgorithmAttacks(t *testing.T) {
	claims := baseClaims().json()
	var cases []rejectCase
	for _, none := range []string{"none", "None", "NONE", "nOnE"} {
		h := `{"alg":"` + none + `","kid":"k1","typ":"JWT"}`
		cases = append(cases,
			rejectCase{"alg " + none + " unsigned", b64(h) + "." + b64(claims) + ".", ErrSignature},
			rejectCase{"alg " + none + " with a valid hmac", hs256(testSecret, h, claims), ErrSignature})
	}
	hs512 := func(h, p string) string {
		in := b64(h) + "." + b64(p)
		m := hmac.New(sha512.New, testSecret)
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	cases = append(cases,
		rejectCase{"hs512 against a key bound to hs256", hs512(`{"alg":"HS512","kid":"k1"}`, claims), ErrSignature},
		rejectCase{"alg in lower case", hs256(testSecret, `{"alg":"hs256","kid":"k1"}`, claims), ErrSignature},
		rejectCase{"alg missing", hs256(testSecret, `{"kid":"k1"}`, claims), ErrMalformed},
		rejectCase{"alg not a string", hs256(testSecret, `{"alg":["HS256"],"kid":"k1"}`, claims), ErrMalformed},
	)
	runRejects(t, func() *Verifier { return newVerifier(t, nil, hmacKey(t, "k1")) }, cases)
}

func TestVerifyRejectsHMACWithRSAPublicKey(t *testing.T) {
	priv := rsaOnce()
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	require.NoError(t, err)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pub, err := NewPublicKey("rsa1", RS256, &priv.PublicKey)
	require.NoError(t, err)
	claims := baseClaims().json()
	h := `{"alg":"HS256","kid":"rsa1","typ":"JWT"}`

	// PS256 correctly signed with the very RSA key, but the key is bound to RS256.
	psInput := b64(`{"alg":"PS256","kid":"rsa1"}`) + "." + b64(claims)
	d := sha256.Sum256([]byte(psInput))
	psSig, err := rsa.SignPSS(rand.Reader, priv, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	require.NoError(t, err)

	runRejects(t, func() *Verifier { return newVerifier(t, nil, pub) }, []rejectCase{
		{"hs256 keyed with the public key pem", hs256(pemBytes, h, claims), ErrSignature},
		{"hs256 keyed with the public key der", hs256(der, h, claims), ErrSignature},
		{"ps256 against a key bound to rs256", psInput + "." + base64.RawURLEncoding.EncodeToString(psSig), ErrSignature},
	})
	// And the confusion cannot be set up from the other side either.
	_, err = NewHMACKey("rsa1", HS256, pemBytes)
	require.ErrorIs(t, err, ErrKeyConfig)
	_, err = NewHMACKey("rsa1", HS256, der)
	require.ErrorIs(t, err, ErrKeyConfig)
}

func TestVerifyRejectsHeaders(t *testing.T) {
	claims := baseClaims().json()
	signed := func(h string) string { return hs256(testSecret, h, claims) }
	cases := []rejectCase{
		{"unknown kid", signed(`{"alg":"HS256","kid":"k2"}`), ErrUnknownKey},
		{"kid used as a path", signed(`{"alg":"HS256","kid":"../../../../dev/null"}`), ErrUnknownKey},
		{"kid empty", signed(`{"alg":"HS256","kid":""}`), ErrUnknownKey},
		{"kid not a string", signed(`{"alg":"HS256","kid":1}`), ErrMalformed},
		{"typ not jwt", signed(`{"alg":"HS256","kid":"k1","typ":"at+jwt"}`), ErrMalformed},
		{"duplicate alg", signed(`{"alg":"HS256","alg":"HS256","kid":"k1"}`), ErrMalformed},
		{"duplicate kid", signed(`{"alg":"HS256","kid":"k2","kid":"k1"}`), ErrMalformed},
		{"duplicate via escape", signed(`{"alg":"HS256","\u0061lg":"HS256","kid":"k1"}`), ErrMalformed},
		{"unknown header parameter", signed(`{"alg":"HS256","kid":"k1","foo":"bar"}`), ErrMalformed},
		{"cty in a jws", signed(`{"alg":"HS256","kid":"k1","cty":"JWT"}`), ErrMalformed},
		{"enc in a jws", signed(`{"alg":"HS256","kid":"k1","enc":"A256GCM"}`), ErrMalformed},
		{"header not an object", signed(`["alg","HS256"]`), ErrMalformed},
		{"header trailing data", signed(`{"alg":"HS256","kid":"k1"}{}`), ErrMalformed},
		{"header invalid utf-8", signed("{\"alg\":\"HS256\",\"kid\":\"k1\xff\"}"), ErrMalformed},
	}
	for _, p := range []string{"crit", "jku", "x5u", "jwk", "x5c", "zip", "b64"} {
		val := `"x"`
		if p == "crit" || p == "x5c" {
			val = `["x"]`
		}
		cases = append(cases, rejectCase{p + " header", signed(`{"alg":"HS256","kid":"k1","` + p + `":` + val + `}`), ErrMalformed})
	}
	runRejects(t, func() *Verifier { return newVerifier(t, nil, hmacKey(t, "k1")) }, cases)
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

	runRejects(t, func() *Verifier { return newVerifier(t, nil, hmacKey(t, "k1")) }, []rejectCase{
		{"padded signature", valid + "=", ErrMalformed},
		{"padded header", parts[0] + "==." + parts[1] + "." + parts[2], ErrMalformed},
		{"non-canonical trailing bits", nonCanonical, ErrMalformed},
		{"standard alphabet", stdToken, ErrMalformed},
		{"leading space", " " + valid, ErrMalformed},
		{"trailing newline", valid + "\n", ErrMalformed},
		{"tab inside", parts[0] + ".\t" + parts[1] + "." + parts[2], ErrMalformed},
		{"jws json serialization", jsonSerialization, ErrMalformed},
		{"jws general json serialization", `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`, ErrMalformed},
		{"empty token", "", ErrMalformed},
		{"one segment", parts[0], ErrMalformed},
		{"four segments", valid + ".x", ErrMalformed},
		{"only dots", strings.Repeat(".", 4000), ErrMalformed},
		{"empty segments", "..", ErrMalformed},
		{"tampered payload", parts[0] + "." + b64(baseClaims().with(`"sub":"evil"`).json()) + "." + parts[2], ErrSignature},
		{"empty signature", parts[0] + "." + parts[1] + ".", ErrSignature},
		{"truncated signature", parts[0] + "." + parts[1] + "." + parts[2][:40], ErrSignature},
	})
}

func TestVerifyRefusesOversizedTokenBeforeDecoding(t *testing.T) {
	v := newVerifier(t, nil, hmacKey(t, "k1"))
	big := baseClaims().plus(`"pad":"` + strings.Repeat("a", 64<<10) + `"`).json()
	token := hs256(testSecret, stdHeader, big)
	require.Greater(t, len(token), 64<<10)

	_, err := v.Verify(ctx, token)
	var te *TokenError
	require.ErrorAs(t, err, &te)
	require.ErrorIs(t, err, ErrMalformed)
	require.Equal(t, "token", te.Field)
	require.Equal(t, "too large", te.Reason)

	// A cap raised to fit accepts the very same token: the refusal was the cap.
	v = newVerifier(t, func(c *VerifierConfig) { c.MaxTokenBytes = 128 << 10 }, hmacKey(t, "k1"))
	_, err = v.Verify(ctx, token)
	require.NoError(t, err)
}

func TestVerifyRejectsClaims(t *testing.T) {
	base := baseClaims()
	signed := func(c claimSet) string { return hs256(testSecret, stdHeader, c.json()) }
	at := func(name string, d time.Duration) string { return fmt.Sprintf(`"%s":%d`, name, t0.Add(d).Unix()) }
	// No leeway, so the time cases below sit exactly on their edges.
	noLeeway := func(c *VerifierConfig) { c.Leeway = -1 }
	runRejects(t, func() *Verifier { return newVerifier(t, noLeeway, hmacKey(t, "k1")) }, []rejectCase{
		{"missing exp", signed(base.without("exp")), ErrClaims},
		{"missing iat", signed(base.without("iat")), ErrClaims},
		{"missing jti", signed(base.without("jti")), ErrClaims},
		{"missing iss", signed(base.without("iss")), ErrClaims},
		{"missing aud", signed(base.without("aud")), ErrClaims},
		{"EXP instead of exp", signed(base.without("exp").plus(at("EXP", time.Hour))), ErrClaims},
		{"Exp instead of exp", signed(base.without("exp").plus(at("Exp", time.Hour))), ErrClaims},
		{"EXP does not extend an expired exp", signed(base.with(at("exp", -time.Second)).plus(at("EXP", time.Hour))), ErrExpired},
		{"ISS does not stand in for iss", signed(base.without("iss").plus(`"ISS":"` + testIssuer + `"`)), ErrClaims},
		{"duplicate exp", signed(base.plus(at("exp", time.Hour))), ErrMalformed},
		{"duplicate exp via escape", signed(base.plus(fmt.Sprintf(`"\u0065xp":%d`, t0.Add(time.Hour).Unix()))), ErrMalformed},
		{"duplicate unknown claim", signed(base.plus(`"x":1`).plus(`"x":2`)), ErrMalformed},
		{"duplicate inside secret data", signed(base.with(`"customer_secret_data":{"customer_id":"a","customer_id":"b"}`)), ErrMalformed},
		{"duplicate deep inside secret data", signed(base.with(`"customer_secret_data":{"a":[{"b":1,"b":2}]}`)), ErrMalformed},
		{"exp as a string", signed(base.with(fmt.Sprintf(`"exp":"%d"`, t0.Add(time.Hour).Unix()))), ErrClaims},
		{"exp as a float", signed(base.with(fmt.Sprintf(`"exp":%d.5`, t0.Add(time.Hour).Unix()))), ErrClaims},
		{"exp with exponent", signed(base.with(`"exp":1.8e9`)), ErrClaims},
		{"exp negative", signed(base.with(`"exp":-1`)), ErrClaims},
		{"exp null", signed(base.with(`"exp":null`)), ErrClaims},
		{"aud as a number", signed(base.with(`"aud":123`)), ErrClaims},
		{"aud array with a number", signed(base.with(`"aud":["` + testAudience + `",1]`)), ErrClaims},
		{"iss as an array", signed(base.with(`"iss":["` + testIssuer + `"]`)), ErrClaims},
		{"jti as a number", signed(base.with(`"jti":12345678901234567890`)), ErrClaims},
		{"secret data as a string", signed(base.with(`"customer_secret_data":"{}"`)), ErrClaims},
		{"invalid utf-8 in a claim", signed(base.with("\"sub\":\"customer-\xff\"")), ErrMalformed},
		{"overlong utf-8", signed(base.with("\"sub\":\"\xc0\xaf\"")), ErrMalformed},
		{"utf-8 encoded surrogate", signed(base.with("\"sub\":\"\xed\xa0\x80\"")), ErrMalformed},
		{"lone escaped surrogate", signed(base.with(`"sub":"\ud800"`)), ErrMalformed},
		{"invalid utf-8 in a member name", signed(base.plus("\"\xff\":1")), ErrMalformed},
		{"control character in a string", signed(base.with("\"sub\":\"a\nb\"")), ErrMalformed},
		{"payload not an object", hs256(testSecret, stdHeader, `[1]`), ErrMalformed},
		{"payload trailing garbage", hs256(testSecret, stdHeader, base.json()+"x"), ErrMalformed},
		{"payload too deep", signed(base.with(`"customer_secret_data":{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`)), ErrMalformed},
		{"expired", signed(base.with(at("exp", -time.Second))), ErrExpired},
		{"expiring exactly now", signed(base.with(at("exp", 0))), ErrExpired},
		{"nbf in the future", signed(base.plus(at("nbf", 10*time.Second))), ErrNotYetValid},
		{"iat in the future", signed(base.with(at("iat", 10*time.Second))), ErrNotYetValid},
		{"lifetime above maximum", signed(base.with(at("iat", -time.Minute)).with(at("exp", 15*time.Minute))), ErrClaims},
		{"exp before iat", signed(base.with(at("iat", 0)).with(at("exp", -time.Hour))), ErrExpired},
		{"exp equal to iat", signed(base.with(at("iat", time.Minute)).with(at("exp", time.Minute))), ErrNotYetValid},
		{"wrong iss", signed(base.with(`"iss":"https://evil.example"`)), ErrClaims},
		{"iss differing in case", signed(base.with(`"iss":"https://BANK.example"`)), ErrClaims},
		{"wrong aud", signed(base.with(`"aud":"other-connection"`)), ErrClaims},
		{"aud array without us", signed(base.with(`"aud":["other-connection"]`)), ErrClaims},
		{"empty aud array", signed(base.with(`"aud":[]`)), ErrClaims},
		{"jti too short to hold 128 bits", signed(base.with(`"jti":"1"`)), ErrClaims},
		{"session-bound token outside VerifySession", signed(base.plus(`"sid":"session-1"`)), ErrClaims},
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
		{"exp at the leeway", baseClaims().with(at("exp", -leeway)), ErrExpired},
		{"nbf at the leeway", baseClaims().plus(at("nbf", leeway)), nil},
		{"nbf beyond the leeway", baseClaims().plus(at("nbf", leeway+time.Second)), ErrNotYetValid},
		{"iat at the leeway", baseClaims().with(at("iat", leeway)), nil},
		{"iat beyond the leeway", baseClaims().with(at("iat", leeway+time.Second)), ErrNotYetValid},
		{"exp before iat, both inside the leeway", baseClaims().with(at("iat", 20*time.Second)).with(at("exp", 10*time.Second)), ErrClaims},
		{"lifetime exactly the maximum", baseClaims().with(at("iat", -time.Minute)).with(at("exp", 14*time.Minute)), nil},
		{"lifetime one second above", baseClaims().with(at("iat", -time.Minute)).with(at("exp", 14*time.Minute+time.Second)), ErrClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, func(c *VerifierConfig) { c.Leeway = leeway }, hmacKey(t, "k1"))
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
		{"zero means DefaultLeeway", 0, DefaultLeeway},
		{"negative means none", -1, 0},
		{"a large negative also means none", -time.Hour, 0},
		{"explicit", 10 * time.Second, 10 * time.Second},
		{"MaxLeeway", MaxLeeway, MaxLeeway},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, func(c *VerifierConfig) { c.Leeway = tc.leeway; c.DangerouslyDisableReplayProtection = true }, hmacKey(t, "k1"))
			_, err := v.Verify(ctx, expIn(-tc.want+time.Second))
			require.NoError(t, err, "expired for less than the leeway: accepted")
			_, err = v.Verify(ctx, expIn(-tc.want))
			require.ErrorIs(t, err, ErrExpired, "expired for the whole leeway: refused")
		})
	}
}

// TestVerifyRecordsUntilExpPlusLeeway: the expiry handed to the replay
// cache is exp plus the Verifier's leeway, the last instant it would still
// accept the token. A cache that kept the entry only until exp would let
// the token be replayed for the whole leeway.
func TestVerifyRecordsUntilExpPlusLeeway(t *testing.T) {
	for _, leeway := range []time.Duration{-1, 0, MaxLeeway} {
		t.Run(fmt.Sprint(leeway), func(t *testing.T) {
			rc := &recordingCache{}
			v := newVerifier(t, func(c *VerifierConfig) { c.Leeway = leeway; c.Replay = rc }, hmacKey(t, "k1"))
			c, err := v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().json()))
			require.NoError(t, err)
			want := map[time.Duration]time.Duration{-1: 0, 0: DefaultLeeway, MaxLeeway: MaxLeeway}[leeway]
			require.Equal(t, c.ExpiresAt.Add(want), rc.expires)
		})
	}

	// With the in-memory cache and MaxLeeway, the entry is still there one
	// second before exp + MaxLeeway, when the token is still acceptable.
	now := t0
	clock := func() time.Time { return now }
	mc, err := NewMemoryReplayCache(MemoryReplayCacheConfig{Now: clock})
	require.NoError(t, err)
	v := newVerifier(t, func(c *VerifierConfig) { c.Leeway = MaxLeeway; c.Replay = mc; c.Now = clock }, hmacKey(t, "k1"))
	token := hs256(testSecret, stdHeader, baseClaims().json())
	c, err := v.Verify(ctx, token)
	require.NoError(t, err)
	now = c.ExpiresAt.Add(MaxLeeway - time.Second)
	_, err = v.Verify(ctx, token)
	require.ErrorIs(t, err, ErrReplayed, "replayed within exp + MaxLeeway")
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
		{"other session", tok(`"sid":"session-2"`), "session-1", ErrClaims},
		{"token without sid", tok(), "session-1", ErrClaims},
		{"sid of the wrong type", tok(`"sid":1`), "session-1", ErrClaims},
		{"empty session requested", tok(`"sid":""`), "", ErrClaims},
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
	require.ErrorIs(t, err, ErrReplayed, "same token twice")

	// Same iss and jti, different bytes: members reordered, header changed.
	reordered := baseClaims()
	reordered[0], reordered[1] = reordered[1], reordered[0]
	variant := hs256(testSecret, `{"kid":"k1","alg":"HS256"}`, reordered.json())
	require.NotEqual(t, token, variant)
	_, err = v.Verify(ctx, variant)
	require.ErrorIs(t, err, ErrReplayed, "re-encoded variant")

	// A non-canonical spelling never reaches the cache.
	_, err = v.Verify(ctx, token+"=")
	require.ErrorIs(t, err, ErrMalformed)

	// A different jti is a different token.
	_, err = v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().with(`"jti":"BBBBBBBBBBBBBBBBBBBBBB"`).json()))
	require.NoError(t, err)

	// Turned off only with the loud option: then the same token passes twice.
	off := newVerifier(t, func(c *VerifierConfig) { c.DangerouslyDisableReplayProtection = true }, hmacKey(t, "k1"))
	for range 2 {
		_, err = off.Verify(ctx, token)
		require.NoError(t, err)
	}
}

func TestVerifyInvalidTokenDoesNotConsumeJTI(t *testing.T) {
	v := newVerifier(t, nil, hmacKey(t, "k1"))
	_, err := v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().with(`"aud":"other"`).json()))
	require.ErrorIs(t, err, ErrClaims)
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
		{"backend down", fmt.Errorf("redis: %w", ErrReplayCheckUnavailable), ErrReplayCheckUnavailable},
		{"unclassified error", errors.New("connection reset"), ErrReplayCheckUnavailable},
		{"replayed", fmt.Errorf("redis: %w", ErrReplayed), ErrReplayed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, func(c *VerifierConfig) { c.Replay = failingCache{tc.cacheErr} }, hmacKey(t, "k1"))
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
	k2, err := NewHMACKey("k2", HS256, other)
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
		keys  []Key
		token string
		want  error
	}{
		{"kid selects among two keys", []Key{k2, k1}, hs256(testSecret, stdHeader, claims), nil},
		{"kid selects the second secret", []Key{k1, k2}, hs256(other, `{"alg":"HS256","kid":"k2"}`, claims), nil},
		{"kid names the wrong key", []Key{k1, k2}, hs256(other, stdHeader, claims), ErrSignature},
		{"no kid with exactly one key", []Key{k1}, noKid, nil},
		{"no kid with two keys", []Key{k1, k2}, noKid, ErrUnknownKey},
		{"key past retire-after", []Key{retired}, hs256(testSecret, stdHeader, claims), ErrUnknownKey},
		{"key before not-before", []Key{future}, hs256(testSecret, stdHeader, claims), ErrUnknownKey},
		{"key inside its window", []Key{current}, hs256(testSecret, stdHeader, claims), nil},
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
		mod  func(*VerifierConfig)
	}{
		{"no keys", func(c *VerifierConfig) { c.Keys = nil }},
		{"zero key", func(c *VerifierConfig) { c.Keys = []Key{{}} }},
		{"duplicate key ids", func(c *VerifierConfig) { c.Keys = []Key{k, k} }},
		{"no issuer", func(c *VerifierConfig) { c.Issuer = "" }},
		{"no audience", func(c *VerifierConfig) { c.Audience = "" }},
		{"leeway above MaxLeeway", func(c *VerifierConfig) { c.Leeway = MaxLeeway + time.Nanosecond }},
		{"huge leeway", func(c *VerifierConfig) { c.Leeway = time.Hour }},
		{"tiny max lifetime", func(c *VerifierConfig) { c.MaxLifetime = time.Millisecond }},
		{"negative max lifetime", func(c *VerifierConfig) { c.MaxLifetime = -time.Minute }},
		{"max lifetime above MaxLifetimeLimit", func(c *VerifierConfig) { c.MaxLifetime = MaxLifetimeLimit + time.Second }},
		{"tiny size cap", func(c *VerifierConfig) { c.MaxTokenBytes = 10 }},
		{"huge size cap", func(c *VerifierConfig) { c.MaxTokenBytes = 1 << 30 }},
		{"replay cache and disable together", func(c *VerifierConfig) {
			c.Replay = failingCache{}
			c.DangerouslyDisableReplayProtection = true
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := VerifierConfig{Keys: []Key{k}, Issuer: testIssuer, Audience: testAudience}
			tc.mod(&cfg)
			_, err := NewVerifier(cfg)
			require.ErrorIs(t, err, ErrConfig)
		})
	}
}
