package redispolicy

import (
	"errors"

	"github.com/msgsec/msgsec/policy"
)

// ErrConfig: New refused its Config. Such an error holds one
// *cfgerr.Error per problem, all reported at once (walk them with
// cfgerr.All).
var ErrConfig = errors.New("redispolicy: invalid configuration")

// unavailableError reports a Redis call that did not answer (network
// error, timeout, error reply). It matches policy.ErrUnavailable and wraps
// Redis's own error. It names the operation, never a document.
type unavailableError struct {
	op  string
	err error
}

func (e *unavailableError) Error() string {
	return "redispolicy: " + e.op + ": " + policy.ErrUnavailable.Error() + ": " + e.err.Error()
}

func (e *unavailableError) Unwrap() []error { return []error{policy.ErrUnavailable, e.err} }

func unavailable(op string, err error) error { return &unavailableError{op: op, err: err} }
