package secretdata

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"hash"
	"math/big"
	"strconv"
	"sync"
	"time"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/verifyhook"
)

// Defaults and bounds for VerifierConfig (the leeway and lifetime ones are
// in limits.go).
const (
	defaultMaxTokenBytes = 8 << 10
	maxMaxTokenBytes     = 1 << 20
	minJTILen            = 16 // room for 128 bits in base64url
	maxJTILen            = 256
)

// VerifierConfig configures NewVerifier. Issuer and Audience are required,
// and at least one key source (Keys or KeySet).
type VerifierConfig struct {
	// Keys are the verification keys (HMAC, public, or private keys, whose
	// public half is used). Several keys may be active at once for rotation;
	// their IDs must be distinct.
	Keys []Key
	// KeySet, if set, supplies further public keys from a JWKS URL. It is
	// consulted for a kid not found in Keys.
	KeySet *RemoteKeySet

	Issuer   string // required iss
	Audience string // required aud: the connection ID

	// Leeway tolerates clock skew on exp, nbf and iat. Zero means
	// DefaultLeeway (30s), a negative value means none (exp is then exact);
	// at most MaxLeeway (5m).
	Leeway time.Duration
	// MaxLifetime refuses tokens whose exp - iat exceeds it. Default
	// DefaultMaxLifetime (15m), between 1s and MaxLifetimeLimit (24h).
	MaxLifetime time.Duration
	// MaxTokenBytes caps the token length, checked before any decoding.
	// Zero means 8 KiB; at most 1 MiB.
	MaxTokenBytes int

	// Replay records each accepted (iss, jti). Nil means a fresh bounded
	// MemoryReplayCache (with its default MaxEntries) using Now.
	Replay ReplayCache
	// DangerouslyDisableReplayProtection turns the replay check off: a
	// stolen token is then accepted again and again until it expires. It
	// cannot be combined with Replay.
	DangerouslyDisableReplayProtection bool

	// Type, if set, makes typ required: the token's protected header must
	// carry typ with this media type, for example "secretdata+jwt"
	// (explicit typing, RFC 8725 §3.11), compared as RFC 7515 §4.1.9 says
	// (case-insensitively, "application/" optional). Tokens without typ
	// or with another one — "JWT" included — are refused. Empty: typ is
	// optional and, when present, must be JWT (or application/jwt).
	Type string

	// RefuseMisplacedSecretData refuses a token that has no
	// customer_secret_data but carries other top-level claims (see
	// Claims.MisplacedClaims): the bank sent the customer data in the
	// wrong place. Without it such a token verifies, with no SecretData.
	// A token with neither verifies either way. Package policy sets it
	// when the connection requires secret data.
	RefuseMisplacedSecretData bool

	// DecryptionKeys, if set, make the Verifier expect JWE (dir + A256GCM)
	// tokens wrapping the signed token; plain JWS is then refused.
	DecryptionKeys []EncryptionKey

	// Now is the clock (tests pin it). Default time.Now.
	Now func() time.Time
}

// Verifier checks CustomerSecretData tokens (the chat server's side). It is
// immutable after construction and safe for concurrent use.
type Verifier struct {
	keys        map[string]*verifyKey
	only        *verifyKey // the single key, when exactly one
	remote      *RemoteKeySet
	typ         string // required typ, or "" (see VerifierConfig.Type)
	misplaced   bool   // RefuseMisplacedSecretData
	dec         map[string]EncryptionKey
	decOnly     EncryptionKey
	issuer      string
	audience    string
	leeway      time.Duration
	maxLifetime time.Duration
	maxBytes    int
	replay      ReplayCache
	now         func() time.Time
	bufs        sync.Pool // *[]byte scratch, 2*maxBytes
	// observe, if set (by package policy, through internal/verifyhook,
	// before the Verifier is shared), hears how long each verification
	// took and its error.
	observe func(took time.Duration, err error)
}

func init() {
	verifyhook.Observe = func(v any, f func(time.Duration, error)) { v.(*Verifier).observe = f }
}

// verifyKey is a key compiled for verification: its algorithm is fixed and
// HMAC keys keep a pool of keyed hashes.
type verifyKey struct {
	m       *keyMaterial
	macs    *sync.Pool
	sigFail string // the bad-signature reason (with the key's hint)
}

