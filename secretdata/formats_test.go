package secretdata_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/msgsec/msgsec/internal/testenv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
)

// The token formats real JWT libraries produce (issue 13): fractional
// NumericDates, alg Ed25519, typ application/jwt and explicit types,
// tokens without kid, JWKS keys without alg or kid, customer data sent as
// top-level claims.

// at returns a clock pinned to t0 plus d.
func at(d time.Duration) func() time.Time { return func() time.Time { return t0.Add(d) } }

// dated is a token whose iat, exp and nbf members are given as raw JSON
// numbers (nbf omitted when empty).
func dated(iat, exp, nbf string) string {
	c := baseClaims().with(`"iat":` + iat).with(`"exp":` + exp)
	if nbf != "" {
		c = c.plus(`"nbf":` + nbf)
	}
	return hs256(testSecret, stdHeader, c.json())
}

func TestFractionalNumericDates(t *testing.T) {
	T := t0.Unix()
	// n is T+sec followed by a fraction's text: n(-61, ".5") = T-60.5.
	n := func(sec int64, frac string) string { return fmt.Sprintf("%d%s", T+sec, frac) }
	noLeeway := func(now func() time.Time) *secretdata.Verifier {
		return newVerifier(t, func(c *secretdata.VerifierConfig) { c.Leeway, c.Now = -1, now }, hmacKey(t, "k1"))
	}
	tests := []struct {
		name  string
		token string
		now   time.Duration // the verifier's clock, from t0 (= T)
		want  error         // nil: accepted
	}{
		// exp = T+0.4 is rounded down to T: refused from the second T on,
		// though the exact instant is 0.4s later.
		{"exp T+0.4: valid just before T", dated(n(-61, ".5"), n(0, ".4"), ""), -time.Millisecond, nil},
		{"exp T+0.4: expired at T (rounded down)", dated(n(-61, ".5"), n(0, ".4"), ""), 0, secretdata.ErrExpired},
		{"exp T+0.999999999999: expired at T", dated(n(-60, ""), n(0, ".999999999999"), ""), 0, secretdata.ErrExpired},
		{"exp T.000: as the integer T", dated(n(-60, ""), n(0, ".000"), ""), -time.Millisecond, nil},
		// nbf = T+0.2 is rounded up to T+1: not valid until then.
		{"nbf T+0.2: not yet valid at T+0.5", dated(n(-60, ""), n(240, ""), n(0, ".2")), 500 * time.Millisecond, secretdata.ErrNotYetValid},
		{"nbf T+0.2: valid at T+1 (rounded up)", dated(n(-60, ""), n(240, ""), n(0, ".2")), time.Second, nil},
		{"nbf T+0.000000000001: rounded up too", dated(n(-60, ""), n(240, ""), n(0, ".000000000001")), 0, secretdata.ErrNotYetValid},
		{"nbf T.000: valid at T", dated(n(-60, ""), n(240, ""), n(0, ".000")), 0, nil},
		// iat = T+0.2 is rounded up to T+1: issued in the future until then.
		{"iat T+0.2: in the future at T", dated(n(0, ".2"), n(240, ""), ""), 0, secretdata.ErrNotYetValid},
		{"iat T+0.2: valid at T+1", dated(n(0, ".2"), n(240, ""), ""), time.Second, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := noLeeway(at(tc.now)).Verify(ctx, tc.token)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, 0, c.ExpiresAt.Nanosecond(), "whole seconds, rounded")
		})
	}

	t.Run("claims carry the rounded dates", func(t *testing.T) {
		c, err := noLeeway(at(time.Second)).Verify(ctx, dated(n(0, ".2"), n(240, ".9"), n(0, ".7")))
		require.NoError(t, err)
		require.Equal(t, T+1, c.IssuedAt.Unix(), "iat up")
		require.Equal(t, T+1, c.NotBefore.Unix(), "nbf up")
		require.Equal(t, T+240, c.ExpiresAt.Unix(), "exp down")
	})

	// The lifetime bound uses the exact values: rounding never stretches
	// a token past MaxLifetime, nor refuses one within it.
	lifetime := func(iat, exp string) error {
		v := newVerifier(t, func(c *secretdata.VerifierConfig) { c.MaxLifetime = 5 * time.Minute }, hmacKey(t, "k1"))
		_, err := v.Verify(ctx, dated(iat, exp, ""))
		return err
	}
	require.NoError(t, lifetime(n(-60, ".9"), n(240, ".9")), "exactly 300s")
	require.NoError(t, lifetime(n(-60, ".9"), n(240, ".5")), "299.6s")
	require.ErrorIs(t, lifetime(n(-60, ".9"), n(240, ".900000001")), secretdata.ErrClaims, "300.000000001s")
	require.ErrorIs(t, lifetime(n(-60, ".9"), n(240, ".9000000001")), secretdata.ErrClaims, "beyond the nanosecond, rounded up")
	require.ErrorIs(t, lifetime(n(-60, ""), n(240, ".5")), secretdata.ErrClaims, "300.5s")
}

