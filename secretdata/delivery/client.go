package delivery

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/msgsec/msgsec/internal/idhash"
	"github.com/msgsec/msgsec/internal/loopback"
	"github.com/msgsec/msgsec/secretdata"
)

// Bounds for ClientConfig.
const (
	DefaultTimeout    = 10 * time.Second
	maxTimeout        = 2 * time.Minute
	DefaultMaxRetries = 2
	maxRetries        = 10
	backoffBase       = 100 * time.Millisecond
	backoffCap        = 2 * time.Second
	// drainLimit bounds how much of a response body is read (to reuse
	// the connection) and thrown away.
	drainLimit = 4 << 10
)

// ClientConfig configures NewClient. BaseURL and exactly one of Signer and
// Signers are required.
type ClientConfig struct {
	// BaseURL is the chat server's root, e.g. "https://chat.example.com"
	// or "https://chat.example.com/api"; the Client appends Pattern's path.
	// It must be https (http only to a loopback host, unless
	// DangerouslyAllowHTTP) and carry no userinfo, query or fragment.
	BaseURL string

	// Signer signs for one connection (its Audience).
	Signer *secretdata.Signer
	// Signers returns the signer of each connection, for a bank with
	// several.
	Signers func(connection string) (*secretdata.Signer, bool)

	// HTTPClient sends the requests. Default http.DefaultClient. The Client
	// uses a copy that never follows redirects (a redirect would resend
	// the token somewhere else): a 3xx is a rejection.
	HTTPClient *http.Client
	// Timeout bounds each attempt. Default DefaultTimeout, at most 2m.
	Timeout time.Duration
	// MaxRetries is how many times a network error, a timeout or a 5xx is
	// retried, each time with a freshly signed token. Default
	// DefaultMaxRetries; -1 for none; at most 10. A 4xx is never retried.
	MaxRetries int
	// Backoff returns the pause before retry n (1, 2, …). Default:
	// exponential from 100ms, capped at 2s, with full jitter.
	Backoff func(retry int) time.Duration

	// DangerouslyAllowHTTP permits a plain-http BaseURL to a non-loopback
	// host: the tokens, and so the secret data, then cross the network
	// readable by anyone on the path.
	DangerouslyAllowHTTP bool
}

// Client delivers CustomerSecretData from the bank's backend to the chat
// server's Handler. It is immutable and safe for concurrent use.
type Client struct {
	base    string // scheme://host/path, without a trailing slash
	signers func(string) (*secretdata.Signer, bool)
	http    *http.Client
	timeout time.Duration
	retries int
	backoff func(int) time.Duration
}

// NewClient validates cfg once and returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	base, err := checkBaseURL(cfg.BaseURL, cfg.DangerouslyAllowHTTP)
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, timeout: cfg.Timeout, retries: cfg.MaxRetries, backoff: cfg.Backoff}
	switch {
	case (cfg.Signer == nil) == (cfg.Signers == nil):
		return nil, configErr("Signer", "set exactly one of Signer and Signers")
	case cfg.Signer != nil:
		one := cfg.Signer
		c.signers = func(string) (*secretdata.Signer, bool) { return one, true }
	default:
		c.signers = cfg.Signers
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.timeout < 0 || c.timeout > maxTimeout {
		return nil, configErr("Timeout", "must be between 0 and 2m")
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultMaxRetries
	case c.retries == -1:
		c.retries = 0
	case c.retries < -1 || c.retries > maxRetries:
		return nil, configErr("MaxRetries", "must be -1 (none) to 10")
	}
	if c.backoff == nil {
		c.backoff = defaultBackoff
	}
	hc := http.DefaultClient
	if cfg.HTTPClient != nil {
		hc = cfg.HTTPClient
	}
	cp := *hc
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &cp
	return c, nil
}

func checkBaseURL(raw string, allowHTTP bool) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return "", configErr("BaseURL", "must be an absolute http(s) url")
	case u.User != nil:
		return "", configErr("BaseURL", "must not carry userinfo")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", configErr("BaseURL", "must not carry a query or fragment")
	case u.Scheme == "https":
	case u.Scheme == "http" && (allowHTTP || loopback.Host(u.Hostname())):
	case u.Scheme == "http":
		return "", configErr("BaseURL", "http only to a loopback host (or DangerouslyAllowHTTP)")
	default:
		return "", configErr("BaseURL", "scheme must be https")
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

func defaultBackoff(retry int) time.Duration {
	d := backoffCap
	if retry < 6 {
		d = min(backoffBase<<retry, backoffCap)
	}
	return rand.N(d) + 1
}

// SendOption adjusts one Send.
type SendOption func(*secretdata.Claims)

// WithSubject sets the token's sub (the customer).
func WithSubject(subject string) SendOption {
	return func(c *secretdata.Claims) { c.Subject = subject }
}

// Send signs data (the customer_secret_data claim) for the session and
// POSTs it to the chat server. Every attempt signs a new token with a
// fresh jti, so a retry after a lost response is never refused as a
// replay (and storing twice is harmless: the second Put replaces the
// first). It returns nil on 2xx, a *SendError wrapping ErrRejected on any
// other non-5xx status, and one wrapping ErrUnavailable once the retries
// are spent (or ctx ends).
func (c *Client) Send(ctx context.Context, connection, session string, data map[string]any, opts ...SendOption) error {
	claims := secretdata.Claims{SessionID: session, SecretData: data}
	for _, o := range opts {
		o(&claims)
	}
	return c.do(ctx, http.MethodPost, connection, session, claims)
}

// Revoke asks the chat server to forget the session's secret data (the
// customer logged out of the bank, say): a DELETE with a token for the
// session. Retries and errors as Send.
func (c *Client) Revoke(ctx context.Context, connection, session string) error {
	return c.do(ctx, http.MethodDelete, connection, session, secretdata.Claims{SessionID: session})
}

func (c *Client) do(ctx context.Context, method, connection, session string, claims secretdata.Claims) error {
	if !ValidID(connection) || !ValidID(session) {
		return ErrInvalidID
	}
	signer, ok := c.signers(connection)
	if !ok || signer == nil {
		return configErr("Signers", "no signer for connection "+connection)
	}
	target := c.base + "/connections/" + url.PathEscape(connection) + "/sessions/" + url.PathEscape(session) + "/secret-data"
	fail := &SendError{Connection: connection, Session: idhash.Of(session), Kind: ErrUnavailable}
	for attempt := 0; attempt <= c.retries; attempt++ {
		if attempt > 0 && !sleep(ctx, c.backoff(attempt)) {
			fail.Err = ctx.Err()
			return fail
		}
		token, err := signer.Sign(claims)
		if err != nil {
			return err // a configuration problem: retrying cannot help
		}
		fail.Attempts++
		status, err := c.attempt(ctx, method, target, token)
		fail.StatusCode, fail.Err = status, err
		switch {
		case ctx.Err() != nil:
			fail.Err = ctx.Err()
			return fail
		case err == nil && status >= 200 && status < 300:
			return nil
		case err == nil && status < 500:
			fail.Kind = ErrRejected
			return fail
		}
	}
	return fail
}

// attempt makes one request and returns its status, or the network error.
// A *url.Error names the URL with the session segment hashed (the session
// ID is the chat's credential; the error is bound for the bank's logs).
func (c *Client) attempt(ctx context.Context, method, target, token string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return 0, hashURL(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, hashURL(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// hashURL replaces the session segment of a *url.Error's URL by its hash.
func hashURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		ue.URL = idhash.Path(ue.URL)
	}
	return err
}

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
