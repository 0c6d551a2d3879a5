package bank

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// Cookie names the bank's page sets.
const (
	// CookiePageViewed and CookieCart are public: the policy allows the
	// widget to pass them to the chat.
	CookiePageViewed = "page_viewed"
	CookieCart       = "cart_contents"
	// CookieSession is the bank's private login session. It is readable
	// by page scripts on purpose (as many legacy session cookies are), so
	// the demo shows msgsec stripping it: it must never reach the chat.
	CookieSession = "session_id"
)

// TokenLifetime is the lifetime of browser pass-through tokens: long
// enough to open a chat, short enough that a leaked one is soon useless.
const TokenLifetime = 2 * time.Minute

// maxLogins bounds the fake login table.
const maxLogins = 10_000

// ErrConfig: New refused its configuration.
var ErrConfig = errors.New("bank: invalid configuration")

// Config configures New. Every field but Logger is required.
type Config struct {
	// ChatURL is the chat server's root as browsers reach it; the page
	// loads the widget from ChatURL/connections/{Connection}/widget.js.
	ChatURL string
	// Connection is the chat connection ID ("retail-bank").
	Connection string
	// Signer mints browser pass-through tokens (audience Connection). Its
	// tokens carry no session ID, and last TokenLifetime at most: make it
	// with that Lifetime.
	Signer *secretdata.Signer
	// Delivery sends secret data server to server for a chat session.
	Delivery *delivery.Client
	// Logger hears failures; never secrets. Default slog.Default().
	Logger *slog.Logger
}

// Site is the bank's website.
type Site struct {
	cfg     Config
	handler http.Handler
	mu      sync.Mutex
	logins  map[string]customer // by session_id cookie value
}

type customer struct {
	Name, ID string
}

