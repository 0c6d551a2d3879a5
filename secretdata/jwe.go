package secretdata

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/json"
	"fmt"
	"log/slog"
)

// EncryptionKey is a 256-bit content-encryption key for JWE "dir" +
// "A256GCM" wrapping. Like Key it is immutable and never prints its secret.
// Use a different secret from any HMAC signing key.
type EncryptionKey struct{ m *encMaterial }

type encMaterial struct {
	id   string
	aead cipher.AEAD
}

// NewEncryptionKey returns a key for JWE dir + A256GCM. The secret must be
// exactly 32 bytes (see NewSecret; use its first 32 bytes).
func NewEncryptionKey(id string, secret []byte) (EncryptionKey, error) {
	if err := checkKeyID(id); err != nil {
		return EncryptionKey{}, err
	}
	if len(secret) != 32 {
		return EncryptionKey{}, keyErr("secret", "a256gcm needs exactly 32 bytes")
	}
	block, err := aes.NewCipher(secret) // copies the key schedule; secret is not retained
	if err != nil {
		return EncryptionKey{}, keyErr("secret", "aes setup failed")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return EncryptionKey{}, keyErr("secret", "gcm setup failed")
	}
	return EncryptionKey{&encMaterial{id: id, aead: aead}}, nil
}

// ID returns the key ID, sent as the JWE kid header.
func (k EncryptionKey) ID() string {
	if k.m == nil {
		return ""
	}
	return k.m.id
}

// IsZero reports whether k is the zero EncryptionKey.
func (k EncryptionKey) IsZero() bool { return k.m == nil }

// String describes the key without its secret.
func (k EncryptionKey) String() string {
	if k.m == nil {
		return "secretdata.EncryptionKey{}"
	}
	return fmt.Sprintf("secretdata.EncryptionKey{kid: %q, alg: dir, enc: A256GCM, secret: %s}", k.m.id, redacted)
}

// GoString is String.
func (k EncryptionKey) GoString() string { return k.String() }

// Format prints String for every verb.
func (k EncryptionKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalJSON emits the key ID only.
func (k EncryptionKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"kid": k.ID(), "alg": "dir", "enc": "A256GCM", "secret": redacted})
}

// LogValue implements slog.LogValuer without the secret.
func (k EncryptionKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", k.ID()), slog.String("enc", "A256GCM"), slog.String("secret", redacted))
}

const (
	gcmNonceSize = 12
	gcmTagSize   = 16
)
