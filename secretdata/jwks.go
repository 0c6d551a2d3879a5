package secretdata

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/msgsec/msgsec/cfgerr"
)

const maxJWKSBytes = 1 << 20

// ParseJWKS reads the public signature keys of a JWKS document (RFC 7517),
// using jwx to decode the JWKs, and returns them with the entries it
// skipped, each named by index and kid (Field "keys[i]", Value the kid)
// with the reason.
//
// Each key is bound to its alg member. Without alg, a P-256 key is bound
// to ES256, an Ed25519 key to EdDSA (which accepts Ed25519 tokens too, as
// every Ed25519 key does), and an RSA key to RS256 and PS256 both: the
// token's alg picks one of the two. That is no algorithm confusion — both
// are RSA signatures by the holder of the private key, neither can be
// forged from the other, and the header still cannot choose HMAC, "none"
// or another key type — only a choice of padding the bank's library made.
//
// A key needs a kid unless it is the only usable key of the document: it
// then gets its RFC 7638 thumbprint as ID, and is selected only by tokens
// without kid (a token with a kid must name a key that has it).
//
// Skipped, with the reason: keys meant for encryption (use "enc", or
// key_ops without "verify"), of other types or curves (Ed448, P-384, …),
// weak keys (RSA under 2048 bits, small-order Ed25519), unsupported
// algorithms, and keys without kid in a document with several keys. A
// document holding private or symmetric key material is refused outright,
// as is one with a duplicate kid or no usable key; the error (ErrConfig)
// then lists every problem and every skipped key.
func ParseJWKS(data []byte) (keys []Key, skipped []*cfgerr.Error, err error) {
	if len(data) > maxJWKSBytes {
		return nil, nil, jwksErr(problem("", "", "document larger than 1 MiB"))
	}
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, nil, jwksErr(problem("", "", "not a jwk set"))
	}
	return keysFromSet(set)
}

func jwksErr(problems ...*cfgerr.Error) error {
	return cfgerr.Join("secretdata: invalid jwks", problems)
}

func keysFromSet(set jwk.Set) ([]Key, []*cfgerr.Error, error) {
	var keys []Key
	var problems, skipped []*cfgerr.Error
	var noKid []int // indexes into keys of keys without kid
	noKidField := map[int]string{}
	seen := make(map[string]bool)
	for i := 0; i < set.Len(); i++ {
		jk, _ := set.Key(i)
		field := "keys[" + strconv.Itoa(i) + "]"
		kid := jk.KeyID()
		k, reason, secret := keyFromJWK(jk)
		switch {
		case secret:
			problems = append(problems, problem(field, cfgerr.Redacted, "private or symmetric key material"))
		case reason != "":
			skipped = append(skipped, problem(field, kid, reason))
		case kid == "":
			noKidField[len(keys)] = field
			noKid = append(noKid, len(keys))
			keys = append(keys, k)
		case seen[kid]:
			problems = append(problems, problem(field, kid, "duplicate kid"))
		default:
			seen[kid] = true
			keys = append(keys, k)
		}
	}
	if len(noKid) > 0 && len(keys) > 1 {
		// A key without kid can only be chosen by being the only one.
		drop := make(map[int]bool, len(noKid))
		for _, j := range noKid {
			drop[j] = true
			skipped = append(skipped, problem(noKidField[j], "", "no kid, and the set has several keys: no token can name it"))
		}
		kept := keys[:0]
		for j, k := range keys {
			if !drop[j] {
				kept = append(kept, k)
			}
		}
		keys = kept
	}
	sortProblems(skipped)
	if len(problems) == 0 && len(keys) == 0 {
		problems = append(problems, problem("keys", "", "no usable signature key"))
	}
	if len(problems) > 0 {
		return nil, skipped, jwksErr(append(skipped, problems...)...)
	}
	return keys, skipped, nil
}

