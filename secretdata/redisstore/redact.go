package redisstore

import (
	"encoding/json"
	"fmt"
	"strconv"
)

const redacted = "[redacted]"

// A Store holds the sealing key (inside its delivery.Sealer) and a Redis
// client (whose options may hold a password). It prints, encodes and logs
// as its prefix and timeout only, as a value and as a pointer; the sealer
// and the client sit behind pointers, so even reflection-based printing
// shows only addresses.

// String describes the store without its key or client.
func (st Store) String() string {
	return "redisstore.Store{prefix: " + strconv.Quote(st.s.prefix) + ", timeout: " + st.s.timeout.String() +
		", key: " + redacted + "}"
}

// Format prints String for every verb.
func (st Store) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(st.String())) }

// MarshalJSON emits the prefix and timeout only.
func (st Store) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Prefix  string `json:"prefix"`
		Timeout string `json:"timeout"`
		Key     string `json:"key"`
	}{st.s.prefix, st.s.timeout.String(), redacted})
}
