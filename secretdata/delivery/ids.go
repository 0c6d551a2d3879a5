package delivery

// maxIDLen bounds connection and session IDs, in bytes.
const maxIDLen = 256

// ValidID reports whether s can name a connection or a session here: 1 to
// 256 bytes of ASCII letters, digits and - . _ ~ : @ + =, and not "."
// or "..". These characters need no escaping in a URL path segment, so the
// ID the Client puts in the URL is exactly the one the Handler reads back,
// and no dot-segment can make a router clean the path onto another route.
// Every connection ID the policy package accepts is valid here.
func ValidID(s string) bool {
	if s == "" || len(s) > maxIDLen || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChar[s[i]] {
			return false
		}
	}
	return true
}

// idChar is the allowed byte set, as a table: ValidID runs on every request.
var idChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~:@+=" {
		t[c] = true
	}
	return t
}()
