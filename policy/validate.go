package policy

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/cookies"
	"github.com/msgsec/msgsec/internal/keyhint"
	"github.com/msgsec/msgsec/internal/loopback"
	"github.com/msgsec/msgsec/origin"
	"github.com/msgsec/msgsec/secretdata"
)

// Validate checks every rule of the schema and reports every problem at once
// as *cfgerr.Error values with their paths (walk them with cfgerr.All). Load already calls it; call
// it again after changing a File in code.
func (f *File) Validate() error {
	p := &problems{}
	f.validate(p)
	return p.err(f.path)
}

func (f *File) validate(p *problems) {
	if len(f.Connections) == 0 {
		p.add("connections", ErrMissing, "no connections")
	}
	ids := map[string]int{}
	for i := range f.Connections {
		c := &f.Connections[i]
		path := fmt.Sprintf("connections[%d]", i)
		if first, dup := ids[c.ID]; dup && c.ID != "" {
			p.add(path+".id", ErrValue, fmt.Sprintf("connection %q is already defined at connections[%d]", c.ID, first))
		}
		ids[c.ID] = i
		c.validate(path, p)
	}
}

func (c *ConnectionPolicy) validate(path string, p *problems) {
	switch {
	case c.ID == "":
		p.add(path+".id", ErrMissing, "a connection needs an id")
	case !validID(c.ID):
		p.add(path+".id", ErrValue, "an id is 1-64 of a-z, A-Z, 0-9, '.', '_', '-', starting with a letter or digit (it appears in URLs)")
	}
	switch c.DomainMatching {
	case "", MatchExact, MatchSameSite:
	default:
		p.add(path+".domain_matching", ErrValue, `must be "exact" or "same-site"`)
	}
	if _, err := c.matcher(); err != nil {
		n := 0
		for pe := range cfgerr.All(err) {
			p.add(path+".allowed_domains"+pe.Field, ErrValue, pe.Reason)
			n++
		}
		if n == 0 {
			p.add(path+".allowed_domains", ErrValue, err.Error())
		}
	}
	if _, err := c.cookieAllowlist(); err != nil {
		n := 0
		for e := range cfgerr.All(err) {
			msg := e.Reason
			if errors.Is(e, cookies.ErrSensitiveName) {
				msg += "; set dangerously_allow_sensitive_cookies: true only if you are sure it carries no secret"
			}
			p.add(path+".allowed_cookies"+e.Field, ErrValue, msg)
			n++
		}
		if n == 0 {
			p.add(path+".allowed_cookies", ErrValue, err.Error())
		}
	}
	c.validateKeys(path, p)
	c.validateDecryptionKeys(path, p)
	c.validateToken(path, p)
	switch c.Mode {
	case "", ModeEnforce, ModeReportOnly:
	default:
		p.add(path+".mode", ErrValue, `must be "enforce" or "report-only"`)
	}
}

func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		alnum := 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9'
		if !alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-')) {
			return false
		}
	}
	return true
}

func (c *ConnectionPolicy) matcher() (*origin.Matcher, error) {
	domains := c.AllowedDomains
	if len(domains) == 0 {
		domains = []string{"*"} // the seed rule: no domain means any website
	}
	return c.matcherOf(domains)
}

// matcherOf compiles patterns with the policy's domain matching.
func (c *ConnectionPolicy) matcherOf(patterns []string) (*origin.Matcher, error) {
	var opts []origin.Option
	if c.DomainMatching == MatchSameSite {
		opts = append(opts, origin.SameSite())
	}
	return origin.NewMatcher(patterns, opts...)
}

// listedMatcher matches what the allowed domains name, without "*" (nil
// when they name nothing): the origins credentials may go to. m is the full
// matcher, reused when no "*" is listed.
func (c *ConnectionPolicy) listedMatcher(m *origin.Matcher) (*origin.Matcher, error) {
	if !c.anyWebsite() {
		return m, nil
	}
	var named []string
	for _, d := range c.AllowedDomains {
		if d != "*" {
			named = append(named, d)
		}
	}
	if len(named) == 0 {
		return nil, nil
	}
	return c.matcherOf(named)
}

func (c *ConnectionPolicy) cookieAllowlist() (*cookies.Allowlist, error) {
	var opts []cookies.Option
	if c.DangerouslyAllowSensitiveCookies {
		opts = append(opts, cookies.DangerouslyAllowSensitiveNames())
	}
	return cookies.NewAllowlist(c.AllowedCookies, opts...)
}

