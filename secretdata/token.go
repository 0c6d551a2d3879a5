package secretdata

import "strings"

// header is a parsed protected header. Slices alias the decode buffer.
type header struct {
	alg, kid, typ, cty, enc []byte
	hasKid, hasTyp          bool
}

// checkType checks a JWS header's typ against want, the Verifier's Type:
// with none configured, typ is optional and, if present, must say JWT;
// with one, typ is required and must be that type.
func checkType(h *header, want string) error {
	switch {
	case want == "" && (!h.hasTyp || sameMediaType(string(h.typ), "JWT")):
		return nil
	case want == "":
		return tokenErr(ErrMalformed, "typ", "not jwt")
	case !h.hasTyp:
		return tokenErr(ErrMalformed, "typ", "missing: this verifier requires an explicit type")
	case !sameMediaType(string(h.typ), want):
		return tokenErr(ErrMalformed, "typ", "not the type this verifier requires")
	}
	return nil
}

// sameMediaType compares two typ values as RFC 7515 §4.1.9 says: media
// types are case-insensitive, and a value without "/" means
// "application/" + value, so "JWT" and "application/jwt" are one type.
func sameMediaType(a, b string) bool {
	return strings.EqualFold(shortMediaType(a), shortMediaType(b))
}

// shortMediaType drops an "application/" prefix (any case) from a value
// whose rest has no "/", the form RFC 7515 §4.1.9 recommends.
func shortMediaType(s string) string {
	const app = "application/"
	if len(s) > len(app) && strings.EqualFold(s[:len(app)], app) && !strings.Contains(s[len(app):], "/") {
		return s[len(app):]
	}
	return s
}

const (
	hAlg = 1 << iota
	hKid
	hTyp
	hCty
	hEnc
)

// forbiddenHeaders are named in errors; every other unknown parameter is
// refused too, but without echoing its (attacker-chosen) name.
var forbiddenHeaders = [...]string{"crit", "jku", "x5u", "jwk", "x5c", "zip", "b64"}

// parseHeader parses a protected header strictly. Only alg, kid and typ are
// allowed in a JWS header (its typ is checked by checkType); a JWE header
// (jwe=true) also takes enc and cty.
// Anything else — crit, jku, x5u, jwk, x5c, zip, b64, unknown names — is
// refused: we never fetch keys from a token or honour extensions.
func parseHeader(b []byte, jwe bool) (header, error) {
	var h header
	var seen int
	p := parser{b: b}
	err := p.object(func(name []byte) error {
		var bit int
		var dst *[]byte
		switch string(name) {
		case "alg":
			bit, dst = hAlg, &h.alg
		case "kid":
			bit, dst = hKid, &h.kid
			h.hasKid = true
		case "typ":
			bit, dst = hTyp, &h.typ
		case "cty":
			bit, dst = hCty, &h.cty
		case "enc":
			bit, dst = hEnc, &h.enc
		}
		if dst == nil || (!jwe && bit&(hCty|hEnc) != 0) {
			for _, f := range forbiddenHeaders {
				if string(name) == f {
					return tokenErr(ErrMalformed, f, "header parameter not allowed")
				}
			}
			return tokenErr(ErrMalformed, "header", "unknown header parameter")
		}
		if seen&bit != 0 {
			return tokenErr(ErrMalformed, "header", "duplicate header parameter")
		}
		seen |= bit
		s, err := p.str()
		if err != nil {
			return tokenErr(ErrMalformed, "header", "header parameter is not a string")
		}
		*dst = s
		return nil
	})
	if err == nil {
		err = p.end()
	}
	if err != nil {
		if _, ok := err.(*TokenError); ok {
			return h, err
		}
		return h, tokenErr(ErrMalformed, "header", "invalid json")
	}
	if seen&hAlg == 0 {
		return h, tokenErr(ErrMalformed, "alg", "missing")
	}
	h.hasTyp = seen&hTyp != 0
	// A JWE's typ is optional, but if present it must say JWT; a JWS's is
	// checked by the Verifier against its Type (checkType).
	if jwe && h.hasTyp && !sameMediaType(string(h.typ), "JWT") {
		return h, tokenErr(ErrMalformed, "typ", "not jwt")
	}
	if h.hasKid && (len(h.kid) == 0 || len(h.kid) > maxKeyIDLen) {
		return h, tokenErr(ErrUnknownKey, "kid", "invalid length")
	}
	return h, nil
}

// rawClaims holds claims as parsed, before validation. Byte slices alias the
// decode buffer and must be copied before they escape.
type rawClaims struct {
	iss, sub, jti, sid []byte
	audMatch           bool
	exp, iat, nbf      int64 // exp rounded down, iat and nbf up
	// exp's fraction (nanoseconds, rounded up) and iat unrounded (seconds
	// and nanoseconds, rounded down), for the lifetime bound.
	expNs, iatSec, iatNs int64
	seen                 int
	secret               map[string]any
	// others names the claims that are not registered, in order, up to
	// maxMisplaced (see Claims.MisplacedClaims).
	others []string
}

// maxMisplaced bounds how many claim names Claims.MisplacedClaims lists.
const maxMisplaced = 16

