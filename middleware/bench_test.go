package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/cors"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

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

// discardWriter is a ResponseWriter that keeps headers but drops the
// body, so the benchmark measures the middleware, not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func (w *discardWriter) reset() { clear(w.h) }

// BenchmarkPreflight: a preflight hit and a miss per op at 1,000 allowed
// origins, through msgsec's middleware and through bare rs/cors configured
// with the same list, in the same run.
func BenchmarkPreflight(b *testing.B) {
	origins := benchOrigins(1000)
	c := policy.ConnectionPolicy{ID: "retail-bank", AllowedDomains: origins, Token: policy.TokenRules{SecretData: policy.SecretDataOptional}}
	p, err := c.Compile(context.Background(), policy.CompileOptions{})
	require.NoError(b, err)
	m, err := ForPolicy(p, WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(b, err)
	ours := m.Handler(http.NotFoundHandler())
	theirs := cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders:   []string{"Content-Type", "Authorization"},
		AllowCredentials: true,
		MaxAge:           600,
	}).Handler(http.NotFoundHandler())

	hit, miss := preflight("https://site-500.example.com"), preflight("https://www.uplusbank.com.evil.example")
	check := func(h http.Handler, r *http.Request, allowed bool) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if (w.Header().Get("Access-Control-Allow-Origin") != "") != allowed {
			b.Fatalf("unexpected decision for %s", r.Header.Get("Origin"))
		}
	}
	for _, h := range []http.Handler{ours, theirs} {
		check(h, hit, true)
		check(h, miss, false)
	}
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"msgsec", ours}, {"rs-cors", theirs}} {
		b.Run(tc.name, func(b *testing.B) {
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

// nopReplay makes a verifier accept the same token again, so one token can
// be verified b.N times; both sides of the comparison use it.
type nopReplay struct{}

func (nopReplay) Record(context.Context, string, string, time.Time) error { return nil }

// BenchmarkPost: an actual cross-origin POST with a token and cookies
// through the whole middleware, against the bare handler plus Verify alone.
func BenchmarkPost(b *testing.B) {
	c := policy.ConnectionPolicy{
		ID:             "retail-bank",
		AllowedDomains: benchOrigins(1000),
		AllowedCookies: []string{"page_viewed", "cart_contents"},
		Keys:           []policy.KeyConfig{{ID: "k1", Secret: policy.SecretBytes(testSecret)}},
		Token:          policy.TokenRules{Issuer: "bank"},
	}
	p, err := c.Compile(context.Background(), policy.CompileOptions{Replay: nopReplay{}})
	require.NoError(b, err)
	key, err := secretdata.NewHMACKey("k1", secretdata.HS256, testSecret)
	require.NoError(b, err)
	s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: "bank", Audience: "retail-bank"})
	require.NoError(b, err)
	tok, err := s.Sign(secretdata.Claims{Subject: "cust-1", SecretData: map[string]any{"customer_id": "C-42", "authentication_status": "authenticated"}})
	require.NoError(b, err)

	m, err := ForPolicy(p, WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(b, err)
	var sink *secretdata.Claims
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	ours := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sink = Claims(r.Context())
		app.ServeHTTP(w, r)
	}))
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, err := p.Verifier().Verify(r.Context(), tok)
		if err != nil {
			b.Fatal(err)
		}
		sink = claims
		app.ServeHTTP(w, r)
	})
	newReq := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/connections/retail-bank/sessions/s1/messages", nil)
		r.Header.Set("Origin", "https://site-500.example.com")
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	const cookieHeader = "page_viewed=/store; _ga=GA1.2.3; cart_contents=3; session_id=abc; theme=dark"
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"middleware", ours}, {"bare+verify", bare}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			w := &discardWriter{h: http.Header{}}
			r := newReq()
			for b.Loop() {
				w.reset()
				r.Header["Cookie"] = []string{cookieHeader} // the middleware rewrites it
				tc.h.ServeHTTP(w, r)
			}
			if sink == nil {
				b.Fatal("no claims")
			}
		})
	}
}

// BenchmarkPreflightStoreLoaded is BenchmarkPreflight's msgsec side with
// the policy read through a policy.Store (a MemoryBackend: Redis would
// give the same compiled value) and resolved per request by ForRegistry,
// against the same policy from a file-like document: the hot path does
// not depend on where a policy came from.
func BenchmarkPreflightStoreLoaded(b *testing.B) {
	ctx := context.Background()
	c := policy.ConnectionPolicy{ID: "retail-bank", AllowedDomains: benchOrigins(1000), Token: policy.TokenRules{SecretData: policy.SecretDataOptional}}
	store, err := policy.NewStore(policy.NewMemoryBackend(), policy.StoreOptions{SealingKey: []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(b, err)
	_, err = store.Put(ctx, &c, 0)
	require.NoError(b, err)
	fromStore, err := policy.NewRegistryFromSource(ctx, store, policy.RegistryOptions{})
	require.NoError(b, err)
	defer fromStore.Close()
	doc := "connections:\n- id: retail-bank\n  token: {secret_data: optional}\n  allowed_domains:\n"
	for _, o := range c.AllowedDomains {
		doc += "  - " + o + "\n"
	}
	fromFile, err := policy.NewRegistryFromBytes(ctx, []byte(doc), policy.RegistryOptions{})
	require.NoError(b, err)
	defer fromFile.Close()
	hit, miss := preflight("https://site-500.example.com"), preflight("https://www.uplusbank.com.evil.example")
	for _, tc := range []struct {
		name string
		reg  *policy.Registry
	}{{"file", fromFile}, {"store", fromStore}} {
		m, err := ForRegistry(tc.reg, WithLogger(slog.New(slog.DiscardHandler)), WithConnectionFunc(func(*http.Request) string { return "retail-bank" }))
		require.NoError(b, err)
		h := m.Handler(http.NotFoundHandler())
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			w := &discardWriter{h: http.Header{}}
			for b.Loop() {
				w.reset()
				h.ServeHTTP(w, hit)
				if w.h.Get("Access-Control-Allow-Origin") == "" {
					b.Fatal("hit refused")
				}
				w.reset()
				h.ServeHTTP(w, miss)
			}
		})
	}
}