func (c *ConnectionPolicy) validateKeys(path string, p *problems) {
	kids := map[string]int{}
	for i := range c.Keys {
		kp := fmt.Sprintf("%s.keys[%d]", path, i)
		k := &c.Keys[i]
		if first, dup := kids[k.ID]; dup && k.ID != "" {
			p.add(kp+".id", ErrValue, fmt.Sprintf("key id %q is already used by keys[%d]", k.ID, first))
		}
		kids[k.ID] = i
		if p.hasUnder(kp+".secret") || p.hasUnder(kp+".public_key") {
			continue // the reference did not resolve; that is reported already
		}
		if _, msgPath, err := k.build(); err != nil {
			p.add(kp+msgPath, kindOf(err), err.Error())
		}
	}
	if c.JWKSURL != "" {
		u, err := url.Parse(c.JWKSURL)
		switch {
		case err != nil || u.Host == "" || u.User != nil || u.Fragment != "":
			p.add(path+".jwks_url", ErrValue, "not an absolute URL")
		case u.Scheme != "https" && !(u.Scheme == "http" && loopback.Host(u.Hostname())):
			p.add(path+".jwks_url", ErrValue, "must be https (http only to a loopback host)")
		}
	}
}

// validateDecryptionKeys checks the JWE keys: an id each, distinct ids, a
// 32-byte secret that no HMAC key of the connection shares, and keys to
// verify the token they wrap.
func (c *ConnectionPolicy) validateDecryptionKeys(path string, p *problems) {
	if len(c.DecryptionKeys) > 0 && len(c.Keys) == 0 && c.JWKSURL == "" {
		p.add(path+".decryption_keys", ErrValue, "decryption keys unwrap a signed token, so keys or jwks_url are needed to verify it")
	}
	ids := map[string]int{}
	for i := range c.DecryptionKeys {
		dp := fmt.Sprintf("%s.decryption_keys[%d]", path, i)
		d := &c.DecryptionKeys[i]
		if first, dup := ids[d.ID]; dup && d.ID != "" {
			p.add(dp+".id", ErrValue, fmt.Sprintf("decryption key id %q is already used by decryption_keys[%d]", d.ID, first))
		}
		ids[d.ID] = i
		if p.hasUnder(dp + ".secret") {
			continue // the reference did not resolve; that is reported already
		}
		if _, msgPath, err := d.build(); err != nil {
			p.add(dp+msgPath, kindOf(err), err.Error())
			continue
		}
		for j := range c.Keys {
			s := c.Keys[j].Secret
			switch {
			case s == nil:
			case s.Env != "" && s.Env == d.Secret.Env, s.File != "" && s.File == d.Secret.File:
				// Read another way (decoded, say), it is still the same secret.
				p.add(dp+".secret", ErrValue, fmt.Sprintf("the same source as keys[%d].secret: use a different secret for encryption", j))
			case !s.resolved.IsZero() && bytes.Equal(s.resolved.Bytes(), d.Secret.resolved.Bytes()):
				p.add(dp+".secret", ErrValue, fmt.Sprintf("the same secret as keys[%d]: use a different secret for encryption", j))
			}
		}
	}
}

// build turns a decryption key entry into a secretdata.EncryptionKey. On
// failure it returns the sub-path of the offending field and an error
// without secret values.
func (d *DecryptionKey) build() (secretdata.EncryptionKey, string, error) {
	switch {
	case d.ID == "":
		return secretdata.EncryptionKey{}, ".id", &cfgerr.Error{Kind: ErrMissing, Reason: "a decryption key needs an id (the JWE's kid)"}
	case d.Secret == nil:
		return secretdata.EncryptionKey{}, ".secret", &cfgerr.Error{Kind: ErrMissing, Reason: "a decryption key needs a secret ({env: NAME} or {file: PATH})"}
	case d.Secret.resolved.IsZero():
		return secretdata.EncryptionKey{}, ".secret", &cfgerr.Error{Kind: ErrSecret, Reason: "the secret was not resolved"}
	}
	k, err := secretdata.NewEncryptionKey(d.ID, d.Secret.resolved.Bytes())
	if err != nil {
		for e := range cfgerr.All(err) {
			path := ".secret"
			if e.Field == "id" {
				path = ".id"
			}
			reason := e.Reason
			if e.Field == "secret" {
				reason = fmt.Sprintf("a256gcm needs exactly 32 bytes, this is %d after %s decoding (`msgsec secret new --jwe` makes one)",
					len(d.Secret.resolved.Bytes()), d.Secret.Encoding)
			}
			return secretdata.EncryptionKey{}, path, errors.New(reason)
		}
		return secretdata.EncryptionKey{}, "", err
	}
	return k, "", nil
}