const (
	cIss = 1 << iota
	cSub
	cAud
	cExp
	cNbf
	cIat
	cJti
	cSid
	cCsd
)

// parseClaims parses the payload strictly: names are case-sensitive (so
// "EXP" is just an unknown claim, not exp), duplicates anywhere are refused,
// and registered claims must have their RFC 7519 types. wantAud is the
// audience to look for when aud is an array.
func parseClaims(b []byte, wantAud string, rc *rawClaims) error {
	p := parser{b: b}
	var others map[string]struct{}
	err := p.object(func(name []byte) error {
		bit := claimBit(name)
		if bit == 0 {
			if others == nil {
				others = make(map[string]struct{})
			}
			if _, dup := others[string(name)]; dup {
				return tokenErr(ErrMalformed, "claims", "duplicate claim")
			}
			others[string(name)] = struct{}{}
			if len(rc.others) < maxMisplaced {
				rc.others = append(rc.others, clip(string(name)))
			}
			_, err := p.value()
			return err
		}
		if rc.seen&bit != 0 {
			return tokenErr(ErrMalformed, "claims", "duplicate claim")
		}
		rc.seen |= bit
		return parseClaim(&p, bit, wantAud, rc)
	})
	if err == nil {
		err = p.end()
	}
	if err != nil {
		if _, ok := err.(*TokenError); ok {
			return err
		}
		return tokenErr(ErrMalformed, "claims", "invalid json")
	}
	return nil
}

func claimBit(name []byte) int {
	switch string(name) {
	case "iss":
		return cIss
	case "sub":
		return cSub
	case "aud":
		return cAud
	case "exp":
		return cExp
	case "nbf":
		return cNbf
	case "iat":
		return cIat
	case "jti":
		return cJti
	case "sid":
		return cSid
	case "customer_secret_data":
		return cCsd
	}
	return 0
}

var claimNames = map[int]string{cIss: "iss", cSub: "sub", cAud: "aud", cExp: "exp", cNbf: "nbf", cIat: "iat", cJti: "jti", cSid: "sid", cCsd: "customer_secret_data"}

func parseClaim(p *parser, bit int, wantAud string, rc *rawClaims) error {
	wrongType := tokenErr(ErrClaims, claimNames[bit], "wrong json type")
	switch bit {
	case cIss, cSub, cJti, cSid:
		if p.peek() != '"' {
			return wrongType
		}
		s, err := p.str()
		if err != nil {
			return err
		}
		switch bit {
		case cIss:
			rc.iss = s
		case cSub:
			rc.sub = s
		case cJti:
			rc.jti = s
		case cSid:
			rc.sid = s
		}
	case cExp, cIat, cNbf:
		if c := p.peek(); c < '0' || c > '9' {
			return wrongType
		}
		v, ns, exact, ok := p.numericDate()
		if !ok {
			return tokenErr(ErrClaims, claimNames[bit], "not a numeric date (a non-negative decimal below 10^15, no exponent)")
		}
		// A fraction is rounded the safe way: exp down, nbf and iat up, so
		// a token is never valid for a moment its claims exclude. The
		// fractions themselves are kept for the lifetime bound (exp's
		// rounded up, iat's down past the nanosecond; see checkClaims).
		up := v
		if ns > 0 || !exact {
			up++
		}
		switch bit {
		case cExp:
			rc.exp, rc.expNs = v, ns
			if !exact {
				rc.expNs++
			}
		case cIat:
			rc.iat, rc.iatSec, rc.iatNs = up, v, ns
		case cNbf:
			rc.nbf = up
		}
	case cAud:
		return parseAudience(p, wantAud, rc)
	case cCsd:
		if p.peek() != '{' {
			return wrongType
		}
		m, err := p.objectValue()
		if err != nil {
			return err
		}
		rc.secret = m
	}
	return nil
}

// parseAudience accepts a string or an array of strings (RFC 7519 §4.1.3)
// and records whether wantAud is among them.
func parseAudience(p *parser, wantAud string, rc *rawClaims) error {
	wrongType := tokenErr(ErrClaims, "aud", "wrong json type")
	switch p.peek() {
	case '"':
		s, err := p.str()
		if err != nil {
			return err
		}
		rc.audMatch = string(s) == wantAud
		return nil
	case '[':
	default:
		return wrongType
	}
	v, err := p.arrayValue()
	if err != nil {
		return err
	}
	for _, e := range v {
		s, ok := e.(string)
		if !ok {
			return wrongType
		}
		if s == wantAud {
			rc.audMatch = true
		}
	}
	return nil
}

// splitCompact splits a compact serialization into exactly n segments
// (3 for JWS, 5 for JWE) without allocating. It stops at the first extra
// dot, so a token made of dots costs one short scan.
func splitCompact(token string, seg []string) bool {
	n := len(seg)
	for i := 0; i < n-1; i++ {
		j := strings.IndexByte(token, '.')
		if j < 0 {
			return false
		}
		seg[i], token = token[:j], token[j+1:]
	}
	if strings.IndexByte(token, '.') >= 0 {
		return false
	}
	seg[n-1] = token
	return true
}
