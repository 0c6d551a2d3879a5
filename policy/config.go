package policy

import (
	"time"

	"github.com/msgsec/msgsec/secretdata"
)

// DomainMatching selects how allowed-domain entries match.
type DomainMatching string

const (
	// MatchExact admits only what each entry names (the default).
	MatchExact DomainMatching = "exact"
	// MatchSameSite makes each entry admit every origin with its scheme and
	// registrable domain, on any port (see origin.SameSite).
	MatchSameSite DomainMatching = "same-site"
)

// Mode selects whether a policy blocks or only reports.
type Mode string

const (
	// ModeEnforce blocks what the policy forbids (the default).
	ModeEnforce Mode = "enforce"
	// ModeReportOnly blocks nothing and reports every would-be denial.
	ModeReportOnly Mode = "report-only"
)

// SecretDataRule says whether a chat request must carry CustomerSecretData.
type SecretDataRule string

const (
	// SecretDataRequired refuses requests without a valid token (the default).
	SecretDataRequired SecretDataRule = "required"
	// SecretDataOptional admits anonymous requests; a token, when present,
	// must still be valid.
	SecretDataOptional SecretDataRule = "optional"
)

// File is a policy file: a list of connections.
type File struct {
	Connections []ConnectionPolicy `yaml:"connections" json:"connections"`

	path      string
	lineIndex map[string]int
	// digest identifies the content a Store loaded (ids, versions,
	// documents), so a Registry following it skips unchanged resyncs.
	digest    [32]byte
	hasDigest bool
}

// ConnectionPolicy is one connection's security policy: its three parts
// (allowed domains, allowed cookies, keys) and the options around them.
type ConnectionPolicy struct {
	// ID names the connection in URLs and is the default token audience.
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name,omitempty" json:"name,omitempty"`

	// AllowedDomains lists origin patterns (see package origin). Empty, or
	// containing "*", means any website.
	AllowedDomains []string       `yaml:"allowed_domains" json:"allowed_domains"`
	DomainMatching DomainMatching `yaml:"domain_matching,omitempty" json:"domain_matching,omitempty"`
	// FrameAncestors, when true (the default), makes widget pages carry a
	// CSP frame-ancestors list built from AllowedDomains.
	FrameAncestors *bool `yaml:"frame_ancestors,omitempty" json:"frame_ancestors,omitempty"`
	// AllowCredentials, when true, answers CORS requests from the origins
	// AllowedDomains lists with Access-Control-Allow-Credentials: true, so
	// the browser may send the chat server's own cookies cross-origin.
	// Off by default (the widget sends none). Never sent to an origin the
	// policy does not list — not under "*" or an empty list (any website),
	// not in report-only mode.
	AllowCredentials bool `yaml:"allow_credentials,omitempty" json:"allow_credentials,omitempty"`

	// AllowedCookies lists cookie names ("page_viewed") or prefixes
	// ("cart_*") whose values may reach the chat.
	AllowedCookies []string `yaml:"allowed_cookies" json:"allowed_cookies"`
	// DangerouslyAllowSensitiveCookies lets names that usually carry
	// sessions or credentials into AllowedCookies.
	DangerouslyAllowSensitiveCookies bool `yaml:"dangerously_allow_sensitive_cookies,omitempty" json:"dangerously_allow_sensitive_cookies,omitempty"`

	// Keys verify CustomerSecretData tokens (the JWT secret and/or public
	// keys); JWKSURL adds public keys fetched from the bank.
	Keys    []KeyConfig `yaml:"keys,omitempty" json:"keys,omitempty"`
	JWKSURL string      `yaml:"jwks_url,omitempty" json:"jwks_url,omitempty"`
	// DecryptionKeys, when set, make the connection take CustomerSecretData
	// only as JWE (dir + A256GCM) around the signed token, so a token that
	// passes through a browser cannot be read there; a plain JWS is then
	// refused. A JWE without kid needs exactly one key. Several keys allow
	// rotation; SignerConfig encrypts with the first.
	DecryptionKeys []DecryptionKey `yaml:"decryption_keys,omitempty" json:"decryption_keys,omitempty"`
	Token          TokenRules      `yaml:"token,omitempty" json:"token,omitempty"`

	Mode Mode `yaml:"mode,omitempty" json:"mode,omitempty"`
}

