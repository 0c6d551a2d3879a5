package secretdata_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/idhash"
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

// nest holds a value in each container fmt, json and slog walk into.
type nest[T any] struct {
	Field T
	Slice []T
	Map   map[string]T
	Any   any
}

type rendering struct {
	how, out string
	failed   bool // the encoder refused the value (json: a func field)
	nested   bool // in a struct or a slice
}

var redactVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}

// render prints v every way a program might: fmt verbs, json.Marshal, slog
// text and JSON handlers (as an attribute and inside a group), each for v
// itself, nested in a struct, and in a slice.
func render[T any](v T) []rendering {
	var out []rendering
	for _, form := range []struct {
		name string
		v    any
	}{
		{"plain", v},
		{"nested", nest[T]{Field: v, Slice: []T{v}, Map: map[string]T{"k": v}, Any: v}},
		{"slice", []T{v, v}},
	} {
		nested := form.name != "plain"
		for _, verb := range redactVerbs {
			out = append(out, rendering{how: form.name + " " + verb, out: fmt.Sprintf(verb, form.v), nested: nested})
		}
		b, err := json.Marshal(form.v)
		if err != nil {
			out = append(out, rendering{how: form.name + " json", out: err.Error(), failed: true, nested: nested})
		} else {
			out = append(out, rendering{how: form.name + " json", out: string(b), nested: nested})
		}
		for name, mk := range map[string]func(*bytes.Buffer) slog.Handler{
			"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			l := slog.New(mk(&buf))
			l.Info("m", slog.Any("x", form.v))
			l.Info("m", slog.Group("g", slog.Any("x", form.v)))
			s := buf.String()
			out = append(out, rendering{how: form.name + " " + name, out: s, failed: strings.Contains(s, "!ERROR"), nested: nested})
		}
	}
	return out
}

// encodings returns b and the ways it is commonly printed.
func encodings(b []byte) []string {
	out := []string{
		string(b), hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
		strings.Trim(fmt.Sprint(b[:8]), "[]"), // %v of a []byte
	}
	if len(b) >= 16 {
		out = append(out, hex.EncodeToString(b[:16]), base64.RawURLEncoding.EncodeToString(b[:15]),
			base64.StdEncoding.EncodeToString(b[:15]))
	}
	if len(b) >= 4 { // a key schedule printed as words
		out = append(out, strconv.FormatUint(uint64(binary.BigEndian.Uint32(b)), 10),
			strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b)), 10))
	}
	return out
}

type redactRow struct {
	name string
	// forms are the renderings of the value and of the pointer.
	value, pointer []rendering
	// want must appear in every rendering that did not fail: the redacted
	// form still identifies the thing (kid, algorithm, issuer, hash). For a
	// pointer to a type without methods of its own, only where fmt follows
	// the pointer (not nested: there it prints an address).
	want []string
	// wantValue: the value renderings are checked for want too (false for
	// types only ever used by pointer, whose copies are printed by
	// reflection and only checked for leaks).
	wantValue bool
	// methods each form must have: any of String, GoString, Format,
	// MarshalJSON, LogValue.
	valueMethods, pointerMethods []string
	valueAny, pointerAny         any
}

// row renders v and &v.
func row[T any](name string, v T, want []string, valueMethods, pointerMethods []string) redactRow {
	p := &v
	return redactRow{name: name, value: render(v), pointer: render(p), want: want, wantValue: true,
		valueMethods: valueMethods, pointerMethods: pointerMethods, valueAny: v, pointerAny: p}
}

// ptrRow renders p and a copy of *p made by reflection (p's type holds a
// sync.Pool, which vet rightly forbids copying in code).
func ptrRow[T any](name string, p *T, want []string, pointerMethods []string) redactRow {
	cp := reflect.ValueOf(p).Elem().Interface()
	return redactRow{name: name, value: render(cp), pointer: render(p), want: want,
		pointerMethods: pointerMethods, pointerAny: p}
}

var allMethods = []string{"String", "GoString", "Format", "MarshalJSON", "LogValue"}

