package secretdata

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/msgsec/msgsec/internal/idhash"
)

// Well-known members of the customer_secret_data claim.
const (
	ClaimAuthenticationStatus = "authentication_status"
	ClaimCustomerID           = "customer_id"
)

// Claims is the content of a CustomerSecretData token.
//
// On Sign, Issuer and Audience come from the SignerConfig (if set here they
// must agree), and IssuedAt, ExpiresAt and ID are set by the Signer (they
// must be zero here). On Verify, every field is filled from the token.
//
// Claims print, encode and log redacted, as values and as pointers:
// issuer, audience and expiry in clear; the subject (often the customer ID)
// and the secret-data members never, only whether a subject is present and
// how many members there are; the session ID (a chat's credential) only as
// a short keyed hash (see internal/idhash). String, Format (every fmt verb,
// and slog's text handler) and MarshalJSON (slog's JSON handler) have value
// receivers, so a Claims value redacts too.
//
// Only a Claims reached through an exported field, a slice, a map or an
// interface can be redacted: fmt does not call methods on what an
// unexported struct field holds, and prints it field by field — a *Claims
// too, under a verb that does not fit a pointer (%s, %d). Do not keep
// Claims in an unexported field of anything that may be printed.
type Claims struct {
	Issuer    string    // iss: the bank backend
	Subject   string    // sub: the customer (optional)
	Audience  string    // aud: the connection ID
	IssuedAt  time.Time // iat
	ExpiresAt time.Time // exp
	NotBefore time.Time // nbf (optional, zero when absent)
	ID        string    // jti: ≥ 128 random bits, the replay-cache key
	SessionID string    // sid: the chat session this token is bound to (optional)

	// SecretData is the customer_secret_data object, of the bank's choosing.
	// Verified numbers are json.Number (no float64 precision loss).
	SecretData map[string]any

	// MisplacedClaims is set by Verify when the token has no
	// customer_secret_data but carries top-level claims that are not
	// registered ones (iss, sub, aud, exp, nbf, iat, jti, sid): customer
	// data sent in the wrong place, such as a top-level customer_id. It
	// holds their names (never their values), in token order, at most 16.
	// Report it: SecretData is then empty. (A Verifier with
	// RefuseMisplacedSecretData refuses such a token instead.) Ignored by
	// Sign.
	MisplacedClaims []string
}

// AuthenticationStatus returns customer_secret_data.authentication_status if
// it is present and a string.
func (c *Claims) AuthenticationStatus() (string, bool) {
	return c.secretString(ClaimAuthenticationStatus)
}

// CustomerID returns customer_secret_data.customer_id if it is present and a
// string.
func (c *Claims) CustomerID() (string, bool) { return c.secretString(ClaimCustomerID) }

func (c *Claims) secretString(name string) (string, bool) {
	if c == nil || c.SecretData == nil {
		return "", false
	}
	s, ok := c.SecretData[name].(string)
	return s, ok
}

// String describes the claims without the subject, the session ID or the
// secret data.
func (c Claims) String() string {
	b := make([]byte, 0, 160)
	b = append(b, "secretdata.Claims{iss: "...)
	b = strconv.AppendQuote(b, c.Issuer)
	b = append(b, ", aud: "...)
	b = strconv.AppendQuote(b, c.Audience)
	b = append(b, ", exp: "...)
	b = c.ExpiresAt.UTC().AppendFormat(b, time.RFC3339)
	if c.Subject != "" {
		b = append(b, ", sub: "+redacted...)
	}
	if c.SessionID != "" {
		b = append(b, ", sid: "...)
		b = append(b, idhash.Of(c.SessionID)...)
	}
	b = append(b, ", secret_data: "...)
	b = append(b, c.secretDataSummary()...)
	return string(append(b, '}'))
}

// secretDataSummary names how many members the secret data has, never
// which or what.
func (c Claims) secretDataSummary() string {
	if c.SecretData == nil {
		return "none"
	}
	if len(c.SecretData) == 1 {
		return redacted + " (1 member)"
	}
	return redacted + " (" + strconv.Itoa(len(c.SecretData)) + " members)"
}

// Format prints String for every verb, so secret data never reaches a log
// line through fmt (%x and %q included).
func (c Claims) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// MarshalJSON emits the redacted form: iss, aud, exp, and markers for the
// subject, session and secret data. Claims is not a wire format (the
// token is); nothing reads this back.
func (c Claims) MarshalJSON() ([]byte, error) {
	v := struct {
		Issuer     string    `json:"iss"`
		Audience   string    `json:"aud"`
		ExpiresAt  time.Time `json:"exp"`
		Subject    string    `json:"sub,omitempty"`
		SessionID  string    `json:"sid,omitempty"`
		SecretData string    `json:"customer_secret_data"`
		Members    int       `json:"customer_secret_data_members"`
	}{Issuer: c.Issuer, Audience: c.Audience, ExpiresAt: c.ExpiresAt.UTC(),
		SessionID: idhash.Of(c.SessionID), SecretData: redacted, Members: len(c.SecretData)}
	if c.Subject != "" {
		v.Subject = redacted
	}
	if c.SecretData == nil {
		v.SecretData = "none"
	}
	return json.Marshal(v)
}
