package origin_test

import (
	"fmt"
	"github.com/msgsec/msgsec/cfgerr"

	"github.com/msgsec/msgsec/origin"
)

func ExampleNewMatcher() {
	m, err := origin.NewMatcher([]string{
		"https://www.uplusbank.com",
		"https://*.uplus.com",
		"http://localhost:*",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Patterns())
	// Output: [https://www.uplusbank.com https://*.uplus.com http://localhost:*]
}

// Every bad entry is reported at once, with its index and the reason.
func ExampleNewMatcher_invalid() {
	_, err := origin.NewMatcher([]string{
		"https://www.uplusbank.com",
		"https://*.co.uk",
		"https://www.uplusbank.com/store",
	})
	for e := range cfgerr.All(err) {
		fmt.Println(e.Field, e.Reason)
	}
	// Output:
	// [1] a wildcard directly above a public suffix (co.uk) would admit unrelated sites
	// [2] an origin has no path, query or fragment
}

func ExampleMatcher_Allows() {
	m, _ := origin.NewMatcher([]string{"https://*.uplusbank.com"})
	for _, o := range []string{
		"https://account.uplusbank.com",          // a subdomain
		"https://uplusbank.com",                  // never the apex
		"https://evil-uplusbank.com",             // not on a label boundary
		"https://account.uplusbank.com.evil.net", // a suffix trick
		"https://ACCOUNT.uplusbank.com",          // not as a browser sends it
		"null",
	} {
		fmt.Println(m.Allows(o), o)
	}
	// Output:
	// true https://account.uplusbank.com
	// false https://uplusbank.com
	// false https://evil-uplusbank.com
	// false https://account.uplusbank.com.evil.net
	// false https://ACCOUNT.uplusbank.com
	// false null
}

func ExampleMatcher_Explain() {
	m, _ := origin.NewMatcher([]string{"https://www.uplusbank.com", "https://*.uplus.com"})
	fmt.Println(m.Explain("https://chat.uplus.com"))
	fmt.Println(m.Explain("http://www.uplusbank.com"))
	fmt.Println(m.Explain("https://www.uplusbank.com:443"))
	// Output:
	// "https://chat.uplus.com" allowed by https://*.uplus.com (subdomain of a wildcard)
	// "http://www.uplusbank.com" denied: scheme: the host is allowed only over https
	// "https://www.uplusbank.com:443" denied: not canonical: the scheme's default port is written out
}

// The U+ Bank example: with same-site matching, one entry covers the bank's
// whole registrable domain over https, on any port.
func ExampleSameSite() {
	m, _ := origin.NewMatcher([]string{"https://www.uplusbank.com"}, origin.SameSite())
	for _, o := range []string{
		"https://www.uplusbank.com",
		"https://account.uplusbank.com",
		"https://uplusbank.com",
		"https://www.uplus.com",
		"http://www.uplusbank.com",
	} {
		fmt.Println(m.Allows(o), o)
	}
	// Output:
	// true https://www.uplusbank.com
	// true https://account.uplusbank.com
	// true https://uplusbank.com
	// false https://www.uplus.com
	// false http://www.uplusbank.com
}

// Entries are normalised as a browser serialises the origin, and every bad
// entry is reported at once, with its index.
func ExampleNewMatcher_normalisation() {
	m, err := origin.NewMatcher([]string{"HTTPS://Bücher.example:443"})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Patterns())
	_, err = origin.NewMatcher([]string{"https://*uplusbank.com", "null"})
	for e := range cfgerr.All(err) {
		fmt.Println(e.Field, e.Reason)
	}
	// Output:
	// [https://xn--bcher-kva.example]
	// [0] a wildcard is only allowed as the whole first label ("https://*.example.com") or as the port (":*")
	// [1] "null" is the opaque origin of sandboxed frames and local files; it can never be allowed
}

// The same allowlist, as the frame-ancestors source list of a widget page.
func ExampleMatcher_CSPSources() {
	m, _ := origin.NewMatcher([]string{"https://www.uplusbank.com"}, origin.SameSite())
	fmt.Println(m.CSPSources())
	// Output: [https://www.uplusbank.com https://uplusbank.com:* https://*.uplusbank.com:*]
}
