package redisstore

import (
	"errors"
)

// ErrConfig: NewReplayCache or NewStore refused its arguments. Such an
// error holds one *cfgerr.Error per problem, all reported at once (walk
// them with cfgerr.All): Field "client", "key", or a Config field; the key
// is never quoted.
var ErrConfig = errors.New("redisstore: invalid configuration")

// unavailableError reports a Redis call that did not answer (network
// error, timeout, Redis error reply). It wraps kind —
// secretdata.ErrReplayCheckUnavailable from a ReplayCache,
// delivery.ErrStoreUnavailable from a Store — and the underlying error, so
// errors.Is works for both. It never names a key, an ID or a value: op is
// the operation ("record", "put", "get", "delete").
type unavailableError struct {
	op   string
	kind error
	err  error
}

func (e *unavailableError) Error() string {
	return "redisstore: " + e.op + ": " + e.kind.Error() + ": " + e.err.Error()
}

func (e *unavailableError) Unwrap() []error { return []error{e.kind, e.err} }
