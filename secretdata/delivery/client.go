package delivery

import (
	"cmp"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/idhash"
	"github.com/msgsec/msgsec/internal/loopback"
	"github.com/msgsec/msgsec/secretdata"
)

// Defaults and bounds for ClientConfig.
const (
	defaultTimeout    = 10 * time.Second
	maxTimeout        = 2 * time.Minute
	defaultMaxRetries = 2
	maxRetries        = 10
	backoffBase       = 100 * time.Millisecond
	backoffCap        = 2 * time.Second
	// drainLimit bounds how much of a response body is read (to reuse
	// the connection) and thrown away.
	drainLimit = 4 << 10
)

// ClientConfig configures NewClient. BaseURL and Signer are required.
type ClientConfig struct {
	// BaseURL is the chat server's root, e.g. "https://chat.example.com"
	// or "https://chat.example.com/api"; the Client appends Pattern's path.
	// It must be https (http only to a loopback host, unless
	// DangerouslyAllowHTTP) and carry no userinfo, query or fragment.
	BaseURL string

	// Signer signs the tokens: its Audience is the connection the Client
	// delivers to. A bank with several connections makes a Client for
	// each (a Client is small and immutable).
	Signer *secretdata.Signer

	// HTTPClient sends the requests. Default http.DefaultClient. The Client
	// uses a copy that never follows redirects (a redirect would resend
	// the token somewhere else): a 3xx is a rejection.
	HTTPClient *http.Client
	// Timeout bounds each attempt. Zero means 10s; at most 2m.
	Timeout time.Duration
	// MaxRetries is how many times a network error, a timeout or a 5xx is
	// retried, each time with a freshly signed token, after a pause that
	// grows exponentially from 100ms to at most 2s (with full jitter).
	// Zero means 2; -1 for none; at most 10. A 4xx is never retried.
	MaxRetries int

	// DangerouslyAllowHTTP permits a plain-http BaseURL to a non-loopback
	// host: the tokens, and so the secret data, then cross the network
	// readable by anyone on the path.
	DangerouslyAllowHTTP bool
}

// Client delivers CustomerSecretData from the bank's backend to the chat
// server's Handler. It is immutable and safe for concurrent use.
type Client struct {
	base    string // scheme://host/path, without a trailing slash
	signer  *secretdata.Signer
	http    *http.Client
	timeout time.Duration
	retries int
	backoff func(int) time.Duration
}

// NewClient validates cfg once and returns a Client. It reports every
// problem of cfg at once (see ErrConfig), each naming its field.
func NewClient(cfg ClientConfig) (*Client, error) {
	base, problems := checkBaseURL(nil, cfg.BaseURL, cfg.DangerouslyAllowHTTP)
	if cfg.Signer == nil {
		problems = append(problems, cfgProblem("Signer", "", "required"))
	}
	timeout := cmp.Or(cfg.Timeout, defaultTimeout)
	if timeout < 0 || timeout > maxTimeout {
		problems = append(problems, cfgProblem("Timeout", cfg.Timeout.String(), "must be between 0 (10s) and 2m"))
	}
	retries := cfg.MaxRetries
	switch {
	case retries == 0:
		retries = defaultMaxRetries
	case retries == -1:
		retries = 0
	case retries < -1 || retries > maxRetries:
		problems = append(problems, cfgProblem("MaxRetries", strconv.Itoa(cfg.MaxRetries), "must be -1 (none) to 10 (zero means 2)"))
	}
	if err := cfgerr.Join("delivery: invalid client configuration", problems); err != nil {
		return nil, err
	}
	hc := http.DefaultClient
	if cfg.HTTPClient != nil {
		hc = cfg.HTTPClient
	}
	cp := *hc
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{base: base, signer: cfg.Signer, http: &cp, timeout: timeout, retries: retries, backoff: defaultBackoff}, nil
}

func checkBaseURL(problems []*cfgerr.Error, raw string, allowHTTP bool) (string, []*cfgerr.Error) {
	u, err := url.Parse(raw)
	bad := func(reason string) (string, []*cfgerr.Error) {
		value := raw
		if err == nil && u.User != nil {
			value = cfgerr.Redacted // userinfo may hold a password
		}
		return "", append(problems, cfgProblem("BaseURL", value, reason))
	}
	switch {
	case raw == "":
		return "", append(problems, cfgProblem("BaseURL", "", "required"))
	case err != nil || u.Host == "" || u.Opaque != "":
		return bad("must be an absolute http(s) url")
	case u.User != nil:
		return bad("must not carry userinfo")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return bad("must not carry a query or fragment")
	case u.Scheme == "https":
	case u.Scheme == "http" && (allowHTTP || loopback.Host(u.Hostname())):
	case u.Scheme == "http":
		return bad("http only to a loopback host (or DangerouslyAllowHTTP)")
	default:
		return bad("scheme must be https")
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"), problems
}

func defaultBackoff(retry int) time.Duration {
	d := backoffCap
	if retry < 6 {
		d = min(backoffBase<<retry, backoffCap)
	}
	return rand.N(d) + 1
}

// Send signs claims for the session and POSTs them to the chat server.
// The caller sets Subject (the customer) and SecretData (the
// customer_secret_data claim); the Client sets SessionID to session and the
// Signer sets the rest (see secretdata.Signer.Sign). Every attempt signs a
// new token with a fresh jti, so a retry after a lost response is never
// refused as a replay (and storing twice is harmless: the second Put
// replaces the first). It returns nil on 2xx, a *SendError wrapping
// ErrRejected on any other non-5xx status, and one wrapping ErrUnavailable
// once the retries are spent (or ctx ends).
func (c *Client) Send(ctx context.Context, connection, session string, claims secretdata.Claims) error {
	if claims.SessionID != "" && claims.SessionID != session {
		return argErr("claims.SessionID", "differs from the session sent to")
	}
	claims.SessionID = session
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
	target := c.base + "/connections/" + url.PathEscape(connection) + "/sessions/" + url.PathEscape(session) + "/secret-data"
	fail := &SendError{connection: connection, session: idhash.Of(session), kind: ErrUnavailable}
	for attempt := 0; attempt <= c.retries; attempt++ {
		if attempt > 0 && !sleep(ctx, c.backoff(attempt)) {
			fail.err = ctx.Err()
			return fail
		}
		token, err := c.signer.Sign(claims)
		if err != nil {
			return err // a configuration problem: retrying cannot help
		}
		fail.attempts++
		status, err := c.attempt(ctx, method, target, token)
		fail.StatusCode, fail.err = status, err
		switch {
		case ctx.Err() != nil:
			fail.err = ctx.Err()
			return fail
		case err == nil && status >= 200 && status < 300:
			return nil
		case err == nil && status < 500:
			fail.kind = ErrRejected
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
