package chat

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

//go:embed assets
var assets embed.FS

// staticFiles are the assets served under /static/ (the loader has its own
// route); nothing else in the embedded directory is reachable.
var staticFiles = map[string]string{
	"widget-app.js": "text/javascript; charset=utf-8",
	"widget.css":    "text/css; charset=utf-8",
	"agent.css":     "text/css; charset=utf-8",
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ctype, ok := staticFiles[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	serveEmbedded(w, "assets/"+name, ctype)
}

func serveEmbedded(w http.ResponseWriter, path, ctype string) {
	body, err := assets.ReadFile(path)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}

// loader serves GET /connections/{connection}/widget.js. A <script> GET
// carries no Origin, so this route cannot and need not be origin-checked:
// it is public code. What it calls is checked.
func (s *Server) loader(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.policies.Get(r.PathValue("connection")); !ok {
		http.NotFound(w, r)
		return
	}
	// Any site may load the script (the bank page needs it cross-origin).
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	serveEmbedded(w, "assets/widget.js", "text/javascript; charset=utf-8")
}

var widgetTemplate = template.Must(template.New("widget").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Chat with {{.}}</title>
<link rel="stylesheet" href="/static/widget.css">
<script src="/static/widget-app.js" defer></script>
</head>
<body>
<header>{{.}}</header>
<ol id="log" aria-live="polite"></ol>
<form id="send"><input id="text" autocomplete="off" maxlength="2000" placeholder="Type a message" aria-label="Message"><button>Send</button></form>
<button id="end" type="button">End chat</button>
</body>
</html>
`))

// widgetPage serves GET /connections/{connection}/widget, the iframe. The
// middleware (WidgetPage) has set CSP frame-ancestors from the policy's
// allowed domains; this adds a second policy that locks the page's own
// resources to this server.
func (s *Server) widgetPage(w http.ResponseWriter, r *http.Request) {
	in, ok := s.info(w, r)
	if !ok {
		return
	}
	p := in.policy
	h := w.Header()
	h.Add("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	_ = widgetTemplate.Execute(w, p.Name())
}

var agentTemplate = template.Must(template.New("agent").Funcs(template.FuncMap{
	"time": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="3">
<title>Agent view</title>
<link rel="stylesheet" href="/static/agent.css">
</head>
<body>
<h1>Agent view: {{.Total}} session(s)</h1>
{{if gt .Pages 1}}<nav>Page {{.Page}} of {{.Pages}}{{if gt .Page 1}} · <a href="/agent?page={{.Prev}}">newer</a>{{end}}{{if lt .Page .Pages}} · <a href="/agent?page={{.Next}}">older</a>{{end}}</nav>{{end}}
{{range .Sessions}}<section class="session" data-session="{{.ID}}">
<h2>{{.Connection}} / {{.ID}}</h2>
<p>Opened {{time .Created}} from <code>{{or .Origin "(no Origin)"}}</code>, ends {{time .Expires}}.</p>
<h3>Cookies (allowed by the policy)</h3>
{{if .Cookies}}<table class="cookies">{{range .Cookies}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>{{else}}<p class="none">none</p>{{end}}
<h3>Verified secret data: browser pass-through</h3>
{{template "claims" .Browser}}
<h3>Verified secret data: server-to-server</h3>
{{template "claims" .Server}}
<h3>Messages</h3>
{{if .Messages}}{{if gt (index .Messages 0).ID 1}}<p class="none">(the last {{len .Messages}} messages)</p>{{end}}<ol class="messages" start="{{(index .Messages 0).ID}}">{{range .Messages}}<li class="{{.From}}"><b>{{.From}}:</b> {{.Text}}</li>{{end}}</ol>{{else}}<p class="none">none yet</p>{{end}}
</section>
{{else}}<p class="none">No sessions yet.</p>{{end}}
</body>
</html>
{{define "claims"}}{{if .Err}}<p class="none">{{.Err}}</p>{{else if .Rows}}<table class="secret-data" data-mode="{{.Mode}}"><tr><th>issuer</th><td>{{.Issuer}}</td></tr><tr><th>subject</th><td>{{.Subject}}</td></tr>{{range .Rows}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>{{else}}<p class="none">none</p>{{end}}{{end}}
`))

// The agent view's page size: sessions per page, and messages shown of
// each (its last ones), so the page stays small however busy the server.
const (
	agentPageSessions = 20
	agentLastMessages = 50
)

// agentView is one page of the agent view.
type agentView struct {
	Sessions                       []agentSession
	Total, Page, Pages, Prev, Next int
}

// agentSession is a session as the agent view renders it.
type agentSession struct {
	Session
	Browser, Server claimsView
}

type claimsView struct {
	Mode            string
	Issuer, Subject string
	Rows            []row
	Err             string
}

type row struct{ Name, Value string }

// agent serves GET /agent, the representative's view. Every value is
// HTML-escaped by html/template. In a real deployment this page sits
// behind the chat vendor's staff login; the demo binds to loopback.
func (s *Server) agent(w http.ResponseWriter, r *http.Request) {
	page := 1
	if q := r.URL.Query().Get("page"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 1_000_000 {
			http.Error(w, "page must be a positive number", http.StatusBadRequest)
			return
		}
		page = n
	}
	list, total, err := s.sessions.List(r.Context(), Page{Offset: (page - 1) * agentPageSessions, Limit: agentPageSessions, LastMessages: agentLastMessages})
	if err != nil {
		s.logStoreError("list", "", err)
		http.Error(w, http.StatusText(statusFor(err)), statusFor(err))
		return
	}
	pages := max(1, (total+agentPageSessions-1)/agentPageSessions)
	view := agentView{Total: total, Page: page, Pages: pages, Prev: page - 1, Next: page + 1,
		Sessions: make([]agentSession, 0, len(list))}
	for _, ss := range list {
		view.Sessions = append(view.Sessions, agentSession{
			Session: ss,
			Browser: viewClaims("browser", ss.BrowserClaims),
			Server:  s.serverClaims(r.Context(), ss.Connection, ss.ID),
		})
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	_ = agentTemplate.Execute(w, view)
}

// serverClaims reads the session's server-to-server secret data.
func (s *Server) serverClaims(ctx context.Context, connection, id string) claimsView {
	c, err := s.store.Get(ctx, connection, id)
	switch {
	case errors.Is(err, delivery.ErrNotFound):
		return claimsView{}
	case err != nil:
		// The error names no secret (see delivery.Store), but the page
		// only needs to know it failed.
		s.log.Error("chat: reading secret data", "connection", connection, "err", err)
		return claimsView{Err: "unavailable"}
	}
	return viewClaims("server", c)
}

// viewClaims lists the customer_secret_data members, sorted by name.
func viewClaims(mode string, c *secretdata.Claims) claimsView {
	if c == nil {
		return claimsView{}
	}
	v := claimsView{Mode: mode, Issuer: c.Issuer, Subject: c.Subject}
	for name, value := range c.SecretData {
		v.Rows = append(v.Rows, row{Name: name, Value: display(value)})
	}
	if v.Rows == nil {
		// Verified but empty: the table still shows issuer and subject.
		v.Rows = []row{{Name: "(no members)"}}
	}
	slices.SortFunc(v.Rows, func(a, b row) int { return cmp.Compare(a.Name, b.Name) })
	return v
}

// display renders a secret-data member: strings and numbers as they are,
// anything else as JSON.
func display(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "(unprintable)"
	}
	return string(b)
}
