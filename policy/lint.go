package policy

import (
	"fmt"

	"github.com/msgsec/msgsec/cookies"
	"github.com/msgsec/msgsec/internal/originview"
	"github.com/msgsec/msgsec/secretdata"
)

// Warning is a lint finding: a valid policy that is weaker than it might be.
type Warning struct {
	Path string
	Line int
	// Code is a stable identifier, e.g. "any-website".
	Code string
	Msg  string
}

func (w Warning) String() string {
	s := w.Path
	if w.Line > 0 {
		s += fmt.Sprintf(" (line %d)", w.Line)
	}
	return s + ": " + w.Msg + " [" + w.Code + "]"
}

// Lint codes.
const (
	LintAnyWebsite            = "any-website"
	LintStarOrigin            = "star-origin"
	LintInsecureOrigin        = "insecure-origin"
	LintLongLifetime          = "long-lifetime"
	LintSecretDataOptional    = "secret-data-optional"
	LintSensitiveCookie       = "sensitive-cookie"
	LintReportOnly            = "report-only"
	LintNoKeys                = "no-keys"
	LintInlineSecret          = "inline-secret"
	LintNoFrameAncestors      = "no-frame-ancestors"
	LintCredentialsAnyWebsite = "credentials-any-website"

	// LintJWKSSkippedKey and LintJWKSUnavailable come from checks that
	// fetch a connection's jwks_url (msgsec policy check; a Registry logs
	// the same through RegistryOptions.Logf): a key of the JWKS that
	// verification skips, named by index and kid with the reason (see
	// secretdata.ParseJWKS), and a JWKS that could not be fetched or
	// holds no usable key. Lint itself reads no network and never
	// reports them.
	LintJWKSSkippedKey  = "jwks-skipped-key"
	LintJWKSUnavailable = "jwks-unavailable"
)

// Lint returns warnings for a valid policy: any website allowed, "*",
// http origins outside loopback, token lifetimes over 15 minutes, secret
// data optional, sensitive cookie names, report-only mode, no keys, inline
// secrets, frame-ancestors off, credentials with any website.
func (f *File) Lint() []Warning {
	var out []Warning
	lines := f.lines()
	add := func(path, code, msg string) {
		out = append(out, Warning{Path: path, Line: lines.line(path), Code: code, Msg: msg})
	}
	for i := range f.Connections {
		c := &f.Connections[i]
		path := fmt.Sprintf("connections[%d]", i)
		if len(c.AllowedDomains) == 0 {
			add(path+".allowed_domains", LintAnyWebsite, "no allowed domains: the widget may run on any website")
		}
		for j, d := range c.AllowedDomains {
			dp := fmt.Sprintf("%s.allowed_domains[%d]", path, j)
			anyWebsite, secure, ok := originview.Classify(d)
			switch {
			case !ok:
			case anyWebsite:
				add(dp, LintStarOrigin, `"*" lets the widget run on any website`)
			case !secure:
				add(dp, LintInsecureOrigin, "plain http outside loopback: the page, its cookies and tokens travel unencrypted")
			}
		}
		for j, name := range c.AllowedCookies {
			if cookies.IsSensitiveName(name) {
				add(fmt.Sprintf("%s.allowed_cookies[%d]", path, j), LintSensitiveCookie, "this name usually holds a session or credential")
			}
		}
		if c.maxLifetime() > secretdata.DefaultMaxLifetime {
			add(path+".token.max_lifetime", LintLongLifetime, fmt.Sprintf("tokens may live %s; a stolen one stays usable that long (%s or less is advised)", c.maxLifetime(), secretdata.DefaultMaxLifetime))
		}
		if !c.secretDataRequired() {
			add(path+".token.secret_data", LintSecretDataOptional, "anonymous chats are admitted: requests without CustomerSecretData reach the chat")
		}
		if c.mode() == ModeReportOnly {
			add(path+".mode", LintReportOnly, "report-only: nothing is blocked")
		}
		if len(c.Keys) == 0 && c.JWKSURL == "" {
			add(path+".keys", LintNoKeys, "no keys: CustomerSecretData cannot be verified, so every token is refused")
		}
		for j := range c.Keys {
			for _, ref := range []*SecretRef{c.Keys[j].Secret} {
				if ref != nil && ref.InsecureInline {
					add(fmt.Sprintf("%s.keys[%d].secret", path, j), LintInlineSecret, "the secret is inline in the policy file (development only)")
				}
			}
		}
		for j := range c.DecryptionKeys {
			if ref := c.DecryptionKeys[j].Secret; ref != nil && ref.InsecureInline {
				add(fmt.Sprintf("%s.decryption_keys[%d].secret", path, j), LintInlineSecret, "the decryption key is inline in the policy file (development only)")
			}
		}
		if c.AllowCredentials && c.anyWebsite() {
			add(path+".allow_credentials", LintCredentialsAnyWebsite, "credentials with any website: they are sent only to origins listed by name, never to the rest of any website")
		}
		if !c.frameAncestors() {
			add(path+".frame_ancestors", LintNoFrameAncestors, "widget pages may be framed by any site")
		}
	}
	return out
}

func (f *File) lines() *problems { return &problems{lines: f.lineIndex} }
