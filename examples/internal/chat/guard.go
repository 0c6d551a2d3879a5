package chat

import (
	"context"
	"net/http"

	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

// guard is what wraps each kind of route: package middleware normally;
// with Config.DangerouslyNoMiddleware, only connection resolution.
type guard struct {
	// mountAPI mounts a browser API route (Handler) with its preflight.
	mountAPI func(mux *http.ServeMux, pattern string, h http.Handler)
	api      func(http.Handler) http.Handler // browser API: Handler
	page     func(http.Handler) http.Handler // widget iframe: WidgetPage
	server   func(http.Handler) http.Handler // server to server: ServerToServer
}

func middlewareGuard(m *middleware.Middleware) guard {
	var routes *middleware.Routes // one per server: it mounts each path's OPTIONS once
	return guard{
		api: m.Handler, page: m.WidgetPage, server: m.ServerToServer,
		// Routes mounts each path's OPTIONS with the middleware, so CORS
		// preflights reach it (a "POST /…" pattern alone answers them 405).
		mountAPI: func(mux *http.ServeMux, pattern string, h http.Handler) {
			if routes == nil {
				routes = m.Routes(mux)
			}
			routes.Handle(pattern, h)
		},
	}
}

// bareGuard is the benchmark baseline: the same handlers, with the
// connection resolved but nothing checked: no CORS, no Origin, no cookie
// filtering on the header, no token verification. The delivery handler
// verifies its own tokens, so it runs as it is.
func (s *Server) bareGuard() guard {
	return guard{
		api: s.resolveOnly, page: s.resolveOnly, server: func(h http.Handler) http.Handler { return h },
		mountAPI: func(mux *http.ServeMux, pattern string, h http.Handler) { mux.Handle(pattern, s.resolveOnly(h)) },
	}
}

// requestInfo is what a route's guard established: the connection's
// compiled policy, the cookies it let through and the verified claims.
type requestInfo struct {
	policy  *policy.Compiled
	cookies []*http.Cookie
	claims  *secretdata.Claims
}

// bareKey is the context key of resolveOnly's *requestInfo. Only
// resolveOnly sets it, and handlers read it only when the server was built
// with DangerouslyNoMiddleware, so in the normal path nothing but the
// middleware's own context decides what a handler sees.
type bareKey struct{}

// resolveOnly finds the request's connection (404 if unknown) and hands
// it to next, checking nothing else.
func (s *Server) resolveOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.policies.Get(r.PathValue("connection"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bareKey{}, &requestInfo{policy: p})))
	})
}

// info returns what the request's guard established. ok is false (and a
// 500 written) if no guard ran: a handler must never act without one.
func (s *Server) info(w http.ResponseWriter, r *http.Request) (requestInfo, bool) {
	var in requestInfo
	if s.bare {
		if p, _ := r.Context().Value(bareKey{}).(*requestInfo); p != nil {
			in = *p
		}
	} else {
		ctx := r.Context()
		in = requestInfo{policy: middleware.Connection(ctx), cookies: middleware.Cookies(ctx), claims: middleware.Claims(ctx)}
	}
	if in.policy == nil {
		s.log.Error("chat: route served without its guard", "path", r.URL.Path)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return requestInfo{}, false
	}
	return in, true
}
