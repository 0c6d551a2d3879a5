package secretdata

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

const maxJWKSBytes = 1 << 20

// jwk holds the public members we read; everything else is ignored.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Crv string `json:"crv"`
	N   string `json:"n"`
	E   string `json:"e"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
	K   string `json:"k"`
}

// ParseJWKS reads the public signature keys of a JWKS document (RFC 7517).
// Each key needs a kid; it is bound to its alg member, or — when alg is
// absent — to ES256 for P-256 and EdDSA for Ed25519 (an RSA key without alg
// is ambiguous and skipped). Keys for encryption (use "enc"), of other types
// or curves, or with unsupported algorithms are skipped. A document with
// private or symmetric key material is refused outright, as is one that
// yields no usable key.
func ParseJWKS(data []byte) ([]Key, error) {
	if len(data) > maxJWKSBytes {
		return nil, keyErr("jwks", "document too large")
	}
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, keyErr("jwks", "invalid json")
	}
	var keys []Key
	seen := make(map[string]bool)
	for _, j := range doc.Keys {
		if j.D != "" || j.K != "" || j.Kty == "oct" {
			return nil, keyErr("jwks", "contains private or symmetric key material")
		}
		k, ok := j.publicKey()
		if !ok {
			continue
		}
		if seen[k.ID()] {
			return nil, keyErr("jwks", "duplicate kid")
		}
		seen[k.ID()] = true
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, keyErr("jwks", "no usable signature key")
	}
	return keys, nil
}

func (j jwk) publicKey() (Key, bool) {
	if j.Use != "" && j.Use != "sig" {
		return Key{}, false
	}
	var pub crypto.PublicKey
	alg := Algorithm(j.Alg)
	switch {
	case j.Kty == "RSA" && (alg == RS256 || alg == PS256):
		n, e := b64Int(j.N), b64Int(j.E)
		if n == nil || e == nil || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return Key{}, false
		}
		pub = &rsa.PublicKey{N: n, E: int(e.Int64())}
	case j.Kty == "EC" && j.Crv == "P-256" && (alg == "" || alg == ES256):
		x, y := b64Fixed(j.X, 32), b64Fixed(j.Y, 32)
		if x == nil || y == nil {
			return Key{}, false
		}
		// ecdsa.ParseUncompressedPublicKey checks the point is on the curve.
		k, err := ecdsa.ParseUncompressedPublicKey(elliptic256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return Key{}, false
		}
		pub, alg = k, ES256
	case j.Kty == "OKP" && j.Crv == "Ed25519" && (alg == "" || alg == EdDSA):
		x := b64Fixed(j.X, ed25519.PublicKeySize)
		if x == nil {
			return Key{}, false
		}
		pub, alg = ed25519.PublicKey(x), EdDSA
	default:
		return Key{}, false
	}
	k, err := NewPublicKey(j.Kid, alg, pub)
	return k, err == nil
}

func b64Fixed(s string, n int) []byte {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != n {
		return nil
	}
	return b
}

func b64Int(s string) *big.Int {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) == 0 || b[0] == 0 {
		return nil
	}
	return new(big.Int).SetBytes(b)
}

// RemoteKeySetConfig configures NewRemoteKeySet.
type RemoteKeySetConfig struct {
	URL string // https JWKS URL; required
	// Client fetches the document. Default: a client with a 10s timeout.
	Client *http.Client
	// RefreshInterval is how often the set is fetched again. Default 15 minutes.
	RefreshInterval time.Duration
	// MinRefreshInterval limits how soon an unknown kid may trigger an early
	// refresh (so forged kids cannot hammer the JWKS server). Default 1 minute.
	MinRefreshInterval time.Duration
	// DangerouslyAllowHTTP permits a plain-http URL (tests, local demos).
	DangerouslyAllowHTTP bool
}

// RemoteKeySet is a JWKS fetched from a URL and refreshed in the background,
// for VerifierConfig.KeySet. Lookups never block on the network: an unknown
// kid schedules an early refresh (rate-limited) and is refused for now. The
// last good set is kept when a refresh fails.
type RemoteKeySet struct {
	cfg     RemoteKeySetConfig
	keys    atomic.Pointer[map[string]*verifyKey]
	kick    chan struct{}
	lastErr atomic.Pointer[error]
	stop    context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

// NewRemoteKeySet fetches the set once (failing if that fails) and starts
// refreshing it until ctx is cancelled or Close is called.
func NewRemoteKeySet(ctx context.Context, cfg RemoteKeySetConfig) (*RemoteKeySet, error) {
	if len(cfg.URL) < 8 || (cfg.URL[:8] != "https://" && !(cfg.DangerouslyAllowHTTP && cfg.URL[:7] == "http://")) {
		return nil, configErr("URL", "must be https")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = 15 * time.Minute
	}
	if cfg.MinRefreshInterval == 0 {
		cfg.MinRefreshInterval = time.Minute
	}
	if cfg.RefreshInterval < time.Second || cfg.MinRefreshInterval <= 0 || cfg.MinRefreshInterval > cfg.RefreshInterval {
		return nil, configErr("RefreshInterval", "need 0 < MinRefreshInterval ≤ RefreshInterval, RefreshInterval ≥ 1s")
	}
	s := &RemoteKeySet{cfg: cfg, kick: make(chan struct{}, 1), done: make(chan struct{})}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	ctx, s.stop = context.WithCancel(ctx)
	go s.loop(ctx)
	return s, nil
}

// Refresh fetches the set now and swaps it in if it parses.
func (s *RemoteKeySet) Refresh(ctx context.Context) error {
	keys, err := s.fetch(ctx)
	if err != nil {
		s.lastErr.Store(&err)
		return err
	}
	m := make(map[string]*verifyKey, len(keys))
	for _, k := range keys {
		m[k.ID()] = compileKey(k)
	}
	s.keys.Store(&m)
	s.lastErr.Store(nil)
	return nil
}

// LastError returns the error of the last refresh, or nil if it succeeded.
func (s *RemoteKeySet) LastError() error {
	if p := s.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Close stops the background refresh.
func (s *RemoteKeySet) Close() {
	s.once.Do(func() { s.stop(); <-s.done })
}

func (s *RemoteKeySet) fetch(ctx context.Context) ([]Key, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.URL, nil)
	if err != nil {
		return nil, keyErr("jwks", "bad request")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return nil, keyErr("jwks", "fetch failed")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, keyErr("jwks", "fetch returned a non-200 status")
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, keyErr("jwks", "read failed")
	}
	return ParseJWKS(body)
}

func (s *RemoteKeySet) loop(ctx context.Context) {
	defer close(s.done)
	tick := time.NewTicker(s.cfg.RefreshInterval)
	defer tick.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.kick:
			if time.Since(last) < s.cfg.MinRefreshInterval {
				continue
			}
		}
		last = time.Now()
		_ = s.Refresh(ctx) // the error is kept for LastError; the old set stays
	}
}

// lookup returns the compiled key for kid, or nil (and asks for a refresh).
func (s *RemoteKeySet) lookup(kid string) *verifyKey {
	if m := s.keys.Load(); m != nil {
		if vk, ok := (*m)[kid]; ok {
			return vk
		}
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}
