package cookies

// The byte classes of RFC 6265 §4.1.1 and RFC 7230 §3.2.6, as bit sets over
// ASCII. They are constants so that the hot path needs no table in memory and
// the package holds no mutable state.
const (
	// tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
	// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
	tokenLo uint64 = 1<<'!' | 1<<'#' | 1<<'$' | 1<<'%' | 1<<'&' | 1<<'\'' |
		1<<'*' | 1<<'+' | 1<<'-' | 1<<'.' | (1<<10-1)<<'0'
	tokenHi uint64 = (1<<26-1)<<('A'-64) | 1<<('^'-64) | 1<<('_'-64) |
		1<<('`'-64) | (1<<26-1)<<('a'-64) | 1<<('|'-64) | 1<<('~'-64)

	// cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E, that is
	// visible ASCII without DQUOTE, comma, semicolon and backslash.
	octetLo uint64 = (1<<64 - 1) &^ (1<<0x21 - 1) &^ (1<<'"' | 1<<',' | 1<<';')
	octetHi uint64 = (1<<63 - 1) &^ (1 << ('\\' - 64))
)

func isTokenByte(c byte) bool {
	if c < 64 {
		return tokenLo>>c&1 == 1
	}
	return c < 128 && tokenHi>>(c-64)&1 == 1
}

func isOctetByte(c byte) bool {
	if c < 64 {
		return octetLo>>c&1 == 1
	}
	return c < 128 && octetHi>>(c-64)&1 == 1
}

// isToken reports whether s is a non-empty RFC 7230 token, the syntax of a
// cookie name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

// isOctets reports whether every byte of s is a cookie-octet.
func isOctets(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isOctetByte(s[i]) {
			return false
		}
	}
	return true
}

// isQuotedValue reports whether v is DQUOTE *cookie-octet DQUOTE.
func isQuotedValue(v string) bool {
	return len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && isOctets(v[1:len(v)-1])
}

// isValidValue reports whether v is a cookie-value of RFC 6265 §4.1.1:
// *cookie-octet, or the same between a pair of double quotes.
func isValidValue(v string) bool {
	if len(v) > 0 && v[0] == '"' {
		return isQuotedValue(v)
	}
	return isOctets(v)
}

// trimSPHT removes ASCII spaces and horizontal tabs at both ends of s, and
// nothing else: no Unicode spaces, no other control bytes.
func trimSPHT(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
