package secretdata_test

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/idhash"
	"github.com/msgsec/msgsec/internal/redacttest"
	"github.com/msgsec/msgsec/secretdata"
)

// Distinctive secrets: every one contains "S3CR3T", and the test also looks
// for their usual encodings.
var (
	redactHMAC    = []byte("S3CR3T-hmac-key-0123456789abcdef0123456789abcdef")
	redactEncKey  = []byte("S3CR3T-a256gcm-key-0123456789abc") // 32 bytes
	redactSubject = "S3CR3T-subject-sub-77"
	redactCustID  = "S3CR3T-customer-C-42"
	redactSession = "S3CR3T-session-5150"
)

// row renders v and &v.
func row[T any](name string, v T, want []string, valueMethods, pointerMethods []string) redacttest.Row {
	return redacttest.NewRow(name, v, want, valueMethods, pointerMethods)
}

// ptrRow renders p and a copy of *p made by reflection (p's type holds a
// sync.Pool, which vet rightly forbids copying in code); only p's
// renderings must show want (the copy prints by reflection and is only
// checked for leaks).
func ptrRow[T any](name string, p *T, want []string, pointerMethods []string) redacttest.Row {
	cp := reflect.ValueOf(p).Elem().Interface()
	return redacttest.Row{Name: name, Value: redacttest.Render(cp), Pointer: redacttest.Render(p), Want: want,
		SkipValueWant: true, PointerMethods: pointerMethods, PointerAny: p}
}

var allMethods = []string{"String", "Format", "MarshalJSON"}

// wantSkipped: failed encoders show nothing, and a pointer nested in a
// container prints as an address unless its type has methods of its own.
func wantSkipped(r redacttest.Row, form string, rd redacttest.Rendering) bool {
	return rd.Failed || (form == "pointer" && rd.Nested && len(r.PointerMethods) == 0)
}

