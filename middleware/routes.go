package middleware

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// mux is what Routes registers on: http.ServeMux, or any router with the
// same Handle method and pattern syntax.
type mux interface {
	Handle(pattern string, handler http.Handler)
}

// Routes mounts wrapped handlers on a mux together with what a browser
// needs to reach them. Get one from [Middleware.Routes].
//
// It exists because a ServeMux pattern with a method does not route the
// CORS preflight: with only "POST /x" registered, an OPTIONS preflight for
// /x is answered 405 by the mux itself, the middleware never runs, and the
// browser never sends the POST. [Routes.Handle] registers "OPTIONS /x"
// once per path, however many methods the path has; a preflight there is
// answered by the wrapper of the route whose method it asks for (so a
// server-to-server route on the same path is never given CORS access).
//
// Mount every route of a mux through one Routes. Paths whose OPTIONS
// patterns would overlap without being the same ("GET /a/{x}" and
// "POST /{y}/b") panic at registration, as ServeMux conflicts do.
type Routes struct {
	m   *Middleware
	mux mux

	mu    sync.Mutex
	paths map[string]*pathRoutes // by host+path, wildcard names erased
}

// pathRoutes is the OPTIONS route of one path: it sends a preflight to the
// wrapper of the requested method's route, and answers other OPTIONS
// requests 405 (behind the middleware) with the path's methods in Allow.
type pathRoutes struct {
	mu      sync.Mutex
	allow   string
	methods map[string]route // method → the kind of route mounted for it
	api     http.Handler     // Handler(405), when an API route is on the path
	server  http.Handler     // ServerToServer(405), when a server route is
}

// Routes returns a registrar that mounts routes on mux (an
// *http.ServeMux, or any router with its Handle method and pattern syntax)
// through m.
func (m *Middleware) Routes(mux interface {
	Handle(pattern string, handler http.Handler)
}) *Routes {
	return &Routes{m: m, mux: mux, paths: map[string]*pathRoutes{}}
}

// Handle mounts a chat API route (pattern as for http.ServeMux, such as
// "POST /connections/{connection}/sessions") wrapped with
// [Middleware.Handler], and the OPTIONS route of its path, so preflights
// reach the middleware. Other OPTIONS requests to the path are answered
// 405 with the path's methods in Allow. To answer OPTIONS yourself, Handle
// an "OPTIONS …" pattern for the path before its other methods.
func (rt *Routes) Handle(pattern string, h http.Handler) {
	rt.mux.Handle(pattern, rt.m.Handler(h))
	rt.addOptions(pattern, browserRoute)
}

// WidgetPage mounts the widget's iframe page wrapped with
// [Middleware.WidgetPage] (a navigation: no preflight to mount).
func (rt *Routes) WidgetPage(pattern string, h http.Handler) {
	rt.mux.Handle(pattern, rt.m.WidgetPage(h))
}

// ServerToServer mounts a route that servers call, wrapped with
// [Middleware.ServerToServer], and its path's OPTIONS route, so a
// browser's preflight is refused (and reported) by the middleware.
func (rt *Routes) ServerToServer(pattern string, h http.Handler) {
	rt.mux.Handle(pattern, rt.m.ServerToServer(h))
	rt.addOptions(pattern, serverRoute)
}

// addOptions records the pattern's method for its path and registers the
// path's OPTIONS route the first time the path is seen. A path whose
// OPTIONS pattern the caller mounts itself is left to the caller.
func (rt *Routes) addOptions(pattern string, kind route) {
	method, rest, ok := strings.Cut(pattern, " ")
	if !ok {
		method, rest, ok = strings.Cut(pattern, "\t")
	}
	if !ok || method == "" || strings.HasPrefix(method, "/") {
		return // method-less patterns already receive OPTIONS
	}
	rest = strings.TrimLeft(rest, " \t")
	key := samePathKey(rest)
	rt.mu.Lock()
	pr, seen := rt.paths[key]
	if !seen {
		pr = &pathRoutes{methods: map[string]route{}}
		rt.paths[key] = pr
	}
	rt.mu.Unlock()
	if method == http.MethodOptions {
		return // the caller's own OPTIONS route (mounted before any other method)
	}
	pr.add(rt.m, method, kind)
	if !seen {
		rt.handleOptions(rest, pr)
	}
}

// handleOptions registers the OPTIONS route, explaining a conflict.
func (rt *Routes) handleOptions(path string, pr *pathRoutes) {
	defer func() {
		if v := recover(); v != nil {
			panic(fmt.Sprintf("middleware: Routes cannot mount the preflight route of %q: %v "+
				"(mount every route of a mux through one Routes, and give routes paths whose OPTIONS patterns do not overlap)", path, v))
		}
	}()
	rt.mux.Handle(http.MethodOptions+" "+path, pr)
}

func (pr *pathRoutes) add(m *Middleware, method string, kind route) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.methods[method] = kind
	if method == http.MethodGet {
		if _, ok := pr.methods[http.MethodHead]; !ok {
			pr.methods[http.MethodHead] = kind // ServeMux routes HEAD to GET
		}
	}
	deny := http.HandlerFunc(pr.methodNotAllowed)
	switch {
	case kind == browserRoute && pr.api == nil:
		pr.api = m.Handler(deny)
	case kind == serverRoute && pr.server == nil:
		pr.server = m.ServerToServer(deny)
	}
	var list []string
	for k := range pr.methods {
		list = append(list, k)
	}
	slices.Sort(list)
	pr.allow = strings.Join(append(list, http.MethodOptions), ", ")
}

// ServeHTTP sends an OPTIONS request through the middleware: a preflight
// through the wrapper of the route it asks about (an API route's Handler
// answers it; a server route's ServerToServer refuses it), any other
// OPTIONS request through the path's API wrapper if it has one. Either
// way the answer ends in methodNotAllowed unless the middleware answered.
func (pr *pathRoutes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pr.mu.Lock()
	h := pr.api
	if h == nil {
		h = pr.server
	}
	if isPreflight(r) {
		switch kind, ok := pr.methods[r.Header["Access-Control-Request-Method"][0]]; {
		case ok && kind == serverRoute:
			h = pr.server
		case ok && kind == browserRoute:
			h = pr.api
		case !ok && pr.server != nil:
			h = pr.server // a method the path does not have: no CORS for it
		}
	}
	pr.mu.Unlock()
	h.ServeHTTP(w, r)
}

func (pr *pathRoutes) methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	pr.mu.Lock()
	allow := pr.allow
	pr.mu.Unlock()
	w.Header().Set("Allow", allow)
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
}

// samePathKey names what ServeMux treats as one path: wildcard names
// erased ("/c/{connection}" and "/c/{conn}" are the same path to it,
// registering both panics), and a trailing "/" the same as a trailing
// "{name...}" ("/files/" and "/files/{p...}" match the same requests).
func samePathKey(p string) string {
	p = eraseWildcardNames(p)
	if strings.HasSuffix(p, "/") {
		p += "{...}"
	}
	return p
}

// eraseWildcardNames turns "/c/{connection}/s/{id...}" into
// "/c/{}/s/{...}", keeping the end anchor "{$}".
func eraseWildcardNames(p string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i+1])
		switch name := p[i+1 : i+j]; {
		case name == "$": // the end anchor, not a wildcard
			b.WriteString(name)
		case strings.HasSuffix(name, "..."):
			b.WriteString("...")
		}
		b.WriteByte('}')
		p = p[i+j+1:]
	}
}
