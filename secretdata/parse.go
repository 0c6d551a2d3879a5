package secretdata

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// This file holds the strict decoders used on the verification hot path:
// canonical unpadded base64url and a small JSON parser that, unlike
// encoding/json, rejects duplicate member names, matches names
// case-sensitively, and rejects invalid UTF-8 instead of replacing it.

// b64Rev maps a base64url character to its value, or 0xff. It is built once
// and never written afterwards.
var b64Rev = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// b64Len returns the decoded length of an unpadded base64url string of
// length n, or false if no canonical encoding has that length.
func b64Len(n int) (int, bool) {
	if n%4 == 1 {
		return 0, false
	}
	return n * 6 / 8, true
}

// b64Decode decodes src into dst (len(dst) must be b64Len(len(src))). It
// accepts exactly the canonical unpadded base64url form: no padding, no
// whitespace, no standard-alphabet characters, and zero trailing bits —
// the same language as base64.RawURLEncoding.Strict(). A token thus has one
// spelling only.
func b64Decode(dst []byte, src string) bool {
	di, si := 0, 0
	for ; si+4 <= len(src); si += 4 {
		a, b, c, d := b64Rev[src[si]], b64Rev[src[si+1]], b64Rev[src[si+2]], b64Rev[src[si+3]]
		if (a|b|c|d)&0xc0 != 0 { // 0xff marks a byte outside the alphabet
			return false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[di], dst[di+1], dst[di+2] = byte(v>>16), byte(v>>8), byte(v)
		di += 3
	}
	switch len(src) - si {
	case 0:
		return true
	case 2:
		a, b := b64Rev[src[si]], b64Rev[src[si+1]]
		if (a|b)&0xc0 != 0 || b&0x0f != 0 { // 4 trailing bits must be zero
			return false
		}
		dst[di] = a<<2 | b>>4
		return true
	case 3:
		a, b, c := b64Rev[src[si]], b64Rev[src[si+1]], b64Rev[src[si+2]]
		if (a|b|c)&0xc0 != 0 || c&0x03 != 0 { // 2 trailing bits must be zero
			return false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6
		dst[di], dst[di+1] = byte(v>>16), byte(v>>8)
		return true
	}
	return false
}

const maxJSONDepth = 32

var errJSON = errors.New("invalid json")

// parser is a strict RFC 8259 parser over a byte slice.
type parser struct {
	b     []byte
	i     int
	depth int
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// end checks that only whitespace follows the top-level value.
func (p *parser) end() error {
	p.ws()
	if p.i != len(p.b) {
		return errJSON
	}
	return nil
}

// object walks the members of an object, calling member with each decoded
// name; member must consume the value. Duplicate detection is the caller's
// job for names it knows, and done here (via seen) for the rest.
func (p *parser) object(member func(name []byte) error) error {
	p.ws()
	if p.peek() != '{' {
		return errJSON
	}
	p.i++
	p.ws()
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		p.ws()
		name, err := p.str()
		if err != nil {
			return err
		}
		p.ws()
		if p.peek() != ':' {
			return errJSON
		}
		p.i++
		p.ws()
		if err := member(name); err != nil {
			return err
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return errJSON
		}
	}
}

// str reads a string at p.i. Without escapes it returns a sub-slice of the
// input (no allocation); with escapes, a new slice.
func (p *parser) str() ([]byte, error) {
	if p.peek() != '"' {
		return nil, errJSON
	}
	start := p.i + 1
	for j := start; j < len(p.b); {
		c := p.b[j]
		switch {
		case c == '"':
			p.i = j + 1
			return p.b[start:j], nil
		case c == '\\':
			return p.strSlow(start, j)
		case c < 0x20:
			return nil, errJSON
		case c < 0x80:
			j++
		default:
			r, n := utf8.DecodeRune(p.b[j:])
			if r == utf8.RuneError && n <= 1 {
				return nil, errJSON
			}
			j += n
		}
	}
	return nil, errJSON
}

func (p *parser) strSlow(start, j int) ([]byte, error) {
	out := append(make([]byte, 0, j-start+16), p.b[start:j]...)
	for j < len(p.b) {
		c := p.b[j]
		switch {
		case c == '"':
			p.i = j + 1
			return out, nil
		case c < 0x20:
			return nil, errJSON
		case c == '\\':
			if j+1 >= len(p.b) {
				return nil, errJSON
			}
			e := p.b[j+1]
			j += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(p.b, j)
				if !ok {
					return nil, errJSON
				}
				j += 4
				if r >= 0xdc00 && r <= 0xdfff { // lone low surrogate
					return nil, errJSON
				}
				if r >= 0xd800 && r <= 0xdbff {
					if j+6 > len(p.b) || p.b[j] != '\\' || p.b[j+1] != 'u' {
						return nil, errJSON
					}
					lo, ok := hex4(p.b, j+2)
					if !ok || lo < 0xdc00 || lo > 0xdfff {
						return nil, errJSON
					}
					j += 6
					r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
				}
				out = utf8.AppendRune(out, r)
			default:
				return nil, errJSON
			}
		case c < 0x80:
			out = append(out, c)
			j++
		default:
			r, n := utf8.DecodeRune(p.b[j:])
			if r == utf8.RuneError && n <= 1 {
				return nil, errJSON
			}
			out = append(out, p.b[j:j+n]...)
			j += n
		}
	}
	return nil, errJSON
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number validates a JSON number and returns its text.
func (p *parser) number() ([]byte, error) {
	start := p.i
	b := p.b
	i := p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, errJSON
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, errJSON
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, errJSON
		}
	}
	p.i = i
	return b[start:i], nil
}