// KeyConfig is one verification key.
type KeyConfig struct {
	// ID is the key's "kid".
	ID string `yaml:"id" json:"id"`
	// Algorithm is bound to the key: HS256 (default), HS384, HS512, RS256,
	// PS256, ES256, EdDSA or Ed25519 (RFC 9864's name for EdDSA over
	// Ed25519: either name accepts tokens marked with the other).
	Algorithm string `yaml:"algorithm,omitempty" json:"algorithm,omitempty"`
	// Secret is the HMAC secret (HS* algorithms).
	Secret *SecretRef `yaml:"secret,omitempty" json:"secret,omitempty"`
	// PublicKey is a PEM public key (asymmetric algorithms); not secret,
	// but referenced the same way.
	PublicKey *SecretRef `yaml:"public_key,omitempty" json:"public_key,omitempty"`
	// Created records when the key was made (informational: an admin
	// console lists it; it does not bound anything).
	Created *time.Time `yaml:"created,omitempty" json:"created,omitempty"`
	// NotBefore and RetireAfter bound when the key is accepted (rotation).
	NotBefore   *time.Time `yaml:"not_before,omitempty" json:"not_before,omitempty"`
	RetireAfter *time.Time `yaml:"retire_after,omitempty" json:"retire_after,omitempty"`
}

// DecryptionKey is one JWE content-encryption key (dir + A256GCM): 32
// random bytes, shared with the bank backend like an HMAC secret. Its
// secret's encoding defaults to base64url (43 characters; `msgsec secret
// new --jwe` prints one). Use a different secret from every HMAC key.
type DecryptionKey struct {
	// ID is the JWE header's kid.
	ID     string     `yaml:"id" json:"id"`
	Secret *SecretRef `yaml:"secret" json:"secret"`
}

// TokenRules are the CustomerSecretData verification rules.
type TokenRules struct {
	// Issuer is the required "iss" (the bank backend).
	Issuer string `yaml:"issuer,omitempty" json:"issuer,omitempty"`
	// Audience is the required "aud"; the connection ID when empty.
	Audience string `yaml:"audience,omitempty" json:"audience,omitempty"`
	// MaxLifetime bounds exp-iat, written with a unit ("15m") in a policy
	// file: empty means
	// secretdata.DefaultMaxLifetime (15m), at most
	// secretdata.MaxLifetimeLimit (24h).
	MaxLifetime time.Duration `yaml:"max_lifetime,omitempty" json:"max_lifetime,omitempty"`
	// Leeway is the clock-skew allowance: empty means
	// secretdata.DefaultLeeway (30s), at most secretdata.MaxLeeway (5m).
	Leeway time.Duration `yaml:"leeway,omitempty" json:"leeway,omitempty"`
	// SecretData is "required" (default) or "optional". Required also
	// refuses a token whose customer data sits in top-level claims instead
	// of customer_secret_data; optional accepts it with no secret data and
	// reports it (see secretdata.Claims.MisplacedClaims).
	SecretData SecretDataRule `yaml:"secret_data,omitempty" json:"secret_data,omitempty"`
	// Header names the request header carrying the token; empty means
	// "Authorization: Bearer ...".
	Header string `yaml:"header,omitempty" json:"header,omitempty"`
	// Type, when set, requires tokens to carry this typ, for example
	// "secretdata+jwt" (explicit typing, RFC 8725 §3.11); tokens without
	// typ or with another are refused. Empty: typ is optional and, when
	// present, must be JWT (or application/jwt). A Signer from
	// SignerConfig writes it. See secretdata.VerifierConfig.Type.
	Type string `yaml:"type,omitempty" json:"type,omitempty"`
}

// effectiveAudience is the audience tokens must carry.
func (c *ConnectionPolicy) effectiveAudience() string {
	if c.Token.Audience != "" {
		return c.Token.Audience
	}
	return c.ID
}

// anyWebsite reports whether the allowed domains admit any website: none
// listed, or "*" among them.
func (c *ConnectionPolicy) anyWebsite() bool {
	if len(c.AllowedDomains) == 0 {
		return true
	}
	for _, d := range c.AllowedDomains {
		if d == "*" {
			return true
		}
	}
	return false
}

func (c *ConnectionPolicy) frameAncestors() bool { return c.FrameAncestors == nil || *c.FrameAncestors }

func (c *ConnectionPolicy) maxLifetime() time.Duration {
	if c.Token.MaxLifetime == 0 {
		return secretdata.DefaultMaxLifetime
	}
	return c.Token.MaxLifetime
}

func (c *ConnectionPolicy) secretDataRequired() bool { return c.Token.SecretData != SecretDataOptional }

func (c *ConnectionPolicy) mode() Mode {
	if c.Mode == "" {
		return ModeEnforce
	}
	return c.Mode
}