func compileKey(k Key) *verifyKey {
	m := k.public().m
	vk := &verifyKey{m: m, sigFail: m.badSignature()}
	if m.alg.isHMAC() {
		vk.macs = &sync.Pool{New: func() any { return hmac.New(m.alg.hash().New, m.secret()) }}
	}
	return vk
}

// NewVerifier validates cfg once and returns a Verifier. It reports every
// problem of cfg at once (see ErrConfig), each naming its field.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	var problems []*cfgerr.Error
	if len(cfg.Keys) == 0 && cfg.KeySet == nil {
		problems = append(problems, problem("Keys", "", "at least one key or a KeySet is required"))
	}
	problems = checkName(problems, "Issuer", cfg.Issuer)
	problems = checkName(problems, "Audience", cfg.Audience)
	leeway := cfg.Leeway
	switch {
	case leeway == 0:
		leeway = DefaultLeeway
	case leeway < 0:
		leeway = 0 // asked for none
	case leeway > MaxLeeway:
		problems = append(problems, problem("Leeway", leeway.String(),
			"must be at most "+MaxLeeway.String()+" (zero means "+DefaultLeeway.String()+", negative means none)"))
	}
	maxLifetime := cmp.Or(cfg.MaxLifetime, DefaultMaxLifetime)
	if maxLifetime < time.Second || maxLifetime > MaxLifetimeLimit {
		problems = append(problems, problem("MaxLifetime", cfg.MaxLifetime.String(),
			"must be between 1s and "+MaxLifetimeLimit.String()+" (zero means "+DefaultMaxLifetime.String()+")"))
	}
	maxBytes := cmp.Or(cfg.MaxTokenBytes, defaultMaxTokenBytes)
	if maxBytes < 128 || maxBytes > maxMaxTokenBytes {
		problems = append(problems, problem("MaxTokenBytes", strconv.Itoa(cfg.MaxTokenBytes),
			"must be between 128 and 1 MiB (zero means 8 KiB)"))
	}
	keys := make(map[string]*verifyKey, len(cfg.Keys))
	first := make(map[string]int, len(cfg.Keys))
	for i, k := range cfg.Keys {
		field := "Keys[" + strconv.Itoa(i) + "]"
		if k.m == nil {
			problems = append(problems, problem(field, "", "zero key"))
			continue
		}
		if j, dup := first[k.m.id]; dup {
			problems = append(problems, problem(field, k.m.id, "duplicate key id (Keys["+strconv.Itoa(j)+"] has it)"))
			continue
		}
		first[k.m.id] = i
		keys[k.m.id] = compileKey(k)
	}
	problems = checkMediaType(problems, "Type", cfg.Type)
	if cfg.DangerouslyDisableReplayProtection && cfg.Replay != nil {
		problems = append(problems, problem("Replay", "", "set together with DangerouslyDisableReplayProtection"))
	}
	dec := make(map[string]EncryptionKey, len(cfg.DecryptionKeys))
	for i, k := range cfg.DecryptionKeys {
		field := "DecryptionKeys[" + strconv.Itoa(i) + "]"
		switch _, dup := dec[k.id()]; {
		case k.isZero():
			problems = append(problems, problem(field, "", "zero key"))
		case dup:
			problems = append(problems, problem(field, k.id(), "duplicate key id"))
		default:
			dec[k.id()] = k
		}
	}
	if err := cfgerr.Join("secretdata: invalid verifier configuration", problems); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{
		keys: keys, remote: cfg.KeySet, typ: cfg.Type, misplaced: cfg.RefuseMisplacedSecretData,
		issuer: cfg.Issuer, audience: cfg.Audience, leeway: leeway,
		maxLifetime: maxLifetime, maxBytes: maxBytes, now: cfg.Now,
	}
	if len(v.keys) == 1 {
		for _, vk := range v.keys {
			v.only = vk
		}
	}
	switch {
	case cfg.DangerouslyDisableReplayProtection:
	case cfg.Replay != nil:
		v.replay = cfg.Replay
	default:
		v.replay = newMemoryReplayCache(defaultReplayCacheEntries, cfg.Now)
	}
	if len(dec) > 0 {
		v.dec = dec
		if len(cfg.DecryptionKeys) == 1 {
			v.decOnly = cfg.DecryptionKeys[0]
		}
	}
	size := 2*maxBytes + 128
	v.bufs.New = func() any { b := make([]byte, size); return &b }
	return v, nil
}

