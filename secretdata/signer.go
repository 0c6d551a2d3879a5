package secretdata

import (
	"cmp"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"hash"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/msgsec/msgsec/cfgerr"
)

const jtiBytes = 16 // 128 random bits

// SignerConfig configures NewSigner.
type SignerConfig struct {
	Key      Key    // HMAC key or private key; required
	Issuer   string // iss; required
	Audience string // aud: the connection ID; required

	// Lifetime is exp - iat. Default DefaultLifetime; must not exceed MaxLifetime.
	Lifetime time.Duration
	// MaxLifetime is the longest Lifetime accepted. Default
	// DefaultMaxLifetime, at most MaxLifetimeLimit.
	MaxLifetime time.Duration

	// Type is the typ header the Signer writes: "JWT" when empty. Set it
	// to the media type the chat server requires (VerifierConfig.Type,
	// a policy's token.type), for example "secretdata+jwt" (explicit
	// typing, RFC 8725 §3.11).
	Type string

	// Encryption, if set, wraps the signed token in a JWE (dir + A256GCM),
	// so a token that passes through a browser cannot be read there.
	Encryption EncryptionKey

	// Now is the clock (tests pin it). Default time.Now.
	Now func() time.Time
}

// Signer mints CustomerSecretData tokens (the bank backend's side). It is
// immutable and safe for concurrent use.
type Signer struct {
	key      *keyMaterial
	issuer   string
	audience string
	lifetime time.Duration
	header   string // pre-encoded protected header
	jweHdr   string // pre-encoded JWE header, empty without encryption
	enc      EncryptionKey
	now      func() time.Time
	macs     sync.Pool // hash.Hash keyed with the HMAC secret
}

// NewSigner validates cfg once and returns a Signer. It reports every
// problem of cfg at once (see ErrConfig), each naming its field.
func NewSigner(cfg SignerConfig) (*Signer, error) {
	var problems []*cfgerr.Error
	if !cfg.Key.CanSign() {
		problems = append(problems, problem("Key", secretValue(cfg.Key.m != nil), "need an hmac key or a private key"))
	}
	problems = checkName(problems, "Issuer", cfg.Issuer)
	problems = checkName(problems, "Audience", cfg.Audience)
	problems = checkMediaType(problems, "Type", cfg.Type)
	maxLifetime := cmp.Or(cfg.MaxLifetime, DefaultMaxLifetime)
	if maxLifetime < time.Second || maxLifetime > MaxLifetimeLimit {
		problems = append(problems, problem("MaxLifetime", cfg.MaxLifetime.String(),
			"must be between 1s and "+MaxLifetimeLimit.String()+" (zero means "+DefaultMaxLifetime.String()+")"))
		maxLifetime = MaxLifetimeLimit // so Lifetime is still checked
	}
	lifetime := cmp.Or(cfg.Lifetime, DefaultLifetime)
	if lifetime < time.Second || lifetime > maxLifetime {
		problems = append(problems, problem("Lifetime", lifetime.String(),
			"must be between 1s and MaxLifetime ("+maxLifetime.String()+")"))
	}
	if err := cfgerr.Join("secretdata: invalid signer configuration", problems); err != nil {
		return nil, err
	}
	cfg.Lifetime = lifetime
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := cfg.Key.m
	s := &Signer{key: m, issuer: cfg.Issuer, audience: cfg.Audience, lifetime: cfg.Lifetime, enc: cfg.Encryption, now: cfg.Now}
	hdr := appendJSONString([]byte(`{"alg":`), string(m.alg))
	hdr = appendJSONString(append(hdr, `,"kid":`...), m.id)
	hdr = appendJSONString(append(hdr, `,"typ":`...), cmp.Or(cfg.Type, "JWT"))
	hdr = append(hdr, '}')
	s.header = base64.RawURLEncoding.EncodeToString(hdr)
	if !cfg.Encryption.isZero() {
		jh := appendJSONString([]byte(`{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":`), cfg.Encryption.m.id)
		s.jweHdr = base64.RawURLEncoding.EncodeToString(append(jh, '}'))
	}
	if m.alg.isHMAC() {
		s.macs.New = func() any { return hmac.New(m.alg.hash().New, m.secret()) }
	}
	return s, nil
}

// Sign returns a compact JWS (or JWE, if configured) carrying c, with iat,
// exp, a fresh random jti and the key's kid set by the Signer.
func (s *Signer) Sign(c Claims) (string, error) {
	if err := s.checkClaims(&c); err != nil {
		return "", err
	}
	now := s.now()
	if !s.key.activeAt(now) {
		return "", signErr("Key", "", "outside its validity window")
	}
	iat := now.Unix()
	exp := iat + int64(s.lifetime/time.Second)
	if !c.NotBefore.IsZero() && c.NotBefore.Unix() >= exp {
		return "", signErr("Claims.NotBefore", c.NotBefore.UTC().Format(time.RFC3339), "must be before expiry")
	}
	payload, err := s.appendPayload(make([]byte, 0, 256), &c, iat, exp)
	if err != nil {
		return "", err
	}
	out := make([]byte, 0, len(s.header)+2+base64.RawURLEncoding.EncodedLen(len(payload))+88)
	out = append(out, s.header...)
	out = append(out, '.')
	out = base64.RawURLEncoding.AppendEncode(out, payload)
	sig, err := s.signature(out)
	if err != nil {
		return "", err
	}
	out = append(out, '.')
	out = base64.RawURLEncoding.AppendEncode(out, sig)
	if s.jweHdr != "" {
		return s.encrypt(out), nil
	}
	return string(out), nil
}