// sortProblems orders skipped keys by their index in the document.
func sortProblems(ps []*cfgerr.Error) {
	index := func(p *cfgerr.Error) int {
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p.Field, "keys["), "]"))
		return n
	}
	slices.SortStableFunc(ps, func(a, b *cfgerr.Error) int { return index(a) - index(b) })
}

// keyFromJWK converts one JWK. reason says why it is skipped ("" when it
// is not); secret is true for private or symmetric key material.
func keyFromJWK(jk jwk.Key) (k Key, reason string, secret bool) {
	var raw any
	if err := jk.Raw(&raw); err != nil {
		return Key{}, "unsupported key type or curve (" + clip(jk.KeyType().String()) + ")", false
	}
	alg := Algorithm(jk.Algorithm().String())
	anyRSA := false
	var pub crypto.PublicKey
	switch r := raw.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey, []byte:
		return Key{}, "", true
	case *rsa.PublicKey:
		pub = r
		if alg == "" { // RS256 and PS256 both fit: accept both (see ParseJWKS)
			alg, anyRSA = RS256, true
		}
	case *ecdsa.PublicKey:
		pub = r
		if alg == "" {
			alg = ES256
		}
	case ed25519.PublicKey:
		pub = r
		if alg == "" {
			alg = EdDSA
		}
	default:
		return Key{}, "unsupported key type or curve", false
	}
	if u := jk.KeyUsage(); u != "" && u != "sig" {
		return Key{}, "use " + strconv.Quote(clip(u)) + ": not a signature key", false
	}
	if ops := jk.KeyOps(); len(ops) > 0 && !slices.Contains(ops, jwk.KeyOpVerify) {
		return Key{}, "key_ops without \"verify\": not a verification key", false
	}
	id, noKid := jk.KeyID(), false
	if id == "" {
		tp, err := jk.Thumbprint(crypto.SHA256)
		if err != nil {
			return Key{}, "no kid, and no thumbprint to name it by", false
		}
		id, noKid = base64.RawURLEncoding.EncodeToString(tp), true
	}
	k, err := NewPublicKey(id, alg, pub)
	if err != nil {
		for p := range cfgerr.All(err) {
			return Key{}, p.Reason, false
		}
		return Key{}, "refused", false
	}
	k.m.anyRSA, k.m.noKid = anyRSA, noKid
	return k, "", false
}

// RemoteKeySetConfig configures NewRemoteKeySet.
type RemoteKeySetConfig struct {
	URL string // https JWKS URL; required
	// Client fetches the document. Default: a client with a 10s timeout.
	// Responses are capped at 1 MiB either way.
	Client *http.Client
	// RefreshInterval is how often the set is fetched again. Zero means 15
	// minutes; at least 1s. An unknown kid triggers an early refresh at
	// most once a minute (or once per RefreshInterval, if shorter), so
	// forged kids cannot hammer the JWKS server.
	RefreshInterval time.Duration
	// DangerouslyAllowHTTP permits a plain-http URL (tests, local demos).
	DangerouslyAllowHTTP bool
	// Logf, when set, hears after every fetch about each key the set
	// skipped (its index, kid and why; see ParseJWKS) — never key
	// material. A policy Registry passes its own RegistryOptions.Logf.
	Logf func(format string, args ...any)
}

// RemoteKeySet is a JWKS fetched from a URL and kept fresh by a jwx
// jwk.Cache, for VerifierConfig.KeySet. Lookups never wait on the network:
// an unknown kid triggers an early refresh in the background (at most once
// a minute) and is refused for now. The last good set is kept
// when a refresh fails.
type RemoteKeySet struct {
	url         string
	cache       *jwk.Cache
	minInterval time.Duration
	compiled    atomic.Pointer[compiledSet]
	lastKick    atomic.Int64 // unix nanoseconds of the last kid-triggered refresh
	closed      atomic.Bool
	ctx         context.Context
	stop        context.CancelFunc
	logf        func(format string, args ...any)
}