// Verify checks token and returns its claims. It refuses tokens bound to a
// chat session (carrying sid): those are only accepted by VerifySession.
// On success the token's (iss, jti) has been recorded in the replay cache,
// so a second Verify of the same token fails with ErrReplayed.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	return v.timed(ctx, token, "", false)
}

// VerifySession is Verify for a token delivered server-to-server for an
// existing chat session: the token must carry sid equal to sessionID.
func (v *Verifier) VerifySession(ctx context.Context, token, sessionID string) (*Claims, error) {
	if sessionID == "" {
		return nil, tokenErr(ErrClaims, "sid", "empty session id requested")
	}
	return v.timed(ctx, token, sessionID, true)
}

// timed is verify, timed for the observer when there is one. The wall
// clock measures it, not v.now (tests pin that).
func (v *Verifier) timed(ctx context.Context, token, sid string, wantSid bool) (*Claims, error) {
	if v.observe == nil {
		return v.verify(ctx, token, sid, wantSid)
	}
	start := time.Now()
	c, err := v.verify(ctx, token, sid, wantSid)
	v.observe(time.Since(start), err)
	return c, err
}

func (v *Verifier) verify(ctx context.Context, token, sid string, wantSid bool) (*Claims, error) {
	// The size cap comes first: nothing is scanned or decoded above it.
	if len(token) > v.maxBytes {
		return nil, tokenErr(ErrMalformed, "token", "too large")
	}
	if v.dec != nil {
		inner, err := v.decrypt(token)
		if err != nil {
			return nil, err
		}
		token = inner
	}
	var seg [3]string
	if !splitCompact(token, seg[:]) {
		return nil, tokenErr(ErrMalformed, "token", "not a compact jws")
	}
	now := v.now() // one reading of the clock for every check of this token
	bp := v.bufs.Get().(*[]byte)
	defer v.bufs.Put(bp)
	rc, err := v.checkSignature(token, seg, *bp, now)
	if err != nil {
		return nil, err
	}
	c, err := v.checkClaims(rc, now, sid, wantSid)
	if err != nil {
		return nil, err
	}
	if v.replay != nil {
		if err := v.replay.Record(ctx, c.Issuer, c.ID, c.ExpiresAt.Add(v.leeway)); err != nil {
			return nil, replayErr(err)
		}
	}
	return c, nil
}

func replayErr(err error) error {
	if errors.Is(err, ErrReplayed) {
		return &TokenError{Kind: ErrReplayed, Field: "jti", Reason: "already used", err: err}
	}
	// Anything else — including an error the cache did not classify — means
	// we do not know, and we do not accept what we do not know.
	return &TokenError{Kind: ErrReplayCheckUnavailable, Field: "jti", Reason: "replay cache unavailable", err: err}
}

// checkSignature decodes the header, selects the key, verifies the
// signature, then (and only then) parses the claims JSON.
func (v *Verifier) checkSignature(token string, seg [3]string, buf []byte, now time.Time) (*rawClaims, error) {
	signingInput := len(seg[0]) + 1 + len(seg[1])
	input := buf[:copy(buf, token[:signingInput])]
	buf = buf[signingInput:]

	hdr, buf, err := decodeSegment(seg[0], buf, "header")
	if err != nil {
		return nil, err
	}
	h, err := parseHeader(hdr, false)
	if err != nil {
		return nil, err
	}
	if err := checkType(&h, v.typ); err != nil {
		return nil, err
	}
	vk, err := v.selectKey(h)
	if err != nil {
		return nil, err
	}
	// The algorithm is the key's; the header may only confirm it (or name
	// it by its other name, EdDSA ≡ Ed25519). This is what stops "none",
	// HS/RS confusion and algorithm downgrades.
	alg, ok := vk.m.accepts(h.alg)
	if !ok {
		return nil, tokenErr(ErrSignature, "alg", "not the algorithm bound to the key")
	}
	if !vk.m.activeAt(now) {
		return nil, tokenErr(ErrUnknownKey, "kid", "key not active")
	}
	// Every segment must be canonical base64url, whatever the signature
	// says; the payload JSON is only parsed once the signature verifies.
	payload, buf, err := decodeSegment(seg[1], buf, "payload")
	if err != nil {
		return nil, err
	}
	sig, buf, err := decodeSegment(seg[2], buf, "signature")
	if err != nil {
		return nil, err
	}
	if !vk.verify(alg, input, sig, buf) {
		return nil, &TokenError{Kind: ErrSignature, Reason: vk.sigFail, hint: vk.m.hint}
	}
	rc := new(rawClaims)
	if err := parseClaims(payload, v.audience, rc); err != nil {
		return nil, err
	}
	return rc, nil
}

