package secretdata

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/json"
	"fmt"

	"github.com/msgsec/msgsec/cfgerr"
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
// exactly 32 bytes (the first 32 of GenerateSecret, say). Every problem is
// reported at once; the fields are "id" and "secret".
func NewEncryptionKey(id string, secret []byte) (EncryptionKey, error) {
	problems := checkKeyID(nil, id)
	if len(secret) != 32 {
		problems = append(problems, problem("secret", secretValue(len(secret) > 0), "a256gcm needs exactly 32 bytes"))
	}
	if err := cfgerr.Join("secretdata: invalid encryption key", problems); err != nil {
		return EncryptionKey{}, err
	}
	block, _ := aes.NewCipher(secret) // 32 bytes: cannot fail; copies the key schedule, secret is not retained
	aead, _ := cipher.NewGCM(block)   // the standard nonce and tag sizes: cannot fail
	return EncryptionKey{&encMaterial{id: id, aead: aead}}, nil
}

func (k EncryptionKey) isZero() bool { return k.m == nil }

func (k EncryptionKey) id() string {
	if k.m == nil {
		return ""
	}
	return k.m.id
}

// String describes the key without its secret.
func (k EncryptionKey) String() string {
	if k.m == nil {
		return "secretdata.EncryptionKey{}"
	}
	return fmt.Sprintf("secretdata.EncryptionKey{kid: %q, alg: dir, enc: A256GCM, secret: %s}", k.m.id, redacted)
}

// Format prints String for every verb.
func (k EncryptionKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalJSON emits the key ID only.
func (k EncryptionKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"kid": k.id(), "alg": "dir", "enc": "A256GCM", "secret": redacted})
}

const (
	gcmNonceSize = 12
	gcmTagSize   = 16
)
