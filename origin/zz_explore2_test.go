package origin_test

import (
	"strings"
	"testing"
	"github.com/msgsec/msgsec/origin"
)

func TestZZExplore2(t *testing.T) {
	ms := map[string]*origin.Matcher{}
	mk := func(name string, pats []string, opts ...origin.Option) {
		m, err := origin.NewMatcher(pats, opts...)
		if err != nil { t.Fatal(err) }
		ms[name] = m
	}
	mk("exact", []string{"https://www.uplusbank.com", "http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:8080", "https://xn--bcher-kva.example"})
	mk("wild", []string{"https://*.uplusbank.com", "https://*.amazonaws.com", "https://*.compute-1.amazonaws.com", "http://*.localhost:*"})
	mk("any", []string{"*"})
	mk("site", []string{"https://www.uplusbank.com", "https://foo.github.io", "http://localhost:3000", "https://1.2.3.4"}, origin.SameSite())
	reqs := []string{
		"https://www.uplusbank.com", "https://www.uplusbank.com.", "https://WWW.uplusbank.com", "HTTPS://www.uplusbank.com",
		"https://www.uplusbank.com:443", "https://www.uplusbank.com:0443", "https://www.uplusbank.com:", "https://www.uplusbank.com/",
		"https://www.uplusbank.com ", " https://www.uplusbank.com", "https://www.uplusbank.com\t", "https://www.uplusbank.com\x00",
		"https://www.uplusbank.com\r\n", "https://www。uplusbank。com", "https://www\uff0euplusbank.com", "https://www\uff61uplusbank.com",
		"https://www.uplusbank.com,https://evil.com", "https://www.uplusbank.com https://evil.com", "https://evil.com@www.uplusbank.com",
		"https://www.uplusbank.com@evil.com", "https://www.uplusbank.com.evil.com", "https://www.uplusbank.com%2eevil.com",
		"https:\\\\www.uplusbank.com", "https:/www.uplusbank.com", "https:///www.uplusbank.com", "https://www.uplusbank.com\\",
		"https://www.uplusbank.com#", "https://www.uplusbank.com?", "//www.uplusbank.com", "www.uplusbank.com", "https://www.uplusbank.com:+443",
		"https://www.uplusbank.com:8443", "https://www.uplusbank.com:65536", "https://www.uplusbank.com:99999", "https://www.uplusbank.com:00001",
		"http://localhost:3000", "http://localhost:03000", "http://LOCALHOST:3000", "http://localhost.:3000", "http://127.0.0.1:8080",
		"http://127.1:8080", "http://0x7f.0.0.1:8080", "http://2130706433:8080", "http://127.000.000.001:8080", "http://[::1]:8080",
		"http://[0:0:0:0:0:0:0:1]:8080", "http://[::ffff:127.0.0.1]:8080", "http://[::ffff:7f00:1]:8080", "http://[::1%25lo]:8080",
		"http://[::1]", "http://[::1]:8080/", "http://[::1]]:8080", "http://[[::1]]:8080", "http://[::1]:8080:8080",
		"https://bücher.example", "https://XN--BCHER-KVA.example", "https://xn--bcher-kva.example",
		"https://a.uplusbank.com", "https://uplusbank.com", "https://a.b.uplusbank.com", "https://.uplusbank.com", "https://a..uplusbank.com",
		"https://-.uplusbank.com", "https://_.uplusbank.com", "https://xn--zz.uplusbank.com", "https://a.uplusbank.com.",
		"https://a.uplusbank.com:443", "http://a.uplusbank.com", "https://evil.s3.amazonaws.com", "https://ec2-1-2-3-4.compute-1.amazonaws.com",
		"http://foo.localhost", "http://foo.localhost:1234", "http://localhost:1234", "http://a.b.localhost:9",
		"https://account.uplusbank.com", "https://uplusbank.com:8443", "http://uplusbank.com", "https://www.uplus.com",
		"https://bar.github.io", "https://x.foo.github.io", "https://github.io", "https://foo.github.io:444", "http://evil.localhost:3000",
		"http://localhost", "https://1.2.3.4:99", "https://5.1.2.3.4", "https://a.1.2.3.4",
		"null", "NULL", "Null", "null ", "", "*", "https://*.uplusbank.com", "https://%2a.uplusbank.com", "ftp://www.uplusbank.com",
		"wss://www.uplusbank.com", "blob:https://www.uplusbank.com", "https://" + strings.Repeat("a.", 120) + "uplusbank.com",
		"https://" + strings.Repeat("a.", 130) + "uplusbank.com", "https://" + strings.Repeat("a", 64) + ".uplusbank.com",
		"https://www.uplusbank.com\u200b", "https://www.uplusbank.com\ufeff", "\ufeffhttps://www.uplusbank.com",
		"https://www.uplusbank.co\u006d", "https://a\u00ad.uplusbank.com",
	}
	for _, r := range reqs {
		var line []string
		for _, n := range []string{"exact", "wild", "any", "site"} {
			d := ms[n].Explain(r)
			if d.Allowed { line = append(line, n+"=ALLOW("+d.Pattern+")") } else { line = append(line, n+"=deny") }
			if ms[n].Allows(r) != d.Allowed { line = append(line, "MISMATCH") }
		}
		t.Logf("%-60q %s", r, strings.Join(line, " "))
	}
}