type compiledSet struct {
	set  jwk.Set
	keys map[string]*verifyKey // by kid
	lone *verifyKey            // the set's only key when it has no kid
	n    int                   // how many keys
}

// NewRemoteKeySet fetches the set once (failing if that fails) and keeps it
// refreshed until ctx is cancelled or Close is called. Every problem of
// cfg is reported at once (see ErrConfig); a first fetch that fails, or
// yields no usable key, is reported as a problem of URL.
func NewRemoteKeySet(ctx context.Context, cfg RemoteKeySetConfig) (*RemoteKeySet, error) {
	return newRemoteKeySet(ctx, cfg, time.Minute)
}

// newRemoteKeySet is NewRemoteKeySet with the early-refresh bound (tests
// shorten it).
func newRemoteKeySet(ctx context.Context, cfg RemoteKeySetConfig, minInterval time.Duration) (*RemoteKeySet, error) {
	const prefix = "secretdata: invalid key set configuration"
	var problems []*cfgerr.Error
	if !strings.HasPrefix(cfg.URL, "https://") && !(cfg.DangerouslyAllowHTTP && strings.HasPrefix(cfg.URL, "http://")) {
		problems = append(problems, problem("URL", cfg.URL, "must be https (http only with DangerouslyAllowHTTP)"))
	}
	interval := cmp.Or(cfg.RefreshInterval, 15*time.Minute)
	if interval < time.Second {
		problems = append(problems, problem("RefreshInterval", cfg.RefreshInterval.String(), "must be at least 1s (zero means 15m)"))
	}
	if err := cfgerr.Join(prefix, problems); err != nil {
		return nil, err
	}
	minInterval = min(minInterval, interval)
	client := &http.Client{Timeout: 10 * time.Second}
	if cfg.Client != nil {
		c := *cfg.Client
		client = &c
	}
	ctx, stop := context.WithCancel(ctx)
	s := &RemoteKeySet{url: cfg.URL, cache: jwk.NewCache(ctx), minInterval: minInterval, ctx: ctx, stop: stop, logf: cfg.Logf}
	err := s.cache.Register(cfg.URL, jwk.WithHTTPClient(fetchClient{client}),
		jwk.WithRefreshInterval(interval), jwk.WithMinRefreshInterval(minInterval),
		jwk.WithPostFetcher(jwk.PostFetchFunc(s.fetched)))
	if err != nil {
		stop()
		return nil, cfgerr.Join(prefix, []*cfgerr.Error{problem("URL", cfg.URL, "not a url jwx can fetch")})
	}
	if _, err := s.refresh(ctx); err != nil {
		stop()
		var problems []*cfgerr.Error
		for p := range cfgerr.All(err) {
			reason := "first fetch: " + p.Reason
			if p.Field != "" {
				reason = "first fetch: " + skippedText(p)
			}
			problems = append(problems, problem("URL", cfg.URL, reason))
		}
		if len(problems) == 0 {
			problems = append(problems, problem("URL", cfg.URL, "first fetch failed"))
		}
		return nil, cfgerr.Join(prefix, problems)
	}
	return s, nil
}

// skippedText names a skipped (or refused) JWKS entry and why:
// `keys[2] (kid "k1"): use "enc": not a signature key`.
func skippedText(p *cfgerr.Error) string {
	s := p.Field
	switch {
	case p.Value == cfgerr.Redacted:
	case p.Value != "":
		s += " (kid " + strconv.Quote(p.Value) + ")"
	case strings.HasPrefix(p.Field, "keys["):
		s += " (no kid)"
	}
	return s + ": " + p.Reason
}

