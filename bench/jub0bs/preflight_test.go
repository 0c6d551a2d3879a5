// Package jub0bs benchmarks msgsec's middleware preflight against
// jub0bs/cors, which the Go module proxy does not serve. It is a module of
// its own, so msgsec's go.mod never names jub0bs/cors (and go mod tidy
// there never looks for it): scripts/bench-jub0bs.sh runs it with a
// scratch go.mod (-modfile) whose replace directives point at this
// checkout and at a local copy of github.com/jub0bs/cors.
package jub0bs

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	jcors "github.com/jub0bs/cors"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/policy"
)

// benchOrigins, preflight and discardWriter are those of msgsec's
// middleware benchmarks (middleware/bench_test.go), which this module
// cannot import.
func benchOrigins(n int) []string {
	out := make([]string, n)
	for i := range out {
		if i%2 == 0 {
			out[i] = fmt.Sprintf("https://site-%d.example.com", i)
		} else {
			out[i] = fmt.Sprintf("https://*.wild-%d.example.com", i)
		}
	}
	return out
}

func preflight(o string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, "/connections/retail-bank/sessions", nil)
	r.Header.Set("Origin", o)
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	return r
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) reset()                      { clear(w.h) }

func BenchmarkPreflightJub0bs(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		origins := benchOrigins(n)
		c := policy.ConnectionPolicy{ID: "retail-bank", AllowedDomains: origins, Token: policy.TokenRules{SecretData: policy.SecretDataOptional}}
		p, err := c.Compile(context.Background(), policy.CompileOptions{})
		require.NoError(b, err)
		m, err := middleware.ForPolicy(p, middleware.WithLogger(slog.New(slog.DiscardHandler)))
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
