package secretdata

import (
	"fmt"
	"log/slog"
	"time"
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

// String describes the claims without the subject or the secret data.
func (c *Claims) String() string {
	if c == nil {
		return "<nil>"
	}
	return fmt.Sprintf("secretdata.Claims{iss: %q, aud: %q, exp: %s, secret_data: %s}",
		c.Issuer, c.Audience, c.ExpiresAt.UTC().Format(time.RFC3339), redacted)
}

// Format prints String for every verb, so secret data never reaches a log
// line through fmt.
func (c *Claims) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue implements slog.LogValuer: issuer, audience, expiry and the names
// (not values) of the secret-data members.
func (c *Claims) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(
		slog.String("iss", c.Issuer),
		slog.String("aud", c.Audience),
		slog.Time("exp", c.ExpiresAt),
		slog.String("secret_data", redacted),
	)
}
