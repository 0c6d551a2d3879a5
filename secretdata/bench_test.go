package secretdata_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/msgsec/msgsec/secretdata"
)

// Benchmarks compare Verify and Sign with golang-jwt/jwt/v5 (test-only
// anchor) and a plain-stdlib floor, in the same run:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./secretdata/
//
// Honesty of the replay cache: msgsec's Verify runs with the default
// in-memory replay cache, and every timed Verify does a real Record of a
// jti never seen before. Tokens come from a pool of distinct tokens; when
// the pool is used up the timer stops, the (shared, pinned) clock jumps past
// the maximum lifetime and a fresh pool is signed. The next generation's
// Records therefore also evict the previous generation's expired entries —
// the steady state of a long-running server — inside the timed loop. The
// anchors see the very same tokens (golang-jwt does no replay check).

// benchClock is a pinned clock the benchmark moves forward.
type benchClock struct{ sec atomic.Int64 }

func newBenchClock() *benchClock {
	c := &benchClock{}
	c.sec.Store(t0.Unix())
	return c
}

func (c *benchClock) now() time.Time { return time.Unix(c.sec.Load(), 0) }

// jump moves the clock past every token minted so far and its cache entry.
func (c *benchClock) jump() {
	c.sec.Add(int64((secretdata.DefaultMaxLifetime + time.Minute) / time.Second))
}

func benchClaims() secretdata.Claims {
	return secretdata.Claims{
		Subject: "customer-42",
		SecretData: map[string]any{
			secretdata.ClaimAuthenticationStatus: "authenticated",
			secretdata.ClaimCustomerID:           "C-1001",
			"segment":                            "gold",
		},
	}
}

// tokenPool yields distinct tokens, re-minting a fresh generation (timer
// stopped, clock jumped) whenever it runs out.
type tokenPool struct {
	b      *testing.B
	clock  *benchClock
	signer *secretdata.Signer
	tokens []string
	next   int
}

func newTokenPool(b *testing.B, clock *benchClock, s *secretdata.Signer, size int) *tokenPool {
	p := &tokenPool{b: b, clock: clock, signer: s, tokens: make([]string, size)}
	p.mint()
	return p
}

func (p *tokenPool) mint() {
	for i := range p.tokens {
		tok, err := p.signer.Sign(benchClaims())
		if err != nil {
			p.b.Fatal(err)
		}
		p.tokens[i] = tok
	}
	p.next = 0
}

func (p *tokenPool) get() string {
	if p.next == len(p.tokens) {
		p.b.StopTimer()
		p.clock.jump()
		p.mint()
		p.b.StartTimer()
	}
	t := p.tokens[p.next]
	p.next++
	return t
}

// anchorClaims is what golang-jwt decodes into: the same members.
type anchorClaims struct {
	jwt.RegisteredClaims
	SessionID  string         `json:"sid,omitempty"`
	SecretData map[string]any `json:"customer_secret_data,omitempty"`
}

func anchorParser(clock *benchClock, alg string) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{alg}),
		jwt.WithIssuer(testIssuer),
		jwt.WithAudience(testAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(clock.now),
	)
}

// floorClaims is the stdlib floor's target: no strictness at all.
type floorClaims struct {
	Iss        string         `json:"iss"`
	Aud        string         `json:"aud"`
	Sub        string         `json:"sub"`
	Iat        int64          `json:"iat"`
	Exp        int64          `json:"exp"`
	Jti        string         `json:"jti"`
	SecretData map[string]any `json:"customer_secret_data"`
}

// floorVerify is HMAC-SHA256 + base64 + encoding/json into a struct, with
// the minimum of checks: the cost any HS256 verifier must pay.
func floorVerify(token string, secret []byte, now time.Time) error {
	h, rest, _ := strings.Cut(token, ".")
	p, s, ok := strings.Cut(rest, ".")
	if !ok {
		return errors.New("malformed")
	}
	hdr, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return err
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(hdr, &header); err != nil || header.Alg != "HS256" {
		return errors.New("alg")
	}
	sig, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(token[:len(h)+1+len(p)]))
	if !hmac.Equal(m.Sum(nil), sig) {
		return errors.New("signature")
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return err
	}
	var c floorClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return err
	}
	if c.Iss != testIssuer || c.Aud != testAudience || now.Unix() >= c.Exp {
		return errors.New("claims")
	}
	return nil
}