// fetched runs after every fetch of the set, by jwk.Cache: it compiles the
// new set and reports what it skipped. It never fails the fetch: a set
// without usable keys compiles to no keys (fail closed).
func (s *RemoteKeySet) fetched(_ string, set jwk.Set) (jwk.Set, error) {
	keys, skipped, _ := keysFromSet(set)
	s.compiled.Store(compileSet(set, keys))
	if s.logf != nil {
		for _, p := range skipped {
			s.logf("secretdata: jwks %s: skipped %s", s.url, skippedText(p))
		}
		if len(keys) == 0 {
			s.logf("secretdata: jwks %s: no usable signature key: every token needing one is refused", s.url)
		}
	}
	return set, nil
}

// refresh fetches the set now and returns its keys.
func (s *RemoteKeySet) refresh(ctx context.Context) ([]Key, error) {
	if s.closed.Load() {
		return nil, jwksErr(problem("", "", "key set closed"))
	}
	// Close stops jwk.Cache's fetchers; a fetch must not then wait for
	// them forever.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()
	set, err := s.cache.Refresh(ctx, s.url)
	if err != nil {
		return nil, jwksErr(problem("", "", "fetch failed"))
	}
	keys, _, err := keysFromSet(set)
	if err != nil {
		return nil, err
	}
	s.compiled.Store(compileSet(set, keys))
	return keys, nil
}

// Close stops the background refresh. From then on the set yields no
// keys: a verifier still holding it refuses every token that needs one
// (fail closed) rather than trust keys nobody refreshes any more. Close is
// idempotent.
func (s *RemoteKeySet) Close() {
	s.closed.Store(true)
	s.stop()
}

func compileSet(set jwk.Set, keys []Key) *compiledSet {
	cs := &compiledSet{set: set, keys: make(map[string]*verifyKey, len(keys)), n: len(keys)}
	for _, k := range keys {
		if k.m.noKid {
			cs.lone = compileKey(k) // keysFromSet keeps one only if it is alone
			continue
		}
		cs.keys[k.ID()] = compileKey(k)
	}
	return cs
}

// current returns the compiled view of the cache's set, recompiling when
// jwk.Cache has swapped in a new set. A set that no longer converts (say it
// now holds private keys) yields no keys: fail closed.
func (s *RemoteKeySet) current() *compiledSet {
	set, err := s.cache.Get(s.ctx, s.url)
	cur := s.compiled.Load()
	if err != nil || (cur != nil && cur.set == set) {
		return cur
	}
	keys, _, err := keysFromSet(set)
	if err != nil {
		keys = nil
	}
	next := compileSet(set, keys)
	s.compiled.Store(next)
	return next
}

// lone returns how many keys the set holds and, when it holds exactly
// one, that key (for a token without kid).
func (s *RemoteKeySet) lone() (*verifyKey, int) {
	if s.closed.Load() {
		return nil, 0
	}
	cs := s.current()
	if cs == nil {
		return nil, 0
	}
	if cs.n != 1 {
		return nil, cs.n
	}
	if cs.lone != nil {
		return cs.lone, 1
	}
	for _, vk := range cs.keys {
		return vk, 1
	}
	return nil, 0
}

// lookup returns the compiled key for kid, or nil (and asks for an early,
// rate-limited refresh in the background).
func (s *RemoteKeySet) lookup(kid string) *verifyKey {
	if s.closed.Load() {
		return nil
	}
	if cs := s.current(); cs != nil {
		if vk, ok := cs.keys[kid]; ok {
			return vk
		}
	}
	now := time.Now().UnixNano()
	last := s.lastKick.Load()
	if now-last >= int64(s.minInterval) && s.lastKick.CompareAndSwap(last, now) {
		go func() { _, _ = s.refresh(s.ctx) }()
	}
	return nil
}

// fetchClient hands jwx each JWKS response read (capped at maxJWKSBytes)
// and closed: jwx never closes response bodies, which would keep a
// connection busy after every non-200 answer (forever without a client
// timeout) and a timer goroutine per fetch (until the timeout).
type fetchClient struct{ c *http.Client }

func (f fetchClient) Get(url string) (*http.Response, error) {
	resp, err := f.c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSBytes {
		return nil, errors.New("jwks: document too large")
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