func TestEd25519AlgorithmNames(t *testing.T) {
	priv := edKey(t)
	claims := baseClaims().json()
	// signEd signs any header with the Ed25519 key, as a library would.
	signEd := func(header string) string {
		in := b64(header) + "." + b64(claims)
		return in + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(in)))
	}
	for _, bound := range []secretdata.Algorithm{secretdata.EdDSA, secretdata.Ed25519} {
		t.Run("key bound to "+string(bound), func(t *testing.T) {
			pub, err := secretdata.NewPublicKey("ed", bound, priv.Public())
			require.NoError(t, err)
			v := func() *secretdata.Verifier { return newVerifier(t, nil, pub) }
			for _, alg := range []string{"EdDSA", "Ed25519"} {
				_, err := v().Verify(ctx, signEd(`{"alg":"`+alg+`","kid":"ed"}`))
				require.NoError(t, err, "alg %s: one signature scheme, two names", alg)
			}
			// Nothing else: no other curve's name, no case games, no none,
			// no HMAC keyed with the public key.
			for _, alg := range []string{"Ed448", "ed25519", "EDDSA", "none", "ES256"} {
				_, err := v().Verify(ctx, signEd(`{"alg":"`+alg+`","kid":"ed"}`))
				require.ErrorIs(t, err, secretdata.ErrSignature, alg)
			}
			pubBytes := []byte(priv.Public().(ed25519.PublicKey))
			_, err = v().Verify(ctx, hs256(pubBytes, `{"alg":"HS256","kid":"ed"}`, claims))
			require.ErrorIs(t, err, secretdata.ErrSignature)
		})
	}

	t.Run("a signer writes the name its key is bound to", func(t *testing.T) {
		for _, bound := range []secretdata.Algorithm{secretdata.EdDSA, secretdata.Ed25519} {
			k, err := secretdata.NewPrivateKey("ed", bound, priv)
			require.NoError(t, err)
			tok, err := newSigner(t, k, nil).Sign(sampleClaims())
			require.NoError(t, err)
			require.Equal(t, string(bound), headerOf(t, tok)["alg"])
			other := secretdata.EdDSA
			if bound == secretdata.EdDSA {
				other = secretdata.Ed25519
			}
			pub, err := secretdata.NewPublicKey("ed", other, priv.Public())
			require.NoError(t, err)
			_, err = newVerifier(t, nil, pub).Verify(ctx, tok)
			require.NoError(t, err, "a key bound to the other name verifies it")
		}
	})

	t.Run("Ed25519 needs an ed25519 key", func(t *testing.T) {
		_, err := secretdata.NewPublicKey("x", secretdata.Ed25519, ecKey(t).Public())
		require.ErrorIs(t, err, secretdata.ErrConfig)
		_, err = secretdata.NewPrivateKey("x", secretdata.Ed25519, rsaOnce())
		require.ErrorIs(t, err, secretdata.ErrConfig)
	})
}

func headerOf(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.SplitN(token, ".", 2)[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(raw, &h))
	return h
}

