package secretdata

import "crypto"

// Algorithm is a JWS signature algorithm (RFC 7518). Every Key is bound to
// exactly one Algorithm; a token is only checked with the algorithm bound to
// the key its kid selects, never with the algorithm its header asks for.
type Algorithm string

// Supported algorithms. "none" is not one of them and never will be.
const (
	HS256 Algorithm = "HS256" // HMAC-SHA256, secret ≥ 32 bytes
	HS384 Algorithm = "HS384" // HMAC-SHA384, secret ≥ 48 bytes
	HS512 Algorithm = "HS512" // HMAC-SHA512, secret ≥ 64 bytes
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 SHA-256, RSA ≥ 2048 bits
	PS256 Algorithm = "PS256" // RSASSA-PSS SHA-256 (salt = hash length), RSA ≥ 2048 bits
	ES256 Algorithm = "ES256" // ECDSA P-256 SHA-256
	EdDSA Algorithm = "EdDSA" // Ed25519
)

// hash returns the digest used by a, or 0 for algorithms that hash internally (EdDSA).
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
