package policy

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

const redacted = "[REDACTED]"

// Secret holds key material. Every way of printing, encoding or logging it
// yields "[REDACTED]"; only Bytes reveals it. The bytes sit behind a func,
// so even reflection-based printing of a struct that holds a Secret in an
// unexported field (which bypasses String and Format) shows only an
// address.
type Secret struct {
	get func() []byte
}

// newSecret wraps a copy of b.
func newSecret(b []byte) Secret {
	if len(b) == 0 {
		return Secret{}
	}
	own := append([]byte(nil), b...)
	return Secret{get: func() []byte { return own }}
}

// Bytes returns the secret itself. Do not log it.
func (s Secret) Bytes() []byte {
	if s.get == nil {
		return nil
	}
	return s.get()
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.get == nil }

func (s Secret) String() string { return redacted }

// Format makes every fmt verb print "[REDACTED]".
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (s Secret) MarshalYAML() (any, error)    { return redacted, nil }

// UnmarshalYAML reads an inline secret value as text; it is decoded
// according to the reference's encoding when the policy is resolved.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a secret value must be a string", n.Line)
	}
	*s = newSecret([]byte(n.Value))
	return nil
}

// SecretRef says where a secret comes from: an environment variable, a
// file, or (only with InsecureInline, for development) the policy file
// itself. The text found there, without surrounding whitespace, is turned
// into key bytes as Encoding says.
type SecretRef struct {
	Env            string `yaml:"env,omitempty" json:"env,omitempty"`
	File           string `yaml:"file,omitempty" json:"file,omitempty"`
	Value          Secret `yaml:"value,omitempty" json:"value,omitzero"`
	InsecureInline bool   `yaml:"insecure_inline,omitempty" json:"insecure_inline,omitempty"`
	// Sealed is a secret as a policy [Store] keeps it: AES-256-GCM-sealed
	// under the store's sealing key, bound to its connection and key ID.
	// The Store writes it; it opens only when the policy is read through a
	// Store with that key (a policy file with a sealed secret is refused
	// by Load).
	Sealed string `yaml:"sealed,omitempty" json:"sealed,omitempty"`
	// Encoding says how the text becomes key bytes: "raw" uses the text's
	// own (UTF-8) bytes, as every JWT library does with a string secret;
	// "base64url" (padding optional), "base64" and "hex" decode it. An
	// HMAC secret defaults to raw: the string `msgsec secret new` prints
	// is the secret. A decryption key defaults to base64url (32 bytes are
	// 43 characters), a public key to raw (PEM text). Load fills in the
	// default.
	Encoding string `yaml:"encoding,omitempty" json:"encoding,omitempty"`

	resolved Secret
}

// String describes where the secret comes from, never its value.
func (r SecretRef) String() string {
	switch {
	case r.Env != "":
		return "env:" + r.Env
	case r.File != "":
		return "file:" + r.File
	case !r.Value.IsZero():
		return "inline:" + redacted
	case r.Sealed != "":
		return "sealed:" + redacted
	case !r.resolved.IsZero():
		return "memory:" + redacted
	}
	return "unset"
}

func (r SecretRef) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

func (r *SecretRef) sources() int {
	return btoi(r.Env != "") + btoi(r.File != "") + btoi(!r.Value.IsZero()) + btoi(r.Sealed != "")
}
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// secretValue returns the decoded secret after Load; the zero Secret before.
func (r *SecretRef) secretValue() Secret { return r.resolved }

// decodeSecret turns the text found at a reference into bytes.
func decodeSecret(text, encoding string) ([]byte, error) {
	text = strings.TrimSpace(text)
	switch encoding {
	case encBase64URL:
		text = strings.TrimRight(text, "=")
		return base64.RawURLEncoding.Strict().DecodeString(text)
	case encBase64:
		return base64.StdEncoding.Strict().DecodeString(text)
	case encHex:
		return hex.DecodeString(text)
	case encRaw:
		return []byte(text), nil
	}
	return nil, errUnknownEncoding
}

// The encodings a SecretRef may name.
const (
	encRaw       = "raw"
	encBase64URL = "base64url"
	encBase64    = "base64"
	encHex       = "hex"
)

var errUnknownEncoding = errors.New(`unknown encoding (want raw, base64url, base64 or hex)`)

// hmacHint is what a bad signature on an HMAC key says about the secret:
// how this policy turned its text into key bytes, and what to check on the
// bank's side. It never holds the secret.
func hmacHint(kid, encoding string) string {
	switch encoding {
	case "":
		return "" // built in code (SecretBytes): the bytes are the key
	case encRaw:
		return "HMAC key " + kid + ": the secret is used as its text bytes (encoding raw, the default); " +
			"if your backend base64url-decodes it, sign with the string itself, or set encoding: base64url on both sides"
	}
	return "HMAC key " + kid + ": the secret is " + encoding + "-decoded (encoding " + encoding + "); " +
		"if your backend signs with the string itself, remove encoding: " + encoding + " (the default uses the text as is)"
}

// SecretBytes makes a reference to a secret held in memory, for policies
// built in code rather than loaded from a file.
func SecretBytes(b []byte) *SecretRef {
	return &SecretRef{resolved: newSecret(b)}
}