func TestExplicitType(t *testing.T) {
	claims := baseClaims().json()
	withTyp := func(typ string) string {
		if typ == "-" {
			return hs256(testSecret, `{"alg":"HS256","kid":"k1"}`, claims)
		}
		return hs256(testSecret, `{"alg":"HS256","kid":"k1","typ":"`+typ+`"}`, claims)
	}
	verify := func(required, typ string) error {
		v := newVerifier(t, func(c *secretdata.VerifierConfig) { c.Type = required }, hmacKey(t, "k1"))
		_, err := v.Verify(ctx, withTyp(typ))
		return err
	}
	// No Type: typ optional, JWT in either spelling.
	for _, typ := range []string{"-", "JWT", "jwt", "application/jwt", "APPLICATION/JWT"} {
		require.NoError(t, verify("", typ), typ)
	}
	require.ErrorIs(t, verify("", "secretdata+jwt"), secretdata.ErrMalformed, "an explicit type the verifier was not told about")

	// Type required: exactly that media type, in either spelling.
	for _, typ := range []string{"secretdata+jwt", "SecretData+JWT", "application/secretdata+jwt"} {
		require.NoError(t, verify("secretdata+jwt", typ), typ)
	}
	require.NoError(t, verify("application/secretdata+jwt", "secretdata+jwt"))
	for typ, reason := range map[string]string{
		"-":                   "typ: missing: this verifier requires an explicit type",
		"JWT":                 "typ: not the type this verifier requires",
		"application/jwt":     "typ: not the type this verifier requires",
		"at+jwt":              "typ: not the type this verifier requires",
		"text/secretdata+jwt": "typ: not the type this verifier requires",
	} {
		err := verify("secretdata+jwt", typ)
		require.ErrorIs(t, err, secretdata.ErrMalformed, typ)
		require.ErrorContains(t, err, reason, typ)
	}

	t.Run("the signer sets it", func(t *testing.T) {
		k := hmacKey(t, "k1")
		tok, err := newSigner(t, k, func(c *secretdata.SignerConfig) { c.Type = "secretdata+jwt" }).Sign(sampleClaims())
		require.NoError(t, err)
		require.Equal(t, "secretdata+jwt", headerOf(t, tok)["typ"])
		_, err = newVerifier(t, func(c *secretdata.VerifierConfig) { c.Type = "secretdata+jwt" }, k).Verify(ctx, tok)
		require.NoError(t, err)
		plain, err := newSigner(t, k, nil).Sign(sampleClaims())
		require.NoError(t, err)
		require.Equal(t, "JWT", headerOf(t, plain)["typ"], "the default")
		_, err = newVerifier(t, func(c *secretdata.VerifierConfig) { c.Type = "secretdata+jwt" }, k).Verify(ctx, plain)
		require.ErrorIs(t, err, secretdata.ErrMalformed)
	})

	t.Run("a type must be a media type", func(t *testing.T) {
		for _, bad := range []string{"secret data", `a"b`, "a/b/c", "/jwt", "jwt/", strings.Repeat("a", 128), "é"} {
			_, err := secretdata.NewVerifier(secretdata.VerifierConfig{Keys: []secretdata.Key{hmacKey(t, "k1")}, Issuer: "i", Audience: "a", Type: bad})
			testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"Type"})
			_, err = secretdata.NewSigner(secretdata.SignerConfig{Key: hmacKey(t, "k1"), Issuer: "i", Audience: "a", Type: bad})
			testenv.RequireProblems(t, err, secretdata.ErrConfig, []string{"Type"})
		}
	})
}

