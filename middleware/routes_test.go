package middleware

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoutes(t *testing.T) {
	f := newFixture(t, uplus())
	m, err := ForPolicy(f.policy, WithEventHandler(f.events.add), WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	mux := http.NewServeMux()
	rt := m.Routes(mux)
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }
	require.NotPanics(t, func() {
		rt.Handle("POST /connections/{connection}/sessions", http.HandlerFunc(ok))
		rt.Handle("GET /connections/{connection}/sessions", http.HandlerFunc(ok))                     // same path, another method
		rt.Handle("DELETE /connections/{conn}/sessions", http.HandlerFunc(ok))                        // same path, other wildcard name
		rt.Handle("POST /connections/{connection}/sessions/{session}/messages", http.HandlerFunc(ok)) // another path
		rt.Handle("/connections/{connection}/config", http.HandlerFunc(ok))                           // method-less: gets OPTIONS already
		rt.Handle("OPTIONS /connections/{connection}/custom", http.HandlerFunc(ok))
		rt.Handle("POST /connections/{connection}/custom", http.HandlerFunc(ok)) // OPTIONS is the caller's: not mounted twice
		rt.WidgetPage("GET /connections/{connection}/widget", http.HandlerFunc(ok))
		rt.ServerToServer("POST /connections/{connection}/sessions/{session}/secret-data", http.HandlerFunc(ok))
	})
	serve := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	pre := func(path, origin string) *http.Request {
		r := preflight(origin)
		r.URL.Path = path
		return r
	}

	for _, path := range []string{"/connections/retail-bank/sessions", "/connections/retail-bank/sessions/s1/messages", "/connections/retail-bank/config"} {
		w := serve(pre(path, "https://www.uplusbank.com"))
		assert.Equal(t, http.StatusNoContent, w.Code, path)
		assert.Equal(t, "https://www.uplusbank.com", w.Header().Get("Access-Control-Allow-Origin"), path)

		f.events.ev = nil
		w = serve(pre(path, "https://evil.example"))
		assert.Equal(t, http.StatusForbidden, w.Code, path)
		assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"), path)
		assert.Equal(t, []Kind{KindPreflightDenied}, f.events.kinds(), "the middleware answered, not the mux")
	}

	t.Run("an OPTIONS that is not a preflight gets 405 with the path's methods", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodOptions, "/connections/retail-bank/sessions", nil)
		r.Header.Set("Origin", "https://www.uplusbank.com")
		w := serve(r)
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
		assert.Equal(t, "DELETE, GET, HEAD, POST, OPTIONS", w.Header().Get("Allow"))
		assert.Equal(t, "https://www.uplusbank.com", w.Header().Get("Access-Control-Allow-Origin"))
	})
	t.Run("the OPTIONS route is guarded like the route", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodOptions, "/connections/retail-bank/sessions", nil)
		r.Header.Set("Origin", "https://evil.example")
		assert.Equal(t, http.StatusForbidden, serve(r).Code)
	})
	t.Run("the actual request still works", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/connections/retail-bank/sessions", nil)
		r.Header.Set("Origin", "https://www.uplusbank.com")
		assert.Equal(t, http.StatusCreated, serve(r).Code)
	})
	t.Run("server-to-server preflights are refused by the middleware", func(t *testing.T) {
		f.events.ev = nil
		w := serve(pre("/connections/retail-bank/sessions/s1/secret-data", "https://www.uplusbank.com"))
		assert.Equal(t, http.StatusForbidden, w.Code)
		assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
		assert.Equal(t, []Kind{KindPreflightDenied}, f.events.kinds())
	})
	t.Run("an explicit OPTIONS pattern is the caller's, behind the middleware", func(t *testing.T) {
		w := serve(pre("/connections/retail-bank/custom", "https://www.uplusbank.com"))
		assert.Equal(t, http.StatusNoContent, w.Code, "the preflight is the middleware's")
		r := httptest.NewRequest(http.MethodOptions, "/connections/retail-bank/custom", nil)
		r.Header.Set("Origin", "https://www.uplusbank.com")
		assert.Equal(t, http.StatusCreated, serve(r).Code, "any other OPTIONS is the handler's")
	})
}