func hasMethod(v any, m string) bool {
	switch m {
	case "String":
		_, ok := v.(fmt.Stringer)
		return ok
	case "GoString":
		_, ok := v.(fmt.GoStringer)
		return ok
	case "Format":
		_, ok := v.(fmt.Formatter)
		return ok
	case "MarshalJSON":
		_, ok := v.(json.Marshaler)
		return ok
	case "LogValue":
		_, ok := v.(slog.LogValuer)
		return ok
	}
	panic(m)
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
	rows := []redactRow{
		row("hmac key", hk, []string{"hk-1", "HS256", cfgerr.Redacted}, keyMethods, keyMethods),
		row("hmac key with validity", rotated, []string{"hk-1", "HS256"}, keyMethods, keyMethods),
		row("ecdsa private key", eck, []string{"ec-1", "ES256", cfgerr.Redacted}, keyMethods, keyMethods),
		row("ed25519 private key", edk, []string{"ed-1", "EdDSA", cfgerr.Redacted}, keyMethods, keyMethods),
		row("rsa private key", rsk, []string{"rs-1", "RS256", cfgerr.Redacted}, keyMethods, keyMethods),
		row("public key", ecPub, []string{"ec-1", "ES256"}, keyMethods, keyMethods),
		{name: "key set", value: render([]secretdata.Key{hk, eck, edk, rsk}), pointer: render([]*secretdata.Key{&hk, &eck, &edk, &rsk}),
			want: []string{"hk-1", "ec-1", "ed-1", "rs-1"}, wantValue: true},
		row("encryption key", enc, []string{"enc-1", cfgerr.Redacted}, keyMethods, keyMethods),
		row("claims", claims, []string{testIssuer, testAudience, idhash.Of(redactSession), cfgerr.Redacted},
			[]string{"String", "GoString", "Format", "MarshalJSON"}, allMethods),
		row("claims without secret data", secretdata.Claims{Issuer: testIssuer, Audience: testAudience}, []string{testIssuer, testAudience},
			[]string{"String", "GoString", "Format", "MarshalJSON"}, allMethods),
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
		{name: "nil claims", pointer: render((*secretdata.Claims)(nil))},
		{name: "nil signer", pointer: render((*secretdata.Signer)(nil))},
		{name: "nil verifier", pointer: render((*secretdata.Verifier)(nil))},
	}

	var needles []string
	for _, b := range [][]byte{redactHMAC, redactEncKey, ec.D.Bytes(), ed.Seed(), rs.D.Bytes(), rs.Primes[0].Bytes()} {
		needles = append(needles, encodings(b)...)
	}
	for _, b := range [][]byte{ec.D.Bytes(), rs.D.Bytes(), rs.Primes[0].Bytes()} {
		needles = append(needles, new(big.Int).SetBytes(b).String()) // %v of a *big.Int
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	needles = append(needles, "S3CR3T", redactSession, base64.StdEncoding.EncodeToString(pkcs8)[40:80],
		hex.EncodeToString(ed.Seed()[:8]), hex.EncodeToString(ed25519.PrivateKey(ed)[:8]))

	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			for _, m := range r.valueMethods {
				assert.Truef(t, hasMethod(r.valueAny, m), "%T has no %s", r.valueAny, m)
			}
			for _, m := range r.pointerMethods {
				assert.Truef(t, hasMethod(r.pointerAny, m), "%T has no %s", r.pointerAny, m)
			}
			for _, f := range []struct {
				form       string
				renderings []rendering
				checkWant  bool
			}{{"value", r.value, r.wantValue}, {"pointer", r.pointer, true}} {
				for _, rd := range f.renderings {
					for _, n := range needles {
						if i := strings.Index(rd.out, n); i >= 0 {
							require.FailNowf(t, "a secret prints", "%s %s leaks %q: …%s…", f.form, rd.how, n, rd.out[max(0, i-60):min(len(rd.out), i+len(n)+20)])
						}
					}
					assert.NotContainsf(t, rd.out, "PANIC", "%s %s panicked", f.form, rd.how)
					assert.NotContainsf(t, rd.out, "panicked", "%s %s panicked", f.form, rd.how)
					if !f.checkWant || rd.failed || (f.form == "pointer" && rd.nested && len(r.pointerMethods) == 0) {
						continue
					}
					for _, w := range r.want {
						assert.Containsf(t, rd.out, w, "%s %s", f.form, rd.how)
					}
				}
			}
		})
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	require.NoError(t, err)
}