// decodeSegment decodes src into the front of buf and returns the decoded
// bytes and the rest of buf.
func decodeSegment(src string, buf []byte, what string) ([]byte, []byte, error) {
	n, ok := b64Len(len(src))
	if !ok || n > len(buf) || !b64Decode(buf[:n], src) {
		return nil, nil, tokenErr(ErrMalformed, what, "not canonical base64url")
	}
	return buf[:n], buf[n:], nil
}

// selectKey picks the key the token's kid names. A token without kid is
// verified against the one key there is, when there is exactly one (in
// Keys and the KeySet together): no ambiguity, and what every JWT library
// does. With several, it is refused.
func (v *Verifier) selectKey(h header) (*verifyKey, error) {
	if !h.hasKid {
		if v.remote == nil {
			if v.only == nil {
				return nil, tokenErr(ErrUnknownKey, "kid", "required when several keys are configured")
			}
			return v.only, nil
		}
		lone, n := v.remote.lone()
		switch {
		case n+len(v.keys) == 0:
			return nil, tokenErr(ErrUnknownKey, "kid", "missing, and the key set holds no key")
		case n+len(v.keys) > 1:
			return nil, tokenErr(ErrUnknownKey, "kid", "required when several keys are configured")
		case n == 1:
			return lone, nil
		}
		return v.only, nil
	}
	if vk, ok := v.keys[string(h.kid)]; ok {
		return vk, nil
	}
	if v.remote != nil {
		if vk := v.remote.lookup(string(h.kid)); vk != nil {
			return vk, nil
		}
	}
	return nil, tokenErr(ErrUnknownKey, "kid", "no such key")
}

// verify checks sig over input with alg, the algorithm accepts chose.
// scratch receives the computed MAC.
func (vk *verifyKey) verify(alg Algorithm, input, sig, scratch []byte) bool {
	m := vk.m
	switch alg {
	case HS256, HS384, HS512:
		h := vk.macs.Get().(hash.Hash)
		h.Reset()
		h.Write(input)
		mac := h.Sum(scratch[:0])
		vk.macs.Put(h)
		return len(sig) == len(mac) && hmac.Equal(mac, sig)
	case RS256:
		d := sha256.Sum256(input)
		return rsa.VerifyPKCS1v15(m.pub.(*rsa.PublicKey), crypto.SHA256, d[:], sig) == nil
	case PS256:
		d := sha256.Sum256(input)
		opts := rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
		return rsa.VerifyPSS(m.pub.(*rsa.PublicKey), crypto.SHA256, d[:], sig, &opts) == nil
	case ES256:
		if len(sig) != 64 {
			return false
		}
		d := sha256.Sum256(input)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(m.pub.(*ecdsa.PublicKey), d[:], r, s)
	case EdDSA, Ed25519:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(m.pub.(ed25519.PublicKey), input, sig)
	}
	return false
}

