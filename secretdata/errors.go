package secretdata

import (
	"errors"
	"unicode/utf8"

	"github.com/msgsec/msgsec/cfgerr"
)

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
	// ErrConfig: a key, a configuration (SignerConfig, VerifierConfig,
	// MemoryReplayCacheConfig, RemoteKeySetConfig), a JWKS document, or
	// the Claims given to Sign were refused. Such an error holds one
	// *cfgerr.Error per problem, all reported at once: walk them with
	// cfgerr.All; each names the field (a config field such as "Leeway"
	// or "Keys[1]", a constructor parameter such as "secret"), the
	// offending value (cfgerr.Redacted for secrets and key material) and
	// why, and matches ErrConfig.
	ErrConfig = errors.New("secretdata: invalid configuration")
)

// TokenError carries the details of a rejected token. It never contains token
// contents: Field names a header parameter or claim, Reason is a fixed phrase.
type TokenError struct {
	Kind   error  // one of the token sentinels above
	Field  string // header parameter or claim name, may be empty
	Reason string // fixed, lowercase description
	err    error  // underlying error (from a ReplayCache), reached by Unwrap
	hint   string // the key's hint on a bad signature (see internal/keyhint)
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

// Unwrap returns the sentinel and, when a ReplayCache failed, its error,
// so errors.Is and errors.As work for both.
func (e *TokenError) Unwrap() []error {
	if e.err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.err}
}

func tokenErr(kind error, field, reason string) error {
	return &TokenError{Kind: kind, Field: field, Reason: reason}
}

// problem is one configuration problem of this package. A long value is
// quoted only in part.
func problem(field, value, reason string) *cfgerr.Error {
	return &cfgerr.Error{Field: field, Value: clip(value), Reason: reason, Kind: ErrConfig}
}

// maxValueLen bounds how much of a value a problem quotes.
const maxValueLen = 64

// clip cuts v to at most maxValueLen bytes, at a rune boundary, marking
// the cut with an ellipsis.
func clip(v string) string {
	if len(v) <= maxValueLen {
		return v
	}
	cut := maxValueLen
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}

// secretValue is what a problem may quote of secret or key material:
// nothing, only whether there is some.
func secretValue(present bool) string {
	if present {
		return cfgerr.Redacted
	}
	return ""
}
