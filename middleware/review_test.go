package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An OPTIONS request whose Access-Control-Request-Method is present but
// empty is not a preflight for rs/cors (it checks the value), so the
// middleware must not treat it as one: recording rs/cors's "answer" to it
// captured no status, and replaying it called WriteHeader(0), a panic.
func TestReviewEmptyRequestMethodIsNotAPreflight(t *testing.T) {
	for _, tc := range []struct {
		name   string
		origin string
		want   int
		next   bool
	}{
		{"allowed origin", "https://www.uplusbank.com", http.StatusOK, true},
		{"refused origin", "https://evil.example", http.StatusForbidden, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, uplus())
			r := httptest.NewRequest(http.MethodOptions, "/connections/retail-bank/sessions", nil)
			r.Header.Set("Origin", tc.origin)
			r.Header["Access-Control-Request-Method"] = []string{""}
			var w *httptest.ResponseRecorder
			var seen *http.Request
			require.NotPanics(t, func() { w, seen = f.serve(t, r) })
			assert.Equal(t, tc.want, w.Code)
			assert.Equal(t, tc.next, seen != nil)
			if !tc.next {
				assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
			}
		})
	}
}
