package redispolicy

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// A Backend holds a Redis client, whose options may hold a password. It
// prints, encodes and logs as its prefix and timeout only.

// String describes the backend without its client.
func (b *Backend) String() string {
	return "redispolicy.Backend{prefix: " + strconv.Quote(b.s.prefix) + ", timeout: " + b.s.timeout.String() + "}"
}

// Format prints String for every verb.
func (b *Backend) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(b.String())) }

// MarshalJSON emits the prefix and timeout only.
func (b *Backend) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Prefix  string `json:"prefix"`
		Timeout string `json:"timeout"`
	}{b.s.prefix, b.s.timeout.String()})
}
