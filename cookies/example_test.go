package cookies_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/cookies"
)

func ExampleNewAllowlist() {
	// U+ Bank lets the chat see which page was viewed and the cart.
	allow, err := cookies.NewAllowlist([]string{"page_viewed", "cart_*"})
	if err != nil {
		panic(err)
	}
	fmt.Println(allow.Names(), allow.Patterns())
	// Output: [page_viewed] [cart_*]
}

func ExampleNewAllowlist_refused() {
	// Incorrect use: every problem is reported at once, entries with their
	// index and options with their name.
	_, err := cookies.NewAllowlist([]string{"page_viewed", "JSESSIONID", "*", "__*"}, cookies.WithMaxCount(0))
	fmt.Println(errors.Is(err, cookies.ErrInvalidAllowlist), errors.Is(err, cookies.ErrSensitiveName))
	for e := range cfgerr.All(err) {
		fmt.Printf("%s %s: %s (sensitive: %v)\n", e.Field, e.Value, e.Reason, errors.Is(e, cookies.ErrSensitiveName))
	}
	// Output:
	// true true
	// [1] JSESSIONID: name usually holds a session or credential (sensitive: true)
	// [2] *: a bare * would allow every cookie (sensitive: false)
	// [3] __*: prefix could admit names that usually hold a session or credential (sensitive: true)
	// WithMaxCount 0: must be positive (sensitive: false)
}

func ExampleDangerouslyAllowSensitiveNames() {
	// Only for a cookie you have checked holds nothing private.
	allow, err := cookies.NewAllowlist([]string{"__Host-theme"}, cookies.DangerouslyAllowSensitiveNames())
	fmt.Println(err, allow.Allows("__Host-theme"))
	// Output: <nil> true
}

func ExampleWithMaxCount() {
	allow, _ := cookies.NewAllowlist([]string{"cart_*"}, cookies.WithMaxCount(2))
	kept, dropped := allow.FilterReport([]string{"cart_a=1; cart_b=2; cart_c=3"})
	fmt.Println(len(kept), dropped)
	// Output: 2 [cart_c: too many cookies]
}

func ExampleWithMaxCookieBytes() {
	allow, _ := cookies.NewAllowlist([]string{"lang"}, cookies.WithMaxCookieBytes(8))
	_, dropped := allow.FilterReport([]string{"lang=en-GB-x"})
	fmt.Println(dropped)
	// Output: [lang: cookie too large]
}

func ExampleWithMaxTotalBytes() {
	allow, _ := cookies.NewAllowlist([]string{"cart_*"}, cookies.WithMaxTotalBytes(16))
	kept, dropped := allow.FilterReport([]string{"cart_a=123; cart_b=456; cart_c=7"})
	fmt.Println(len(kept), dropped)
	// Output: 1 [cart_b: total size too large cart_c: total size too large]
}

func ExampleAllowlist_Filter() {
	allow, _ := cookies.NewAllowlist([]string{"page_viewed", "cart_*"})
	r, _ := http.NewRequest(http.MethodGet, "https://chat.example/session", nil)
	// HTTP/2 may send one Cookie line per cookie; all lines are read.
	r.Header.Add("Cookie", "JSESSIONID=3f9a; page_viewed=/loans")
	r.Header.Add("Cookie", `cart_contents="sku1.sku2"`)
	r.Header.Add("Cookie", "_ga=GA1.2.3")
	for _, c := range allow.Filter(r.Header["Cookie"]) {
		fmt.Printf("%s=%s\n", c.Name, c.Value)
	}
	// Output:
	// page_viewed=/loans
	// cart_contents="sku1.sku2"
}

func ExampleAllowlist_FilterReport() {
	allow, _ := cookies.NewAllowlist([]string{"page_viewed", "cart_*"})
	// A sibling subdomain tossed a second page_viewed, and a cookie
	// sandwich tries to smuggle PHPSESSID out of a quoted value: the pairs
	// are read one by one, so it is just another, not allowed, cookie.
	lines := []string{
		"page_viewed=/loans; cart_total=12",
		"page_viewed=/evil",
		`$Version=1; cart_note="x; PHPSESSID=secret; dummy=qaz"`,
	}
	kept, dropped := allow.FilterReport(lines)
	for _, c := range kept {
		fmt.Printf("kept %s=%s\n", c.Name, c.Value)
	}
	for _, d := range dropped {
		fmt.Printf("dropped %q: %s\n", d.Name, d.Reason)
	}
	// Output:
	// kept cart_total=12
	// dropped "page_viewed": duplicate name
	// dropped "page_viewed": duplicate name
	// dropped "$Version": reserved name
	// dropped "cart_note": malformed quoted value
	// dropped "PHPSESSID": not allowed
	// dropped "dummy": malformed quoted value
}

