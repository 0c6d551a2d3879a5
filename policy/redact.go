package policy

import (
	"encoding/json"
	"fmt"

	"github.com/msgsec/msgsec/secretdata"
)

// A Compiled prints, encodes and logs as its connection ID, mode and key
// IDs, never key material, as a value and as a pointer (these methods have
// value receivers; String, on the pointer, is the same text as Format).
// Secret, SecretRef, KeyConfig, ConnectionPolicy and File redact through
// Secret and SecretRef, whose methods take values too.

// Format prints String for every verb, so %x or %d cannot walk into the
// compiled keys.
func (p Compiled) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(p.String())) }

// keyIDs lists the keys as kid/alg.
func (p Compiled) keyIDs() []string {
	out := make([]string, len(p.keys))
	for i, k := range p.keys {
		out[i] = k.ID() + "/" + string(k.Algorithm())
	}
	return out
}

// MarshalJSON emits the connection ID, the mode and each key's kid, alg and
// type (secrets redacted).
func (p Compiled) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID   string           `json:"id"`
		Mode Mode             `json:"mode"`
		Keys []secretdata.Key `json:"keys"`
	}{p.cfg.ID, p.cfg.mode(), p.keys})
}

// MarshalYAML emits the connection ID, the mode and the keys as kid/alg.
func (p Compiled) MarshalYAML() (any, error) {
	return struct {
		ID   string   `yaml:"id"`
		Mode Mode     `yaml:"mode"`
		Keys []string `yaml:"keys"`
	}{p.cfg.ID, p.cfg.mode(), p.keyIDs()}, nil
}
