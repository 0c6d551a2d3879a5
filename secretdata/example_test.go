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
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/secretdata"
)

var secret = []byte("example-only-secret-use-GenerateSecret-for-real!")

func Example() {
	key, err := secretdata.NewHMACKey("2026-01", secretdata.HS256, secret)
	if err != nil {
		panic(err)
	}
	// Bank backend: mint a token.
	signer, err := secretdata.NewSigner(secretdata.SignerConfig{
		Key: key, Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
	})
	if err != nil {
		panic(err)
	}
	token, err := signer.Sign(secretdata.Claims{
		Subject: "customer-42",
		SecretData: map[string]any{
			secretdata.ClaimAuthenticationStatus: "authenticated",
			secretdata.ClaimCustomerID:           "C-1001",
		},
	})
	if err != nil {
		panic(err)
	}

	// Chat server: verify it.
	verifier, err := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{key}, Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
	})
	if err != nil {
		panic(err)
	}
	claims, err := verifier.Verify(context.Background(), token)
	if err != nil {
		panic(err)
	}
	status, _ := claims.AuthenticationStatus()
	id, _ := claims.CustomerID()
	fmt.Println(status, id)

	// The same token a second time is a replay.
	_, err = verifier.Verify(context.Background(), token)
	fmt.Println(errors.Is(err, secretdata.ErrReplayed))
	// Output:
	// authenticated C-1001
	// true
}

func ExampleNewHMACKey() {
	_, err := secretdata.NewHMACKey("k1", secretdata.HS256, []byte("secret"))
	fmt.Println(errors.Is(err, secretdata.ErrConfig))

	key, err := secretdata.NewHMACKey("k1", secretdata.HS256, secretdata.GenerateSecret())
	fmt.Println(err, key) // the secret is never printed
	// Output:
	// true
	// <nil> secretdata.Key{kid: "k1", alg: HS256, type: hmac, secret: [redacted]}
}

func ExampleGenerateSecret() {
	s := secretdata.GenerateSecret()
	fmt.Println(len(s) * 8)
	// Output: 512
}

func ExampleNewPrivateKey() {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signKey, _ := secretdata.NewPrivateKey("ec-2026", secretdata.ES256, priv)
	// The chat server only ever gets the public half.
	verifyKey, _ := secretdata.NewPublicKey("ec-2026", secretdata.ES256, priv.Public())

	signer, _ := secretdata.NewSigner(secretdata.SignerConfig{Key: signKey, Issuer: "bank", Audience: "retail-bank"})
	verifier, _ := secretdata.NewVerifier(secretdata.VerifierConfig{Keys: []secretdata.Key{verifyKey}, Issuer: "bank", Audience: "retail-bank"})
	token, _ := signer.Sign(secretdata.Claims{})
	_, err := verifier.Verify(context.Background(), token)
	fmt.Println(err)

	// Keys are bound to their type: an RSA algorithm on an EC key is refused.
	_, err = secretdata.NewPublicKey("x", secretdata.RS256, priv.Public())
	fmt.Println(errors.Is(err, secretdata.ErrConfig))
	// Output:
	// <nil>
	// true
}

func ExampleNewPublicKey() {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k, err := secretdata.NewPublicKey("ec-2026", secretdata.ES256, priv.Public())
	fmt.Println(err, k.Algorithm(), k.CanSign())
	// Output: <nil> ES256 false
}

func ExampleKey_WithValidity() {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	old, _ := secretdata.NewHMACKey("2026-05", secretdata.HS256, secretdata.GenerateSecret())
	next, _ := secretdata.NewHMACKey("2026-06", secretdata.HS256, secretdata.GenerateSecret())
	// Rotation: the old key is retired a day after the new one starts.
	old, _ = old.WithValidity(time.Time{}, now.Add(24*time.Hour))
	next, _ = next.WithValidity(now, time.Time{})

	signer, _ := secretdata.NewSigner(secretdata.SignerConfig{
		Key: old, Issuer: "bank", Audience: "retail-bank",
		Now: func() time.Time { return now.Add(48 * time.Hour) },
	})
	_, err := signer.Sign(secretdata.Claims{})
	fmt.Println(err)
	// Output: secretdata: cannot sign: Key: outside its validity window
}

func ExampleKey_Validity() {
	key, _ := secretdata.NewHMACKey("2026-06", secretdata.HS256, secretdata.GenerateSecret())
	key, _ = key.WithValidity(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Time{})
	notBefore, retireAfter := key.Validity()
	fmt.Println(notBefore.Format(time.DateOnly), retireAfter.IsZero())
	// Output: 2026-06-01 true
}