const hmacPoolSize = 1 << 15

func BenchmarkVerifyHS256(b *testing.B) {
	key, err := secretdata.NewHMACKey("k1", secretdata.HS256, testSecret)
	if err != nil {
		b.Fatal(err)
	}
	setup := func(b *testing.B) (*benchClock, *tokenPool) {
		clock := newBenchClock()
		s := newSigner(b, key, func(c *secretdata.SignerConfig) { c.Now = clock.now })
		return clock, newTokenPool(b, clock, s, hmacPoolSize)
	}
	b.Run("msgsec", func(b *testing.B) {
		clock, pool := setup(b)
		v := newVerifier(b, func(c *secretdata.VerifierConfig) { c.Now = clock.now }, key) // default replay cache
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := v.Verify(ctx, pool.get()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("msgsec-no-replay-check", func(b *testing.B) {
		clock, pool := setup(b)
		v := newVerifier(b, func(c *secretdata.VerifierConfig) {
			c.Now = clock.now
			c.DangerouslyDisableReplayProtection = true
		}, key)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := v.Verify(ctx, pool.get()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("golang-jwt", func(b *testing.B) {
		clock, pool := setup(b)
		p := anchorParser(clock, "HS256")
		keyFunc := func(*jwt.Token) (any, error) { return testSecret, nil }
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := p.ParseWithClaims(pool.get(), &anchorClaims{}, keyFunc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stdlib-floor", func(b *testing.B) {
		clock, pool := setup(b)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := floorVerify(pool.get(), testSecret, clock.now()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSignHS256(b *testing.B) {
	key, err := secretdata.NewHMACKey("k1", secretdata.HS256, testSecret)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("msgsec", func(b *testing.B) {
		s := newSigner(b, key, nil)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := s.Sign(benchClaims()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("golang-jwt", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			// The same work: fresh 128-bit jti, iat/exp from the clock, kid.
			var jti [16]byte
			_, _ = rand.Read(jti[:])
			now := fixedNow()
			c := benchClaims()
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, anchorClaims{
				RegisteredClaims: jwt.RegisteredClaims{
					Issuer: testIssuer, Audience: jwt.ClaimStrings{testAudience}, Subject: c.Subject,
					IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(secretdata.DefaultLifetime)),
					ID: base64.RawURLEncoding.EncodeToString(jti[:]),
				},
				SecretData: c.SecretData,
			})
			tok.Header["kid"] = "k1"
			if _, err := tok.SignedString(testSecret); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchAsymmetric compares Verify with golang-jwt for one public-key algorithm.
func benchAsymmetric(b *testing.B, alg secretdata.Algorithm, priv any, pub any, method jwt.SigningMethod) {
	var signKey secretdata.Key
	var err error
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		signKey, err = secretdata.NewPrivateKey("k1", alg, k)
	case ed25519.PrivateKey:
		signKey, err = secretdata.NewPrivateKey("k1", alg, k)
	}
	if err != nil {
		b.Fatal(err)
	}
	verifyKey, err := secretdata.NewPublicKey("k1", alg, pub)
	if err != nil {
		b.Fatal(err)
	}
	setup := func(b *testing.B) (*benchClock, *tokenPool) {
		clock := newBenchClock()
		return clock, newTokenPool(b, clock, newSigner(b, signKey, func(c *secretdata.SignerConfig) { c.Now = clock.now }), 1024)
	}
	b.Run("msgsec", func(b *testing.B) {
		clock, pool := setup(b)
		v := newVerifier(b, func(c *secretdata.VerifierConfig) { c.Now = clock.now }, verifyKey)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := v.Verify(ctx, pool.get()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("golang-jwt", func(b *testing.B) {
		clock, pool := setup(b)
		p := anchorParser(clock, method.Alg())
		keyFunc := func(*jwt.Token) (any, error) { return pub, nil }
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := p.ParseWithClaims(pool.get(), &anchorClaims{}, keyFunc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVerifyES256(b *testing.B) {
	k := ecKey(b)
	benchAsymmetric(b, secretdata.ES256, k, &k.PublicKey, jwt.SigningMethodES256)
}

func BenchmarkVerifyEdDSA(b *testing.B) {
	k := edKey(b)
	benchAsymmetric(b, secretdata.EdDSA, k, k.Public(), jwt.SigningMethodEdDSA)
}
