package chat

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// DNS rebinding: a page on attacker.example, re-resolved to the chat
// server's loopback address, reads /agent same-origin (its Host is
// attacker.example) and with it every session's secret data.
func TestAgentViewRefusesForeignHost(t *testing.T) {
	f := newFixture(t, Config{})
	sid := f.open(t, `{}`, map[string]string{"Authorization": "Bearer " + f.token(t, "")})
	_ = sid
	r := httptest.NewRequest(http.MethodGet, "http://attacker.example:8080/agent", nil)
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, r)
	assert.NotEqual(t, http.StatusOK, w.Code)
	assert.NotContains(t, w.Body.String(), "C-1001")
}

// The agent view is served to its own host only.
func TestAgentViewServedToOwnHostOnly(t *testing.T) {
	f := newFixture(t, Config{})
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://rebound.example/agent", nil))
	assert.Equal(t, http.StatusMisdirectedRequest, w.Code)
	w = httptest.NewRecorder()
	f.srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, selfOrigin+"/agent", nil))
	assert.Equal(t, http.StatusOK, w.Code)
}