func TestTokenWithoutKid(t *testing.T) {
	claims := baseClaims().json()
	noKid := hs256(testSecret, `{"alg":"HS256"}`, claims)

	t.Run("one key: verified against it", func(t *testing.T) {
		_, err := newVerifier(t, nil, hmacKey(t, "k1")).Verify(ctx, noKid)
		require.NoError(t, err)
	})
	t.Run("several keys: refused, and the message is true", func(t *testing.T) {
		k2, err := secretdata.NewHMACKey("k2", secretdata.HS256, []byte(strings.Repeat("x", 32)))
		require.NoError(t, err)
		_, err = newVerifier(t, nil, hmacKey(t, "k1"), k2).Verify(ctx, noKid)
		require.ErrorIs(t, err, secretdata.ErrUnknownKey)
		require.ErrorContains(t, err, "required when several keys are configured")
	})

	ec := ecKey(t)
	ecSign := func(kid string) string {
		k, err := secretdata.NewPrivateKey("any", secretdata.ES256, ec)
		require.NoError(t, err)
		tok, err := newSigner(t, k, nil).Sign(sampleClaims())
		require.NoError(t, err)
		// Re-sign with the header we want (kid or none).
		h := `{"alg":"ES256"}`
		if kid != "" {
			h = `{"alg":"ES256","kid":"` + kid + `"}`
		}
		payload := strings.Split(tok, ".")[1]
		in := b64(h) + "." + payload
		d := sha256.Sum256([]byte(in))
		r, s, err := ecdsaSign(ec, d[:])
		require.NoError(t, err)
		return in + "." + base64.RawURLEncoding.EncodeToString(append(r, s...))
	}
	remote := func(t *testing.T, doc []byte) *secretdata.RemoteKeySet {
		var d atomic.Value
		var hits atomic.Int32
		d.Store(doc)
		srv := jwksServer(t, &d, &hits)
		rks, err := secretdata.NewRemoteKeySet(context.Background(), secretdata.RemoteKeySetConfig{URL: srv.URL, DangerouslyAllowHTTP: true})
		require.NoError(t, err)
		t.Cleanup(rks.Close)
		return rks
	}
	verifier := func(t *testing.T, rks *secretdata.RemoteKeySet, keys ...secretdata.Key) *secretdata.Verifier {
		v, err := secretdata.NewVerifier(secretdata.VerifierConfig{Keys: keys, KeySet: rks, Issuer: testIssuer, Audience: testAudience, Now: fixedNow})
		require.NoError(t, err)
		return v
	}

	t.Run("one-key JWKS, key with kid: a token without kid uses it", func(t *testing.T) {
		v := verifier(t, remote(t, jwks(jwkJSON(t, ec.Public(), map[string]string{"kid": "ec1"}))))
		_, err := v.Verify(ctx, ecSign(""))
		require.NoError(t, err)
		_, err = v.Verify(ctx, ecSign("ec1"))
		require.NoError(t, err)
		_, err = v.Verify(ctx, ecSign("other"))
		require.ErrorIs(t, err, secretdata.ErrUnknownKey)
	})
	t.Run("one-key JWKS, key without kid: only a token without kid uses it", func(t *testing.T) {
		v := verifier(t, remote(t, jwks(jwkJSON(t, ec.Public(), nil))))
		_, err := v.Verify(ctx, ecSign(""))
		require.NoError(t, err)
		_, err = v.Verify(ctx, ecSign("ec1"))
		require.ErrorIs(t, err, secretdata.ErrUnknownKey, "a kid must name a key that has it")
	})
	t.Run("two-key JWKS: a token without kid is refused", func(t *testing.T) {
		v := verifier(t, remote(t, jwks(jwkJSON(t, ec.Public(), map[string]string{"kid": "ec1"}),
			jwkJSON(t, ecKey(t).Public(), map[string]string{"kid": "ec2"}))))
		_, err := v.Verify(ctx, ecSign(""))
		require.ErrorIs(t, err, secretdata.ErrUnknownKey)
		require.ErrorContains(t, err, "required when several keys are configured")
	})
	t.Run("a static key plus a one-key JWKS: two keys, kid required", func(t *testing.T) {
		v := verifier(t, remote(t, jwks(jwkJSON(t, ec.Public(), map[string]string{"kid": "ec1"}))), hmacKey(t, "k1"))
		_, err := v.Verify(ctx, ecSign(""))
		require.ErrorContains(t, err, "required when several keys are configured")
		_, err = v.Verify(ctx, ecSign("ec1"))
		require.NoError(t, err)
	})
	t.Run("a closed key set leaves no key", func(t *testing.T) {
		rks := remote(t, jwks(jwkJSON(t, ec.Public(), map[string]string{"kid": "ec1"})))
		v := verifier(t, rks)
		rks.Close()
		_, err := v.Verify(ctx, ecSign(""))
		require.ErrorIs(t, err, secretdata.ErrUnknownKey)
	})
}

