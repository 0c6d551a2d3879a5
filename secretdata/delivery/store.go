package delivery

import (
	"context"
	"time"

	"github.com/msgsec/msgsec/secretdata"
)

// Store keeps the verified secret data of chat sessions, each under its
// (connection, session) pair, for a TTL. Implementations must be safe for
// concurrent use, keep the data encrypted at rest (seal it with a Sealer),
// and fail closed.
type Store interface {
	// Put stores claims for the session for ttl, replacing what the session had:
	// the bank may deliver again (say, after the customer logs in mid-chat).
	// A store that cannot answer, or is full, returns an error wrapping
	// ErrStoreUnavailable and keeps what it had.
	Put(ctx context.Context, connection, session string, claims *secretdata.Claims, ttl time.Duration) error
	// Get returns a copy of the session's claims, or an error wrapping
	// ErrNotFound (never stored, deleted or expired), ErrCorrupt (stored
	// bytes do not open for this session) or ErrStoreUnavailable.
	Get(ctx context.Context, connection, session string) (*secretdata.Claims, error)
	// Delete forgets the session's data; deleting what is not there is not
	// an error. The chat server calls it once when the session ends.
	Delete(ctx context.Context, connection, session string) error
}

// checkPut validates Put's arguments.
func checkPut(connection, session string, claims *secretdata.Claims, ttl time.Duration) error {
	if !ValidID(connection) || !ValidID(session) {
		return ErrInvalidID
	}
	if claims == nil {
		return argErr("claims", "nil")
	}
	if ttl <= 0 {
		return argErr("ttl", "must be positive")
	}
	return nil
}
