package origin_test

import (
	"testing"
	"github.com/msgsec/msgsec/origin"
	"golang.org/x/net/publicsuffix"
)

func TestZZExplore(t *testing.T) {
	pats := []string{
		"https://*.github.io", "https://*.appspot.com", "https://*.blogspot.com", "https://*.s3.amazonaws.com",
		"https://*.amazonaws.com", "https://*.compute-1.amazonaws.com", "https://*.compute.amazonaws.com",
		"https://*.us-east-1.compute.amazonaws.com", "https://*.elb.amazonaws.com", "https://*.herokuapp.com",
		"https://*.cloudfront.net", "https://*.azurewebsites.net", "https://*.web.app", "https://*.vercel.app",
		"https://*.netlify.app", "https://*.pages.dev", "https://*.workers.dev", "https://*.ck", "https://*.www.ck",
		"https://*.kawasaki.jp", "https://*.city.kawasaki.jp", "https://*.bd", "https://*.foo.bd",
		"https://*.blogspot.co.uk", "https://*.uk", "https://*.co.uk", "https://*.ｃｏｍ", "https://*.example。com",
		"https://www。example。com", "https://www.exam\u00adple.com", "https://www.exam\u200bple.com", "https://www.exam\u200dple.com",
		"https://www.exam\ufeffple.com", "https://XN--BCHER-KVA.example", "https://xn--a.example", "https://xn--.example",
		"https://xn--zz.example.com", "https://b\u00fccher.example", "https://B\u00dcCHER.example",
		"https://*.xn--fiqs8s", "https://*.中国", "https://*.xn--55qx5d.cn", "https://*.公司.cn",
		"https://*.localhost", "http://*.localhost:*", "https://localhost.", "https://*.github.io.",
		"https://example.com:+443", "https://example.com:0443", "https://example.com:-1", "https://example.com:65536",
		"https://example.com:99999999999", "https://example.com:", "https://example.com:443", "https://example.com:80",
		"HTTPS://EXAMPLE.COM", "https:/example.com", "https:///example.com", "https:\\\\example.com", "https://example.com\\",
		"https://ex%61mple.com", "https://example.com%2f", "https://exa mple.com", "https://exa\tmple.com", "https://example.com\n",
		"https://exa\x00mple.com", "http://127.1", "http://0x7f.0.0.1", "http://0177.0.0.1", "http://2130706433", "http://127.0.0.1.",
		"http://[::1]", "http://[0:0:0:0:0:0:0:1]", "http://[::ffff:127.0.0.1]", "http://[fe80::1%25eth0]", "http://[::1%eth0]",
		"http://[::1]:*", "http://[::FFFF:7f00:1]", "http://[::ffff:7f00:1]", "http://[1::]", "http://[::1]x", "http://::1",
		"NULL", "Null", "nuLL", "null ", "*", "*.example.com", "https://*", "https://*:*", "*://example.com",
		"https://*.*.example.com", "https://a.*.example.com", "https://*example.com", "https://*-x.example.com",
		"https://**.example.com", "https://*..example.com", "https://.example.com", "https://example..com",
		"https://user@example.com", "https://user:pw@example.com", "https://@example.com", "https://example.com@",
		"https://example.com/", "https://example.com?", "https://example.com#", "ws://example.com", "file://", "blob:https://example.com",
		"https://example.com:443:443", "https://example.com, https://b.com", "https://example.com https://b.com",
		"https://例え.テスト", "https://ex\u0430mple.com", "https://ｅｘａｍｐｌｅ.com", "https://EXAMPLE.com:*",
		"https://*.sub.github.io", "https://1.2.3.4", "https://*.1.2.3.4", "https://*.0x1", "https://a.0x1", "https://a.1",
		"https://a.b1", "https://a.0x", "https://a.09", "https://1.2.3.04", "https://example.com.:443",
		"https://xn--example.com", "https://xn--nxasmq6b.com", "https://-example.com", "https://example-.com", "https://ex_ample.com",
		"https://\u2024example.com", "https://example\u2024com", "https://example\uff61com", "https://example\uff0ecom",
		"https://example.com\u3002", "https://ex\u0000.com", "https://ß.de", "https://faß.de", "https://\u00df\u00df.example",
		"https://www.ex\u0301ample.com",
	}
	for _, p := range pats {
		pp, err := origin.ParsePattern(p)
		if err == nil {
			t.Logf("ACCEPT %q -> %q", p, pp.String())
		} else {
			t.Logf("reject %q: %v", p, err)
		}
	}
	for _, h := range []string{"compute-1.amazonaws.com","x.compute-1.amazonaws.com","amazonaws.com","s3.amazonaws.com","github.io","x.kawasaki.jp","city.kawasaki.jp","foo.bd","bd","elb.amazonaws.com","x.elb.amazonaws.com","us-east-1.elb.amazonaws.com", "x.us-east-1.elb.amazonaws.com"} {
		ps, icann := publicsuffix.PublicSuffix(h)
		t.Logf("PS(%s) = %s icann=%v", h, ps, icann)
	}
}