// TestNothingSecretPrints formats every type of the package that holds a
// secret — keys, key sets, claims, signer, verifier, their configurations —
// as a value and as a pointer, alone, in a struct and in a slice, with
// fmt, encoding/json and both slog handlers, and checks that no secret
// byte (nor its hex or base64) appears, while the non-secret identification
// (kid, algorithm, issuer, session hash) does.
func TestNothingSecretPrints(t *testing.T) {
	ec, ed, rs := ecKey(t), edKey(t), rsaOnce()
	hk, err := secretdata.NewHMACKey("hk-1", secretdata.HS256, redactHMAC)
	require.NoError(t, err)
	eck, err := secretdata.NewPrivateKey("ec-1", secretdata.ES256, ec)
	require.NoError(t, err)
	edk, err := secretdata.NewPrivateKey("ed-1", secretdata.EdDSA, ed)
	require.NoError(t, err)
	rsk, err := secretdata.NewPrivateKey("rs-1", secretdata.RS256, rs)
	require.NoError(t, err)
	enc, err := secretdata.NewEncryptionKey("enc-1", redactEncKey)
	require.NoError(t, err)
	rotated, err := hk.WithValidity(t0, t0.Add(time.Hour))
	require.NoError(t, err)

	claims := secretdata.Claims{
		Issuer: testIssuer, Audience: testAudience, Subject: redactSubject, SessionID: redactSession,
		IssuedAt: t0, ExpiresAt: t0.Add(5 * time.Minute), ID: testJTI,
		SecretData: map[string]any{
			secretdata.ClaimCustomerID:           redactCustID,
			secretdata.ClaimAuthenticationStatus: "S3CR3T-status",
			"S3CR3T_member_name":                 json.Number("4242"),
			"card":                               map[string]any{"pan": "S3CR3T-pan-4111"},
		},
	}
	signer := newSigner(t, hk, func(c *secretdata.SignerConfig) { c.Encryption = enc })
	ecSigner := newSigner(t, eck, nil)
	ecPub, err := secretdata.NewPublicKey("ec-1", secretdata.ES256, ec.Public())
	require.NoError(t, err)
	verifier := newVerifier(t, func(c *secretdata.VerifierConfig) { c.DecryptionKeys = []secretdata.EncryptionKey{enc} }, hk, ecPub, edk)
	signerCfg := secretdata.SignerConfig{Key: hk, Issuer: testIssuer, Audience: testAudience, Encryption: enc}
	verifierCfg := secretdata.VerifierConfig{Keys: []secretdata.Key{hk, eck, edk, rsk}, DecryptionKeys: []secretdata.EncryptionKey{enc}, Issuer: testIssuer, Audience: testAudience}

	keyMethods := allMethods
	rows := []redacttest.Row{
		row("hmac key", hk, []string{"hk-1", "HS256", cfgerr.Redacted}, keyMethods, keyMethods),
		row("hmac key with validity", rotated, []string{"hk-1", "HS256"}, keyMethods, keyMethods),
		row("ecdsa private key", eck, []string{"ec-1", "ES256", cfgerr.Redacted}, keyMethods, keyMethods),
		row("ed25519 private key", edk, []string{"ed-1", "EdDSA", cfgerr.Redacted}, keyMethods, keyMethods),
		row("rsa private key", rsk, []string{"rs-1", "RS256", cfgerr.Redacted}, keyMethods, keyMethods),
		row("public key", ecPub, []string{"ec-1", "ES256"}, keyMethods, keyMethods),
		{Name: "key set", Value: redacttest.Render([]secretdata.Key{hk, eck, edk, rsk}), Pointer: redacttest.Render([]*secretdata.Key{&hk, &eck, &edk, &rsk}),
			Want: []string{"hk-1", "ec-1", "ed-1", "rs-1"}},
		row("encryption key", enc, []string{"enc-1", cfgerr.Redacted}, keyMethods, keyMethods),
		row("claims", claims, []string{testIssuer, testAudience, idhash.Of(redactSession), cfgerr.Redacted},
			[]string{"String", "Format", "MarshalJSON"}, allMethods),
		row("claims without secret data", secretdata.Claims{Issuer: testIssuer, Audience: testAudience}, []string{testIssuer, testAudience},
			[]string{"String", "Format", "MarshalJSON"}, allMethods),
		row("signer config", signerCfg, []string{"hk-1", "enc-1"}, nil, nil),
		row("verifier config", verifierCfg, []string{"hk-1", "ec-1", "ed-1", "rs-1", "enc-1"}, nil, nil),
		// Keys in unexported fields: fmt cannot call their methods, but
		// their material sits behind a pointer and a closure.
		row("keys in unexported fields", struct {
			keys []secretdata.Key
			enc  secretdata.EncryptionKey
			cfg  secretdata.VerifierConfig
		}{[]secretdata.Key{hk, eck, edk, rsk}, enc, verifierCfg}, nil, nil, nil),
		ptrRow("hmac signer", signer, []string{"hk-1", "HS256", testIssuer, cfgerr.Redacted}, allMethods),
		ptrRow("ecdsa signer", ecSigner, []string{"ec-1", "ES256", testIssuer, cfgerr.Redacted}, allMethods),
		ptrRow("verifier", verifier, []string{"hk-1", "ec-1", "ed-1", testIssuer}, allMethods),
		// nil pointers print, encode and log without panicking.
		{Name: "nil claims", Pointer: redacttest.Render((*secretdata.Claims)(nil))},
		{Name: "nil signer", Pointer: redacttest.Render((*secretdata.Signer)(nil))},
		{Name: "nil verifier", Pointer: redacttest.Render((*secretdata.Verifier)(nil))},
	}

	var needles []string
	for _, b := range [][]byte{redactHMAC, redactEncKey, ec.D.Bytes(), ed.Seed(), rs.D.Bytes(), rs.Primes[0].Bytes()} {
		needles = append(needles, redacttest.Encodings(b)...)
	}
	for _, b := range [][]byte{ec.D.Bytes(), rs.D.Bytes(), rs.Primes[0].Bytes()} {
		needles = append(needles, new(big.Int).SetBytes(b).String()) // %v of a *big.Int
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	needles = append(needles, "S3CR3T", redactSession, base64.StdEncoding.EncodeToString(pkcs8)[40:80],
		hex.EncodeToString(ed.Seed()[:8]), hex.EncodeToString(ed25519.PrivateKey(ed)[:8]))

	for _, r := range rows {
		t.Run(r.Name, func(t *testing.T) { r.Check(t, needles, wantSkipped) })
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	require.NoError(t, err)
}
