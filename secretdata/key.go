package secretdata

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/keyhint"
)

const (
	minRSABits   = 2048
	maxRSABits   = 8192
	maxKeyIDLen  = 256
	maxSecretLen = 4096
	redacted     = cfgerr.Redacted
)

// Key is one signing or verification key, bound to exactly one Algorithm.
// It is immutable and safe to share between a Signer and a Verifier and
// across goroutines. The zero Key is invalid.
//
// A Key never prints, marshals or logs its secret: String, Format (every
// fmt verb, and slog's text handler) and MarshalJSON (slog's JSON handler)
// all redact it. The material sits behind a pointer,
// so even reflection-based printing of a struct that holds a Key shows only
// an address.
type Key struct{ m *keyMaterial }

type keyMaterial struct {
	id  string
	alg Algorithm
	// secret is the HMAC secret, behind a closure: fmt can reach unexported
	// fields by reflection (for example through a bad verb on a struct that
	// holds a Key), but it can only ever print a func as an address.
	secret func() []byte    // HMAC only
	pub    crypto.PublicKey // asymmetric only: *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey
	// priv is the private key (private keys only), behind a closure for
	// the same reason: an ed25519.PrivateKey is a byte slice, which fmt
	// prints whenever it reaches the keyMaterial (a bad verb such as %s on
	// a struct holding a Key in an unexported field dereferences one
	// pointer).
	priv func() crypto.Signer
	// hint, when set (by package policy, through internal/keyhint), says
	// how the secret was derived from its text; a bad signature's reason
	// carries it. Never key material.
	hint        string
	notBefore   time.Time // zero: no lower bound
	retireAfter time.Time // zero: no upper bound
	// anyRSA marks an RSA key from a JWKS that named no alg: alg is RS256,
	// and PS256 tokens are accepted too (see ParseJWKS).
	anyRSA bool
	// noKid marks a JWKS key without kid: id is its RFC 7638 thumbprint,
	// and only a token without kid selects it (see ParseJWKS).
	noKid bool
}

// GenerateSecret returns 64 fresh random bytes (512 bits) from
// crypto/rand: an HMAC secret long enough for HS256, HS384 and HS512, and
// (its first 32 bytes) a key for NewEncryptionKey or a delivery store.
func GenerateSecret() []byte {
	b := make([]byte, 64)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return b
}

// NewHMACKey returns a key for HS256, HS384 or HS512. The secret must be at
// least as long as the hash output (32, 48, 64 bytes) and must not be a PEM
// or DER encoded public key (the classic RS256→HS256 confusion). The secret
// is copied. Every problem is reported at once (see ErrConfig); the
// fields are the parameters' names: "id", "alg", "secret".
func NewHMACKey(id string, alg Algorithm, secret []byte) (Key, error) {
	problems := checkKeyID(nil, id)
	hidden := secretValue(len(secret) > 0)
	switch {
	case !alg.isHMAC():
		problems = append(problems, problem("alg", string(alg), "not an hmac algorithm (HS256, HS384, HS512)"))
	case len(secret) < alg.hash().Size():
		problems = append(problems, problem("secret", hidden,
			"shorter than the hash size ("+strconv.Itoa(alg.hash().Size())+" bytes for "+string(alg)+")"))
	}
	if len(secret) > maxSecretLen {
		problems = append(problems, problem("secret", hidden, "longer than 4096 bytes"))
	}
	if looksLikePublicKey(secret) {
		problems = append(problems, problem("secret", hidden, "looks like an encoded public key"))
	}
	if err := cfgerr.Join("secretdata: invalid key", problems); err != nil {
		return Key{}, err
	}
	own := bytes.Clone(secret)
	return Key{&keyMaterial{id: id, alg: alg, secret: func() []byte { return own }}}, nil
}

// NewPublicKey returns a verification key. RS256 and PS256 need an
// *rsa.PublicKey of 2048 to 8192 bits, ES256 an *ecdsa.PublicKey on P-256,
// EdDSA or Ed25519 (two names of one algorithm) an ed25519.PublicKey (not
// of small order). Every problem is
// reported at once; the fields are "id", "alg", "pub".
func NewPublicKey(id string, alg Algorithm, pub crypto.PublicKey) (Key, error) {
	problems := checkKeyID(nil, id)
	problems = checkPublic(problems, alg, pub, "pub")
	if err := cfgerr.Join("secretdata: invalid key", problems); err != nil {
		return Key{}, err
	}
	return Key{&keyMaterial{id: id, alg: alg, pub: pub}}, nil
}

// NewPrivateKey returns a signing key (usable for verification too). The
// same algorithm/key-type rules as NewPublicKey apply to priv.Public().
// priv may be an HSM or KMS signer; for ES256 it must return ASN.1 DER
// signatures, as *ecdsa.PrivateKey does. Every problem is reported at
// once; the fields are "id", "alg", "priv".
func NewPrivateKey(id string, alg Algorithm, priv crypto.Signer) (Key, error) {
	problems := checkKeyID(nil, id)
	var pub crypto.PublicKey
	if priv == nil {
		problems = append(problems, problem("priv", "", "nil private key"))
		problems = checkAlgorithm(problems, alg)
	} else {
		pub = priv.Public()
		problems = checkPublic(problems, alg, pub, "priv")
	}
	if err := cfgerr.Join("secretdata: invalid key", problems); err != nil {
		return Key{}, err
	}
	return Key{&keyMaterial{id: id, alg: alg, pub: pub, priv: func() crypto.Signer { return priv }}}, nil
}