func TestJWKSKeysWithoutAlg(t *testing.T) {
	rs := rsaOnce()
	keys, skipped, err := secretdata.ParseJWKS(jwks(jwkJSON(t, rs.Public(), map[string]string{"kid": "rs"})))
	require.NoError(t, err)
	require.Empty(t, skipped)
	require.Contains(t, keys[0].String(), "alg: RS256|PS256")
	claims := baseClaims().json()
	rsaSign := func(alg string) string {
		in := b64(`{"alg":"`+alg+`","kid":"rs"}`) + "." + b64(claims)
		d := sha256.Sum256([]byte(in))
		var sig []byte
		var err error
		if alg == "PS256" {
			sig, err = rsa.SignPSS(rand.Reader, rs, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, rs, crypto.SHA256, d[:])
		}
		require.NoError(t, err)
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	v := func() *secretdata.Verifier { return newVerifier(t, nil, keys...) }
	_, err = v().Verify(ctx, rsaSign("RS256"))
	require.NoError(t, err)
	_, err = v().Verify(ctx, rsaSign("PS256"))
	require.NoError(t, err)

	// The header picks the padding, never the family: a PKCS#1 v1.5
	// signature labelled PS256 (and the reverse) fails, and nothing but
	// RSA is accepted.
	rs256 := strings.Split(rsaSign("RS256"), ".")
	swapped := b64(`{"alg":"PS256","kid":"rs"}`) + "." + rs256[1] + "." + rs256[2]
	_, err = v().Verify(ctx, swapped)
	require.ErrorIs(t, err, secretdata.ErrSignature)
	for _, alg := range []string{"RS384", "RS512", "PS384", "ES256", "HS256", "none", "rs256"} {
		in := b64(`{"alg":"`+alg+`","kid":"rs"}`) + "." + b64(claims)
		_, err := v().Verify(ctx, in+"."+rs256[2])
		require.ErrorIs(t, err, secretdata.ErrSignature, alg)
		require.ErrorContains(t, err, "not the algorithm bound to the key", alg)
	}
	// A key with its alg set stays bound to it alone.
	bound, _, err := secretdata.ParseJWKS(jwks(jwkJSON(t, rs.Public(), map[string]string{"kid": "rs", "alg": "RS256"})))
	require.NoError(t, err)
	_, err = newVerifier(t, nil, bound...).Verify(ctx, rsaSign("PS256"))
	require.ErrorIs(t, err, secretdata.ErrSignature)
}

func TestJWKSSkippedKeysNamed(t *testing.T) {
	ed := edKey(t)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	doc := jwks(
		jwkJSON(t, ed.Public(), map[string]string{"kid": "ed-new", "alg": "Ed25519"}),
		`{"kty":"OKP","crv":"Ed448","kid":"ed448","x":"`+b64(strings.Repeat("x", 57))+`"}`,
		jwkJSON(t, weak.Public(), map[string]string{"kid": "weak", "alg": "RS256"}),
		`{"kty":"EC","crv":"P-256","kid":"ops","key_ops":["encrypt"],"x":"`+jwkX(t)+`"}`,
		jwkJSON(t, edKey(t).Public(), map[string]string{"kid": "es", "alg": "ES512"}),
	)
	keys, skipped, err := secretdata.ParseJWKS(doc)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, secretdata.Ed25519, keys[0].Algorithm(), "alg Ed25519 is kept")
	var got []string
	for _, p := range skipped {
		got = append(got, p.Field+" "+p.Value)
		require.NotEmpty(t, p.Reason)
	}
	require.Equal(t, []string{"keys[1] ed448", "keys[2] weak", "keys[3] ops", "keys[4] es"}, got)
	require.Contains(t, skipped[1].Reason, "2048")
	require.Contains(t, skipped[2].Reason, "verify")
	require.Contains(t, skipped[3].Reason, "unsupported algorithm")
}

// jwkX is the x (and, reused, y) coordinate text of an ES256 JWK: the
// point need not be valid, the entry is skipped before it matters.
func jwkX(t *testing.T) string {
	var m map[string]string
	require.NoError(t, json.Unmarshal([]byte(jwkJSON(t, ecKey(t).Public(), nil)), &m))
	return m["x"] + `","y":"` + m["y"]
}