func ExampleNewSigner() {
	key, _ := secretdata.NewHMACKey("k1", secretdata.HS256, secret)
	_, err := secretdata.NewSigner(secretdata.SignerConfig{
		Key: key, Issuer: "bank", Lifetime: time.Hour,
	})
	fmt.Println(err)
	// Output:
	// secretdata: invalid signer configuration: 2 problems
	//	Audience: required
	//	Lifetime: "1h0m0s": must be between 1s and MaxLifetime (15m0s)
}

func ExampleSigner_Sign() {
	key, _ := secretdata.NewHMACKey("k1", secretdata.HS256, secret)
	enc, _ := secretdata.NewEncryptionKey("e1", secretdata.GenerateSecret()[:32])
	// Wrapped in a JWE, the token can pass through the browser unread.
	signer, _ := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: "bank", Audience: "retail-bank", Encryption: enc})
	verifier, _ := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{key}, DecryptionKeys: []secretdata.EncryptionKey{enc}, Issuer: "bank", Audience: "retail-bank",
	})
	token, _ := signer.Sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-1001"}})
	claims, err := verifier.Verify(context.Background(), token)
	id, _ := claims.CustomerID()
	fmt.Println(err, id)
	// Output: <nil> C-1001
}

func ExampleNewEncryptionKey() {
	_, err := secretdata.NewEncryptionKey("e1", []byte("too short"))
	fmt.Println(errors.Is(err, secretdata.ErrConfig))
	// Output: true
}

func ExampleNewVerifier() {
	key, _ := secretdata.NewHMACKey("k1", secretdata.HS256, secret)
	// Configuration is validated once, here, and every problem is reported.
	_, err := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{key, key}, Audience: "retail-bank", Leeway: time.Hour,
	})
	fmt.Println(errors.Is(err, secretdata.ErrConfig))
	for p := range cfgerr.All(err) {
		fmt.Printf("%s: %s\n", p.Field, p.Reason)
	}
	// Output:
	// true
	// Issuer: required
	// Leeway: must be at most 5m0s (zero means 30s, negative means none)
	// Keys[1]: duplicate key id (Keys[0] has it)
}

func ExampleVerifier_Verify() {
	key, _ := secretdata.NewHMACKey("k1", secretdata.HS256, secret)
	verifier, _ := secretdata.NewVerifier(secretdata.VerifierConfig{Keys: []secretdata.Key{key}, Issuer: "bank", Audience: "retail-bank"})
	// An unsigned "alg":"none" token.
	_, err := verifier.Verify(context.Background(), "eyJhbGciOiJub25lIn0.eyJpc3MiOiJiYW5rIn0.")
	var te *secretdata.TokenError
	fmt.Println(errors.Is(err, secretdata.ErrSignature), errors.As(err, &te), te.Field)
	// Output: true true alg
}

func ExampleVerifier_VerifySession() {
	key, _ := secretdata.NewHMACKey("k1", secretdata.HS256, secret)
	signer, _ := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: "bank", Audience: "retail-bank"})
	verifier, _ := secretdata.NewVerifier(secretdata.VerifierConfig{Keys: []secretdata.Key{key}, Issuer: "bank", Audience: "retail-bank"})
	// Server-to-server: the token is bound to one chat session.
	token, _ := signer.Sign(secretdata.Claims{SessionID: "chat-7f3a"})
	_, err := verifier.VerifySession(context.Background(), token, "chat-other")
	fmt.Println(errors.Is(err, secretdata.ErrClaims))
	claims, err := verifier.VerifySession(context.Background(), token, "chat-7f3a")
	fmt.Println(err, claims.SessionID)
	// Output:
	// true
	// <nil> chat-7f3a
}

func ExampleNewMemoryReplayCache() {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	cache, _ := secretdata.NewMemoryReplayCache(secretdata.MemoryReplayCacheConfig{
		MaxEntries: 100_000, Now: func() time.Time { return now },
	})
	ctx := context.Background()
	fmt.Println(cache.Record(ctx, "bank", "jti-1", now.Add(time.Minute)))
	fmt.Println(errors.Is(cache.Record(ctx, "bank", "jti-1", now.Add(time.Minute)), secretdata.ErrReplayed))
	// Output:
	// <nil>
	// true
}

func ExampleParseJWKS() {
	keys, _, err := secretdata.ParseJWKS([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"ed-2026",
		"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	fmt.Println(err, keys[0].ID(), keys[0].Algorithm())
	// Output: <nil> ed-2026 EdDSA
}

func ExampleNewRemoteKeySet() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"ed-2026","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	set, err := secretdata.NewRemoteKeySet(ctx, secretdata.RemoteKeySetConfig{
		URL:                  srv.URL, // use https in production
		DangerouslyAllowHTTP: true,
	})
	if err != nil {
		panic(err)
	}
	defer set.Close()
	_, err = secretdata.NewVerifier(secretdata.VerifierConfig{KeySet: set, Issuer: "bank", Audience: "retail-bank"})
	fmt.Println(err)
	// Output: <nil>
}

