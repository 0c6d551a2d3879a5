package secretdata

import "crypto"

// Algorithm is a JWS signature algorithm (RFC 7518). Every Key is bound to
// exactly one Algorithm; a token is only checked with the algorithm bound to
// the key its kid selects, never with the algorithm its header asks for.
//
// Two names denote the same signature over the same key: EdDSA and Ed25519
// (RFC 9864 makes "Ed25519" the fully-specified name of EdDSA over
// Ed25519). A key bound to either accepts tokens marked with either; a
// Signer writes the name its key is bound to.
type Algorithm string

// Supported algorithms. "none" is not one of them and never will be.
const (
	HS256   Algorithm = "HS256"   // HMAC-SHA256, secret ≥ 32 bytes
	HS384   Algorithm = "HS384"   // HMAC-SHA384, secret ≥ 48 bytes
	HS512   Algorithm = "HS512"   // HMAC-SHA512, secret ≥ 64 bytes
	RS256   Algorithm = "RS256"   // RSASSA-PKCS1-v1_5 SHA-256, RSA ≥ 2048 bits
	PS256   Algorithm = "PS256"   // RSASSA-PSS SHA-256 (salt = hash length), RSA ≥ 2048 bits
	ES256   Algorithm = "ES256"   // ECDSA P-256 SHA-256
	EdDSA   Algorithm = "EdDSA"   // Ed25519 (the RFC 8037 name)
	Ed25519 Algorithm = "Ed25519" // Ed25519 (the RFC 9864 name): the same as EdDSA
)

// hash returns the digest used by a, or 0 for algorithms that hash
// internally (EdDSA, Ed25519).
func (a Algorithm) hash() crypto.Hash {
	switch a {
	case HS256, RS256, PS256, ES256:
		return crypto.SHA256
	case HS384:
		return crypto.SHA384
	case HS512:
		return crypto.SHA512
	}
	return 0
}

func (a Algorithm) isHMAC() bool { return a == HS256 || a == HS384 || a == HS512 }

func (a Algorithm) isEd25519() bool { return a == EdDSA || a == Ed25519 }

// accepts returns the algorithm a token whose header says alg is verified
// with under m, or false when m may not verify it. The answer is m's own
// algorithm, or: EdDSA ≡ Ed25519 over an Ed25519 key (one signature
// scheme, two names); and, for an RSA key from a JWKS that named no alg,
// RS256 or PS256 (see ParseJWKS). Nothing else: no "none", no HMAC with a
// public key, no other curve.
func (m *keyMaterial) accepts(alg []byte) (Algorithm, bool) {
	switch {
	case string(alg) == string(m.alg):
		return m.alg, true
	case m.alg.isEd25519() && (string(alg) == string(EdDSA) || string(alg) == string(Ed25519)):
		return m.alg, true
	case m.anyRSA && string(alg) == string(RS256):
		return RS256, true
	case m.anyRSA && string(alg) == string(PS256):
		return PS256, true
	}
	return "", false
}
