package secretdata

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/msgsec/msgsec/cfgerr"
)

const maxJWKSBytes = 1 << 20

// ParseJWKS reads the public signature keys of a JWKS document (RFC 7517),
// using jwx to decode the JWKs. Each key needs a kid and is bound to its alg
// member, or — when alg is absent — to ES256 for P-256 and EdDSA for
// Ed25519 (an RSA key without alg is ambiguous and skipped). Keys meant for
// encryption (use "enc"), of other types or curves, or with unsupported
// algorithms are skipped. A document holding private or symmetric key
// material is refused outright, as is one that yields no usable key; every
// refused entry is reported (ErrConfig, Field "keys[i]").
func ParseJWKS(data []byte) ([]Key, error) {
	if len(data) > maxJWKSBytes {
		return nil, jwksErr(problem("", "", "document larger than 1 MiB"))
	}
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, jwksErr(problem("", "", "not a jwk set"))
	}
	return keysFromSet(set)
}

func jwksErr(problems ...*cfgerr.Error) error {
	return cfgerr.Join("secretdata: invalid jwks", problems)
}

func keysFromSet(set jwk.Set) ([]Key, error) {
	var keys []Key
	var problems []*cfgerr.Error
	seen := make(map[string]bool)
	for i := 0; i < set.Len(); i++ {
		jk, _ := set.Key(i)
		field := "keys[" + strconv.Itoa(i) + "]"
		k, ok, secret := keyFromJWK(jk)
		switch {
		case secret:
			problems = append(problems, problem(field, cfgerr.Redacted, "private or symmetric key material"))
		case !ok:
		case seen[k.ID()]:
			problems = append(problems, problem(field, k.ID(), "duplicate kid"))
		default:
			seen[k.ID()] = true
			keys = append(keys, k)
		}
	}
	if len(problems) == 0 && len(keys) == 0 {
		problems = append(problems, problem("keys", "", "no usable signature key"))
	}
	if len(problems) > 0 {
		return nil, jwksErr(problems...)
	}
	return keys, nil
}

// keyFromJWK converts one JWK; ok is false for keys we skip, secret true
// for private or symmetric key material.
func keyFromJWK(jk jwk.Key) (k Key, ok, secret bool) {
	var raw any
	if err := jk.Raw(&raw); err != nil {
		return Key{}, false, false
	}
	alg := Algorithm(jk.Algorithm().String())
	var pub crypto.PublicKey
	switch r := raw.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey, []byte:
		return Key{}, false, true
	case *rsa.PublicKey:
		pub = r // alg must be explicit: RS256 and PS256 both fit
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
		return Key{}, false, false
	}
	if u := jk.KeyUsage(); u != "" && u != "sig" {
		return Key{}, false, false
	}
	k, err := NewPublicKey(jk.KeyID(), alg, pub)
	return k, err == nil, false
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
}

type compiledSet struct {
	set  jwk.Set
	keys map[string]*verifyKey
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
	s := &RemoteKeySet{url: cfg.URL, cache: jwk.NewCache(ctx), minInterval: minInterval, ctx: ctx, stop: stop}
	err := s.cache.Register(cfg.URL, jwk.WithHTTPClient(fetchClient{client}),
		jwk.WithRefreshInterval(interval), jwk.WithMinRefreshInterval(minInterval))
	if err != nil {
		stop()
		return nil, cfgerr.Join(prefix, []*cfgerr.Error{problem("URL", cfg.URL, "not a url jwx can fetch")})
	}
	if _, err := s.refresh(ctx); err != nil {
		stop()
		reason := "first fetch failed"
		for p := range cfgerr.All(err) {
			reason = "first fetch: " + p.Reason
			break
		}
		return nil, cfgerr.Join(prefix, []*cfgerr.Error{problem("URL", cfg.URL, reason)})
	}
	return s, nil
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
	keys, err := keysFromSet(set)
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
	m := make(map[string]*verifyKey, len(keys))
	for _, k := range keys {
		m[k.ID()] = compileKey(k)
	}
	return &compiledSet{set: set, keys: m}
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
	keys, err := keysFromSet(set)
	if err != nil {
		keys = nil
	}
	next := compileSet(set, keys)
	s.compiled.Store(next)
	return next
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