func checkKeyID(problems []*cfgerr.Error, id string) []*cfgerr.Error {
	if id == "" || len(id) > maxKeyIDLen {
		return append(problems, problem("id", id, "must be 1 to 256 bytes"))
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return append(problems, problem("id", id, "must be printable ascii without spaces"))
		}
	}
	return problems
}

// checkAlgorithm refuses an algorithm that no public or private key can
// be bound to.
func checkAlgorithm(problems []*cfgerr.Error, alg Algorithm) []*cfgerr.Error {
	switch alg {
	case RS256, PS256, ES256, EdDSA, Ed25519:
		return problems
	case HS256, HS384, HS512:
		return append(problems, problem("alg", string(alg), "hmac algorithms need NewHMACKey"))
	}
	return append(problems, problem("alg", string(alg), "unsupported algorithm (RS256, PS256, ES256, EdDSA, Ed25519)"))
}

// checkPublic checks that pub fits alg; field names the parameter that
// holds the key. The value is never quoted: it is key material.
func checkPublic(problems []*cfgerr.Error, alg Algorithm, pub crypto.PublicKey, field string) []*cfgerr.Error {
	n := len(problems)
	if problems = checkAlgorithm(problems, alg); len(problems) > n {
		return problems
	}
	bad := func(reason string) []*cfgerr.Error {
		return append(problems, problem(field, cfgerr.Redacted, reason))
	}
	switch alg {
	case RS256, PS256:
		k, ok := pub.(*rsa.PublicKey)
		if !ok || k == nil || k.N == nil {
			return bad("algorithm needs an rsa key")
		}
		if k.N.BitLen() < minRSABits || k.N.BitLen() > maxRSABits {
			return bad("rsa key must be 2048 to 8192 bits")
		}
		if k.E < 3 || k.E%2 == 0 {
			return bad("rsa public exponent must be odd and at least 3")
		}
	case ES256:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k == nil || k.Curve != elliptic.P256() {
			return bad("algorithm needs an ecdsa p-256 key")
		}
		if _, err := k.ECDH(); err != nil {
			return bad("ecdsa point is not on the curve")
		}
	case EdDSA, Ed25519:
		k, ok := pub.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return bad("algorithm needs an ed25519 key")
		}
		if ed25519SmallOrder(k) {
			return bad("ed25519 key of small order (forgeable)")
		}
	}
	return problems
}

// looksLikePublicKey reports whether a would-be HMAC secret is really a
// public key, which an attacker knows.
func looksLikePublicKey(secret []byte) bool {
	if bytes.Contains(secret, []byte("-----BEGIN")) {
		return true
	}
	if _, err := x509.ParsePKIXPublicKey(secret); err == nil {
		return true
	}
	if _, err := x509.ParsePKCS1PublicKey(secret); err == nil {
		return true
	}
	trimmed := bytes.TrimSpace(secret)
	if bytes.HasPrefix(trimmed, []byte("ssh-")) || bytes.HasPrefix(trimmed, []byte("ecdsa-sha2-")) {
		return true // an OpenSSH public key line
	}
	if bytes.HasPrefix(trimmed, []byte("{")) && bytes.Contains(trimmed, []byte(`"kty"`)) {
		return true // a JWK
	}
	return false
}

// ed25519SmallOrder reports whether an Ed25519 public key is a point of
// small order (or the identity), for which anyone can forge signatures that
// ed25519.Verify accepts. It maps the Edwards y coordinate to the
// Montgomery u = (1+y)/(1-y) and lets X25519 detect the low-order point:
// the clamped scalar is a multiple of the cofactor, so the shared secret is
// all zeros exactly for points of order dividing 8.
func ed25519SmallOrder(pub ed25519.PublicKey) bool {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	le := make([]byte, 32)
	copy(le, pub)
	le[31] &= 0x7f // drop the x sign bit
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		le[i], le[j] = le[j], le[i]
	}
	y := new(big.Int).SetBytes(le)
	y.Mod(y, p)
	one := big.NewInt(1)
	den := new(big.Int).Sub(one, y)
	den.Mod(den, p)
	if den.Sign() == 0 {
		return true // y = 1: the identity
	}
	u := new(big.Int).Add(one, y)
	u.Mul(u, new(big.Int).ModInverse(den, p))
	u.Mod(u, p)
	ub := u.FillBytes(make([]byte, 32))
	for i, j := 0, 31; i < j; i, j = i+1, j-1 {
		ub[i], ub[j] = ub[j], ub[i]
	}
	peer, err := ecdh.X25519().NewPublicKey(ub)
	if err != nil {
		return true
	}
	var scalar [32]byte
	scalar[0] = 1 // any private key: X25519 clamps it to a multiple of 8
	priv, err := ecdh.X25519().NewPrivateKey(scalar[:])
	if err != nil {
		return true
	}
	_, err = priv.ECDH(peer)
	return err != nil // all-zero output: low order
}