// New validates cfg and builds the site.
func New(cfg Config) (*Site, error) {
	u, err := url.Parse(cfg.ChatURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%w: ChatURL must be an http(s) URL", ErrConfig)
	case !delivery.ValidID(cfg.Connection):
		return nil, fmt.Errorf("%w: Connection is not a valid connection ID", ErrConfig)
	case cfg.Signer == nil || cfg.Delivery == nil:
		return nil, fmt.Errorf("%w: Signer and Delivery are required", ErrConfig)
	}
	cfg.ChatURL = strings.TrimSuffix(cfg.ChatURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Site{cfg: cfg, logins: map[string]customer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /app.js", s.appJS)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("POST /chat-session", s.chatSession)
	// Every POST above changes state or hands out a token: refuse
	// cross-origin ones (Go's own CSRF protection, by Sec-Fetch-Site and
	// Origin).
	s.handler = http.NewCrossOriginProtection().Handler(mux)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

var homeTemplate = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>U+ Bank</title>
<style>
body { font: 15px system-ui, sans-serif; margin: 24px; max-width: 920px; }
header { display: flex; justify-content: space-between; align-items: center; border-bottom: 3px solid #0b5; }
#msgsec-chat { position: fixed; right: 24px; bottom: 24px; }
#msgsec-chat iframe { border: 1px solid #999; border-radius: 8px; background: #fff; }
code { background: #f3f3f3; padding: 1px 4px; }
</style>
<script src="/app.js"></script>
<script src="{{.Loader}}" async></script>
</head>
<body>
<header><h1>U+ Bank</h1>
{{if .Customer}}<form method="post" action="/logout"><span id="who">Signed in as {{.Customer.Name}} ({{.Customer.ID}})</span> <button>Sign out</button></form>
{{else}}<form method="post" action="/login"><input name="name" placeholder="Your name" required aria-label="Name"> <button id="login">Sign in</button></form>{{end}}
</header>
<p>You have viewed this page {{.Views}} time(s). Your cart: <code>{{.Cart}}</code>.</p>
<p>This page set three cookies: <code>page_viewed</code> and <code>cart_contents</code> (public: the
chat policy lets the widget pass them to the chat) and <code>session_id</code> (private: msgsec strips it).</p>
{{if .Customer}}<p>Signed in: the chat receives your verified customer data twice, as a signed token the
widget passes on (browser pass-through) and straight from this bank's backend (server to server).</p>
{{else}}<p>Sign in (any name) to send the chat your verified customer data.</p>{{end}}
<div id="msgsec-chat"></div>
</body>
</html>
`))

// home serves the page that embeds the widget, and sets its cookies.
func (s *Site) home(w http.ResponseWriter, r *http.Request) {
	views := 1
	if c, err := r.Cookie(CookiePageViewed); err == nil {
		if n, err := strconv.Atoi(c.Value); err == nil && n > 0 && n < 1_000_000 {
			views = n + 1
		}
	}
	const cart = "gold-card|travel-insurance"
	setCookie(w, CookiePageViewed, strconv.Itoa(views))
	setCookie(w, CookieCart, cart)
	if _, err := r.Cookie(CookieSession); err != nil {
		setCookie(w, CookieSession, randomID())
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "strict-origin-when-cross-origin")
	var who *customer
	if c, ok := s.customer(r); ok {
		who = &c
	}
	_ = homeTemplate.Execute(w, struct {
		Loader   string
		Customer *customer
		Views    int
		Cart     string
	}{s.cfg.ChatURL + "/connections/" + s.cfg.Connection + "/widget.js", who, views, cart})
}

// The page's callbacks for the widget loader: the token for browser
// pass-through, and the session ID for server-to-server delivery.
const appJS = `// U+ Bank page script: the two callbacks the chat widget loader calls.
'use strict';
// Browser pass-through: a fresh, short-lived CustomerSecretData token from
// the bank backend ("" when signed out: the chat opens anonymously).
window.msgsecGetToken = async () => {
  const res = await fetch('/token', { method: 'POST' });
  return res.status === 200 ? res.text() : '';
};
// Server to server: tell the bank backend the chat session ID; it sends
// the signed secret data for that session straight to the chat server.
window.msgsecOnSession = (session) => {
  fetch('/chat-session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ session }),
  }).then((res) => { document.documentElement.dataset.secretDataDelivery = String(res.status); });
};
`

func (s *Site) appJS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(appJS))
}

// login is a fake sign-in: any name is accepted and gets a stable
// customer ID. It binds the customer to the (private) session cookie.
func (s *Site) login(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 64 {
		http.Error(w, "name required (at most 64 bytes)", http.StatusBadRequest)
		return
	}
	// A new session ID at sign-in (no session fixation).
	sid := randomID()
	s.mu.Lock()
	if len(s.logins) >= maxLogins {
		clear(s.logins) // a demo: forget everyone rather than grow
	}
	s.logins[sid] = customer{Name: name, ID: customerID(name)}
	s.mu.Unlock()
	setCookie(w, CookieSession, sid)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Site) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieSession); err == nil {
		s.mu.Lock()
		delete(s.logins, c.Value)
		s.mu.Unlock()
	}
	setCookie(w, CookieSession, randomID())
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// customer returns the signed-in customer of the request.
func (s *Site) customer(r *http.Request) (customer, bool) {
	c, err := r.Cookie(CookieSession)
	if err != nil {
		return customer{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cu, ok := s.logins[c.Value]
	return cu, ok
}

// secretData is the customer's CustomerSecretData.
func (c customer) secretData() map[string]any {
	return map[string]any{
		secretdata.ClaimAuthenticationStatus: "authenticated",
		secretdata.ClaimCustomerID:           c.ID,
	}
}

// token serves POST /token: a browser pass-through token for the signed-in
// customer, 204 when signed out.
func (s *Site) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	c, ok := s.customer(r)
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	tok, err := s.cfg.Signer.Sign(secretdata.Claims{Subject: c.ID, SecretData: c.secretData()})
	if err != nil {
		s.cfg.Logger.Error("bank: signing a token", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(tok))
}

// chatSession serves POST /chat-session {"session": "..."}: for a signed-in
// customer, the backend delivers the secret data to the chat server for
// that session (server to server). Signed out: 204, nothing sent.
func (s *Site) chatSession(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Session string `json:"session"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || !delivery.ValidID(body.Session) {
		http.Error(w, "want {\"session\": \"<chat session id>\"}", http.StatusBadRequest)
		return
	}
	c, ok := s.customer(r)
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	err := s.cfg.Delivery.Send(ctx, s.cfg.Connection, body.Session, secretdata.Claims{Subject: c.ID, SecretData: c.secretData()})
	if err != nil {
		// SendError names the delivery, never the token or the data.
		s.cfg.Logger.Warn("bank: secret-data delivery failed", "err", err)
		http.Error(w, "delivery to the chat server failed", http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func setCookie(w http.ResponseWriter, name, value string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", SameSite: http.SameSiteLaxMode})
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// customerID derives a stable fake customer ID from a name.
func customerID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return fmt.Sprintf("C-%04d", (int(sum[0])<<8|int(sum[1]))%10000)
}