func ExampleAllowlist_FilterValues() {
	allow, _ := cookies.NewAllowlist([]string{"page_viewed", "cart_*"})
	// What the widget read from document.cookie and sent in its payload.
	sent := map[string]string{"page_viewed": "/loans", "cart_contents": "sku1", "PHPSESSID": "secret"}
	kept := allow.FilterValues(sent)
	for _, c := range kept {
		fmt.Printf("%s=%s\n", c.Name, c.Value)
	}
	fmt.Println("dropped:", len(sent)-len(kept))
	// Output:
	// cart_contents=sku1
	// page_viewed=/loans
	// dropped: 1
}

func ExampleAllowlist_RewriteRequest() {
	allow, _ := cookies.NewAllowlist([]string{"page_viewed", "cart_*"})
	r, _ := http.NewRequest(http.MethodGet, "https://chat.example/session", nil)
	r.Header.Add("Cookie", "JSESSIONID=3f9a; page_viewed=/loans")
	r.Header.Add("Cookie", "cart_total=12")
	kept := allow.RewriteRequest(r)
	// Handlers after this point see only the allowed cookies.
	fmt.Println(len(kept), r.Header["Cookie"])
	_, err := r.Cookie("JSESSIONID")
	fmt.Println(err)
	// Output:
	// 2 [page_viewed=/loans; cart_total=12]
	// http: named cookie not present
}

// To know what RewriteRequest drops, report on the Cookie lines before
// the rewrite.
func ExampleAllowlist_RewriteRequest_report() {
	allow, _ := cookies.NewAllowlist([]string{"page_viewed"})
	r, _ := http.NewRequest(http.MethodGet, "https://chat.example/session", nil)
	r.Header.Set("Cookie", "JSESSIONID=3f9a")
	_, dropped := allow.FilterReport(r.Header["Cookie"])
	kept := allow.RewriteRequest(r)
	fmt.Println(len(kept), dropped, r.Header["Cookie"] == nil)
	// Output: 0 [JSESSIONID: not allowed] true
}

func ExampleAllowlist_Allows() {
	allow, _ := cookies.NewAllowlist([]string{"page_viewed", "cart_*"})
	for _, name := range []string{"page_viewed", "Page_Viewed", "cart_total", "cart_session"} {
		fmt.Println(name, allow.Allows(name))
	}
	// Output:
	// page_viewed true
	// Page_Viewed false
	// cart_total true
	// cart_session false
}

func ExampleAllowlist_Names() {
	// Publish the allowlist in the widget configuration, so the widget reads
	// only these cookies from document.cookie.
	allow, _ := cookies.NewAllowlist([]string{"page_viewed", "cart_*", "lang"})
	fmt.Println(allow.Names())
	// Output: [page_viewed lang]
}

func ExampleAllowlist_Patterns() {
	allow, _ := cookies.NewAllowlist([]string{"page_viewed", "cart_*", "utm_*"})
	fmt.Println(allow.Patterns())
	// Output: [cart_* utm_*]
}

func ExampleIsSensitiveName() {
	for _, name := range []string{"JSESSIONID", "XSRF-TOKEN", "__HOST-id", "cart_contents"} {
		fmt.Println(name, cookies.IsSensitiveName(name))
	}
	// Output:
	// JSESSIONID true
	// XSRF-TOKEN true
	// __HOST-id true
	// cart_contents false
}

func ExampleReason_String() {
	fmt.Println(cookies.ReasonDuplicate, "/", cookies.ReasonTooManyPairs)
	// Output: duplicate name / more pairs than a browser sends
}

func ExampleReason_MarshalText() {
	b, _ := cookies.ReasonSensitive.MarshalText()
	fmt.Println(string(b))
	// Output: sensitive name
}

func ExampleDrop_String() {
	allow, _ := cookies.NewAllowlist([]string{"page_viewed"})
	_, dropped := allow.FilterReport([]string{"page_viewed=a; page_viewed=b; \u00a0page_viewed=c; bare"})
	for _, d := range dropped {
		fmt.Println(d)
	}
	// Output:
	// page_viewed: duplicate name
	// page_viewed: duplicate name
	// "\u00a0page_viewed": invalid name
	// : no equals sign
}
