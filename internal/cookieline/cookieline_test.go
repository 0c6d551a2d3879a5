package cookieline_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/msgsec/msgsec/cookies"
	"github.com/msgsec/msgsec/internal/cookieline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pairsOf(cs []*http.Cookie) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name+"="+c.Value)
	}
	return out
}

func mustAllowlist(t *testing.T, names []string) *cookies.Allowlist {
	t.Helper()
	a, err := cookies.NewAllowlist(names)
	require.NoError(t, err)
	return a
}

// manyCarts returns "cart_0=v; cart_1=v; …" with n pairs.
func manyCarts(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("cart_%d=v", i)
	}
	return strings.Join(parts, "; ")
}

// Rewrite, the middleware's rewrite, rewrites exactly as
// RewriteRequest does; Filter of the line it returns gives exactly the
// cookies RewriteRequest returns, and its report is FilterReport's.
func TestRewriteMatchesRewriteRequest(t *testing.T) {
	a := mustAllowlist(t, []string{"page_viewed", "cart_*"})
	for _, lines := range [][]string{
		nil,
		{"page_viewed=1"},
		{"page_viewed=1; cart_a=2"},
		{"page_viewed=1;cart_a=2; session_id=x"},
		{"page_viewed=1", "cart_a=2"},
		{"page_viewed=1; page_viewed=2"},
		{`page_viewed=tossed; x="; page_viewed=genuine`},
		{"session_id=x"},
		{manyCarts(360) + "; page_viewed=1"},
	} {
		mk := func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "https://chat.example/", nil)
			for _, l := range lines {
				r.Header.Add("Cookie", l)
			}
			r.Header["COOKIE"] = []string{"session_id=secret"}
			return r
		}
		r1, r2, r3 := mk(), mk(), mk()
		wantKept, wantDropped := a.FilterReport(r1.Header["Cookie"])
		kept := a.RewriteRequest(r1)
		assert.Equal(t, pairsOf(wantKept), pairsOf(kept))

		line, k, d := cookieline.Rewrite[*cookies.Allowlist, cookies.Drop](a, r2, false)
		assert.Equal(t, r1.Header, r2.Header, "%.60q: headers differ", lines)
		assert.Nil(t, k)
		assert.Nil(t, d)
		if kept == nil {
			assert.Empty(t, line)
		} else {
			assert.Equal(t, pairsOf(kept), pairsOf(a.Filter([]string{line})), "%.60q: Filter(%q)", lines, line)
		}

		line3, k, d := cookieline.Rewrite[*cookies.Allowlist, cookies.Drop](a, r3, true)
		assert.Equal(t, r1.Header, r3.Header, "%.60q: headers differ when reporting", lines)
		assert.Equal(t, line, line3)
		assert.Equal(t, pairsOf(kept), pairsOf(k))
		assert.Equal(t, wantDropped, d)
	}
}

// The middleware's rewrite allocates nothing when the header is already
// what it would be rewritten to, and Filter of one line no more than the
// kept cookies.
func TestRewriteAllocations(t *testing.T) {
	a := mustAllowlist(t, []string{"page_viewed", "cart_*"})
	r := httptest.NewRequest(http.MethodGet, "https://chat.example/", nil)
	const line = "page_viewed=1; cart_a=2"
	allocs := testing.AllocsPerRun(100, func() {
		r.Header["Cookie"] = []string{line}
		cookieline.Rewrite[*cookies.Allowlist, cookies.Drop](a, r, false)
	})
	assert.LessOrEqual(t, allocs, 1.0, "only the header slice of the test itself")
	allocs = testing.AllocsPerRun(100, func() { a.Filter([]string{line}) })
	assert.Equal(t, 1.0, allocs, "one block for up to four kept cookies")
}
