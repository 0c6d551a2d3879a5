package chat

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDangerouslyNoMiddleware: the benchmark baseline serves the same
// handlers with msgsec's checks removed (so a request the normal server
// refuses passes), still resolves the connection, and the delivery route
// still verifies its own tokens.
func TestDangerouslyNoMiddleware(t *testing.T) {
	tests := []struct {
		name       string
		req        req
		normal     int // with the middleware
		bare       int // without
		corsOnBare bool
	}{
		{"disallowed origin opens a session", req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`,
			header: map[string]string{"Origin": evilOrigin, "Content-Type": jsonCT}}, 403, 201, false},
		{"no origin at all", req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`,
			header: map[string]string{"Content-Type": jsonCT}}, 403, 201, false},
		{"forged token is not verified", req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`,
			header: map[string]string{"Origin": bankOrigin, "Content-Type": jsonCT, "Authorization": "Bearer forged"}}, 401, 201, false},
		{"preflight is not answered", req{method: "OPTIONS", path: "/connections/retail-bank/sessions",
			header: map[string]string{"Origin": bankOrigin, "Access-Control-Request-Method": "POST"}}, 204, 405, false},
		{"unknown connection", req{method: "POST", path: "/connections/nope/sessions", body: `{}`,
			header: map[string]string{"Origin": bankOrigin, "Content-Type": jsonCT}}, 404, 404, false},
		{"widget page", req{method: "GET", path: "/connections/retail-bank/widget"}, 200, 200, false},
		{"delivery still verifies its token", req{method: "POST", path: "/connections/retail-bank/sessions/x/secret-data",
			header: map[string]string{"Authorization": "Bearer forged"}}, 401, 401, false},
	}
	normal := newFixture(t, Config{})
	bare := newFixture(t, Config{DangerouslyNoMiddleware: true})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.normal, normal.do(t, tt.req).Code, "with the middleware")
			w := bare.do(t, tt.req)
			assert.Equal(t, tt.bare, w.Code, "without: %s", w.Body.String())
			assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"), "no CORS without the middleware")
			assert.Empty(t, w.Header().Get("Content-Security-Policy-Report-Only"))
		})
	}
	assert.Contains(t, bare.logs.String(), "DangerouslyNoMiddleware", "the mode is announced")
	assert.NotContains(t, normal.logs.String(), "DangerouslyNoMiddleware")

	// The handlers are the same: a chat works end to end.
	sid := bare.open(t, `{"cookies":{"page_viewed":"1","session_id":"`+privateValue+`"}}`, nil)
	w := bare.do(t, req{method: "POST", path: "/connections/retail-bank/sessions/" + sid + "/messages", body: `{"text":"hi"}`,
		header: map[string]string{"Content-Type": jsonCT}})
	assert.Equal(t, 204, w.Code)
	page := bare.agentPage(t)
	assert.Contains(t, page, "Echo: hi")
	assert.NotContains(t, page, privateValue, "the handler's own body filter still runs")
}

// TestHandlersRefuseWithoutGuard: a handler reached without its guard's
// context fails closed instead of acting without a policy.
func TestHandlersRefuseWithoutGuard(t *testing.T) {
	for _, bare := range []bool{false, true} {
		f := newFixture(t, Config{DangerouslyNoMiddleware: bare})
		handlers := map[string]http.HandlerFunc{
			"config": f.srv.config, "open": f.srv.openSession, "message": f.srv.postMessage,
			"socket": f.srv.socket, "widget": f.srv.widgetPage,
		}
		for name, h := range handlers {
			t.Run(name, func(t *testing.T) {
				r := httptest.NewRequest("POST", "http://chat.test/x", strings.NewReader(`{"text":"hi"}`))
				r.Header.Set("Content-Type", jsonCT)
				w := httptest.NewRecorder()
				h(w, r)
				assert.Equal(t, http.StatusInternalServerError, w.Code)
			})
		}
	}
}
