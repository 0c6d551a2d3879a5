package middleware

import (
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Mux is what Routes registers on: http.ServeMux, or any router with the
// same Handle method and pattern syntax.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Routes mounts wrapped handlers on a Mux together with what a browser
// needs to reach them. Get one from [Middleware.Routes].
//
// It exists because a ServeMux pattern with a method does not route the
// CORS preflight: with only "POST /x" registered, an OPTIONS preflight for
// /x is answered 405 by the mux itself, the middleware never runs, and the
// browser never sends the POST. [Routes.Handle] registers "OPTIONS /x" with
// the same middleware, once per path however many methods it has.
type Routes struct {
	m   *Middleware
	mux Mux

	mu      sync.Mutex
	methods map[string]*pathMethods // by host+path, wildcard names erased
}

// pathMethods lists the methods registered for one path, for the Allow
// header of a 405 to an OPTIONS request that is not a preflight.
type pathMethods struct {
	mu    sync.Mutex
	allow string
	list  []string
}

// Routes returns a registrar that mounts routes on mux through m.
func (m *Middleware) Routes(mux Mux) *Routes {
	return &Routes{m: m, mux: mux, methods: map[string]*pathMethods{}}
}

// Handle mounts a chat API route (pattern as for http.ServeMux, such as
// "POST /connections/{connection}/sessions") wrapped with
// [Middleware.Handler], and the OPTIONS route of its path, so preflights
// reach the middleware. Other OPTIONS requests to the path are answered
// 405 with the path's methods in Allow. To answer OPTIONS yourself, Handle
// an "OPTIONS …" pattern for the path before its other methods.
func (rt *Routes) Handle(pattern string, h http.Handler) {
	rt.mux.Handle(pattern, rt.m.Handler(h))
	rt.addOptions(pattern, rt.m.Handler)
}

// HandleFunc is Handle for a function.
func (rt *Routes) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	rt.Handle(pattern, http.HandlerFunc(h))
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
	rt.addOptions(pattern, rt.m.ServerToServer)
}

// addOptions registers OPTIONS for the pattern's path the first time the
// path is seen with a method, and records the method. A path whose OPTIONS
// pattern the caller mounts itself is left to the caller.
func (rt *Routes) addOptions(pattern string, wrap func(http.Handler) http.Handler) {
	method, rest, ok := strings.Cut(pattern, " ")
	if !ok || method == "" {
		return // method-less patterns already receive OPTIONS
	}
	rest = strings.TrimLeft(rest, " \t")
	key := eraseWildcardNames(rest)
	rt.mu.Lock()
	pm, seen := rt.methods[key]
	if !seen {
		pm = &pathMethods{}
		rt.methods[key] = pm
	}
	rt.mu.Unlock()
	if method == http.MethodOptions {
		return // the caller's own OPTIONS route (mounted before any other method)
	}
	pm.add(method)
	if !seen {
		rt.mux.Handle(http.MethodOptions+" "+rest, wrap(pm))
	}
}

func (pm *pathMethods) add(method string) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if method == http.MethodGet && !slices.Contains(pm.list, http.MethodHead) {
		pm.list = append(pm.list, http.MethodHead) // ServeMux routes HEAD to GET
	}
	if !slices.Contains(pm.list, method) {
		pm.list = append(pm.list, method)
	}
	pm.allow = strings.Join(append(slices.Sorted(slices.Values(pm.list)), http.MethodOptions), ", ")
}

// ServeHTTP answers an OPTIONS request that is not a preflight (those the
// middleware answers before this runs).
func (pm *pathMethods) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	pm.mu.Lock()
	allow := pm.allow
	pm.mu.Unlock()
	w.Header().Set("Allow", allow)
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
}

// eraseWildcardNames turns "/c/{connection}/s/{id...}" into
// "/c/{}/s/{...}": ServeMux treats patterns that differ only in wildcard
// names as the same path (registering both panics).
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
