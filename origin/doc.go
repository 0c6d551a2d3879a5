// Package origin decides whether a browser Origin is allowed by an allowlist.
//
// It is the first of msgsec's three policy parts ("allowed domains"): the chat
// server uses it for CORS, for the Origin check on WebSocket upgrades, and to
// build CSP frame-ancestors. The package is strict and self-contained.
//
// # Patterns
//
// Patterns are the configuration side. [NewMatcher] validates and compiles a
// list of them; it normalises each to lowercase, converts Unicode
// hosts to punycode (IDNA) and elides default ports:
//
//	https://www.example.com     exactly that origin
//	https://*.example.com       one or more whole DNS labels before example.com,
//	                            never the apex itself; same scheme and port
//	http://localhost:*          any port, the default one included
//	*                           any well-formed http or https origin (never "null")
//
// Rejected at load time: "null", paths, queries, fragments, userinfo, schemes
// other than http and https, wildcards anywhere else, and a wildcard directly
// above a public suffix (https://*.co.uk). Every bad entry of a list is reported
// at once, one [cfgerr.Error] per entry (walk them with [cfgerr.All]).
//
// # Requests
//
// A request's Origin header value is matched byte-exactly in its browser
// serialisation (RFC 6454): lowercase scheme and host, no default port, no
// trailing slash or dot, no path, no userinfo, no whitespace. Anything else does
// not match; it is never "normalised into" a match. "null", the empty string and
// a missing header never match. An empty pattern list matches nothing.
//
// With [SameSite], every entry admits each origin that has the same scheme and
// the same registrable domain (eTLD+1 from the public suffix list), on any port:
// the browser's "schemeful same-site".
//
// Lookups do not scan the list: exact origins live in a hash map, wildcard
// suffixes in a second map probed once per label of the request's host, so the
// cost does not grow with the number of patterns and [Matcher.Allows] does not
// allocate. [Matcher.Explain] says which pattern admitted an origin, or why none
// did.
//
// # Example
//
//	m, err := origin.NewMatcher([]string{"https://www.uplusbank.com"}, origin.SameSite())
//	if err != nil {
//		return err // every bad entry, with its index
//	}
//	fmt.Println(m.Allows("https://account.uplusbank.com")) // true: same scheme and registrable domain
//	fmt.Println(m.Allows("http://www.uplusbank.com"))      // false: scheme differs
//	fmt.Println(m.Explain("https://www.uplus.com"))        // denied: its site is not the site of any entry
package origin
