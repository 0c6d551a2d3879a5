package origin

import "strings"

// validPunycodeLabels reports whether every "xn--" label of host decodes
// (RFC 3492) to at least one non-ASCII code point, without allocating.
// Browsers only ever send the punycode of a real Unicode label, so
// anything else ("xn--", "xn--zz", an ASCII-only decoding) is not a
// browser origin. It does not re-check IDNA mapping and normalisation: the
// patterns it is matched against were normalised through IDNA at load.
func validPunycodeLabels(host string) bool {
	for host != "" {
		label := host
		if i := strings.IndexByte(host, '.'); i >= 0 {
			label, host = host[:i], host[i+1:]
		} else {
			host = ""
		}
		if strings.HasPrefix(label, "xn--") && !validPunycode(label[4:]) {
			return false
		}
	}
	return true
}

// validPunycode runs the RFC 3492 decoder over s (lowercase a-z, 0-9 and
// "-"), keeping only the count of output code points.
func validPunycode(s string) bool {
	const (
		base, tMin, tMax, skew, damp = 36, 1, 26, 38, 700
		maxCode                      = 0x10FFFF
		maxInt                       = 1<<31 - 1
	)
	basic := 0
	if i := strings.LastIndexByte(s, '-'); i == 0 {
		return false // encoders never write a delimiter without basic code points
	} else if i > 0 {
		for j := 0; j < i; j++ {
			if c := s[j]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
		basic, s = i, s[i+1:]
	}
	if s == "" {
		return false // only basic code points: not an encoding of Unicode
	}
	n, i, bias, out := 128, 0, 72, basic
	for pos := 0; pos < len(s); {
		oldi, w := i, 1
		for k := base; ; k += base {
			if pos == len(s) {
				return false
			}
			c := s[pos]
			pos++
			var digit int
			switch {
			case 'a' <= c && c <= 'z':
				digit = int(c - 'a')
			case '0' <= c && c <= '9':
				digit = int(c-'0') + 26
			default:
				return false
			}
			if digit > (maxInt-i)/w {
				return false
			}
			i += digit * w
			t := k - bias
			if t < tMin {
				t = tMin
			} else if t > tMax {
				t = tMax
			}
			if digit < t {
				break
			}
			if w > maxInt/(base-t) {
				return false
			}
			w *= base - t
		}
		out++
		// adapt the bias
		delta := i - oldi
		if oldi == 0 {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / out
		k := 0
		for delta > ((base-tMin)*tMax)/2 {
			delta /= base - tMin
			k += base
		}
		bias = k + (base-tMin+1)*delta/(delta+skew)

		if i/out > maxInt-n {
			return false
		}
		n += i / out
		i %= out
		if n > maxCode || (0xD800 <= n && n <= 0xDFFF) || n < 0xA0 { // no ASCII, no C1 controls
			return false
		}
		i++
	}
	return true
}
