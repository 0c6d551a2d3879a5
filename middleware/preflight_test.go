package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The memo must answer exactly as rs/cors does, for allowed and refused
// methods and headers, on first and later calls.
func TestPreflightMemoMatchesRSCors(t *testing.T) {
	f := newFixture(t, uplus())
	m, err := ForPolicy(f.policy)
	require.NoError(t, err)
	h := m.Handler(http.NotFoundHandler())
	cases := []struct{ method, headers string }{
		{"POST", "authorization,content-type"},
		{"POST", ""},
		{"PUT", "content-type"},
		{"CONNECT", ""},           // method rs/cors refuses
		{"POST", "x-not-allowed"}, // header rs/cors refuses
		{"POST", "Content-Type"},  // not lowercase: rs/cors refuses
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.headers, func(t *testing.T) {
			req := func() *http.Request {
				r := httptest.NewRequest(http.MethodOptions, "/x", nil)
				r.Header.Set("Origin", "https://www.uplusbank.com")
				r.Header.Set("Access-Control-Request-Method", tc.method)
				if tc.headers != "" {
					r.Header.Set("Access-Control-Request-Headers", tc.headers)
				}
				return r
			}
			direct := httptest.NewRecorder()
			m.staticCors.plain.cors.HandlerFunc(direct, req())
			for i := 0; i < 3; i++ { // the first call records, later ones replay
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req())
				assert.Equal(t, direct.Code, w.Code)
				assert.Equal(t, direct.Header(), w.Header(), "call %d", i)
			}
		})
	}
}

func TestPreflightMemoIsPerOriginAndBounded(t *testing.T) {
	c := uplus()
	c.AllowedDomains = []string{"https://*.uplusbank.com"}
	f := newFixture(t, c)
	m, err := ForPolicy(f.policy)
	require.NoError(t, err)
	h := m.Handler(http.NotFoundHandler())
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				o := "https://a" + string(rune('a'+g)) + itoa(i) + ".uplusbank.com"
				w := httptest.NewRecorder()
				h.ServeHTTP(w, preflight(o))
				if !assert.Equalf(t, o, w.Header().Get("Access-Control-Allow-Origin"), "origin %s", o) {
					return
				}
			}
		}(g)
	}
	wg.Wait()
	assert.LessOrEqual(t, m.staticCors.origins.Len(), maxPreflightMemo)
	// A refused origin never reaches the answers' memo, only the refused
	// one, which is bounded too and never admits.
	for i := 0; i < 2*maxPreflightMemo; i++ {
		o := "https://evil" + itoa(i) + ".example"
		for range 2 { // the second time from the refused memo
			w := httptest.NewRecorder()
			h.ServeHTTP(w, preflight(o))
			require.Equal(t, http.StatusForbidden, w.Code, o)
			require.Empty(t, w.Header().Get("Access-Control-Allow-Origin"), o)
		}
	}
	assert.LessOrEqual(t, m.staticCors.origins.Len(), maxPreflightMemo, "bounded")
	refused := 0
	m.staticCors.origins.Range(func(_ string, om *originMemo) {
		if om.refused {
			refused++
		}
	})
	assert.LessOrEqual(t, refused, maxPreflightMemo/2, "refused origins never take more than half")
	m.staticCors.origins.Range(func(o string, om *originMemo) {
		if strings.Contains(o, "evil") {
			assert.True(t, om.refused)
			assert.Nil(t, om.answers.Load(), "a refused origin has no answer")
		}
	})
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// An OPTIONS request whose Access-Control-Request-Method is present but
// empty is not a preflight for rs/cors (it checks the value), so the
// middleware must not treat it as one: recording rs/cors's "answer" to it
// captured no status, and replaying it called WriteHeader(0), a panic.
func TestEmptyRequestMethodIsNotAPreflight(t *testing.T) {
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