func (s *Signer) checkClaims(c *Claims) error {
	switch {
	case c.Issuer != "" && c.Issuer != s.issuer:
		return signErr("Claims.Issuer", c.Issuer, "differs from the signer's issuer")
	case c.Audience != "" && c.Audience != s.audience:
		return signErr("Claims.Audience", c.Audience, "differs from the signer's audience")
	case !c.IssuedAt.IsZero() || !c.ExpiresAt.IsZero() || c.ID != "":
		return signErr("Claims", "", "iat, exp and jti are set by the signer")
	case !utf8.ValidString(c.Subject):
		return signErr("Claims.Subject", "", "not valid utf-8")
	case !utf8.ValidString(c.SessionID):
		return signErr("Claims.SessionID", "", "not valid utf-8")
	}
	return nil
}

func (s *Signer) appendPayload(b []byte, c *Claims, iat, exp int64) ([]byte, error) {
	var jti [jtiBytes]byte
	_, _ = rand.Read(jti[:])
	b = appendJSONString(append(b, `{"iss":`...), s.issuer)
	b = appendJSONString(append(b, `,"aud":`...), s.audience)
	if c.Subject != "" {
		b = appendJSONString(append(b, `,"sub":`...), c.Subject)
	}
	b = strconv.AppendInt(append(b, `,"iat":`...), iat, 10)
	b = strconv.AppendInt(append(b, `,"exp":`...), exp, 10)
	if !c.NotBefore.IsZero() {
		b = strconv.AppendInt(append(b, `,"nbf":`...), c.NotBefore.Unix(), 10)
	}
	b = append(b, `,"jti":"`...)
	b = base64.RawURLEncoding.AppendEncode(b, jti[:])
	b = append(b, '"')
	if c.SessionID != "" {
		b = appendJSONString(append(b, `,"sid":`...), c.SessionID)
	}
	if c.SecretData != nil {
		data, err := json.Marshal(c.SecretData)
		if err != nil {
			return nil, signErr("Claims.SecretData", "", "not json-encodable")
		}
		b = append(append(b, `,"customer_secret_data":`...), data...)
	}
	return append(b, '}'), nil
}

func (s *Signer) signature(input []byte) ([]byte, error) {
	m := s.key
	if m.alg.isHMAC() {
		h := s.macs.Get().(hash.Hash)
		h.Reset()
		h.Write(input)
		sig := h.Sum(nil)
		s.macs.Put(h)
		return sig, nil
	}
	var digest []byte
	var opts crypto.SignerOpts = crypto.Hash(0)
	if hf := m.alg.hash(); hf != 0 {
		hh := hf.New()
		hh.Write(input)
		digest, opts = hh.Sum(nil), hf
	} else {
		digest = input // Ed25519 signs the message itself
	}
	if m.alg == PS256 {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	}
	sig, err := m.priv().Sign(rand.Reader, digest, opts)
	if err != nil {
		return nil, signErr("Key", "", "signing failed")
	}
	if m.alg == ES256 {
		return ecdsaRaw(sig)
	}
	return sig, nil
}

// ecdsaRaw converts an ASN.1 DER ECDSA signature to JWS's fixed r||s form.
func ecdsaRaw(der []byte) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) != 0 || rs.R == nil || rs.S == nil {
		return nil, signErr("Key", "", "signer returned a malformed ecdsa signature")
	}
	out := make([]byte, 64)
	rs.R.FillBytes(out[:32])
	rs.S.FillBytes(out[32:])
	return out, nil
}

// encrypt wraps a signed token: header..iv.ciphertext.tag, with the
// encoded header as additional data (RFC 7516 §5.1).
func (s *Signer) encrypt(jws []byte) string {
	var iv [gcmNonceSize]byte
	_, _ = rand.Read(iv[:])
	sealed := s.enc.m.aead.Seal(nil, iv[:], jws, []byte(s.jweHdr))
	ct, tag := sealed[:len(sealed)-gcmTagSize], sealed[len(sealed)-gcmTagSize:]
	enc := base64.RawURLEncoding
	out := make([]byte, 0, len(s.jweHdr)+4+enc.EncodedLen(len(sealed))+16+4)
	out = append(append(out, s.jweHdr...), '.', '.')
	out = append(enc.AppendEncode(out, iv[:]), '.')
	out = append(enc.AppendEncode(out, ct), '.')
	return string(enc.AppendEncode(out, tag))
}

// signErr is a refusal of Sign: the claims do not fit the signer, or its
// key cannot sign now. Subject, session ID and secret data are never
// quoted.
func signErr(field, value, reason string) error {
	return cfgerr.Join("secretdata: cannot sign", []*cfgerr.Error{problem(field, value, reason)})
}

// checkMediaType refuses a Type that is not a plausible media type: 1 to
// 127 bytes of letters, digits and !#$&-^_.+ with at most one "/" (RFC
// 6838 §4.2), as in "secretdata+jwt" or "application/secretdata+jwt".
// Empty is fine (the default).
func checkMediaType(problems []*cfgerr.Error, field, v string) []*cfgerr.Error {
	if v == "" {
		return problems
	}
	bad := len(v) > 127 || strings.Count(v, "/") > 1 || v[0] == '/' || v[len(v)-1] == '/'
	for i := 0; i < len(v) && !bad; i++ {
		c := v[i]
		bad = !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&-^_.+/", c) >= 0)
	}
	if bad {
		return append(problems, problem(field, v, "not a media type (such as secretdata+jwt)"))
	}
	return problems
}

// checkName refuses an empty or non-UTF-8 Issuer or Audience.
func checkName(problems []*cfgerr.Error, field, v string) []*cfgerr.Error {
	switch {
	case v == "":
		return append(problems, problem(field, "", "required"))
	case !utf8.ValidString(v):
		return append(problems, problem(field, v, "not valid utf-8"))
	}
	return problems
}

// appendJSONString appends s as a JSON string. Callers validate UTF-8.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