func TestRemoteKeySetLogsSkippedKeys(t *testing.T) {
	ec := ecKey(t)
	var doc atomic.Value
	var hits atomic.Int32
	doc.Store(jwks(jwkJSON(t, ec.Public(), map[string]string{"kid": "ec1"}),
		jwkJSON(t, ec.Public(), map[string]string{"kid": "enc", "use": "enc"})))
	srv := jwksServer(t, &doc, &hits)
	var mu sync.Mutex
	var lines []string
	rks, err := secretdata.NewRemoteKeySet(context.Background(), secretdata.RemoteKeySetConfig{
		URL: srv.URL, DangerouslyAllowHTTP: true,
		Logf: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, fmt.Sprintf(format, args...))
		},
	})
	require.NoError(t, err)
	defer rks.Close()
	logged := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), lines...) }
	require.Equal(t, []string{`secretdata: jwks ` + srv.URL + `: skipped keys[1] (kid "enc"): use "enc": not a signature key`}, logged())

	// Every refresh reports again: the key set changed to one without kid
	// among two keys.
	doc.Store(jwks(jwkJSON(t, ec.Public(), map[string]string{"kid": "ec1"}), jwkJSON(t, ecKey(t).Public(), nil)))
	_, err = rks.Refresh(ctx)
	require.NoError(t, err)
	require.Contains(t, logged()[len(logged())-1], `skipped keys[1] (no kid): no kid, and the set has several keys`)

	// A set with no usable key says so, and names why.
	doc.Store(jwks(jwkJSON(t, ec.Public(), map[string]string{"kid": "enc", "use": "enc"})))
	_, err = rks.Refresh(ctx)
	require.ErrorIs(t, err, secretdata.ErrConfig)
	last := logged()
	require.Contains(t, last[len(last)-2], `skipped keys[0] (kid "enc")`)
	require.Contains(t, last[len(last)-1], "no usable signature key")

	// The first fetch's error names each skipped key, not only "no usable key".
	_, err = secretdata.NewRemoteKeySet(context.Background(), secretdata.RemoteKeySetConfig{URL: srv.URL, DangerouslyAllowHTTP: true})
	require.ErrorIs(t, err, secretdata.ErrConfig)
	require.ErrorContains(t, err, `keys[0] (kid "enc"): use "enc": not a signature key`)
	require.ErrorContains(t, err, "no usable signature key")
}

func TestMisplacedSecretData(t *testing.T) {
	topLevel := baseClaims().without("customer_secret_data").
		plus(`"customer_id":"C-1001"`).plus(`"authentication_status":"authenticated"`)
	tok := hs256(testSecret, stdHeader, topLevel.json())

	c, err := newVerifier(t, nil, hmacKey(t, "k1")).Verify(ctx, tok)
	require.NoError(t, err, "verifies, with no secret data")
	require.Nil(t, c.SecretData)
	require.Equal(t, []string{"customer_id", "authentication_status"}, c.MisplacedClaims, "names only")

	refuse := func(c *secretdata.VerifierConfig) { c.RefuseMisplacedSecretData = true }
	_, err = newVerifier(t, refuse, hmacKey(t, "k1")).Verify(ctx, tok)
	require.ErrorIs(t, err, secretdata.ErrClaims)
	require.ErrorContains(t, err, "customer_secret_data: missing, and the token carries other top-level claims")
	require.NotContains(t, err.Error(), "C-1001")

	// With customer_secret_data, or with no other claim, nothing is misplaced.
	for name, claims := range map[string]claimSet{
		"secret data and an extra claim": baseClaims().plus(`"customer_id":"C-1001"`),
		"registered claims only":         baseClaims().without("customer_secret_data"),
	} {
		c, err := newVerifier(t, refuse, hmacKey(t, "k1")).Verify(ctx, hs256(testSecret, stdHeader, claims.json()))
		require.NoError(t, err, name)
		require.Nil(t, c.MisplacedClaims, name)
	}

	// At most 16 names, each clipped.
	many := baseClaims().without("customer_secret_data")
	for i := range 20 {
		many = many.plus(fmt.Sprintf(`"c%02d_%s":1`, i, strings.Repeat("n", 80)))
	}
	c, err = newVerifier(t, nil, hmacKey(t, "k1")).Verify(ctx, hs256(testSecret, stdHeader, many.json()))
	require.NoError(t, err)
	require.Len(t, c.MisplacedClaims, 16)
	require.LessOrEqual(t, len(c.MisplacedClaims[0]), 67)
}

// ecdsaSign returns r and s of an ECDSA P-256 signature over digest,
// each 32 bytes (the JWS form).
func ecdsaSign(k *ecdsa.PrivateKey, digest []byte) ([]byte, []byte, error) {
	r, s, err := ecdsa.Sign(rand.Reader, k, digest)
	if err != nil {
		return nil, nil, err
	}
	return r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32)), nil
}
