package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/msgsec/msgsec/admin"
	"github.com/msgsec/msgsec/examples/internal/chat"
	"github.com/msgsec/msgsec/policy"
)

// The security console (package admin) runs on its own loopback listener,
// over the in-memory policy store the chat server's registry follows, so a
// change made there applies to the chat server at once, without restart.
//
// Its login is a random token made at start and printed with the console's
// URL: the CLI and scripts send it as "Authorization: Bearer <token>"; a
// browser opens /login?token=… once, which sets an HttpOnly, SameSite=Strict
// cookie holding a second random value (never the token) and redirects to
// the console. Both are compared in constant time; neither is logged.

const (
	// adminPrincipal is who the audit names for the demo's one login.
	adminPrincipal = "demo-admin"
	// sessionCookie holds the browser login. (No __Host- prefix: that
	// needs Secure, and the demo is plain http on loopback.)
	sessionCookie = "msgsec_demo_console"
	// storeResync is how often the registry reloads the store in full, in
	// case a change notice was lost (the memory store's notices are not).
	storeResync = 30 * time.Second
	// refusalFlush is how often the roll-out counts reach the journal.
	refusalFlush = 2 * time.Second
)

// randomText is n random bytes, base64url without padding.
func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// seedStore puts every connection of the demo's built-in policy file into
// store. Each HMAC secret the file names by environment variable is stored
// as the secret itself, sealed by the store (policy.SecretBytes): the
// registry that follows the store needs no environment, and the secret is
// never printed.
func seedStore(ctx context.Context, store *policy.Store, lookupEnv func(string) (string, bool)) error {
	file, err := policy.Parse(chat.DefaultPolicy(), policy.LoadOptions{LookupEnv: lookupEnv})
	if err != nil {
		return err
	}
	for i := range file.Connections {
		c := &file.Connections[i]
		for j := range c.Keys {
			k := &c.Keys[j]
			if k.Secret == nil || k.Secret.Env == "" {
				continue
			}
			if k.Secret.Encoding != "" && k.Secret.Encoding != "raw" {
				return fmt.Errorf("connection %s key %s: only a raw secret can be seeded", c.ID, k.ID)
			}
			text, ok := lookupEnv(k.Secret.Env)
			if !ok {
				return fmt.Errorf("connection %s key %s: no secret", c.ID, k.ID)
			}
			k.Secret = policy.SecretBytes([]byte(text)) // the text is the key (raw encoding)
		}
		if _, err := store.Put(ctx, c, 0); err != nil {
			return fmt.Errorf("seed the policy store with %s: %w", c.ID, err)
		}
	}
	return nil
}

// console is the console's listener's handler: the login route and the
// admin Handler.
type console struct {
	token   string // the login token (printed at start)
	session string // the browser login cookie's value (never printed)
	admin   http.Handler
}

func newConsole(store *policy.Store, journal admin.Journal, cfg config) (*console, error) {
	c := &console{token: randomText(32), session: randomText(32)}
	h, err := admin.New(admin.Config{
		Store:     store,
		Authorize: c.authorize,
		Journal:   journal,
		Logger:    cfg.logger,
	})
	if err != nil {
		return nil, err
	}
	c.admin = h
	return c, nil
}

// authorize is the console's Authorize: the login token as a bearer token
// (CLI, scripts), or the cookie /login set (browser).
func (c *console) authorize(r *http.Request) (string, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if ok && equal(tok, c.token) {
			return adminPrincipal, nil
		}
		return "", admin.ErrUnauthenticated // a wrong bearer token never falls back to the cookie
	}
	if ck, err := r.Cookie(sessionCookie); err == nil && equal(ck.Value, c.session) {
		return adminPrincipal, nil
	}
	return "", admin.ErrUnauthenticated
}

// equal compares a presented secret with the expected one in constant time.
func equal(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (c *console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/login":
		c.login(w, r)
	case r.URL.Path == "/" && r.Method == http.MethodGet && !c.loggedIn(r):
		// The admin Handler answers a problem document (JSON); a person
		// opening the console without the login gets a page saying what
		// to do instead.
		noStore(w)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintln(w, "msgsec demo console: log in first, by opening the login URL the demo printed at start (…/login?token=…).")
	default:
		c.admin.ServeHTTP(w, r)
	}
}

func (c *console) loggedIn(r *http.Request) bool {
	p, err := c.authorize(r)
	return err == nil && p != ""
}

// login serves GET /login?token=…: with the right token it sets the login
// cookie and redirects to the console, so the token leaves the address bar.
func (c *console) login(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !equal(r.URL.Query().Get("token"), c.token) {
		http.Error(w, "wrong or missing token: open the login URL the demo printed at start", http.StatusUnauthorized)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    c.session,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func noStore(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer") // the login URL holds the token
	h.Set("X-Content-Type-Options", "nosniff")
}

// errNoAddr: a listen address is empty (net.Listen would then listen on
// every interface).
var errNoAddr = errors.New("every listen address is required (e.g. 127.0.0.1:0 for a free port)")