// numericDate reads a NumericDate (RFC 7519 §2: seconds since the epoch,
// possibly non-integer). We accept a non-negative decimal whose integer
// part has at most 15 digits, with an optional fraction: no exponent, no
// sign. It returns the whole seconds, the fraction's first nine digits as
// nanoseconds, and whether digits beyond those were all zero (exact), so
// the caller can round each claim in the safe direction.
func (p *parser) numericDate() (sec, nsec int64, exact, ok bool) {
	raw, err := p.number()
	if err != nil || len(raw) == 0 {
		return 0, 0, false, false
	}
	i := 0
	for ; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
		if i == 15 {
			return 0, 0, false, false
		}
		sec = sec*10 + int64(raw[i]-'0')
	}
	if i == 0 {
		return 0, 0, false, false
	}
	exact = true
	if i < len(raw) && raw[i] == '.' {
		n := 0
		for i++; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
			switch {
			case n < 9:
				nsec = nsec*10 + int64(raw[i]-'0')
				n++
			case raw[i] != '0':
				exact = false
			}
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	if i != len(raw) { // an exponent
		return 0, 0, false, false
	}
	return sec, nsec, exact, true
}

func (p *parser) literal(word string) error {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return errJSON
	}
	p.i += len(word)
	return nil
}

// value parses any JSON value into map[string]any, []any, string,
// json.Number, bool or nil, rejecting duplicate member names at every depth.
func (p *parser) value() (any, error) {
	p.ws()
	switch c := p.peek(); {
	case c == '{':
		return p.objectValue()
	case c == '[':
		return p.arrayValue()
	case c == '"':
		s, err := p.str()
		return string(s), err
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		n, err := p.number()
		return json.Number(n), err
	}
	return nil, errJSON
}

func (p *parser) objectValue() (map[string]any, error) {
	if p.depth++; p.depth > maxJSONDepth {
		return nil, errJSON
	}
	m := make(map[string]any)
	err := p.object(func(name []byte) error {
		if _, dup := m[string(name)]; dup {
			return errJSON
		}
		v, err := p.value()
		if err != nil {
			return err
		}
		m[string(name)] = v
		return nil
	})
	p.depth--
	return m, err
}

func (p *parser) arrayValue() ([]any, error) {
	if p.depth++; p.depth > maxJSONDepth {
		return nil, errJSON
	}
	p.i++ // '['
	a := []any{}
	p.ws()
	if p.peek() == ']' {
		p.i++
		p.depth--
		return a, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			p.depth--
			return a, nil
		default:
			return nil, errJSON
		}
	}
}
