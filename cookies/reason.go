package cookies

import (
	"fmt"
	"strconv"
)

// Reason says why a cookie was not forwarded, in a [Drop].
type Reason uint8

// The reasons, roughly in the order they are checked. A cookie gets the
// first that applies.
const (
	// ReasonTooManyPairs: the Cookie lines of the request hold together
	// more pairs than a browser sends for one site (360, see the package
	// documentation), so the header is not a browser's. Nothing is
	// forwarded; the reason is reported once, with no name, in place of
	// every pair.
	ReasonTooManyPairs Reason = iota + 1
	// ReasonNoEquals: the pair has no "=". Browsers send a cookie with an
	// empty name as its bare value, so the text is treated as a value and
	// never reported as a name.
	ReasonNoEquals
	// ReasonInvalidName: the name is empty or not an RFC 7230 token (for
	// example it starts with a Unicode space or contains a control byte).
	ReasonInvalidName
	// ReasonReservedName: the name starts with "$" (RFC 2965 attribute
	// syntax such as $Version, used by cookie-sandwich attacks).
	ReasonReservedName
	// ReasonMalformedQuote: the pair contains a double quote but its value
	// is not exactly DQUOTE *cookie-octet DQUOTE. Only that pair is
	// dropped; the pairs after it are read on their own, as the separate
	// cookies the browser sent.
	ReasonMalformedQuote
	// ReasonNotAllowed: the name is not on the allowlist.
	ReasonNotAllowed
	// ReasonSensitive: the name is admitted by a prefix entry but looks like
	// a session or credential cookie (see [IsSensitiveName]).
	ReasonSensitive
	// ReasonInvalidValue: the value contains bytes outside cookie-octet
	// (space, comma, backslash, control bytes, DEL, non-ASCII).
	ReasonInvalidValue
	// ReasonTooLarge: name and value together exceed the per-cookie limit
	// ([WithMaxCookieBytes]).
	ReasonTooLarge
	// ReasonDuplicate: the name was sent more than once (in one line or
	// across lines). Every occurrence is dropped, since a sibling subdomain
	// can toss a cookie with the same name and the server cannot tell which
	// one is genuine.
	ReasonDuplicate
	// ReasonTooMany: the cookie would be forwarded but the count limit
	// ([WithMaxCount]) was reached; nothing after it is forwarded either.
	ReasonTooMany
	// ReasonTotalTooLarge: forwarding the cookie would exceed the limit on
	// total bytes ([WithMaxTotalBytes]); nothing after it is forwarded
	// either.
	ReasonTotalTooLarge
)

// String returns a short lowercase description, e.g. "duplicate name".
func (r Reason) String() string {
	switch r {
	case ReasonTooManyPairs:
		return "more pairs than a browser sends"
	case ReasonNoEquals:
		return "no equals sign"
	case ReasonInvalidName:
		return "invalid name"
	case ReasonReservedName:
		return "reserved name"
	case ReasonMalformedQuote:
		return "malformed quoted value"
	case ReasonNotAllowed:
		return "not allowed"
	case ReasonSensitive:
		return "sensitive name"
	case ReasonInvalidValue:
		return "invalid value"
	case ReasonTooLarge:
		return "cookie too large"
	case ReasonDuplicate:
		return "duplicate name"
	case ReasonTooMany:
		return "too many cookies"
	case ReasonTotalTooLarge:
		return "total size too large"
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// MarshalText makes a Reason print as its description in JSON and slog.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Drop is one cookie that was not forwarded. It never holds the value.
//
// Name is the name as sent when it is a valid token. A name that is not a
// token is reported quoted with strconv.QuoteToASCII (so it always starts
// with `"`, which no token does, and is safe to log) and cut to 64 bytes.
// Name is empty for [ReasonNoEquals] (the text may be a value),
// [ReasonTooManyPairs] (which stands for the whole header) and empty names.
type Drop struct {
	Name   string
	Reason Reason
}

// String returns "name: reason", e.g. "page_viewed: duplicate name".
func (d Drop) String() string { return fmt.Sprintf("%s: %s", d.Name, d.Reason) }

// reportName returns the Drop.Name for a pair.
func reportName(name string, r Reason) string {
	switch {
	case r == ReasonNoEquals || r == ReasonTooManyPairs || name == "":
		return ""
	case isToken(name):
		return name
	}
	const maxShown = 64
	if len(name) > maxShown {
		name = name[:maxShown]
	}
	return strconv.QuoteToASCII(name)
}
