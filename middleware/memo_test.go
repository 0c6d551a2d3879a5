package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/policy"
)

// Refused origins never take more than half of the memo, however many
// refused preflights arrive: admitted origins keep their room.
func TestMemoKeepsRoomForAdmittedOrigins(t *testing.T) {
	f := newFixture(t, uplus())
	m, err := ForPolicy(f.policy, WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	h := m.Handler(http.NotFoundHandler())
	for i := 0; i < 3*maxPreflightMemo; i++ {
		h.ServeHTTP(httptest.NewRecorder(), preflight("https://evil"+itoa(i)+".example"))
	}
	refused := 0
	m.staticCors.origins.Range(func(_ string, om *originMemo) {
		if om.refused {
			refused++
		}
	})
	assert.Equal(t, maxPreflightMemo/2, refused, "refused origins take half, no more")
	h.ServeHTTP(httptest.NewRecorder(), preflight("https://www.uplusbank.com"))
	_, memoised := m.staticCors.origins.Get("https://www.uplusbank.com")
	assert.True(t, memoised, "an admitted origin still finds room")
}

// An any-website policy lets anyone vary Origin and the request headers:
// the answers held stay bounded in all.
func TestMemoAnswersAreBounded(t *testing.T) {
	c := uplus()
	c.AllowedDomains = nil // any website
	f := newFixture(t, c)
	m, err := ForPolicy(f.policy, WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	h := m.Handler(http.NotFoundHandler())
	pad := strings.Repeat("a", 900)
	for i := 0; i < 300; i++ {
		o := "https://o" + itoa(i) + ".example"
		for j := 0; j < maxAnswersPerOrigin+2; j++ {
			r := httptest.NewRequest(http.MethodOptions, "/x", nil)
			r.Header.Set("Origin", o)
			r.Header.Set("Access-Control-Request-Method", "POST")
			r.Header.Set("Access-Control-Request-Headers", "x-"+itoa(j)+pad)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			require.Equal(t, http.StatusNoContent, w.Code, "answered by rs/cors, memo or not")
		}
	}
	n := 0
	m.staticCors.origins.Range(func(_ string, om *originMemo) {
		if as := om.answers.Load(); as != nil {
			require.LessOrEqual(t, len(*as), maxAnswersPerOrigin)
			n += len(*as)
		}
	})
	assert.Equal(t, maxPreflightAnswers, n, "answers stop at the bound")
}

// The replay must equal rs/cors's own answer on the credentials entry
// too, and when the response already carries a Vary.
func TestReplayMatchesRSCorsWithCredentialsAndAPriorVary(t *testing.T) {
	c := uplus()
	c.AllowCredentials = true
	f := newFixture(t, c)
	m, err := ForPolicy(f.policy, WithAllowedHeaders("X-Extra"), WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	inner := m.Handler(http.NotFoundHandler())
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Vary"] = []string{"Accept-Encoding"}
		inner.ServeHTTP(w, r)
	})
	for _, hdrs := range []string{"authorization,content-type,x-extra", "", "x-nope"} {
		req := func() *http.Request {
			r := httptest.NewRequest(http.MethodOptions, "/x", nil)
			r.Header.Set("Origin", "https://www.uplusbank.com")
			r.Header.Set("Access-Control-Request-Method", "POST")
			if hdrs != "" {
				r.Header.Set("Access-Control-Request-Headers", hdrs)
			}
			return r
		}
		direct := httptest.NewRecorder()
		direct.Header()["Vary"] = []string{"Accept-Encoding"}
		m.staticCors.cred.cors.HandlerFunc(direct, req())
		for i := 0; i < 3; i++ {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req())
			assert.Equal(t, direct.Code, w.Code)
			assert.Equal(t, direct.Header(), w.Header(), "%q call %d", hdrs, i)
		}
	}
}

// A reload that removes a domain must stop its replays at once.
func TestReloadDropsTheMemo(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	write := func(domain string) {
		require.NoError(t, os.WriteFile(path, []byte("connections:\n  - id: retail-bank\n    allowed_domains: ["+domain+"]\n    token: {secret_data: optional}\n"), 0o600))
	}
	write("https://www.uplusbank.com")
	reg, err := policy.NewRegistry(context.Background(), path, policy.RegistryOptions{})
	require.NoError(t, err)
	m, err := ForRegistry(reg, WithLogger(slog.New(slog.DiscardHandler)), WithConnectionFunc(func(*http.Request) string { return "retail-bank" }))
	require.NoError(t, err)
	h := m.Handler(http.NotFoundHandler())
	for i := 0; i < 2; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, preflight("https://www.uplusbank.com"))
		require.Equal(t, "https://www.uplusbank.com", w.Header().Get("Access-Control-Allow-Origin"))
	}
	write("https://other.example")
	require.NoError(t, reg.Reload(context.Background()))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, preflight("https://www.uplusbank.com"))
	assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, http.StatusForbidden, w.Code)
}

// Each refused preflight is reported, the memoised second one too, in
// report-only mode as well, and never gets CORS headers.
func TestRefusedFromMemoIsStillReported(t *testing.T) {
	for _, mode := range []policy.Mode{policy.ModeEnforce, policy.ModeReportOnly} {
		c := uplus()
		c.Mode = mode
		f := newFixture(t, c)
		m, err := ForPolicy(f.policy, WithEventHandler(f.events.add), WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err)
		h := m.Handler(http.NotFoundHandler())
		for i := 0; i < 3; i++ {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, preflight("https://evil.example"))
			assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))
			assert.Empty(t, w.Header().Get("Access-Control-Allow-Credentials"))
		}
		assert.Len(t, f.events.kinds(), 3, "mode %v", mode)
	}
}
