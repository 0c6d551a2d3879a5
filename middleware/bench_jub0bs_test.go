//go:build jub0bs

// The preflight against jub0bs/cors, which the module proxy does not
// serve: scripts/bench-jub0bs.sh fetches nothing itself; it runs this file
// with -tags jub0bs and a scratch go.mod (-modfile) whose replace
// directive points at a local copy of github.com/jub0bs/cors. go.mod is
// never changed.
package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	jcors "github.com/jub0bs/cors"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/policy"
)

func BenchmarkPreflightJub0bs(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		origins := benchOrigins(n)
		c := policy.ConnectionPolicy{ID: "retail-bank", AllowedDomains: origins, Token: policy.TokenRules{SecretData: policy.SecretDataOptional}}
		p, err := c.Compile(context.Background(), policy.CompileOptions{})
		require.NoError(b, err)
		m, err := ForPolicy(p, WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(b, err)
		ours := m.Handler(http.NotFoundHandler())
		jm, err := jcors.NewMiddleware(jcors.Config{
			Origins:         origins,
			Methods:         []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
			RequestHeaders:  []string{"Content-Type", "Authorization"},
			Credentialed:    true,
			MaxAgeInSeconds: 600,
		})
		require.NoError(b, err)
		theirs := jm.Wrap(http.NotFoundHandler())
		hit, miss := preflight(fmt.Sprintf("https://site-%d.example.com", n/2)), preflight("https://www.uplusbank.com.evil.example")
		for _, h := range []http.Handler{ours, theirs} {
			for r, allowed := range map[*http.Request]bool{hit: true, miss: false} {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				require.Equal(b, allowed, w.Header().Get("Access-Control-Allow-Origin") != "", r.Header.Get("Origin"))
			}
		}
		for _, tc := range []struct {
			name string
			h    http.Handler
		}{{"msgsec", ours}, {"jub0bs-cors", theirs}} {
			b.Run(fmt.Sprintf("n=%d/%s", n, tc.name), func(b *testing.B) {
				b.ReportAllocs()
				w := &discardWriter{h: http.Header{}}
				for b.Loop() {
					w.reset()
					tc.h.ServeHTTP(w, hit)
					w.reset()
					tc.h.ServeHTTP(w, miss)
				}
			})
		}
	}
}
