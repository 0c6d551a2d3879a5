package delivery

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/msgsec/msgsec/internal/idhash"
)

// The redacting methods below have value receivers, so values and
// pointers print the same. They never show a key, a sealed byte or a
// session ID.

const redacted = "[redacted]"

// String names the cipher, never the key.
func (s Sealer) String() string { return "delivery.Sealer{aead: AES-256-GCM, key: " + redacted + "}" }

// Format prints String for every verb.
func (s Sealer) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON emits the cipher's name only.
func (s Sealer) MarshalJSON() ([]byte, error) {
	return []byte(`{"aead":"AES-256-GCM","key":"` + redacted + `"}`), nil
}

// String describes the store by its bounds: never its key, its sessions
// or their data.
func (s MemoryStore) String() string {
	return "delivery.MemoryStore{max entries: " + strconv.Itoa(s.maxEntries) +
		", max bytes: " + strconv.Itoa(s.maxBytes) + ", key: " + redacted + "}"
}

// Format prints String for every verb.
func (s MemoryStore) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// MarshalJSON emits the bounds only.
func (s MemoryStore) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		MaxEntries int    `json:"max_entries"`
		MaxBytes   int    `json:"max_bytes"`
		Key        string `json:"key"`
	}{s.maxEntries, s.maxBytes, redacted})
}

// scrubError returns err unchanged unless its text names the session (a
// store or session lookup may quote its key, or a URL): then an error with
// the same chain (errors.Is and errors.As see err) whose text carries the
// session's hash instead, so the ID cannot reach a log through Event.Err.
func scrubError(err error, session string) error {
	if err == nil || session == "" {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, session) {
		return err
	}
	return &scrubbedError{msg: strings.ReplaceAll(msg, session, idhash.Of(session)), err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// Format prints the scrubbed text for every verb (%#v would otherwise
// show the wrapped error's fields).
func (e *scrubbedError) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(e.msg)) }
