package cookies_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/msgsec/msgsec/cookies"
)

// benchHeader is a realistic 20-cookie header from a bank page: analytics,
// consent, load balancer, preferences, and five cookies the chat may see.
func benchHeader() string {
	pairs := []string{
		"_ga=GA1.2.1234567890.1700000000",
		"_gid=GA1.2.987654321.1700000000",
		"page_viewed=/loans/mortgage",
		"OptanonConsent=isGpcEnabled=0&datestamp=Tue+Jan+01+2030",
		"AWSALB=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4",
		"cart_contents=sku123.sku456",
		"lang=en-GB",
		"_fbp=fb.1.1700000000000.1234567890",
		"theme=dark",
		"cart_total=\"129.90\"",
		"_hjSessionUser_123=eyJpZCI6ImFiYyJ9",
		"ab_test=variant-b",
		"tz=Europe%2FLondon",
		"campaign=spring_sale",
		"_gcl_au=1.1.1234567890.1700000000",
		"consent_level=3",
		"recently_viewed=p1%7Cp2%7Cp3",
		"currency=GBP",
		"BIGipServerpool=1234567890.20480.0000",
		"_uetvid=abcdef0123456789",
	}
	return strings.Join(pairs, "; ")
}

// benchAllowed are the five names the chat may see in benchHeader: three
// exact names and two through the prefix entry "cart_*".
var benchAllowed = []string{"page_viewed", "lang", "campaign", "cart_*"}

// BenchmarkFilter compares Allowlist.Filter with the stdlib floor, in the
// same run: (*http.Request).Cookies() plus a map lookup per cookie. The
// floor is generous to the stdlib (exact names only, output slice reused).
func BenchmarkFilter(b *testing.B) {
	line := benchHeader()
	req, _ := http.NewRequest(http.MethodGet, "https://chat.example/", nil)
	req.Header.Set("Cookie", line)

	b.Run("stdlib-floor", func(b *testing.B) {
		allowed := map[string]struct{}{
			"page_viewed": {}, "lang": {}, "campaign": {}, "cart_contents": {}, "cart_total": {},
		}
		out := make([]*http.Cookie, 0, 8)
		b.ReportAllocs()
		for b.Loop() {
			out = out[:0]
			for _, c := range req.Cookies() {
				if _, ok := allowed[c.Name]; ok {
					out = append(out, c)
				}
			}
			if len(out) != 5 {
				b.Fatalf("stdlib kept %d cookies, want 5", len(out))
			}
		}
	})
	b.Run("msgsec", func(b *testing.B) {
		al, err := cookies.NewAllowlist(benchAllowed)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if got := al.Filter(req.Header["Cookie"]); len(got) != 5 {
				b.Fatalf("kept %d cookies, want 5", len(got))
			}
		}
	})
}

// BenchmarkFilterSplitLines measures the HTTP/2 shape: one line per cookie.
func BenchmarkFilterSplitLines(b *testing.B) {
	lines := strings.Split(benchHeader(), "; ")
	al, err := cookies.NewAllowlist(benchAllowed)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if got := al.Filter(lines); len(got) != 5 {
			b.Fatalf("kept %d cookies, want 5", len(got))
		}
	}
}

// BenchmarkFilterManyCookies shows the cost of many allowed-looking names:
// linear up to the bound on a header's pairs (360, duplicates found through
// a map), and no more past it, since reading stops at the bound.
func BenchmarkFilterManyCookies(b *testing.B) {
	al, err := cookies.NewAllowlist(benchAllowed)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{360, 5000} {
		var sb strings.Builder
		for i := range n {
			fmt.Fprintf(&sb, "cart_%d=x; ", i)
		}
		lines := []string{sb.String()}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				al.Filter(lines)
			}
		})
	}
}
