package secretdata

import "errors"

// Sentinel errors, for errors.Is. Every error returned by Verify wraps exactly
// one of the token sentinels; the HTTP layer should map them all to a single
// "invalid token" answer (and ErrReplayCheckUnavailable to 503), never echo them.
var (
	// ErrMalformed: the token is not a well-formed compact JWS/JWE we accept
	// (size, segments, base64, JSON, forbidden header).
	ErrMalformed = errors.New("secretdata: malformed token")
	// ErrSignature: the signature (or JWE tag) does not verify, or the header
	// names an algorithm other than the one bound to the key.
	ErrSignature = errors.New("secretdata: invalid signature")
	// ErrExpired: exp (plus leeway) has passed.
	ErrExpired = errors.New("secretdata: token expired")
	// ErrNotYetValid: nbf or iat lies in the future (beyond the leeway).
	ErrNotYetValid = errors.New("secretdata: token not yet valid")
	// ErrClaims: a required claim is missing, has the wrong type, or the wrong value.
	ErrClaims = errors.New("secretdata: invalid claims")
	// ErrReplayed: the (issuer, jti) pair was already accepted once.
	ErrReplayed = errors.New("secretdata: token replayed")
	// ErrReplayCheckUnavailable: the replay cache could not answer (backend
	// down, in-memory cache full). The token is refused; callers may map this
	// to 503 rather than 401.
	ErrReplayCheckUnavailable = errors.New("secretdata: replay check unavailable")
	// ErrUnknownKey: no key matches the token's kid, or the key is not active.
	ErrUnknownKey = errors.New("secretdata: unknown key")
	// ErrKeyConfig: a key was refused at construction (short secret, weak RSA,
	// algorithm that does not fit the key type, …).
	ErrKeyConfig = errors.New("secretdata: invalid key configuration")
	// ErrConfig: a SignerConfig or VerifierConfig was refused at construction.
	ErrConfig = errors.New("secretdata: invalid configuration")
)

// TokenError carries the details of a rejected token. It never contains token
// contents: Field names a header parameter or claim, Reason is a fixed phrase.
type TokenError struct {
	Kind   error  // one of the sentinel errors above
	Field  string // header parameter or claim name, may be empty
	Reason string // fixed, lowercase description
	Err    error  // underlying error (for example from a ReplayCache), may be nil
}

func (e *TokenError) Error() string {
	msg := e.Kind.Error()
	if e.Field != "" {
		msg += ": " + e.Field
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap returns the sentinel and the underlying error, so errors.Is works
// for both.
func (e *TokenError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// ConfigError reports a refused key or configuration, naming the field.
type ConfigError struct {
	Kind   error // ErrKeyConfig or ErrConfig
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return e.Kind.Error() + ": " + e.Field + ": " + e.Reason
}

func (e *ConfigError) Unwrap() error { return e.Kind }

func tokenErr(kind error, field, reason string) error {
	return &TokenError{Kind: kind, Field: field, Reason: reason}
}

func keyErr(field, reason string) error {
	return &ConfigError{Kind: ErrKeyConfig, Field: field, Reason: reason}
}

func configErr(field, reason string) error {
	return &ConfigError{Kind: ErrConfig, Field: field, Reason: reason}
}