// Without Routes, a method pattern never lets the middleware see the
// preflight: this is what the README once showed.
func TestMethodPatternWithoutRoutesAnswers405(t *testing.T) {
	f := newFixture(t, uplus())
	m, err := ForPolicy(f.policy, WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /connections/{connection}/sessions", m.Handler(http.NotFoundHandler()))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, preflight("https://www.uplusbank.com"))
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
}

func TestEraseWildcardNames(t *testing.T) {
	for in, want := range map[string]string{
		"/c/{connection}/s/{id}": "/c/{}/s/{}",
		"/c/{rest...}":           "/c/{...}",
		"/c/{$}":                 "/c/{$}",
		"host.example/x":         "host.example/x",
		"/broken/{":              "/broken/{",
	} {
		assert.Equal(t, want, eraseWildcardNames(in), in)
	}
}

// A path with an API route and a server route: each preflight is answered
// by the wrapper of the route whose method it asks for, in either order of
// registration.
func TestRoutesPreflightGoesToTheRequestedMethodsWrapper(t *testing.T) {
	for _, apiFirst := range []bool{true, false} {
		f := newFixture(t, uplus())
		m, err := ForPolicy(f.policy, WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err)
		mux := http.NewServeMux()
		rt := m.Routes(mux)
		const path = "/connections/{connection}/sessions/{session}/secret-data"
		ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
		if apiFirst {
			rt.Handle("GET "+path, ok)
			rt.ServerToServer("POST "+path, ok)
		} else {
			rt.ServerToServer("POST "+path, ok)
			rt.Handle("GET "+path, ok)
		}
		ask := func(method string) *httptest.ResponseRecorder {
			r := preflight("https://www.uplusbank.com")
			r.URL.Path = "/connections/retail-bank/sessions/s1/secret-data"
			r.Header.Set("Access-Control-Request-Method", method)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			return w
		}
		w := ask("POST")
		assert.Equal(t, http.StatusForbidden, w.Code, "the server route is never given CORS access (api first: %v)", apiFirst)
		assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
		w = ask("GET")
		assert.Equal(t, http.StatusNoContent, w.Code, "the API route's preflight works (api first: %v)", apiFirst)
		assert.Equal(t, "https://www.uplusbank.com", w.Header().Get("Access-Control-Allow-Origin"))
		w = ask("PUT")
		assert.Equal(t, http.StatusForbidden, w.Code, "a method the path does not have gets no CORS when a server route is there")
	}
}

func TestRoutesPatternShapes(t *testing.T) {
	m, err := ForPolicy(compile(t, uplus()), WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }
	t.Run("a trailing slash and a trailing {name...} are one path", func(t *testing.T) {
		rt := m.Routes(http.NewServeMux())
		assert.NotPanics(t, func() {
			rt.Handle("GET /files/", http.HandlerFunc(ok))
			rt.Handle("POST /files/{p...}", http.HandlerFunc(ok))
		})
	})
	t.Run("a tab after the method", func(t *testing.T) {
		mux := http.NewServeMux()
		m.Routes(mux).Handle("POST\t/connections/{connection}/sessions", http.HandlerFunc(ok))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, preflight("https://www.uplusbank.com"))
		assert.Equal(t, http.StatusNoContent, w.Code)
	})
	t.Run("overlapping OPTIONS patterns panic with an explanation", func(t *testing.T) {
		rt := m.Routes(http.NewServeMux())
		rt.Handle("GET /a/{x}", http.HandlerFunc(ok))
		var v any
		func() {
			defer func() { v = recover() }()
			rt.Handle("POST /{y}/b", http.HandlerFunc(ok))
		}()
		msg, _ := v.(string)
		assert.Contains(t, msg, `middleware: Routes cannot mount the preflight route of "/{y}/b"`)
		assert.Contains(t, msg, "mount every route of a mux through one Routes")
	})
}