func kindOf(err error) error {
	var fe *cfgerr.Error
	if errors.As(err, &fe) && fe.Kind != nil {
		return fe.Kind
	}
	return ErrValue
}

// build turns a key entry into a verification key. On failure it returns
// the sub-path of the offending field and an error without secret values.
func (k *KeyConfig) build() (secretdata.Key, string, error) {
	if k.ID == "" {
		return secretdata.Key{}, ".id", &cfgerr.Error{Kind: ErrMissing, Reason: "a key needs an id (the token's kid)"}
	}
	alg := secretdata.Algorithm(k.Algorithm)
	if k.Algorithm == "" {
		alg = secretdata.HS256
	}
	var key secretdata.Key
	var err error
	switch alg {
	case secretdata.HS256, secretdata.HS384, secretdata.HS512:
		if k.PublicKey != nil {
			return key, ".public_key", errors.New("an HMAC key takes a secret, not a public key")
		}
		if k.Secret == nil {
			return key, ".secret", &cfgerr.Error{Kind: ErrMissing, Reason: "an HMAC key needs a secret ({env: NAME} or {file: PATH})"}
		}
		if k.Secret.resolved.IsZero() {
			return key, ".secret", &cfgerr.Error{Kind: ErrSecret, Reason: "the secret was not resolved"}
		}
		key, err = secretdata.NewHMACKey(k.ID, alg, k.Secret.resolved.Bytes())
		if err != nil {
			return key, ".secret", fmt.Errorf("%s", keyErrMsg(err, alg, k.Secret.Encoding))
		}
		if hint := hmacHint(k.ID, k.Secret.Encoding); hint != "" {
			key = keyhint.With(key, hint).(secretdata.Key)
		}
	case secretdata.RS256, secretdata.PS256, secretdata.ES256, secretdata.EdDSA, secretdata.Ed25519:
		if k.Secret != nil {
			return key, ".secret", errors.New("an asymmetric key takes a public key, not a secret")
		}
		if k.PublicKey == nil {
			return key, ".public_key", &cfgerr.Error{Kind: ErrMissing, Reason: "an asymmetric key needs public_key (PEM)"}
		}
		if k.PublicKey.resolved.IsZero() {
			return key, ".public_key", &cfgerr.Error{Kind: ErrSecret, Reason: "the public key was not resolved"}
		}
		pub, perr := parsePublicKeyPEM(k.PublicKey.resolved.Bytes())
		if perr != nil {
			return key, ".public_key", perr
		}
		key, err = secretdata.NewPublicKey(k.ID, alg, pub)
		if err != nil {
			return key, ".public_key", errors.New(keyErrMsg(err, alg, ""))
		}
	default:
		return key, ".algorithm", fmt.Errorf("unsupported algorithm %q (HS256, HS384, HS512, RS256, PS256, ES256, EdDSA, Ed25519)", k.Algorithm)
	}
	if k.NotBefore != nil || k.RetireAfter != nil {
		var nb, ra = zeroTime, zeroTime
		if k.NotBefore != nil {
			nb = *k.NotBefore
		}
		if k.RetireAfter != nil {
			ra = *k.RetireAfter
		}
		key, err = key.WithValidity(nb, ra)
		if err != nil {
			return key, ".retire_after", errors.New("retire_after must be after not_before")
		}
	}
	return key, "", nil
}

// keyErrMsg keeps secretdata's reasons (they never contain key bytes) and
// adds what to do about short secrets.
func keyErrMsg(err error, alg secretdata.Algorithm, encoding string) string {
	var reasons []string
	for p := range cfgerr.All(err) {
		msg := p.Reason
		if strings.HasPrefix(msg, "shorter") {
			unit := "random bytes"
			if encoding == encRaw {
				unit = "characters of random text (encoding raw: the text's bytes are the key)"
			}
			msg = fmt.Sprintf("shorter than the hash size (%s needs at least %d %s; `msgsec secret new` makes one)", alg, minSecretBytes(alg), unit)
		}
		reasons = append(reasons, msg)
	}
	if len(reasons) == 0 {
		return strings.TrimPrefix(err.Error(), "secretdata: ")
	}
	return strings.Join(reasons, "; ")
}

