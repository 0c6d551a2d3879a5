package secretdata_test

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
)

// Adversarial tokens, written from the attacker's side with nothing but
// the standard library, independent of the package's own tests and
// helpers. Each case asserts that the token is refused with the right
// sentinel, and that the error repeats nothing from the token.

var (
	advNow      = time.Unix(1_750_000_000, 0)
	advSecret   = []byte("adversarial-test-secret-0123456789abcdef-xyz")
	advEncBytes = []byte("0123456789abcdef0123456789abcdef")
)

const (
	advIss = "https://bank.example"
	advAud = "retail-bank"
	advJTI = "jti-adversarial-0001"
	advSub = "customer-secret-sub"
	advCID = "C-SECRET-1001"
)

func advB64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// advHS signs header and payload text with HMAC-SHA256 under secret.
func advHS(secret []byte, header, payload string) string {
	in := advB64(header) + "." + advB64(payload)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// advClaims is an ordered list of raw JSON members.
type advClaims []string

func advBase() advClaims {
	return advClaims{
		`"iss":"` + advIss + `"`,
		`"aud":"` + advAud + `"`,
		`"sub":"` + advSub + `"`,
		fmt.Sprintf(`"iat":%d`, advNow.Unix()-30),
		fmt.Sprintf(`"exp":%d`, advNow.Unix()+240),
		`"jti":"` + advJTI + `"`,
		`"customer_secret_data":{"authentication_status":"authenticated","customer_id":"` + advCID + `"}`,
	}
}

func (c advClaims) without(name string) advClaims {
	var out advClaims
	for _, m := range c {
		if !strings.HasPrefix(m, `"`+name+`":`) {
			out = append(out, m)
		}
	}
	return out
}

// set replaces member name with raw (a whole `"name":value` text, which may
// spell the name differently).
func (c advClaims) set(name, raw string) advClaims { return append(c.without(name), raw) }

func (c advClaims) plus(raw string) advClaims { return append(append(advClaims{}, c...), raw) }

func (c advClaims) json() string { return "{" + strings.Join(c, ",") + "}" }

const advHeader = `{"alg":"HS256","kid":"k1","typ":"JWT"}`

func advHMACKey(t testing.TB, id string) secretdata.Key {
	t.Helper()
	k, err := secretdata.NewHMACKey(id, secretdata.HS256, advSecret)
	require.NoError(t, err)
	return k
}

func advVerifier(t testing.TB, mod func(*secretdata.VerifierConfig), keys ...secretdata.Key) *secretdata.Verifier {
	t.Helper()
	cfg := secretdata.VerifierConfig{Keys: keys, Issuer: advIss, Audience: advAud, Now: func() time.Time { return advNow }}
	if mod != nil {
		mod(&cfg)
	}
	v, err := secretdata.NewVerifier(cfg)
	require.NoError(t, err)
	return v
}

// TestAdversarialControl makes sure the tokens below are refused for the
// reason each case names, not because the base token is already bad.
func TestAdversarialControl(t *testing.T) {
	v := advVerifier(t, nil, advHMACKey(t, "k1"))
	c, err := v.Verify(context.Background(), advHS(advSecret, advHeader, advBase().json()))
	require.NoError(t, err, "base token refused")
	id, _ := c.CustomerID()
	require.Equal(t, advCID, id)
	require.Equal(t, advJTI, c.ID)
}

func TestAdversarialAlgorithm(t *testing.T) {
	claims := advBase().json()
	var cases []rejectCase
	for _, none := range []string{"none", "None", "NONE", "nOnE", "none ", "", "HS256 ", "hs256", "Hs256", "HS256\\u0000", "HS 256", "RS256", "ES256", "PS256", "EdDSA", "HS384", "HS512", "dir"} {
		h := `{"alg":"` + none + `","kid":"k1","typ":"JWT"}`
		cases = append(cases,
			rejectCase{"alg " + none + " unsigned", advB64(h) + "." + advB64(claims) + ".", secretdata.ErrSignature},
			rejectCase{"alg " + none + " with a valid HS256 mac", advHS(advSecret, h, claims), secretdata.ErrSignature},
		)
	}
	hs512 := func(h, p string) string {
		in := advB64(h) + "." + advB64(p)
		m := hmac.New(sha512.New, advSecret)
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	cases = append(cases,
		rejectCase{"HS512 mac under the HS256 secret", hs512(`{"alg":"HS512","kid":"k1"}`, claims), secretdata.ErrSignature},
		rejectCase{"HS512 mac labelled HS256", hs512(advHeader, claims), secretdata.ErrSignature},
		rejectCase{"alg missing", advHS(advSecret, `{"kid":"k1","typ":"JWT"}`, claims), secretdata.ErrMalformed},
		rejectCase{"alg null", advHS(advSecret, `{"alg":null,"kid":"k1"}`, claims), secretdata.ErrMalformed},
		rejectCase{"alg number", advHS(advSecret, `{"alg":256,"kid":"k1"}`, claims), secretdata.ErrMalformed},
		rejectCase{"alg array", advHS(advSecret, `{"alg":["HS256"],"kid":"k1"}`, claims), secretdata.ErrMalformed},
		rejectCase{"alg twice, none last", advHS(advSecret, `{"alg":"HS256","alg":"none","kid":"k1"}`, claims), secretdata.ErrMalformed},
		rejectCase{"alg twice, escaped", advHS(advSecret, `{"alg":"HS256","\u0061lg":"none","kid":"k1"}`, claims), secretdata.ErrMalformed},
		rejectCase{"Alg case variant beside alg", advHS(advSecret, `{"alg":"HS256","Alg":"none","kid":"k1"}`, claims), secretdata.ErrMalformed},
		rejectCase{"ALG instead of alg", advHS(advSecret, `{"ALG":"HS256","kid":"k1"}`, claims), secretdata.ErrMalformed},
	)
	runRejects(t, func() *secretdata.Verifier { return advVerifier(t, nil, advHMACKey(t, "k1")) }, cases)
}

// TestAdversarialKeyConfusion signs HS256 with the RSA public key's bytes,
// in every encoding an attacker can fetch, against a verifier that holds
// that public key (RS256) and, in the mixed set, an HMAC key too.
func TestAdversarialKeyConfusion(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pkix, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	require.NoError(t, err)
	pkcs1 := x509.MarshalPKCS1PublicKey(&priv.PublicKey)
	pemPKIX := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	pemPKCS1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1})
	jwk, _ := json.Marshal(map[string]string{
		"kty": "RSA", "kid": "rsa", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(priv.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(priv.E)).Bytes()),
	})
	rsaKey, err := secretdata.NewPublicKey("rsa", secretdata.RS256, &priv.PublicKey)
	require.NoError(t, err)
	claims := advBase().json()
	var cases []rejectCase
	for name, secret := range map[string][]byte{
		"PEM PKIX": pemPKIX, "PEM PKCS1": pemPKCS1, "PEM without newline": []byte(strings.TrimSpace(string(pemPKIX))),
		"DER PKIX": pkix, "DER PKCS1": pkcs1, "JWK JSON": jwk, "modulus": priv.N.Bytes(),
	} {
		for _, kid := range []string{`"kid":"rsa",`, ""} {
			h := `{"alg":"HS256",` + kid + `"typ":"JWT"}`
			cases = append(cases, rejectCase{"HS256 with " + name + " as secret, header " + h, advHS(secret, h, claims), secretdata.ErrSignature})
		}
		h := `{"alg":"HS256","kid":"k1","typ":"JWT"}`
		cases = append(cases, rejectCase{"HS256 with " + name + " against the HMAC kid", advHS(secret, h, claims), secretdata.ErrSignature})
	}
	// A genuine RS256 signature presented under the HMAC key's kid.
	in := advB64(`{"alg":"RS256","kid":"k1","typ":"JWT"}`) + "." + advB64(claims)
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, d[:])
	require.NoError(t, err)
	cases = append(cases, rejectCase{"RS256 signature under the HMAC kid", in + "." + base64.RawURLEncoding.EncodeToString(sig), secretdata.ErrSignature})
	// PS256 signature under the RS256-bound key.
	inPS := advB64(`{"alg":"PS256","kid":"rsa","typ":"JWT"}`) + "." + advB64(claims)
	dPS := sha256.Sum256([]byte(inPS))
	sigPS, err := rsa.SignPSS(rand.Reader, priv, crypto.SHA256, dPS[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	require.NoError(t, err)
	cases = append(cases, rejectCase{"PS256 signature under an RS256 key", inPS + "." + base64.RawURLEncoding.EncodeToString(sigPS), secretdata.ErrSignature})

	t.Run("rsa only", func(t *testing.T) {
		var only []rejectCase
		for _, c := range cases {
			if !strings.Contains(c.name, "HMAC kid") {
				only = append(only, c)
			}
		}
		runRejects(t, func() *secretdata.Verifier { return advVerifier(t, nil, rsaKey) }, only)
	})
	t.Run("mixed set", func(t *testing.T) {
		var mixed []rejectCase
		for _, c := range cases {
			if strings.Contains(c.name, `"kid"`) || strings.Contains(c.name, "kid") {
				mixed = append(mixed, c)
			}
		}
		runRejects(t, func() *secretdata.Verifier { return advVerifier(t, nil, rsaKey, advHMACKey(t, "k1")) }, mixed)
	})
	t.Run("public key bytes refused as an HMAC secret", func(t *testing.T) {
		for name, secret := range map[string][]byte{"PEM PKIX": pemPKIX, "PEM PKCS1": pemPKCS1, "DER PKIX": pkix, "DER PKCS1": pkcs1} {
			_, err := secretdata.NewHMACKey("k", secretdata.HS256, secret)
			require.ErrorIs(t, err, secretdata.ErrConfig, name)
		}
	})
}

func TestAdversarialKeyID(t *testing.T) {
	claims := advBase().json()
	hdr := func(kid string) string { return `{"alg":"HS256","kid":` + kid + `,"typ":"JWT"}` }
	cases := []rejectCase{
		{"unknown kid", advHS(advSecret, hdr(`"k9"`), claims), secretdata.ErrUnknownKey},
		{"kid case variant", advHS(advSecret, hdr(`"K1"`), claims), secretdata.ErrUnknownKey},
		{"kid trailing space", advHS(advSecret, hdr(`"k1 "`), claims), secretdata.ErrUnknownKey},
		{"kid trailing NUL", advHS(advSecret, hdr(`"k1\u0000"`), claims), secretdata.ErrUnknownKey},
		{"kid fullwidth digit", advHS(advSecret, hdr(`"k`+"\uff11"+`"`), claims), secretdata.ErrUnknownKey},
		{"kid path traversal", advHS(advSecret, hdr(`"../../../../dev/null"`), claims), secretdata.ErrUnknownKey},
		{"kid absolute path", advHS(advSecret, hdr(`"/etc/passwd"`), claims), secretdata.ErrUnknownKey},
		{"kid SQL injection", advHS(advSecret, hdr(`"k1' UNION SELECT 'evil"`), claims), secretdata.ErrUnknownKey},
		{"kid command injection", advHS(advSecret, hdr(`"k1|cat /etc/passwd"`), claims), secretdata.ErrUnknownKey},
		{"kid URL", advHS(advSecret, hdr(`"https://evil.example/key"`), claims), secretdata.ErrUnknownKey},
		{"kid empty", advHS(advSecret, hdr(`""`), claims), secretdata.ErrUnknownKey},
		{"kid very long", advHS(advSecret, hdr(`"`+strings.Repeat("k", 5000)+`"`), claims), secretdata.ErrUnknownKey},
		{"kid null", advHS(advSecret, hdr(`null`), claims), secretdata.ErrMalformed},
		{"kid number", advHS(advSecret, hdr(`1`), claims), secretdata.ErrMalformed},
		{"kid object", advHS(advSecret, hdr(`{"kid":"k1"}`), claims), secretdata.ErrMalformed},
		{"kid twice", advHS(advSecret, `{"alg":"HS256","kid":"k1","kid":"k2"}`, claims), secretdata.ErrMalformed},
		{"kid twice, escaped", advHS(advSecret, `{"alg":"HS256","kid":"k1","\u006bid":"k2"}`, claims), secretdata.ErrMalformed},
	}
	two := func() *secretdata.Verifier {
		k2, err := secretdata.NewHMACKey("k2", secretdata.HS256, []byte("another-secret-another-secret-another-secret"))
		require.NoError(t, err)
		return advVerifier(t, nil, advHMACKey(t, "k1"), k2)
	}
	runRejects(t, two, append(cases,
		rejectCase{"no kid with two keys", advHS(advSecret, `{"alg":"HS256","typ":"JWT"}`, claims), secretdata.ErrUnknownKey},
		rejectCase{"kid of the other key", advHS(advSecret, hdr(`"k2"`), claims), secretdata.ErrSignature},
	))
}

func TestAdversarialHeaderParameters(t *testing.T) {
	claims := advBase().json()
	var cases []rejectCase
	for _, p := range []string{
		`"crit":["exp"]`, `"crit":[]`, `"jku":"https://evil.example/jwks.json"`, `"x5u":"https://evil.example/cert.pem"`,
		`"jwk":{"kty":"oct","k":"AAAA"}`, `"x5c":["MIIB"]`, `"x5t":"AAAA"`, `"x5t#S256":"AAAA"`, `"zip":"DEF"`,
		`"b64":false`, `"b64":true`, `"cty":"JWT"`, `"enc":"A256GCM"`, `"epk":{}`, `"iss":"x"`, `"url":"x"`, `"nonce":"x"`,
		`"foo":"bar"`, `"typ":"JWT"`, `"Typ":"JWT"`, `"KID":"k1"`,
	} {
		cases = append(cases, rejectCase{"header " + p, advHS(advSecret, `{"alg":"HS256","kid":"k1","typ":"JWT",`+p+`}`, claims), secretdata.ErrMalformed})
	}
	// application/jwt is JWT (RFC 7515 §4.1.9); its near misses are not.
	for _, typ := range []string{"JWS", "JOSE", "JOSE+JSON", "at+jwt", "JWT ", "", "secevent+jwt",
		"text/jwt", "application/", "application/application/jwt", "applicationjwt", "application/at+jwt", "application/jwt/x", "application//jwt"} {
		cases = append(cases, rejectCase{"typ " + typ, advHS(advSecret, `{"alg":"HS256","kid":"k1","typ":"`+typ+`"}`, claims), secretdata.ErrMalformed})
	}
	cases = append(cases,
		rejectCase{"header is an array", advHS(advSecret, `[{"alg":"HS256","kid":"k1"}]`, claims), secretdata.ErrMalformed},
		rejectCase{"header is a string", advHS(advSecret, `"HS256"`, claims), secretdata.ErrMalformed},
		rejectCase{"header is empty", advHS(advSecret, ``, claims), secretdata.ErrMalformed},
		rejectCase{"header has a BOM", advHS(advSecret, "\ufeff"+advHeader, claims), secretdata.ErrMalformed},
		rejectCase{"header has trailing bytes", advHS(advSecret, advHeader+"x", claims), secretdata.ErrMalformed},
		rejectCase{"header has two objects", advHS(advSecret, advHeader+advHeader, claims), secretdata.ErrMalformed},
		rejectCase{"header has a trailing comma", advHS(advSecret, `{"alg":"HS256","kid":"k1",}`, claims), secretdata.ErrMalformed},
		rejectCase{"header with single quotes", advHS(advSecret, `{'alg':'HS256','kid':'k1'}`, claims), secretdata.ErrMalformed},
		rejectCase{"header with a comment", advHS(advSecret, `{"alg":"HS256",/*x*/"kid":"k1"}`, claims), secretdata.ErrMalformed},
		rejectCase{"header with invalid UTF-8", advHS(advSecret, "{\"alg\":\"HS256\",\"kid\":\"k1\xff\"}", claims), secretdata.ErrMalformed},
		rejectCase{"header deeply nested", advHS(advSecret, `{"alg":"HS256","kid":"k1","x":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`}`, claims), secretdata.ErrMalformed},
	)
	runRejects(t, func() *secretdata.Verifier { return advVerifier(t, nil, advHMACKey(t, "k1")) }, cases)
}

// advSibling changes the last character of a base64url segment to another
// that decodes to the same bytes (only the unused trailing bits differ).
func advSibling(seg string) (string, bool) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var unused int
	switch len(seg) % 4 {
	case 2:
		unused = 4
	case 3:
		unused = 2
	default:
		return "", false
	}
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[last|1<<(unused-1)]), true
}

func TestAdversarialEncoding(t *testing.T) {
	// Headers and payload padded so each segment's length leaves trailing
	// bits, which a lax decoder ignores.
	header := `{"alg":"HS256","kid":"k1"}` // 26 bytes: 35 chars, 2 unused bits
	var claims string
	for pad := 1; pad <= 3; pad++ {
		if c := advBase().plus(`"pad":"` + strings.Repeat("x", pad) + `"`).json(); len(c)%3 == 1 {
			claims = c
		}
	}
	good := advHS(advSecret, header, claims)
	seg := strings.Split(good, ".")
	sib := func(i int) string {
		s, ok := advSibling(seg[i])
		require.True(t, ok, "segment %d has no trailing bits", i)
		parts := append([]string(nil), seg...)
		parts[i] = s
		return strings.Join(parts, ".")
	}
	std := strings.NewReplacer("-", "+", "_", "/")
	stdToken := ""
	for i := 0; i < 200 && stdToken == ""; i++ {
		// Find a signature holding - or _ so the standard alphabet differs.
		c := advBase().set("jti", fmt.Sprintf(`"jti":"jti-adversarial-%04d"`, i)).json()
		tok := advHS(advSecret, header, c)
		if s := tok[strings.LastIndexByte(tok, '.')+1:]; strings.ContainsAny(s, "-_") {
			stdToken = tok[:strings.LastIndexByte(tok, '.')+1] + std.Replace(s)
		}
	}
	flattened, _ := json.Marshal(map[string]string{"protected": seg[0], "payload": seg[1], "signature": seg[2]})
	general, _ := json.Marshal(map[string]any{"payload": seg[1], "signatures": []map[string]string{{"protected": seg[0], "signature": seg[2]}}})
	cases := []rejectCase{
		{"signature sibling character", sib(2), secretdata.ErrMalformed},
		{"payload sibling character", sib(1), secretdata.ErrMalformed},
		{"header sibling character", sib(0), secretdata.ErrMalformed},
		{"standard alphabet signature", stdToken, secretdata.ErrMalformed},
		{"padded signature", good + "=", secretdata.ErrMalformed},
		{"padded header", seg[0] + "=." + seg[1] + "." + seg[2], secretdata.ErrMalformed},
		{"padded payload", seg[0] + "." + seg[1] + "==." + seg[2], secretdata.ErrMalformed},
		{"impossible length", good + "AA", secretdata.ErrMalformed},
		{"longer signature", good + "A", secretdata.ErrSignature},
		{"leading space", " " + good, secretdata.ErrMalformed},
		{"trailing newline", good + "\n", secretdata.ErrMalformed},
		{"trailing CRLF", good + "\r\n", secretdata.ErrMalformed},
		{"newline inside payload", seg[0] + "." + seg[1][:10] + "\n" + seg[1][10:] + "." + seg[2], secretdata.ErrMalformed},
		{"space after dot", seg[0] + ". " + seg[1] + "." + seg[2], secretdata.ErrMalformed},
		{"Bearer prefix", "Bearer " + good, secretdata.ErrMalformed},
		{"quoted token", `"` + good + `"`, secretdata.ErrMalformed},
		{"BOM before token", "\ufeff" + good, secretdata.ErrMalformed},
		{"NUL after token", good + "\x00", secretdata.ErrMalformed},
		{"percent-encoded dot", strings.Replace(good, ".", "%2E", 1), secretdata.ErrMalformed},
		{"JWS JSON flattened", string(flattened), secretdata.ErrMalformed},
		{"JWS JSON general", string(general), secretdata.ErrMalformed},
		{"empty", "", secretdata.ErrMalformed},
		{"two dots", "..", secretdata.ErrMalformed},
		{"one segment", seg[0], secretdata.ErrMalformed},
		{"two segments", seg[0] + "." + seg[1], secretdata.ErrMalformed},
		{"trailing dot", good + ".", secretdata.ErrMalformed},
		{"four segments", good + "." + seg[2], secretdata.ErrMalformed},
		{"JWE-shaped five segments", seg[0] + "..AAAAAAAAAAAAAAAA." + seg[1] + "." + seg[2], secretdata.ErrMalformed},
		{"many dots", strings.Repeat(".", 4000), secretdata.ErrMalformed},
		{"many segments", strings.Repeat(good+".", 40), secretdata.ErrMalformed},
		{"empty signature", seg[0] + "." + seg[1] + ".", secretdata.ErrSignature},
		{"empty payload", seg[0] + ".." + seg[2], secretdata.ErrSignature},
		{"truncated signature", seg[0] + "." + seg[1] + "." + seg[2][:40], secretdata.ErrSignature},
		{"signature doubled", good + seg[2], secretdata.ErrMalformed},
	}
	require.NotEmpty(t, stdToken, "no signature with - or _ found")
	runRejects(t, func() *secretdata.Verifier { return advVerifier(t, nil, advHMACKey(t, "k1")) }, cases)
	// The control: the unaltered token verifies.
	_, err := advVerifier(t, nil, advHMACKey(t, "k1")).Verify(context.Background(), good)
	require.NoError(t, err, "control token refused")
}

func TestAdversarialClaimsJSON(t *testing.T) {
	b := advBase()
	exp := fmt.Sprintf("%d", advNow.Unix()+240)
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	tok := func(payload string) string { return advHS(advSecret, advHeader, payload) }
	cases := []rejectCase{
		// Duplicates, at the top and inside the secret data, plain and escaped.
		{"exp twice", tok(b.plus(`"exp":` + exp).json()), secretdata.ErrMalformed},
		{"exp twice, escaped", tok(b.plus(`"\u0065xp":` + exp).json()), secretdata.ErrMalformed},
		{"exp twice, escaped solidus-free", tok(b.plus(`"e\u0078p":9999999999`).json()), secretdata.ErrMalformed},
		{"iss twice", tok(b.plus(`"iss":"https://evil.example"`).json()), secretdata.ErrMalformed},
		{"aud twice", tok(b.plus(`"aud":"other"`).json()), secretdata.ErrMalformed},
		{"jti twice", tok(b.plus(`"jti":"jti-adversarial-0002"`).json()), secretdata.ErrMalformed},
		{"secret data twice", tok(b.plus(`"customer_secret_data":{}`).json()), secretdata.ErrMalformed},
		{"unknown claim twice", tok(b.plus(`"x":1`).plus(`"x":2`).json()), secretdata.ErrMalformed},
		{"unknown claim twice, escaped", tok(b.plus(`"x":1`).plus(`"\u0078":2`).json()), secretdata.ErrMalformed},
		{"secret member twice", tok(b.set("customer_secret_data", `"customer_secret_data":{"customer_id":"a","customer_id":"evil"}`).json()), secretdata.ErrMalformed},
		{"secret member twice, escaped", tok(b.set("customer_secret_data", `"customer_secret_data":{"customer_id":"a","customer\u005fid":"evil"}`).json()), secretdata.ErrMalformed},
		{"nested member twice", tok(b.set("customer_secret_data", `"customer_secret_data":{"x":[{"a":1,"a":2}]}`).json()), secretdata.ErrMalformed},

		// Case variants and look-alikes of required claims do not count.
		{"EXP instead of exp", tok(b.set("exp", `"EXP":`+exp).json()), secretdata.ErrClaims},
		{"Exp instead of exp", tok(b.set("exp", `"Exp":`+exp).json()), secretdata.ErrClaims},
		{"exp with trailing space", tok(b.set("exp", `"exp ":`+exp).json()), secretdata.ErrClaims},
		{"exp with NUL", tok(b.set("exp", `"exp\u0000":`+exp).json()), secretdata.ErrClaims},
		{"ISS instead of iss", tok(b.set("iss", `"ISS":"`+advIss+`"`).json()), secretdata.ErrClaims},
		{"Aud instead of aud", tok(b.set("aud", `"Aud":"`+advAud+`"`).json()), secretdata.ErrClaims},
		{"JTI instead of jti", tok(b.set("jti", `"JTI":"`+advJTI+`"`).json()), secretdata.ErrClaims},

		// Encoding attacks on the JSON text.
		{"invalid UTF-8 in a value", tok(b.plus("\"x\":\"\xff\"").json()), secretdata.ErrMalformed},
		{"invalid UTF-8 in a name", tok(b.plus("\"\xfe\":1").json()), secretdata.ErrMalformed},
		{"overlong slash", tok(b.plus("\"x\":\"\xc0\xaf\"").json()), secretdata.ErrMalformed},
		{"overlong NUL", tok(b.plus("\"x\":\"\xc0\x80\"").json()), secretdata.ErrMalformed},
		{"UTF-8 encoded surrogate", tok(b.plus("\"x\":\"\xed\xa0\x80\"").json()), secretdata.ErrMalformed},
		{"truncated UTF-8", tok(b.plus("\"x\":\"\xe2\x82\"").json()), secretdata.ErrMalformed},
		{"lone high surrogate escape", tok(b.plus(`"x":"\ud800"`).json()), secretdata.ErrMalformed},
		{"lone low surrogate escape", tok(b.plus(`"x":"\udc00"`).json()), secretdata.ErrMalformed},
		{"reversed surrogates", tok(b.plus(`"x":"\udc00\ud800"`).json()), secretdata.ErrMalformed},
		{"high surrogate then letter", tok(b.plus(`"x":"\ud800\u0041"`).json()), secretdata.ErrMalformed},
		{"bad escape", tok(b.plus(`"x":"\x41"`).json()), secretdata.ErrMalformed},
		{"short unicode escape", tok(b.plus(`"x":"\u41"`).json()), secretdata.ErrMalformed},
		{"raw control byte in a string", tok(b.plus("\"x\":\"a\x01\"").json()), secretdata.ErrMalformed},
		{"raw newline in a string", tok(b.plus("\"x\":\"a\nb\"").json()), secretdata.ErrMalformed},
		{"BOM before claims", tok("\ufeff" + b.json()), secretdata.ErrMalformed},
		{"trailing garbage", tok(b.json() + "x"), secretdata.ErrMalformed},
		{"two claim objects", tok(b.json() + b.json()), secretdata.ErrMalformed},
		{"NUL after claims", tok(b.json() + "\x00"), secretdata.ErrMalformed},
		{"claims is an array", tok("[" + b.json() + "]"), secretdata.ErrMalformed},
		{"claims is null", tok("null"), secretdata.ErrMalformed},
		{"trailing comma", tok(strings.TrimSuffix(b.json(), "}") + ",}"), secretdata.ErrMalformed},
		{"single quotes", tok(b.plus(`'x':'y'`).json()), secretdata.ErrMalformed},
		{"comment", tok(b.plus(`"x":/**/1`).json()), secretdata.ErrMalformed},
		{"NaN", tok(b.plus(`"x":NaN`).json()), secretdata.ErrMalformed},
		{"Infinity", tok(b.plus(`"x":Infinity`).json()), secretdata.ErrMalformed},
		{"hex number", tok(b.plus(`"x":0x10`).json()), secretdata.ErrMalformed},
		{"leading plus", tok(b.plus(`"x":+1`).json()), secretdata.ErrMalformed},
		{"leading zero", tok(b.plus(`"x":01`).json()), secretdata.ErrMalformed},
		{"bare dot number", tok(b.plus(`"x":.5`).json()), secretdata.ErrMalformed},
		{"unterminated string", tok(strings.TrimSuffix(b.json(), "}") + `,"x":"abc}`), secretdata.ErrMalformed},
		{"unterminated object", tok(strings.TrimSuffix(b.json(), "}")), secretdata.ErrMalformed},
		{"True literal", tok(b.plus(`"x":True`).json()), secretdata.ErrMalformed},
		{"deep arrays in an unknown claim", tok(b.plus(`"x":` + deep(100000)).json()), secretdata.ErrMalformed},
		{"deep objects in an unknown claim", tok(b.plus(`"x":` + deepObj(1000)).json()), secretdata.ErrMalformed},
		{"deep arrays in secret data", tok(b.set("customer_secret_data", `"customer_secret_data":{"x":`+deep(100000)+`}`).json()), secretdata.ErrMalformed},
		{"deep objects in secret data", tok(b.set("customer_secret_data", `"customer_secret_data":`+deepObj(1000)).json()), secretdata.ErrMalformed},
	}
	runRejects(t, func() *secretdata.Verifier {
		return advVerifier(t, func(c *secretdata.VerifierConfig) { c.MaxTokenBytes = 1 << 20 }, advHMACKey(t, "k1"))
	}, cases)
}

func TestAdversarialClaimTypesAndTimes(t *testing.T) {
	b := advBase()
	now := advNow.Unix()
	tok := func(c advClaims) string { return advHS(advSecret, advHeader, c.json()) }
	cases := []rejectCase{
		{"exp as string", tok(b.set("exp", fmt.Sprintf(`"exp":"%d"`, now+240))), secretdata.ErrClaims},
		// Fractions are accepted, rounded (TestFractionalNumericDates);
		// exponents, signs and sizes beyond 15 integer digits are not.
		{"exp fraction with exponent", tok(b.set("exp", fmt.Sprintf(`"exp":%d.5e0`, now+240))), secretdata.ErrClaims},
		{"exp huge with fraction", tok(b.set("exp", `"exp":9999999999999999.5`)), secretdata.ErrClaims},
		{"exp negative fraction", tok(b.set("exp", `"exp":-0.5`)), secretdata.ErrClaims},
		{"exp bare fraction", tok(b.set("exp", `"exp":.5`)), secretdata.ErrClaims},
		{"iat huge with fraction", tok(b.set("iat", `"iat":1000000000000000.25`)), secretdata.ErrClaims},
		{"exp with exponent", tok(b.set("exp", `"exp":1.75000024e9`)), secretdata.ErrClaims},
		{"exp with integer exponent", tok(b.set("exp", `"exp":175000024e1`)), secretdata.ErrClaims},
		{"exp negative", tok(b.set("exp", `"exp":-1`)), secretdata.ErrClaims},
		{"exp negative zero", tok(b.set("exp", `"exp":-0`)), secretdata.ErrClaims},
		{"exp zero", tok(b.set("exp", `"exp":0`)), secretdata.ErrExpired},
		{"exp huge", tok(b.set("exp", `"exp":99999999999999999999999999999`)), secretdata.ErrClaims},
		{"exp int64 overflow", tok(b.set("exp", `"exp":9223372036854775808`)), secretdata.ErrClaims},
		{"exp max 15 digits", tok(b.set("exp", `"exp":999999999999999`)), secretdata.ErrClaims},
		{"exp true", tok(b.set("exp", `"exp":true`)), secretdata.ErrClaims},
		{"exp null", tok(b.set("exp", `"exp":null`)), secretdata.ErrClaims},
		{"exp array", tok(b.set("exp", fmt.Sprintf(`"exp":[%d]`, now+240))), secretdata.ErrClaims},
		{"exp object", tok(b.set("exp", `"exp":{}`)), secretdata.ErrClaims},
		{"iat as string", tok(b.set("iat", fmt.Sprintf(`"iat":"%d"`, now))), secretdata.ErrClaims},
		{"iat negative", tok(b.set("iat", `"iat":-100`)), secretdata.ErrClaims},
		{"nbf as string", tok(b.plus(fmt.Sprintf(`"nbf":"%d"`, now))), secretdata.ErrClaims},
		{"nbf null", tok(b.plus(`"nbf":null`)), secretdata.ErrClaims},
		{"aud as number", tok(b.set("aud", `"aud":1`)), secretdata.ErrClaims},
		{"aud null", tok(b.set("aud", `"aud":null`)), secretdata.ErrClaims},
		{"aud empty array", tok(b.set("aud", `"aud":[]`)), secretdata.ErrClaims},
		{"aud array without us", tok(b.set("aud", `"aud":["other","Retail-Bank"]`)), secretdata.ErrClaims},
		{"aud array with a number", tok(b.set("aud", `"aud":["`+advAud+`",1]`)), secretdata.ErrClaims},
		{"aud nested array", tok(b.set("aud", `"aud":[["`+advAud+`"]]`)), secretdata.ErrClaims},
		{"aud object", tok(b.set("aud", `"aud":{"aud":"`+advAud+`"}`)), secretdata.ErrClaims},
		{"aud case variant", tok(b.set("aud", `"aud":"Retail-Bank"`)), secretdata.ErrClaims},
		{"aud with trailing NUL", tok(b.set("aud", `"aud":"`+advAud+`\u0000"`)), secretdata.ErrClaims},
		{"aud prefix", tok(b.set("aud", `"aud":"retail"`)), secretdata.ErrClaims},
		{"aud empty", tok(b.set("aud", `"aud":""`)), secretdata.ErrClaims},
		{"iss number", tok(b.set("iss", `"iss":1`)), secretdata.ErrClaims},
		{"iss array", tok(b.set("iss", `"iss":["`+advIss+`"]`)), secretdata.ErrClaims},
		{"iss case variant", tok(b.set("iss", `"iss":"HTTPS://BANK.EXAMPLE"`)), secretdata.ErrClaims},
		{"iss trailing slash", tok(b.set("iss", `"iss":"`+advIss+`/"`)), secretdata.ErrClaims},
		{"iss look-alike", tok(b.set("iss", `"iss":"https://bank.example.evil.example"`)), secretdata.ErrClaims},
		{"jti number", tok(b.set("jti", `"jti":12345678901234567890`)), secretdata.ErrClaims},
		{"jti empty", tok(b.set("jti", `"jti":""`)), secretdata.ErrClaims},
		{"jti short", tok(b.set("jti", `"jti":"abc"`)), secretdata.ErrClaims},
		{"jti too long", tok(b.set("jti", `"jti":"`+strings.Repeat("j", 300)+`"`)), secretdata.ErrClaims},
		{"sub number", tok(b.set("sub", `"sub":42`)), secretdata.ErrClaims},
		{"secret data string", tok(b.set("customer_secret_data", `"customer_secret_data":"x"`)), secretdata.ErrClaims},
		{"secret data array", tok(b.set("customer_secret_data", `"customer_secret_data":[]`)), secretdata.ErrClaims},
		{"secret data null", tok(b.set("customer_secret_data", `"customer_secret_data":null`)), secretdata.ErrClaims},

		{"missing exp", tok(b.without("exp")), secretdata.ErrClaims},
		{"missing iat", tok(b.without("iat")), secretdata.ErrClaims},
		{"missing jti", tok(b.without("jti")), secretdata.ErrClaims},
		{"missing iss", tok(b.without("iss")), secretdata.ErrClaims},
		{"missing aud", tok(b.without("aud")), secretdata.ErrClaims},
		{"empty claims", advHS(advSecret, advHeader, `{}`), secretdata.ErrClaims},

		{"expired", tok(b.set("exp", fmt.Sprintf(`"exp":%d`, now-1))), secretdata.ErrExpired},
		{"expires exactly now", tok(b.set("exp", fmt.Sprintf(`"exp":%d`, now))), secretdata.ErrExpired},
		{"nbf in the future", tok(b.plus(fmt.Sprintf(`"nbf":%d`, now+60))), secretdata.ErrNotYetValid},
		{"iat in the future", tok(b.set("iat", fmt.Sprintf(`"iat":%d`, now+60)).set("exp", fmt.Sprintf(`"exp":%d`, now+120))), secretdata.ErrNotYetValid},
		{"exp equals iat", tok(b.set("iat", fmt.Sprintf(`"iat":%d`, now)).set("exp", fmt.Sprintf(`"exp":%d`, now))), secretdata.ErrExpired},
		{"exp not after iat", tok(b.set("iat", fmt.Sprintf(`"iat":%d`, now-10)).set("exp", fmt.Sprintf(`"exp":%d`, now-20))), secretdata.ErrExpired},
		{"lifetime over the maximum", tok(b.set("iat", fmt.Sprintf(`"iat":%d`, now-60)).set("exp", fmt.Sprintf(`"exp":%d`, now+int64((16*time.Minute).Seconds())))), secretdata.ErrClaims},
		{"iat at the epoch", tok(b.set("iat", `"iat":0`)), secretdata.ErrClaims},
		{"sid in a plain Verify", tok(b.plus(`"sid":"session-1"`)), secretdata.ErrClaims},
	}
	// No leeway, so the time cases sit exactly on their edges.
	noLeeway := func(c *secretdata.VerifierConfig) { c.Leeway = -1 }
	runRejects(t, func() *secretdata.Verifier { return advVerifier(t, noLeeway, advHMACKey(t, "k1")) }, cases)
}

func TestAdversarialSession(t *testing.T) {
	b := advBase()
	tok := func(c advClaims) string { return advHS(advSecret, advHeader, c.json()) }
	cases := []struct {
		name, token, session string
	}{
		{"no sid", tok(b), "session-1"},
		{"other sid", tok(b.plus(`"sid":"session-2"`)), "session-1"},
		{"sid prefix", tok(b.plus(`"sid":"session-"`)), "session-1"},
		{"sid with NUL", tok(b.plus(`"sid":"session-1\u0000"`)), "session-1"},
		{"sid case variant", tok(b.plus(`"sid":"SESSION-1"`)), "session-1"},
		{"sid number", tok(b.plus(`"sid":1`)), "1"},
		{"sid null", tok(b.plus(`"sid":null`)), "session-1"},
		{"sid twice", tok(b.plus(`"sid":"session-1"`).plus(`"sid":"session-1"`)), "session-1"},
		{"SID instead of sid", tok(b.plus(`"SID":"session-1"`)), "session-1"},
		{"empty session requested", tok(b.plus(`"sid":""`)), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := advVerifier(t, nil, advHMACKey(t, "k1"))
			c, err := v.VerifySession(context.Background(), tc.token, tc.session)
			require.Nil(t, c, "accepted for session %q", tc.session)
			require.True(t, errors.Is(err, secretdata.ErrClaims) || errors.Is(err, secretdata.ErrMalformed), "got %v", err)
		})
	}
	t.Run("control", func(t *testing.T) {
		v := advVerifier(t, nil, advHMACKey(t, "k1"))
		_, err := v.VerifySession(context.Background(), tok(b.plus(`"sid":"session-1"`)), "session-1")
		require.NoError(t, err, "control refused")
	})
}

func TestAdversarialSize(t *testing.T) {
	big := advBase().plus(`"pad":"` + strings.Repeat("p", 64<<10) + `"`).json()
	token64k := advHS(advSecret, advHeader, big)
	v := advVerifier(t, nil, advHMACKey(t, "k1"))
	cases := []rejectCase{
		{"64 KiB validly signed", token64k, secretdata.ErrMalformed},
		{"1 MiB of dots", strings.Repeat(".", 1<<20), secretdata.ErrMalformed},
		{"1 MiB of base64", strings.Repeat("A", 1<<20), secretdata.ErrMalformed},
	}
	// Just over the configured cap, validly signed.
	capped := func() *secretdata.Verifier {
		return advVerifier(t, func(c *secretdata.VerifierConfig) { c.MaxTokenBytes = 1024 }, advHMACKey(t, "k1"))
	}
	pad := 0
	var over string
	for {
		over = advHS(advSecret, advHeader, advBase().plus(`"pad":"`+strings.Repeat("p", pad)+`"`).json())
		if len(over) > 1024 {
			break
		}
		pad++
	}
	runRejects(t, func() *secretdata.Verifier { return v }, cases)
	runRejects(t, capped, []rejectCase{{"one byte over the cap", over, secretdata.ErrMalformed}})
	// The cap is checked before anything is decoded: a validly signed
	// oversized token is not recorded in the replay cache, so the same
	// jti can still be used once by a token of normal size.
	_, err := v.Verify(context.Background(), advHS(advSecret, advHeader, advBase().json()))
	require.NoError(t, err, "normal token after oversize")
}

// TestAdversarialReplay presents one token, then the same claims (same iss
// and jti) in every other spelling an attacker or a sloppy issuer can
// produce. Only the first is accepted.
func TestAdversarialReplay(t *testing.T) {
	b := advBase()
	first := advHS(advSecret, advHeader, b.json())
	variants := []struct{ name, token string }{
		{"the same token", first},
		{"header without typ", advHS(advSecret, `{"alg":"HS256","kid":"k1"}`, b.json())},
		{"header with whitespace", advHS(advSecret, `{ "alg" : "HS256", "kid" : "k1" }`, b.json())},
		{"header members reordered", advHS(advSecret, `{"kid":"k1","typ":"JWT","alg":"HS256"}`, b.json())},
		{"typ lowercase", advHS(advSecret, `{"alg":"HS256","kid":"k1","typ":"jwt"}`, b.json())},
		{"typ application/jwt", advHS(advSecret, `{"alg":"HS256","kid":"k1","typ":"application/jwt"}`, b.json())},
		{"typ Application/JWT", advHS(advSecret, `{"alg":"HS256","kid":"k1","typ":"Application/JWT"}`, b.json())},
		{"kid escaped", advHS(advSecret, `{"alg":"HS256","kid":"k\u0031","typ":"JWT"}`, b.json())},
		{"claims reordered", advHS(advSecret, advHeader, advClaims{b[5], b[4], b[3], b[2], b[1], b[0], b[6]}.json())},
		{"claims with whitespace", advHS(advSecret, advHeader, " "+strings.ReplaceAll(b.json(), ",", " ,\n ")+" ")},
		{"jti escaped", advHS(advSecret, advHeader, b.set("jti", `"jti":"jti-adversarial-000\u0031"`).json())},
		{"jti escaped solidus-free", advHS(advSecret, advHeader, b.set("jti", `"\u006a\u0074\u0069":"`+advJTI+`"`).json())},
		{"extra claim", advHS(advSecret, advHeader, b.plus(`"x":1`).json())},
		{"other secret data", advHS(advSecret, advHeader, b.set("customer_secret_data", `"customer_secret_data":{"customer_id":"other"}`).json())},
		{"later exp", advHS(advSecret, advHeader, b.set("exp", fmt.Sprintf(`"exp":%d`, advNow.Unix()+600)).json())},
		{"aud as array", advHS(advSecret, advHeader, b.set("aud", `"aud":["`+advAud+`"]`).json())},
	}
	v := advVerifier(t, nil, advHMACKey(t, "k1"))
	_, err := v.Verify(context.Background(), first)
	require.NoError(t, err, "first use refused")
	for _, tc := range variants {
		t.Run(tc.name, func(t *testing.T) {
			// The variant is valid on its own (a fresh verifier takes it)...
			_, err := advVerifier(t, nil, advHMACKey(t, "k1")).Verify(context.Background(), tc.token)
			require.NoError(t, err, "variant is not valid on its own")
			// ...but not after the first token was used.
			_, err = v.Verify(context.Background(), tc.token)
			require.ErrorIs(t, err, secretdata.ErrReplayed)
		})
	}
}

// TestAdversarialECDSAMalleability: for an ES256 signature (r, s), (r, n-s)
// also verifies. The token string changes, so a replay cache keyed on the
// token would miss it; ours is keyed on (iss, jti).
func TestAdversarialECDSAMalleability(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	key, err := secretdata.NewPublicKey("ec", secretdata.ES256, &priv.PublicKey)
	require.NoError(t, err)
	in := advB64(`{"alg":"ES256","kid":"ec","typ":"JWT"}`) + "." + advB64(advBase().json())
	d := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, priv, d[:])
	require.NoError(t, err)
	enc := func(r, s *big.Int) string {
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	sFlip := new(big.Int).Sub(elliptic.P256().Params().N, s)
	v := advVerifier(t, nil, key)
	_, err = v.Verify(context.Background(), enc(r, s))
	require.NoError(t, err, "original refused")
	_, err = v.Verify(context.Background(), enc(r, sFlip))
	require.ErrorIs(t, err, secretdata.ErrReplayed)
	runRejects(t, func() *secretdata.Verifier { return advVerifier(t, nil, key) }, []rejectCase{
		{"DER-encoded ECDSA signature", func() string {
			der, err := ecdsa.SignASN1(rand.Reader, priv, d[:])
			require.NoError(t, err)
			return in + "." + base64.RawURLEncoding.EncodeToString(der)
		}(), secretdata.ErrSignature},
		{"zero r and s", enc(big.NewInt(0), big.NewInt(0)), secretdata.ErrSignature},
		{"r and s equal to n", enc(elliptic.P256().Params().N, elliptic.P256().Params().N), secretdata.ErrSignature},
	})
}

// advJWE wraps inner in a compact JWE with the given protected header,
// encrypted with key (AES-256-GCM, the header's base64 as AAD).
func advJWE(t *testing.T, key []byte, header, encKey, inner string) string {
	t.Helper()
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	iv := make([]byte, 12)
	_, _ = rand.Read(iv) // never fails
	h := advB64(header)
	sealed := gcm.Seal(nil, iv, []byte(inner), []byte(h))
	ct, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
	e := base64.RawURLEncoding.EncodeToString
	return h + "." + encKey + "." + e(iv) + "." + e(ct) + "." + e(tag)
}

func TestAdversarialJWE(t *testing.T) {
	ek, err := secretdata.NewEncryptionKey("e1", advEncBytes)
	require.NoError(t, err)
	mk := func() *secretdata.Verifier {
		return advVerifier(t, func(c *secretdata.VerifierConfig) { c.DecryptionKeys = []secretdata.EncryptionKey{ek} }, advHMACKey(t, "k1"))
	}
	inner := advHS(advSecret, advHeader, advBase().json())
	jh := `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"e1"}`
	good := advJWE(t, advEncBytes, jh, "", inner)
	wrongKey := []byte("ffffffffffffffffffffffffffffffff")
	seg := strings.Split(good, ".")
	tamper := func(i int) string {
		parts := append([]string(nil), seg...)
		b, _ := base64.RawURLEncoding.DecodeString(parts[i])
		b[0] ^= 1
		parts[i] = base64.RawURLEncoding.EncodeToString(b)
		return strings.Join(parts, ".")
	}
	cases := []rejectCase{
		{"plain JWS to a JWE verifier", inner, secretdata.ErrMalformed},
		{"wrong content key", advJWE(t, wrongKey, jh, "", inner), secretdata.ErrSignature},
		{"unknown kid", advJWE(t, advEncBytes, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"e9"}`, "", inner), secretdata.ErrUnknownKey},
		{"alg A256KW", advJWE(t, advEncBytes, `{"alg":"A256KW","enc":"A256GCM","cty":"JWT","kid":"e1"}`, "", inner), secretdata.ErrMalformed},
		{"alg RSA-OAEP", advJWE(t, advEncBytes, `{"alg":"RSA-OAEP","enc":"A256GCM","cty":"JWT","kid":"e1"}`, "", inner), secretdata.ErrMalformed},
		{"alg none", advJWE(t, advEncBytes, `{"alg":"none","enc":"A256GCM","cty":"JWT","kid":"e1"}`, "", inner), secretdata.ErrMalformed},
		{"enc A128GCM", advJWE(t, advEncBytes, `{"alg":"dir","enc":"A128GCM","cty":"JWT","kid":"e1"}`, "", inner), secretdata.ErrMalformed},
		{"enc A256CBC-HS512", advJWE(t, advEncBytes, `{"alg":"dir","enc":"A256CBC-HS512","cty":"JWT","kid":"e1"}`, "", inner), secretdata.ErrMalformed},
		{"zip DEF", advJWE(t, advEncBytes, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"e1","zip":"DEF"}`, "", inner), secretdata.ErrMalformed},
		{"crit", advJWE(t, advEncBytes, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"e1","crit":["x"]}`, "", inner), secretdata.ErrMalformed},
		{"jwk in header", advJWE(t, advEncBytes, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"e1","jwk":{}}`, "", inner), secretdata.ErrMalformed},
		{"no cty", advJWE(t, advEncBytes, `{"alg":"dir","enc":"A256GCM","kid":"e1"}`, "", inner), secretdata.ErrMalformed},
		{"duplicate enc", advJWE(t, advEncBytes, `{"alg":"dir","enc":"A256GCM","enc":"A128GCM","cty":"JWT","kid":"e1"}`, "", inner), secretdata.ErrMalformed},
		{"non-empty encrypted key", advJWE(t, advEncBytes, jh, "AAAA", inner), secretdata.ErrMalformed},
		{"tampered header", tamper(0), secretdata.ErrMalformed},
		{"tampered iv", tamper(2), secretdata.ErrSignature},
		{"tampered ciphertext", tamper(3), secretdata.ErrSignature},
		{"tampered tag", tamper(4), secretdata.ErrSignature},
		{"short iv", seg[0] + ".." + advB64("short") + "." + seg[3] + "." + seg[4], secretdata.ErrMalformed},
		{"short tag", seg[0] + ".." + seg[2] + "." + seg[3] + "." + advB64("short"), secretdata.ErrMalformed},
		{"empty tag", seg[0] + ".." + seg[2] + "." + seg[3] + ".", secretdata.ErrMalformed},
		{"six segments", good + ".", secretdata.ErrMalformed},
		{"padded tag", good + "=", secretdata.ErrMalformed},
		{"inner alg none", advJWE(t, advEncBytes, jh, "", advB64(`{"alg":"none","kid":"k1"}`)+"."+advB64(advBase().json())+"."), secretdata.ErrSignature},
		{"inner forged mac", advJWE(t, advEncBytes, jh, "", advHS([]byte("not-the-secret-not-the-secret-not-the"), advHeader, advBase().json())), secretdata.ErrSignature},
		{"JWE inside JWE", advJWE(t, advEncBytes, jh, "", good), secretdata.ErrMalformed},
		{"inner with whitespace", advJWE(t, advEncBytes, jh, "", inner+"\n"), secretdata.ErrMalformed},
	}
	runRejects(t, mk, cases)

	t.Run("JWE to a JWS-only verifier", func(t *testing.T) {
		runRejects(t, func() *secretdata.Verifier { return advVerifier(t, nil, advHMACKey(t, "k1")) },
			[]rejectCase{{"jwe", good, secretdata.ErrMalformed}})
	})
	t.Run("re-encrypted token is a replay", func(t *testing.T) {
		v := mk()
		_, err := v.Verify(context.Background(), good)
		require.NoError(t, err, "control JWE refused")
		again := advJWE(t, advEncBytes, jh, "", inner)
		require.NotEqual(t, good, again, "same IV twice")
		_, err = v.Verify(context.Background(), again)
		require.ErrorIs(t, err, secretdata.ErrReplayed)
	})
}