// WithValidity returns a copy of k that is only used between notBefore and
// retireAfter (either may be zero for "no bound"). A Signer refuses to sign
// with a key outside its window; a Verifier refuses tokens whose key is
// outside its window at verification time. This is how keys are rotated:
// publish the new key with a notBefore, retire the old one with retireAfter.
func (k Key) WithValidity(notBefore, retireAfter time.Time) (Key, error) {
	var problems []*cfgerr.Error
	if k.m == nil {
		problems = append(problems, problem("key", "", "zero key"))
	}
	if !notBefore.IsZero() && !retireAfter.IsZero() && !retireAfter.After(notBefore) {
		problems = append(problems, problem("retireAfter", retireAfter.UTC().Format(time.RFC3339),
			"must be after notBefore ("+notBefore.UTC().Format(time.RFC3339)+")"))
	}
	if err := cfgerr.Join("secretdata: invalid key", problems); err != nil {
		return Key{}, err
	}
	m := *k.m
	m.notBefore, m.retireAfter = notBefore, retireAfter
	return Key{&m}, nil
}

// Validity returns the window WithValidity set: its start and end, each
// zero when unbounded.
func (k Key) Validity() (notBefore, retireAfter time.Time) {
	if k.m == nil {
		return time.Time{}, time.Time{}
	}
	return k.m.notBefore, k.m.retireAfter
}

// public returns the verification half of k: k itself for HMAC and public
// keys, the public key for a private key.
func (k Key) public() Key {
	if k.m == nil || k.m.priv == nil {
		return k
	}
	m := *k.m
	m.priv = nil
	return Key{&m}
}

// ID returns the key ID, sent as the JWS kid header.
func (k Key) ID() string {
	if k.m == nil {
		return ""
	}
	return k.m.id
}

// Algorithm returns the one algorithm the key is bound to. An Ed25519 key
// also accepts tokens under the algorithm's other name (EdDSA ≡ Ed25519),
// and an RSA key from a JWKS that named no alg reports RS256 and also
// accepts PS256 (see ParseJWKS).
func (k Key) Algorithm() Algorithm {
	if k.m == nil {
		return ""
	}
	return k.m.alg
}

// CanSign reports whether k holds an HMAC secret or a private key.
func (k Key) CanSign() bool { return k.m != nil && (k.m.secret != nil || k.m.priv != nil) }

func (m *keyMaterial) activeAt(t time.Time) bool {
	if !m.notBefore.IsZero() && t.Before(m.notBefore) {
		return false
	}
	if !m.retireAfter.IsZero() && t.After(m.retireAfter) {
		return false
	}
	return true
}

func (k Key) kind() string {
	switch {
	case k.m == nil:
		return "zero"
	case k.m.secret != nil:
		return "hmac"
	case k.m.priv != nil:
		return "private"
	}
	return "public"
}

// String describes the key without its secret.
func (k Key) String() string {
	if k.m == nil {
		return "secretdata.Key{}"
	}
	alg := string(k.m.alg)
	if k.m.anyRSA {
		alg = "RS256|PS256"
	}
	s := fmt.Sprintf("secretdata.Key{kid: %q, alg: %s, type: %s", k.m.id, alg, k.kind())
	if k.m.noKid {
		s = fmt.Sprintf("secretdata.Key{kid: none (thumbprint %s), alg: %s, type: %s", k.m.id, alg, k.kind())
	}
	if k.m.secret != nil || k.m.priv != nil {
		s += ", secret: " + redacted
	}
	return s + "}"
}

// Format prints String for every verb, so %x or %q cannot reach the secret.
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalJSON emits kid, alg and type only.
func (k Key) MarshalJSON() ([]byte, error) {
	v := struct {
		ID     string    `json:"kid,omitempty"`
		Alg    Algorithm `json:"alg,omitempty"`
		Type   string    `json:"type"`
		Secret string    `json:"secret,omitempty"`
	}{ID: k.ID(), Alg: k.Algorithm(), Type: k.kind()}
	if k.CanSign() {
		v.Secret = redacted
	}
	return json.Marshal(v)
}

func init() {
	keyhint.With = func(key any, hint string) any {
		k := key.(Key)
		if k.m == nil {
			return k
		}
		m := *k.m
		m.hint = hint
		return Key{&m}
	}
	keyhint.Of = func(err error) string {
		var te *TokenError
		if errors.As(err, &te) {
			return te.hint
		}
		return ""
	}
}

// badSignature is the reason given when a signature made with the key
// does not verify.
func (m *keyMaterial) badSignature() string {
	if m.hint == "" {
		return "signature does not verify"
	}
	return "signature does not verify (" + m.hint + ")"
}
