package policy

import (
	"encoding/base64"
	"encoding/hex"
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
// itself. The text found there is decoded with Encoding.
type SecretRef struct {
	Env            string `yaml:"env,omitempty" json:"env,omitempty"`
	File           string `yaml:"file,omitempty" json:"file,omitempty"`
	Value          Secret `yaml:"value,omitempty" json:"value,omitzero"`
	InsecureInline bool   `yaml:"insecure_inline,omitempty" json:"insecure_inline,omitempty"`
	// Encoding of the text: "base64url" (the default, what `msgsec secret
	// new` prints; padding optional), "base64", "hex" or "raw".
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
	case !r.resolved.IsZero():
		return "memory:" + redacted
	}
	return "unset"
}

func (r SecretRef) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

func (r *SecretRef) sources() int {
	return btoi(r.Env != "") + btoi(r.File != "") + btoi(!r.Value.IsZero())
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
	case "", "base64url":
		text = strings.TrimRight(text, "=")
		return base64.RawURLEncoding.Strict().DecodeString(text)
	case "base64":
		return base64.StdEncoding.Strict().DecodeString(text)
	case "hex":
		return hex.DecodeString(text)
	case "raw":
		return []byte(text), nil
	}
	return nil, fmt.Errorf("unknown encoding %q (want base64url, base64, hex or raw)", encoding)
}

// SecretBytes makes a reference to a secret held in memory, for policies
// built in code rather than loaded from a file.
func SecretBytes(b []byte) *SecretRef {
	return &SecretRef{resolved: newSecret(b)}
}
