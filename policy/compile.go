package policy

import (
	"context"
	"fmt"
	"github.com/msgsec/msgsec/internal/policyview"
	"github.com/msgsec/msgsec/internal/verifyhook"
	"net/http"
	"strings"
	"time"

	"github.com/msgsec/msgsec/cookies"
	"github.com/msgsec/msgsec/origin"
	"github.com/msgsec/msgsec/secretdata"
)

// CompileOptions supply what compiled policies share.
type CompileOptions struct {
	// Replay is the replay cache every verifier records token IDs in. Share
	// one across reloads (a Registry does), or a token could be replayed
	// after a reload. Nil: a new bounded in-memory cache per policy.
	Replay secretdata.ReplayCache
	// KeySet returns the remote key set for a JWKS URL; nil fetches a new
	// one with HTTPClient (a Registry caches them across reloads).
	KeySet func(ctx context.Context, url string) (*secretdata.RemoteKeySet, error)
	// HTTPClient fetches JWKS documents when KeySet is nil.
	HTTPClient *http.Client
	// Now pins the verifiers' clock (tests).
	Now func() time.Time
	// OnVerify, if set, hears every token verification of the compiled
	// verifiers (by the middleware, a delivery Handler or anyone calling
	// Compiled.Verifier), on the verifying goroutine: the connection ID,
	// how long it took (wall clock, replay-cache round trip included) and
	// its error, nil when the token was accepted (a *secretdata.TokenError
	// otherwise, which holds no token contents). It exists for latency
	// metrics (package otelmetrics); keep it fast.
	OnVerify func(connection string, took time.Duration, err error)

	// logf hears about JWKS keys skipped at each fetch (a Registry sets
	// its RegistryOptions.Logf).
	logf func(format string, args ...any)
}

// Compiled is one connection's policy, compiled: immutable and safe for
// concurrent use. Get one from ConnectionPolicy.Compile or a Registry.
type Compiled struct {
	cfg      ConnectionPolicy
	origins  *origin.Matcher
	view     policyview.View // what only the middleware reads
	cookies  *cookies.Allowlist
	verifier *secretdata.Verifier
	keys     []secretdata.Key
}

// Compile builds the connection's origin matcher, cookie allowlist and
// token verifier. The policy must have been loaded (secrets resolved) and
// be valid.
func (c *ConnectionPolicy) Compile(ctx context.Context, opts CompileOptions) (*Compiled, error) {
	p := &problems{}
	c.validate("connection "+c.ID, p)
	if err := p.err(""); err != nil {
		return nil, err
	}
	m, err := c.matcher()
	if err != nil {
		return nil, err
	}
	al, err := c.cookieAllowlist()
	if err != nil {
		return nil, err
	}
	out := &Compiled{cfg: c.clone(), origins: m, cookies: al}
	out.view = policyview.View{
		TokenHeader:        c.Token.Header,
		SecretDataRequired: c.secretDataRequired(),
		AllowCredentials:   c.AllowCredentials,
	}
	if c.AllowCredentials {
		if out.view.Listed, err = c.listedMatcher(m); err != nil {
			return nil, err
		}
	}
	for i := range c.Keys {
		k, _, err := c.Keys[i].build()
		if err != nil {
			return nil, err
		}
		out.keys = append(out.keys, k)
	}
	var dec []secretdata.EncryptionKey
	for i := range c.DecryptionKeys {
		k, _, err := c.DecryptionKeys[i].build()
		if err != nil {
			return nil, err
		}
		dec = append(dec, k)
	}
	if len(out.keys) > 0 || c.JWKSURL != "" {
		vc := secretdata.VerifierConfig{
			Keys:           out.keys,
			DecryptionKeys: dec,
			Issuer:         c.Token.Issuer,
			Audience:       c.effectiveAudience(),
			Leeway:         c.Token.Leeway, // zero: secretdata.DefaultLeeway
			MaxLifetime:    c.maxLifetime(),
			Type:           c.Token.Type,
			Replay:         opts.Replay,
			Now:            opts.Now,

			RefuseMisplacedSecretData: c.secretDataRequired(),
		}
		if c.JWKSURL != "" {
			ks, err := remoteKeySet(ctx, c.JWKSURL, opts)
			if err != nil {
				return nil, fmt.Errorf("policy: connection %s: jwks_url: %w", c.ID, err)
			}
			vc.KeySet = ks
		}
		if out.verifier, err = secretdata.NewVerifier(vc); err != nil {
			return nil, verifierErr("connection "+c.ID, err)
		}
		if f := opts.OnVerify; f != nil {
			id := c.ID
			verifyhook.Observe(out.verifier, func(took time.Duration, err error) { f(id, took, err) })
		}
	}
	if c.frameAncestors() {
		out.view.FrameAncestorsCSP = "frame-ancestors " + strings.Join(m.CSPSources(), " ")
	}
	return out, nil
}

func remoteKeySet(ctx context.Context, url string, opts CompileOptions) (*secretdata.RemoteKeySet, error) {
	if opts.KeySet != nil {
		return opts.KeySet(ctx, url)
	}
	return secretdata.NewRemoteKeySet(ctx, secretdata.RemoteKeySetConfig{
		URL: url, Client: opts.HTTPClient, DangerouslyAllowHTTP: strings.HasPrefix(url, "http://"),
		Logf: opts.logf,
	})
}

// clone copies the slices so later edits to the source cannot reach the
// compiled policy.
func (c *ConnectionPolicy) clone() ConnectionPolicy {
	cp := *c
	cp.AllowedDomains = append([]string(nil), c.AllowedDomains...)
	cp.AllowedCookies = append([]string(nil), c.AllowedCookies...)
	cp.Keys = append([]KeyConfig(nil), c.Keys...)
	cp.DecryptionKeys = append([]DecryptionKey(nil), c.DecryptionKeys...)
	return cp
}

// ID returns the connection ID.
func (p *Compiled) ID() string { return p.cfg.ID }

// Name returns the connection's display name.
func (p *Compiled) Name() string { return p.cfg.Name }

// Origins returns the allowed-domain matcher. It admits any well-formed
// origin when the policy allows any website.
func (p *Compiled) Origins() *origin.Matcher { return p.origins }

// Cookies returns the cookie allowlist.
func (p *Compiled) Cookies() *cookies.Allowlist { return p.cookies }

// Verifier returns the CustomerSecretData verifier, nil when the policy has
// no keys (then every token must be refused).
func (p *Compiled) Verifier() *secretdata.Verifier { return p.verifier }

// ReportOnly reports whether the policy only reports.
func (p *Compiled) ReportOnly() bool { return p.cfg.mode() == ModeReportOnly }

// String names the connection; it never includes secrets.
func (p *Compiled) String() string { return "policy.Compiled(" + p.cfg.ID + ")" }

func init() {
	policyview.Of = func(c any) *policyview.View { return &c.(*Compiled).view }
}