// verifierErr reports NewVerifier's problems (which Validate should have
// caught already) at the policy paths of their fields, under path.
func verifierErr(path string, err error) error {
	p := &problems{}
	for e := range cfgerr.All(err) {
		field := e.Field
		for from, to := range map[string]string{
			"Keys": "keys", "Issuer": "token.issuer", "Audience": "token.audience",
			"Leeway": "token.leeway", "MaxLifetime": "token.max_lifetime", "KeySet": "jwks_url",
			"DecryptionKeys": "decryption_keys",
		} {
			if field == from || strings.HasPrefix(field, from+"[") {
				field = to + strings.TrimPrefix(field, from)
				break
			}
		}
		p.add(path+"."+field, ErrValue, e.Reason)
		p.list[len(p.list)-1].Value = e.Value // secretdata quotes no secret
	}
	if len(p.list) == 0 {
		return fmt.Errorf("policy: %s: %w", path, err)
	}
	return p.err("")
}

func minSecretBytes(alg secretdata.Algorithm) int {
	switch alg {
	case secretdata.HS384:
		return 48
	case secretdata.HS512:
		return 64
	}
	return 32
}

func parsePublicKeyPEM(b []byte) (any, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("PEM block is %q; want \"PUBLIC KEY\" (PKIX), never a private key", block.Type)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, errors.New("cannot parse the PKIX public key")
	}
	return pub, nil
}

func (c *ConnectionPolicy) validateToken(path string, p *problems) {
	tp := path + ".token"
	hasKeys := len(c.Keys) > 0 || c.JWKSURL != ""
	if hasKeys && c.Token.Issuer == "" {
		p.add(tp+".issuer", ErrMissing, "tokens are verified, so the issuer (the bank backend) must be named")
	}
	if c.Token.MaxLifetime < 0 || c.Token.MaxLifetime > secretdata.MaxLifetimeLimit {
		p.add(tp+".max_lifetime", ErrValue, fmt.Sprintf("must be between 0 (default %s) and %s", secretdata.DefaultMaxLifetime, secretdata.MaxLifetimeLimit))
	}
	if c.Token.Leeway < 0 || c.Token.Leeway > secretdata.MaxLeeway {
		p.add(tp+".leeway", ErrValue, fmt.Sprintf("must be between 0 (default %s) and %s", secretdata.DefaultLeeway, secretdata.MaxLeeway))
	}
	switch c.Token.SecretData {
	case "", SecretDataRequired, SecretDataOptional:
	default:
		p.add(tp+".secret_data", ErrValue, `must be "required" or "optional"`)
	}
	if c.secretDataRequired() && !hasKeys {
		p.add(tp+".secret_data", ErrValue, `secret data is required (the default) but no keys are configured; add keys or set secret_data: optional`)
	}
	if t := c.Token.Type; t != "" && !validMediaType(t) {
		p.add(tp+".type", ErrValue, "not a media type (such as secretdata+jwt)")
	}
	if h := c.Token.Header; h != "" {
		if !validHeaderName(h) {
			p.add(tp+".header", ErrValue, "not a valid HTTP header name")
		} else if reservedHeader(h) {
			p.add(tp+".header", ErrValue, "this header is set by browsers or proxies; choose another (e.g. X-Customer-Secret-Data)")
		}
	}
}

// validMediaType is secretdata's rule for a typ (VerifierConfig.Type): 1
// to 127 bytes of letters, digits and !#$&-^_.+, at most one inner "/".
func validMediaType(t string) bool {
	if len(t) > 127 || strings.Count(t, "/") > 1 || t[0] == '/' || t[len(t)-1] == '/' {
		return false
	}
	for i := 0; i < len(t); i++ {
		ch := t[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || strings.IndexByte("!#$&-^_.+/", ch) >= 0) {
			return false
		}
	}
	return true
}

func validHeaderName(h string) bool {
	for i := 0; i < len(h); i++ {
		ch := h[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0) {
			return false
		}
	}
	return h != ""
}

func reservedHeader(h string) bool {
	switch strings.ToLower(h) {
	case "cookie", "origin", "host", "referer", "content-type", "content-length", "connection", "upgrade", "x-forwarded-for", "forwarded":
		return true
	}
	return strings.HasPrefix(strings.ToLower(h), "sec-")
}

var zeroTime = time.Time{}
