package redisstore

import "errors"

// ErrConfig: NewReplayCache or NewStore refused its arguments. Errors
// wrapping it are *ConfigError.
var ErrConfig = errors.New("redisstore: invalid configuration")

// ConfigError names the refused field and why.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return "redisstore: invalid configuration: " + e.Field + ": " + e.Reason
}

// Unwrap returns ErrConfig.
func (e *ConfigError) Unwrap() error { return ErrConfig }

func configErr(field, reason string) error { return &ConfigError{Field: field, Reason: reason} }

// UnavailableError reports a Redis call that did not answer (network
// error, timeout, Redis error reply). It wraps Kind —
// secretdata.ErrReplayCheckUnavailable from a ReplayCache,
// delivery.ErrStoreUnavailable from a Store — and the underlying error, so
// errors.Is works for both. It never names a key, an ID or a value: Op is
// the operation ("record", "put", "get", "delete").
type UnavailableError struct {
	Op   string
	Kind error
	Err  error
}

func (e *UnavailableError) Error() string {
	return "redisstore: " + e.Op + ": " + e.Kind.Error() + ": " + e.Err.Error()
}

// Unwrap returns Kind and Err.
func (e *UnavailableError) Unwrap() []error { return []error{e.Kind, e.Err} }
