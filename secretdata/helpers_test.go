package secretdata_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
)

const (
	testIssuer   = "https://bank.example"
	testAudience = "retail-bank"
	testJTI      = "AAAAAAAAAAAAAAAAAAAAAA" // 22 chars, as a Signer makes them
)

// t0 is the pinned "now" of every test.
var t0 = time.Unix(1_750_000_000, 0)

func fixedNow() time.Time { return t0 }

var testSecret = []byte("0123456789abcdef0123456789abcdef-test-only-secret")

// rsaOnce caches one 2048-bit key per test binary: generation is slow.
var rsaOnce = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func hmacKey(t testing.TB, id string) secretdata.Key {
	t.Helper()
	k, err := secretdata.NewHMACKey(id, secretdata.HS256, testSecret)
	require.NoError(t, err)
	return k
}

func newVerifier(t testing.TB, mod func(*secretdata.VerifierConfig), keys ...secretdata.Key) *secretdata.Verifier {
	t.Helper()
	cfg := secretdata.VerifierConfig{Keys: keys, Issuer: testIssuer, Audience: testAudience, Now: fixedNow}
	if mod != nil {
		mod(&cfg)
	}
	v, err := secretdata.NewVerifier(cfg)
	require.NoError(t, err)
	return v
}

func newSigner(t testing.TB, k secretdata.Key, mod func(*secretdata.SignerConfig)) *secretdata.Signer {
	t.Helper()
	cfg := secretdata.SignerConfig{Key: k, Issuer: testIssuer, Audience: testAudience, Now: fixedNow}
	if mod != nil {
		mod(&cfg)
	}
	s, err := secretdata.NewSigner(cfg)
	require.NoError(t, err)
	return s
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// hs256 signs an arbitrary header and payload text with secret, the way an
// attacker holding the secret (or a sloppy issuer) would.
func hs256(secret []byte, header, payload string) string {
	input := b64(header) + "." + b64(payload)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

const stdHeader = `{"alg":"HS256","kid":"k1","typ":"JWT"}`

// claimSet is an ordered list of raw JSON members, so tests can drop,
// replace, duplicate or re-case a member and keep the rest byte-identical.
type claimSet []string

func baseClaims() claimSet {
	return claimSet{
		`"iss":"` + testIssuer + `"`,
		`"aud":"` + testAudience + `"`,
		`"sub":"customer-42"`,
		fmt.Sprintf(`"iat":%d`, t0.Unix()-60),
		fmt.Sprintf(`"exp":%d`, t0.Unix()+240),
		`"jti":"` + testJTI + `"`,
		`"customer_secret_data":{"authentication_status":"authenticated","customer_id":"C-1001"}`,
	}
}

func (c claimSet) without(name string) claimSet {
	var out claimSet
	for _, m := range c {
		if !strings.HasPrefix(m, `"`+name+`":`) {
			out = append(out, m)
		}
	}
	return out
}

func (c claimSet) with(member string) claimSet {
	name := member[:strings.Index(member, ":")]
	return append(c.without(strings.Trim(name, `"`)), member)
}

func (c claimSet) plus(member string) claimSet { return append(append(claimSet{}, c...), member) }

func (c claimSet) json() string { return "{" + strings.Join(c, ",") + "}" }

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func edKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

func mustP384(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	return k
}

// rejectCase is one token the verifier must refuse, with the sentinel it
// must be refused with.
type rejectCase struct {
	name  string
	token string
	want  error
}

// runRejects runs each case on a fresh verifier from mk: refused, with its
// sentinel, as a *TokenError that repeats no token contents.
func runRejects(t *testing.T, mk func() *secretdata.Verifier, cases []rejectCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := mk().Verify(context.Background(), tc.token)
			require.Nil(t, c, "accepted")
			require.ErrorIs(t, err, tc.want)
			var te *secretdata.TokenError
			require.ErrorAs(t, err, &te)
			for _, leak := range []string{advSub, advCID, advJTI, "customer-42", "C-1001", testJTI, "evil", "passwd", "DROP"} {
				require.NotContains(t, err.Error(), leak, "the error repeats token contents")
			}
		})
	}
}
