// Package policyview is what package middleware reads of a compiled policy
// beyond its public accessors: values only the enforcement needs, kept out
// of package policy's API; and what the msgsec CLI reads of a connection
// to sign with a private key.
package policyview

import (
	"github.com/msgsec/msgsec/origin"
	"github.com/msgsec/msgsec/secretdata"
)

// View is a compiled policy's enforcement data. It is immutable.
type View struct {
	// TokenHeader names the header carrying the token ("" means
	// Authorization: Bearer).
	TokenHeader string
	// FrameAncestorsCSP is the widget pages' Content-Security-Policy value,
	// "" when frame_ancestors is off.
	FrameAncestorsCSP string
	// SecretDataRequired: requests must carry a valid token.
	SecretDataRequired bool
	// AllowCredentials: the policy turns CORS credentials on.
	AllowCredentials bool
	// Listed matches the origins the allowed domains name (every entry but
	// "*"); nil when credentials are off or nothing is named.
	Listed *origin.Matcher
}

// CredentialsFor reports whether a CORS answer to origin o may carry
// Access-Control-Allow-Credentials: true.
func (v *View) CredentialsFor(o string) bool { return v.Listed != nil && v.Listed.Allows(o) }

// Of returns the view of a *policy.Compiled. Package policy sets it in its
// init; nothing else may.
var Of func(compiled any) *View

// SignerBase returns what a Signer for a *policy.ConnectionPolicy needs
// besides its key: issuer, audience, maximum lifetime and (when the
// connection has decryption keys) Encryption. Package policy sets it in
// its init; nothing else may.
var SignerBase func(conn any) (secretdata.SignerConfig, error)
