package cookies_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/msgsec/msgsec/cookies"
)

// The package doc's example: an allowlist, and a request whose Cookie
// header is rewritten to the allowed cookies (a JSON-valued third-party
// cookie and the bank's session stay behind; the rest is kept).
func Example() {
	r := httptest.NewRequest("POST", "/connections/retail-bank/sessions", nil)
	r.Header.Set("Cookie", `_ga=GA1.1.1; prefs={"theme":"dark"}; page_viewed=home; session_id=s3cr3t; cart_contents=3`)
	run := func() error {
		allow, err := cookies.NewAllowlist([]string{"page_viewed", "cart_*"})
		if err != nil {
			return err // lists every problem, each with its entry's index
		}
		kept := allow.RewriteRequest(r) // r's Cookie header now holds only kept cookies
		fmt.Println(len(kept), r.Header.Get("Cookie"))
		return nil
	}
	if err := run(); err != nil {
		panic(err)
	}
	// Output: 2 page_viewed=home; cart_contents=3
}
