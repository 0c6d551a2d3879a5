package delivery

import (
	"errors"
	"strconv"
)

// Sentinel errors, for errors.Is.
var (
	// ErrNotFound: the store holds no live secret data for the session
	// (never delivered, deleted, or expired).
	ErrNotFound = errors.New("delivery: no secret data for this session")
	// ErrStoreUnavailable: the store cannot answer (backend down, or full).
	// The Handler answers 503 and nothing is stored.
	ErrStoreUnavailable = errors.New("delivery: store unavailable")
	// ErrStoreFull: a bounded store is full of live sessions. It never
	// evicts a live session to make room; errors wrapping ErrStoreFull also
	// wrap ErrStoreUnavailable.
	ErrStoreFull = errors.New("delivery: store full")
	// ErrCorrupt: stored bytes do not open with the store's key for this
	// (connection, session): tampered, moved from another session, or
	// sealed under another key. The data is never returned.
	ErrCorrupt = errors.New("delivery: stored secret data cannot be opened")
	// ErrInvalidID: a connection or session ID is empty, too long, or has a
	// character outside the allowed set (see ValidID).
	ErrInvalidID = errors.New("delivery: invalid connection or session id")

	// ErrRejected: the chat server refused the delivery with a 4xx status
	// (or an unexpected 1xx/3xx). The Client does not retry it.
	ErrRejected = errors.New("delivery: rejected by the chat server")
	// ErrUnavailable: the chat server could not be reached, or answered 5xx,
	// on every attempt.
	ErrUnavailable = errors.New("delivery: chat server unavailable")

	// ErrConfig: a configuration was refused at construction.
	ErrConfig = errors.New("delivery: invalid configuration")
)

// FullError reports a bounded store that refused a new entry because it is
// full of live sessions. It wraps ErrStoreFull and ErrStoreUnavailable.
type FullError struct {
	MaxEntries int // the entry bound
	MaxBytes   int // the sealed-bytes bound
}

func (e *FullError) Error() string {
	return "delivery: store full (max " + strconv.Itoa(e.MaxEntries) + " entries, " +
		strconv.Itoa(e.MaxBytes) + " bytes)"
}

// Unwrap returns ErrStoreFull and ErrStoreUnavailable.
func (e *FullError) Unwrap() []error { return []error{ErrStoreFull, ErrStoreUnavailable} }

// SendError reports a failed Client.Send. It names the delivery but never
// carries the token, the secret data or the session ID (the chat's
// credential), so it can be logged as it is.
type SendError struct {
	Connection string
	// Session is the session ID's short keyed hash ("h:" and 12 hex
	// digits, the same within the process; see Event.Session), not the ID.
	Session string
	// StatusCode is the last HTTP status received, 0 if none (network error).
	StatusCode int
	// Attempts is how many requests were made.
	Attempts int
	// Kind is ErrRejected or ErrUnavailable.
	Kind error
	// Err is the last underlying error (network or context), may be nil.
	Err error
}

func (e *SendError) Error() string {
	msg := e.Kind.Error() + ": connection " + strconv.Quote(e.Connection) +
		" session " + strconv.Quote(e.Session)
	if e.StatusCode != 0 {
		msg += ": status " + strconv.Itoa(e.StatusCode)
	}
	msg += " after " + strconv.Itoa(e.Attempts) + " attempt"
	if e.Attempts != 1 {
		msg += "s"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns Kind and Err, so errors.Is works for both (for example
// ErrUnavailable and context.DeadlineExceeded).
func (e *SendError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// ConfigError names a refused configuration field.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return "delivery: invalid configuration: " + e.Field + ": " + e.Reason
}

// Unwrap returns ErrConfig.
func (e *ConfigError) Unwrap() error { return ErrConfig }

func configErr(field, reason string) error { return &ConfigError{Field: field, Reason: reason} }
