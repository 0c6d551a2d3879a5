package origin

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/rs/cors"
)

// benchPatterns returns n patterns, half exact origins and half wildcards.
func benchPatterns(n int) []string {
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

// benchOrigins picks origins from the middle of the list so a linear scan
// does not get lucky.
func benchOrigins(n int) map[string]string {
	mid := n / 2
	if mid%2 != 0 {
		mid--
	}
	return map[string]string{
		"hit-exact":    fmt.Sprintf("https://site-%d.example.com", mid),
		"hit-wildcard": fmt.Sprintf("https://chat.wild-%d.example.com", mid+1),
		"miss":         "https://www.uplusbank.com.evil.example",
	}
}

var benchSink bool

// BenchmarkAllows compares Matcher.Allows with rs/cors's OriginAllowed on
// the same lists, in the same run. "pair" checks a hit and a miss per op.
func BenchmarkAllows(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		patterns := benchPatterns(n)
		origins := benchOrigins(n)
		m, err := NewMatcher(patterns)
		if err != nil {
			b.Fatal(err)
		}
		c := cors.New(cors.Options{AllowedOrigins: patterns})
		for _, kind := range []string{"hit-exact", "hit-wildcard", "miss", "pair"} {
			var o1, o2 string
			if kind == "pair" {
				o1, o2 = origins["hit-exact"], origins["miss"]
			} else {
				o1, o2 = origins[kind], origins[kind]
			}
			want := kind != "miss"
			if m.Allows(o1) != want {
				b.Fatalf("%s: msgsec disagrees", kind)
			}
			b.Run(fmt.Sprintf("n=%d/%s/msgsec", n, kind), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					benchSink = m.Allows(o1)
					benchSink = m.Allows(o2)
				}
			})
			r1, _ := http.NewRequest(http.MethodGet, "https://chat.example/", nil)
			r1.Header.Set("Origin", o1)
			r2, _ := http.NewRequest(http.MethodGet, "https://chat.example/", nil)
			r2.Header.Set("Origin", o2)
			if c.OriginAllowed(r1) != want {
				b.Fatalf("%s: rs/cors disagrees", kind)
			}
			b.Run(fmt.Sprintf("n=%d/%s/rs-cors", n, kind), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					benchSink = c.OriginAllowed(r1)
					benchSink = c.OriginAllowed(r2)
				}
			})
		}
	}
}

// BenchmarkAllowsScale is the "pair" case (a listed exact origin and a
// miss) from 10 to 100,000 allowed origins, for BENCHMARKS.md's picture
// (scripts/benchplot): msgsec stays flat, a list scan does not.
func BenchmarkAllowsScale(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000, 100000} {
		patterns := benchPatterns(n)
		origins := benchOrigins(n)
		m, err := NewMatcher(patterns)
		if err != nil {
			b.Fatal(err)
		}
		hit, miss := origins["hit-exact"], origins["miss"]
		if !m.Allows(hit) || m.Allows(miss) {
			b.Fatal("msgsec: wrong decision")
		}
		b.Run(fmt.Sprintf("n=%d/msgsec", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchSink = m.Allows(hit)
				benchSink = m.Allows(miss)
			}
		})
		c := cors.New(cors.Options{AllowedOrigins: patterns})
		r1, _ := http.NewRequest(http.MethodGet, "https://chat.example/", nil)
		r1.Header.Set("Origin", hit)
		r2, _ := http.NewRequest(http.MethodGet, "https://chat.example/", nil)
		r2.Header.Set("Origin", miss)
		if !c.OriginAllowed(r1) || c.OriginAllowed(r2) {
			b.Fatal("rs/cors: wrong decision")
		}
		b.Run(fmt.Sprintf("n=%d/rs-cors", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchSink = c.OriginAllowed(r1)
				benchSink = c.OriginAllowed(r2)
			}
		})
	}
}

func BenchmarkAllowsSameSite(b *testing.B) {
	m, err := NewMatcher(benchPatterns(1000), SameSite())
	if err != nil {
		b.Fatal(err)
	}
	for name, o := range map[string]string{
		"listed":  "https://site-500.example.com",
		"sibling": "https://other.site-500.example.com",
		"miss":    "https://www.uplusbank.com.evil.example",
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchSink = m.Allows(o)
			}
		})
	}
}
