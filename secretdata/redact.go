package secretdata

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Signer and Verifier are always used through pointers, and hold sync.Pools
// (which must not be copied), so their redacting methods have pointer
// receivers. Their key material sits behind pointers and closures anyway: a
// copied value, printed by reflection, shows addresses, never a secret.

// String describes the signer: kid, algorithm, issuer and audience.
func (s *Signer) String() string {
	if s == nil {
		return "<nil>"
	}
	b := make([]byte, 0, 128)
	b = append(b, "secretdata.Signer{kid: "...)
	b = strconv.AppendQuote(b, s.key.id)
	b = append(b, ", alg: "...)
	b = append(b, s.key.alg...)
	b = append(b, ", iss: "...)
	b = strconv.AppendQuote(b, s.issuer)
	b = append(b, ", aud: "...)
	b = strconv.AppendQuote(b, s.audience)
	if !s.enc.isZero() {
		b = append(b, ", jwe kid: "...)
		b = strconv.AppendQuote(b, s.enc.id())
	}
	return string(append(b, ", secret: "+redacted+"}"...))
}

// Format prints String for every verb.
func (s *Signer) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON emits kid, alg, iss and aud.
func (s *Signer) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("null"), nil
	}
	return json.Marshal(struct {
		ID       string    `json:"kid"`
		Alg      Algorithm `json:"alg"`
		Issuer   string    `json:"iss"`
		Audience string    `json:"aud"`
		JWE      string    `json:"jwe_kid,omitempty"`
		Secret   string    `json:"secret"`
	}{s.key.id, s.key.alg, s.issuer, s.audience, s.enc.id(), redacted})
}

// keyList names the verifier's keys as kid/alg, sorted.
func (v *Verifier) keyList() []string {
	out := make([]string, 0, len(v.keys))
	for _, vk := range v.keys {
		out = append(out, vk.m.id+"/"+string(vk.m.alg))
	}
	slices.Sort(out)
	return out
}

// String describes the verifier: issuer, audience, key IDs and algorithms,
// whether a JWKS and decryption keys are configured.
func (v *Verifier) String() string {
	if v == nil {
		return "<nil>"
	}
	b := make([]byte, 0, 128)
	b = append(b, "secretdata.Verifier{iss: "...)
	b = strconv.AppendQuote(b, v.issuer)
	b = append(b, ", aud: "...)
	b = strconv.AppendQuote(b, v.audience)
	b = append(b, ", keys: ["...)
	b = append(b, strings.Join(v.keyList(), " ")...)
	b = append(b, ']')
	if v.remote != nil {
		b = append(b, ", jwks: true"...)
	}
	if len(v.dec) > 0 {
		b = append(b, ", jwe keys: "...)
		b = strconv.AppendInt(b, int64(len(v.dec)), 10)
	}
	return string(append(b, '}'))
}

// Format prints String for every verb.
func (v *Verifier) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(v.String())) }

// MarshalJSON emits iss, aud and the kid/alg of each key.
func (v *Verifier) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	return json.Marshal(struct {
		Issuer   string   `json:"iss"`
		Audience string   `json:"aud"`
		Keys     []string `json:"keys"`
		JWKS     bool     `json:"jwks,omitempty"`
		JWEKeys  int      `json:"jwe_keys,omitempty"`
	}{v.issuer, v.audience, v.keyList(), v.remote != nil, len(v.dec)})
}