// checkClaims validates the registered claims and builds the result.
func (v *Verifier) checkClaims(rc *rawClaims, now time.Time, sid string, wantSid bool) (*Claims, error) {
	for _, req := range [...]int{cIss, cAud, cExp, cIat, cJti} {
		if rc.seen&req == 0 {
			return nil, tokenErr(ErrClaims, claimNames[req], "missing")
		}
	}
	if string(rc.iss) != v.issuer {
		return nil, tokenErr(ErrClaims, "iss", "unexpected issuer")
	}
	if !rc.audMatch {
		return nil, tokenErr(ErrClaims, "aud", "unexpected audience")
	}
	if len(rc.jti) < minJTILen || len(rc.jti) > maxJTILen {
		return nil, tokenErr(ErrClaims, "jti", "must be 16 to 256 bytes")
	}
	// Fractional dates were rounded the safe way (parseClaim): exp down,
	// iat and nbf up. The lifetime bound uses the unrounded values, so
	// rounding never lets a token live longer than MaxLifetime.
	exp, iat := time.Unix(rc.exp, 0), time.Unix(rc.iat, 0)
	if !now.Before(exp.Add(v.leeway)) {
		return nil, tokenErr(ErrExpired, "exp", "expired")
	}
	if iat.After(now.Add(v.leeway)) {
		return nil, tokenErr(ErrNotYetValid, "iat", "issued in the future")
	}
	var nbf time.Time
	if rc.seen&cNbf != 0 {
		nbf = time.Unix(rc.nbf, 0)
		if nbf.After(now.Add(v.leeway)) {
			return nil, tokenErr(ErrNotYetValid, "nbf", "not yet valid")
		}
	}
	if !exp.After(iat) {
		return nil, tokenErr(ErrClaims, "exp", "not after iat")
	}
	if d := rc.exp - rc.iatSec; d > int64(v.maxLifetime/time.Second)+1 ||
		time.Duration(d)*time.Second+time.Duration(rc.expNs-rc.iatNs) > v.maxLifetime {
		return nil, tokenErr(ErrClaims, "exp", "lifetime above maximum")
	}
	hasSid := rc.seen&cSid != 0
	switch {
	case wantSid && !hasSid:
		return nil, tokenErr(ErrClaims, "sid", "missing")
	case wantSid && string(rc.sid) != sid:
		return nil, tokenErr(ErrClaims, "sid", "unexpected session")
	case !wantSid && hasSid:
		return nil, tokenErr(ErrClaims, "sid", "token is bound to a session; use VerifySession")
	}
	var misplaced []string
	if rc.seen&cCsd == 0 && len(rc.others) > 0 {
		if v.misplaced {
			return nil, tokenErr(ErrClaims, "customer_secret_data",
				"missing, and the token carries other top-level claims: customer data belongs inside customer_secret_data")
		}
		misplaced = rc.others
	}
	c := &Claims{
		Issuer: v.issuer, Audience: v.audience, IssuedAt: iat, ExpiresAt: exp, NotBefore: nbf,
		ID: string(rc.jti), SessionID: sid, SecretData: rc.secret, MisplacedClaims: misplaced,
	}
	if rc.seen&cSub != 0 {
		c.Subject = string(rc.sub)
	}
	return c, nil
}

// decrypt unwraps a JWE (dir + A256GCM) and returns the inner JWS.
func (v *Verifier) decrypt(token string) (string, error) {
	var seg [5]string
	if !splitCompact(token, seg[:]) {
		return "", tokenErr(ErrMalformed, "token", "not a compact jwe")
	}
	if seg[1] != "" {
		return "", tokenErr(ErrMalformed, "encrypted_key", "must be empty for dir")
	}
	buf := make([]byte, len(token))
	hdr, rest, err := decodeSegment(seg[0], buf, "header")
	if err != nil {
		return "", err
	}
	h, err := parseHeader(hdr, true)
	if err != nil {
		return "", err
	}
	if string(h.alg) != "dir" || string(h.enc) != "A256GCM" || string(h.cty) != "JWT" {
		return "", tokenErr(ErrMalformed, "header", "jwe must be dir, A256GCM, cty JWT")
	}
	key := v.decOnly
	if h.hasKid {
		key = v.dec[string(h.kid)]
	}
	if key.isZero() {
		return "", tokenErr(ErrUnknownKey, "kid", "no such decryption key")
	}
	iv, rest, err := decodeSegment(seg[2], rest, "iv")
	if err != nil || len(iv) != gcmNonceSize {
		return "", tokenErr(ErrMalformed, "iv", "invalid")
	}
	ct, rest, err := decodeSegment(seg[3], rest, "ciphertext")
	if err != nil {
		return "", err
	}
	// The tag is decoded right after the ciphertext, so ct||tag — what
	// cipher.AEAD.Open wants — is contiguous in buf.
	tag, _, err := decodeSegment(seg[4], rest, "tag")
	if err != nil || len(tag) != gcmTagSize {
		return "", tokenErr(ErrMalformed, "tag", "invalid")
	}
	sealed := ct[:len(ct)+gcmTagSize]
	plain, err := key.m.aead.Open(sealed[:0], iv, sealed, []byte(seg[0]))
	if err != nil {
		return "", tokenErr(ErrSignature, "", "decryption failed")
	}
	return string(plain), nil
}
