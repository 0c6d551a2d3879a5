package delivery

import (
	"errors"
	"strconv"

	"github.com/msgsec/msgsec/cfgerr"
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
	// evicts a live session to make room. ErrStoreFull matches
	// ErrStoreUnavailable too (errors.Is), so whoever handles an
	// unavailable store handles a full one.
	ErrStoreFull error = storeFull{}
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

	// ErrConfig: a configuration, or an argument, was refused. Such an
	// error holds one *cfgerr.Error per problem, all reported at once
	// (walk them with cfgerr.All); each names the field, the offending
	// value (cfgerr.Redacted for a key) and why, and matches ErrConfig.
	ErrConfig = errors.New("delivery: invalid configuration")
)

// storeFull is ErrStoreFull's type: it also matches ErrStoreUnavailable.
type storeFull struct{}

func (storeFull) Error() string        { return "delivery: store full" }
func (storeFull) Is(target error) bool { return target == ErrStoreUnavailable }

// SendError reports a failed Client.Send or Client.Revoke. It wraps
// ErrRejected or ErrUnavailable, and the last network or context error
// (errors.Is sees both, for example ErrUnavailable and
// context.DeadlineExceeded). Its text names the connection, the session by
// its short keyed hash ("h:" and 12 hex digits, as in Event.Session), the
// status and the number of attempts; it never carries the token, the
// secret data or the session ID (the chat's credential), so it can be
// logged as it is.
type SendError struct {
	// StatusCode is the last HTTP status received, 0 if none (network
	// error): say 404 when the chat session is over, 401 when the chat
	// server does not accept this connection's key.
	StatusCode int

	connection string
	session    string // idhash.Of(session)
	attempts   int
	kind       error // ErrRejected or ErrUnavailable
	err        error // the last network or context error, may be nil
}

func (e *SendError) Error() string {
	msg := e.kind.Error() + ": connection " + strconv.Quote(e.connection) +
		" session " + strconv.Quote(e.session)
	if e.StatusCode != 0 {
		msg += ": status " + strconv.Itoa(e.StatusCode)
	}
	msg += " after " + strconv.Itoa(e.attempts) + " attempt"
	if e.attempts != 1 {
		msg += "s"
	}
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

// Unwrap returns ErrRejected or ErrUnavailable, and the last underlying
// error.
func (e *SendError) Unwrap() []error {
	if e.err == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.err}
}

// cfgProblem is one configuration or argument problem of this package.
func cfgProblem(field, value, reason string) *cfgerr.Error {
	return &cfgerr.Error{Field: field, Value: value, Reason: reason, Kind: ErrConfig}
}

// argErr refuses one argument of a call.
func argErr(field, reason string) error {
	return cfgerr.Join("delivery: invalid argument", []*cfgerr.Error{cfgProblem(field, "", reason)})
}