func ExampleClaims_AuthenticationStatus() {
	c := secretdata.Claims{SecretData: map[string]any{"authentication_status": "authenticated", "customer_id": 42}}
	status, ok := c.AuthenticationStatus()
	fmt.Println(status, ok)
	_, ok = c.CustomerID() // present, but not a string
	fmt.Println(ok)
	fmt.Println(&c) // secret data never prints
	// Output:
	// authenticated true
	// false
	// secretdata.Claims{iss: "", aud: "", exp: 0001-01-01T00:00:00Z, secret_data: [redacted] (2 members)}
}

// A JWKS as banks' libraries export it: an RSA key without alg (RS256 or
// PS256 then verify with it) and an encryption key, which is skipped and
// named.
func ExampleParseJWKS_skipped() {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	n := base64.RawURLEncoding.EncodeToString(rsaKey.N.Bytes())
	doc := `{"keys":[{"kty":"RSA","kid":"rsa-2026","n":"` + n + `","e":"AQAB"},
		{"kty":"OKP","crv":"Ed25519","kid":"enc-1","use":"enc","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`
	keys, skipped, err := secretdata.ParseJWKS([]byte(doc))
	fmt.Println(err, keys[0])
	for _, s := range skipped {
		fmt.Println("skipped", s)
	}
	// Output:
	// <nil> secretdata.Key{kid: "rsa-2026", alg: RS256|PS256, type: public}
	// skipped keys[1]: "enc-1": use "enc": not a signature key
}

// Explicit typing (RFC 8725 §3.11): the chat server requires typ
// secretdata+jwt, so a JWT meant for something else is refused.
func ExampleVerifierConfig_explicitType() {
	key, _ := secretdata.NewHMACKey("2026-01", secretdata.HS256, secret)
	signer, _ := secretdata.NewSigner(secretdata.SignerConfig{
		Key: key, Issuer: "https://api.uplusbank.com", Audience: "retail-bank", Type: "secretdata+jwt",
	})
	plain, _ := secretdata.NewSigner(secretdata.SignerConfig{
		Key: key, Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
	})
	verifier, _ := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{key}, Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
		Type: "secretdata+jwt",
	})
	typed, _ := signer.Sign(secretdata.Claims{Subject: "customer-42"})
	untyped, _ := plain.Sign(secretdata.Claims{Subject: "customer-42"})
	_, err := verifier.Verify(context.Background(), typed)
	fmt.Println(err)
	_, err = verifier.Verify(context.Background(), untyped)
	fmt.Println(err)
	// Output:
	// <nil>
	// secretdata: malformed token: typ: not the type this verifier requires
}

// Ed25519 is RFC 9864's name for EdDSA over Ed25519: a key bound to
// either name verifies tokens marked with either, and a Signer writes the
// name its key is bound to.
func ExampleEd25519() {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signKey, _ := secretdata.NewPrivateKey("ed-2026", secretdata.Ed25519, priv)
	signer, _ := secretdata.NewSigner(secretdata.SignerConfig{
		Key: signKey, Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
	})
	token, _ := signer.Sign(secretdata.Claims{Subject: "customer-42"})
	verifyKey, _ := secretdata.NewPublicKey("ed-2026", secretdata.EdDSA, pub)
	verifier, _ := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{verifyKey}, Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
	})
	_, err := verifier.Verify(context.Background(), token)
	fmt.Println(err)
	// Output: <nil>
}

// Customer data the bank put next to iss instead of inside
// customer_secret_data: the token verifies with no secret data, and
// MisplacedClaims names what was there (never the values).
func ExampleClaims_misplacedClaims() {
	key, _ := secretdata.NewHMACKey("2026-01", secretdata.HS256, secret)
	now := time.Now().Unix()
	payload := fmt.Sprintf(`{"iss":"https://api.uplusbank.com","aud":"retail-bank","iat":%d,"exp":%d,`+
		`"jti":"R0bK9x3w7mQe2sVt5uYzAa","customer_id":"C-1001"}`, now, now+300)
	input := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	token := input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

	verifier, _ := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{key}, Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
	})
	claims, err := verifier.Verify(context.Background(), token)
	fmt.Println(err, claims.SecretData == nil, claims.MisplacedClaims)
	// Output: <nil> true [customer_id]
}
