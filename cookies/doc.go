// Package cookies decides which of a customer website's cookies may reach
// the chat server.
//
// A bank's page may hold cookies whose public values are useful context for
// a chat (the page viewed, the cart), next to cookies that must never leave
// the bank (sessions, CSRF secrets, login state). The chat server names the
// former in an [Allowlist]; everything else is stripped before chat code
// sees it. It is meant for chat servers (directly, or through the policy
// and middleware packages) and for anyone filtering a Cookie header against
// a list of names.
//
//	allow, err := cookies.NewAllowlist([]string{"page_viewed", "cart_*"})
//	if err != nil {
//		return err // lists every problem, each with its entry's index
//	}
//	kept := allow.RewriteRequest(r) // r's Cookie header now holds only kept cookies
//
// The whole API: [NewAllowlist] and its options build an [Allowlist];
// [Allowlist.RewriteRequest] filters a request's Cookie header in place,
// [Allowlist.Filter] reads Cookie header lines, [Allowlist.FilterValues] a
// name → value map, and [Allowlist.FilterReport] says what Filter drops and
// why.
//
// # Allowlist entries
//
// An entry is an exact cookie name, compared byte for byte (cookie names are
// case-sensitive), or a prefix ending in a single "*" ("cart_*"). Entries
// must be RFC 7230 tokens and must not start with "$"; a bare "*" is
// refused. Names that usually hold sessions or credentials (see
// [IsSensitiveName]: JSESSIONID, PHPSESSID, connect.sid, anything with
// "session", "token", "auth", "csrf", "sid", __Host-, __Secure-, …, in any
// case), and prefixes that could admit them ("__*", "JSESS*"), are refused
// unless [DangerouslyAllowSensitiveNames] is given. A name admitted only by a
// prefix entry is checked again when filtering, so "cart_*" does not pass
// "cart_session".
//
// NewAllowlist reports every problem of its entries and options at once,
// in msgsec's one vocabulary of configuration errors (package cfgerr): one
// *cfgerr.Error per problem, with Field "[i]" for entry i or the option's
// name ("WithMaxCount"), the offending Value (never what follows "=" in a
// pasted name=value pair) and the Reason. Each matches
// [ErrInvalidAllowlist]; a sensitive name also matches [ErrSensitiveName].
//
// # Parsing as browsers serialise, failing closed
//
// [Allowlist.Filter] reads every Cookie header line (HTTP/2 sends one per
// cookie) in one pass without building intermediate strings. A browser
// writes the Cookie header as its stored cookies, "name=value" joined by
// "; " (the retrieval algorithm of RFC 6265bis), and stores whatever bytes a page or a sibling
// subdomain gave it, quotes included. So the header is read the way it was
// written, pair by pair (as net/http does), and each pair is held to RFC
// 6265 §4.2.1:
//
//   - Pairs are separated by ";". ASCII spaces and tabs around a pair are
//     ignored and empty pairs skipped; no other byte is trimmed (not Unicode
//     spaces, not vertical tab), so "\u00a0page_viewed" is an invalid name,
//     never "page_viewed".
//   - A pair is split at its first "="; a pair without "=" is a nameless
//     cookie's value (browsers send those) and is dropped.
//   - The name must be a token and must not start with "$" ($Version, $Path).
//   - The value must be *cookie-octet, or DQUOTE *cookie-octet DQUOTE; the
//     quotes are kept as sent. No URL decoding, no case folding. A pair
//     holding any other double quote is malformed.
//   - A malformed pair is dropped alone; the pairs after it are read on
//     their own, as the separate cookies the browser sent. A JSON value
//     such as `prefs={"theme":"dark"}` costs the page only that cookie.
//   - Pairs are never joined. In the cookie sandwich `$Version=1;
//     page_viewed="deadbeef; PHPSESSID=secret; dummy=qaz"` a lenient
//     parser reads the secret as part of a quoted page_viewed value; here
//     `page_viewed="deadbeef` and `dummy=qaz"` are malformed and dropped,
//     and PHPSESSID=secret is just another pair (kept only if allowlisted,
//     which a sensitive name never is by default). The header left by
//     [Allowlist.RewriteRequest] holds only kept, well-formed pairs, so no
//     parser after it can join the bytes again.
//   - A name sent more than once, in one line or across lines, is dropped
//     in every occurrence (cookie tossing from a sibling subdomain), whether
//     or not the other occurrences are well-formed: a stray quote cannot
//     hide a tossed twin.
//   - A header (all lines together) with more than 360 pairs forwards
//     nothing ([ReasonTooManyPairs]): neither Chromium nor Firefox can send
//     that many for one site. A request carries the cookies of its host and of the
//     host's parent domains, and browsers cap those per registrable
//     domain: Chromium at 180 (kDomainMaxCookies, keyed by eTLD+1),
//     Firefox at 180 per base domain (network.cookie.maxPerHost); partitioned
//     cookies (CHIPS) add at most 180 more, those of the request's one
//     partition. Reading stops at the bound, so such a header costs no
//     more than one at the bound.
//   - Limits: bytes per cookie (name plus value, [DefaultMaxCookieBytes]),
//     number of cookies forwarded ([DefaultMaxCount]) and their total bytes
//     ([DefaultMaxTotalBytes]); see [WithMaxCookieBytes], [WithMaxCount] and
//     [WithMaxTotalBytes]. Past the count or total limit nothing more is
//     forwarded.
//
// [Allowlist.FilterReport] also says what was dropped and why (a [Drop] per
// cookie, with a [Reason], never its value); called on a request's Cookie
// lines before [Allowlist.RewriteRequest], it says what the rewrite drops.
// [Allowlist.FilterValues] applies the same rules to the name → value map a
// widget sends in its payload, sorted by name.
//
// An Allowlist is immutable and safe for concurrent use.
package cookies