// TestAdversarialKeys: keys that must be refused when they are configured,
// not when the first token arrives.
func TestAdversarialKeys(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	cases := []struct {
		name string
		mk   func() (secretdata.Key, error)
	}{
		{"HS256 secret of 31 bytes", func() (secretdata.Key, error) {
			return secretdata.NewHMACKey("k", secretdata.HS256, make([]byte, 31))
		}},
		{"HS512 secret of 63 bytes", func() (secretdata.Key, error) {
			return secretdata.NewHMACKey("k", secretdata.HS512, make([]byte, 63))
		}},
		{"HS256 empty secret", func() (secretdata.Key, error) { return secretdata.NewHMACKey("k", secretdata.HS256, nil) }},
		{"HMAC key for alg none", func() (secretdata.Key, error) {
			return secretdata.NewHMACKey("k", secretdata.Algorithm("none"), advSecret)
		}},
		{"HMAC key for RS256", func() (secretdata.Key, error) { return secretdata.NewHMACKey("k", secretdata.RS256, advSecret) }},
		{"RSA 1024 bits", func() (secretdata.Key, error) {
			return secretdata.NewPublicKey("k", secretdata.RS256, &rsa1024.PublicKey)
		}},
		{"RSA key for ES256", func() (secretdata.Key, error) {
			return secretdata.NewPublicKey("k", secretdata.ES256, &rsa1024.PublicKey)
		}},
		{"P-384 for ES256", func() (secretdata.Key, error) { return secretdata.NewPublicKey("k", secretdata.ES256, &p384.PublicKey) }},
		{"public key for HS256", func() (secretdata.Key, error) {
			return secretdata.NewPublicKey("k", secretdata.HS256, &p384.PublicKey)
		}},
		{"nil public key", func() (secretdata.Key, error) { return secretdata.NewPublicKey("k", secretdata.RS256, nil) }},
		{"empty kid", func() (secretdata.Key, error) { return secretdata.NewHMACKey("", secretdata.HS256, advSecret) }},
		{"kid with space", func() (secretdata.Key, error) { return secretdata.NewHMACKey("k 1", secretdata.HS256, advSecret) }},
		{"kid with NUL", func() (secretdata.Key, error) { return secretdata.NewHMACKey("k\x00", secretdata.HS256, advSecret) }},
		{"kid non-ASCII", func() (secretdata.Key, error) { return secretdata.NewHMACKey("k\u00e9", secretdata.HS256, advSecret) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := tc.mk()
			require.ErrorIs(t, err, secretdata.ErrConfig)
			require.Zero(t, k)
			require.NotContains(t, fmt.Sprint(err), string(advSecret), "the error repeats the secret")
		})
	}
	t.Run("retired key", func(t *testing.T) {
		k, err := advHMACKey(t, "k1").WithValidity(time.Time{}, advNow.Add(-time.Second))
		require.NoError(t, err)
		runRejects(t, func() *secretdata.Verifier { return advVerifier(t, nil, k) },
			[]rejectCase{{"token under a retired key", advHS(advSecret, advHeader, advBase().json()), secretdata.ErrUnknownKey}})
	})
	t.Run("key not yet active", func(t *testing.T) {
		k, err := advHMACKey(t, "k1").WithValidity(advNow.Add(time.Minute), time.Time{})
		require.NoError(t, err)
		runRejects(t, func() *secretdata.Verifier { return advVerifier(t, nil, k) },
			[]rejectCase{{"token under a future key", advHS(advSecret, advHeader, advBase().json()), secretdata.ErrUnknownKey}})
	})
}
