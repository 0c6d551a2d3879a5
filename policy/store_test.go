package policy_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

var (
	storeKey    = bytes.Repeat([]byte{7}, 32)
	storeSecret = []byte("store-hmac-secret-0123456789-abcdef-XYZ")
)

func newStore(t *testing.T, b policy.Backend) *policy.Store {
	t.Helper()
	s, err := policy.NewStore(b, policy.StoreOptions{SealingKey: storeKey})
	require.NoError(t, err)
	return s
}

func storedConn(id string, domains ...string) *policy.ConnectionPolicy {
	return &policy.ConnectionPolicy{
		ID:             id,
		AllowedDomains: domains,
		AllowedCookies: []string{"page_viewed"},
		Keys:           []policy.KeyConfig{{ID: "k1", Secret: policy.SecretBytes(storeSecret)}},
		Token:          policy.TokenRules{Issuer: "https://backend.example", MaxLifetime: 10 * time.Minute},
	}
}

func signFor(t *testing.T, conn string, secret []byte) string {
	t.Helper()
	k, err := secretdata.NewHMACKey("k1", secretdata.HS256, secret)
	require.NoError(t, err)
	s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: k, Issuer: "https://backend.example", Audience: conn})
	require.NoError(t, err)
	tok, err := s.Sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-1"}})
	require.NoError(t, err)
	return tok
}

func TestStoreRoundTripKeepsSecretsSealed(t *testing.T) {
	ctx := context.Background()
	b := policy.NewMemoryBackend()
	s := newStore(t, b)
	v, err := s.Put(ctx, storedConn("retail-bank", "https://www.uplusbank.com"), 0)
	require.NoError(t, err)
	require.NotZero(t, v)

	// The raw document holds no form of the secret.
	recs, err := b.List(ctx)
	require.NoError(t, err)
	doc := recs["retail-bank"].Doc
	for _, form := range []string{string(storeSecret), base64.RawURLEncoding.EncodeToString(storeSecret), base64.StdEncoding.EncodeToString(storeSecret), hex.EncodeToString(storeSecret)} {
		require.NotContains(t, string(doc), form)
	}
	require.Contains(t, string(doc), "sealed: v1.")
	require.Contains(t, string(doc), "https://www.uplusbank.com")

	// Read back, it compiles and verifies a token signed with the secret.
	got, gv, err := s.Get(ctx, "retail-bank")
	require.NoError(t, err)
	require.Equal(t, v, gv)
	require.Equal(t, 10*time.Minute, got.Token.MaxLifetime)
	c, err := got.Compile(ctx, policy.CompileOptions{})
	require.NoError(t, err)
	_, err = c.Verifier().Verify(ctx, signFor(t, "retail-bank", storeSecret))
	require.NoError(t, err)
	_, err = c.Verifier().Verify(ctx, signFor(t, "retail-bank", []byte("another-secret-of-enough-length-0123456")))
	require.Error(t, err)

	// A rewrite of what was read keeps the secret (sealed afresh).
	v2, err := s.Put(ctx, got, gv)
	require.NoError(t, err)
	require.Greater(t, v2, v)
	recs, _ = b.List(ctx)
	require.NotEqual(t, string(doc), string(recs["retail-bank"].Doc), "a fresh nonce each write")
	f, err := s.Load(ctx)
	require.NoError(t, err)
	require.Len(t, f.Connections, 1)
}

func TestStoreEnvReferencesStayReferences(t *testing.T) {
	ctx := context.Background()
	b := policy.NewMemoryBackend()
	env := map[string]string{"RB_SECRET": string(storeSecret)}
	s, err := policy.NewStore(b, policy.StoreOptions{SealingKey: storeKey, Load: policy.LoadOptions{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}})
	require.NoError(t, err)
	c := storedConn("retail-bank", "https://www.uplusbank.com")
	c.Keys[0].Secret = &policy.SecretRef{Env: "RB_SECRET"}
	_, err = s.Put(ctx, c, 0)
	require.NoError(t, err)
	recs, _ := b.List(ctx)
	require.Contains(t, string(recs["retail-bank"].Doc), "env: RB_SECRET")
	require.NotContains(t, string(recs["retail-bank"].Doc), "sealed")
	require.NotContains(t, string(recs["retail-bank"].Doc), string(storeSecret))

	delete(env, "RB_SECRET") // an instance without the variable refuses the policy
	_, err = s.Load(ctx)
	testenv.RequireProblems(t, err, policy.ErrSecret, []string{"connections[0].keys[0].secret.env"})
}

func TestStoreCompareAndSet(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, policy.NewMemoryBackend())
	v, err := s.Put(ctx, storedConn("retail-bank", "https://www.uplusbank.com"), 0)
	require.NoError(t, err)

	_, err = s.Put(ctx, storedConn("retail-bank", "https://other.example"), 0)
	var ce *policy.ConflictError
	require.ErrorAs(t, err, &ce, "creating what exists is a conflict")
	require.Equal(t, policy.ConflictError{ID: "retail-bank", Want: 0, Have: v}, *ce)

	// Two concurrent writes from the same version: exactly one wins.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Put(ctx, storedConn("retail-bank", fmt.Sprintf("https://w%d.example", i)), v)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else {
			require.ErrorIs(t, err, policy.ErrConflict)
		}
	}
	require.Equal(t, 1, won)

	require.ErrorIs(t, s.Delete(ctx, "retail-bank", v), policy.ErrConflict, "a delete from a stale version")
	_, cur, err := s.Get(ctx, "retail-bank")
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, "retail-bank", cur))
	_, _, err = s.Get(ctx, "retail-bank")
	require.ErrorIs(t, err, policy.ErrUnknownConnection)
	_, err = s.Put(ctx, storedConn("retail-bank", "https://www.uplusbank.com"), 0)
	require.NoError(t, err, "re-created after a delete")
}

func TestStoreRefusesInvalidWrites(t *testing.T) {
	ctx := context.Background()
	b := policy.NewMemoryBackend()
	s := newStore(t, b)
	v, err := s.Put(ctx, storedConn("retail-bank", "https://www.uplusbank.com"), 0)
	require.NoError(t, err)
	before, _ := b.List(ctx)

	bad := storedConn("retail-bank", "https://*.com", "null")
	bad.AllowedCookies = append(bad.AllowedCookies, "session_id")
	_, err = s.Put(ctx, bad, v)
	ps := testenv.RequireProblems(t, err, policy.ErrInvalid, []string{
		"connections[0].allowed_domains[0]", "connections[0].allowed_domains[1]", "connections[0].allowed_cookies[1]",
	}, string(storeSecret))
	require.Equal(t, "store:retail-bank", ps[0].File)

	short := storedConn("retail-bank", "https://www.uplusbank.com")
	short.Keys[0].Secret = policy.SecretBytes([]byte("tiny-s3cr"))
	_, err = s.Put(ctx, short, v)
	testenv.RequireProblems(t, err, policy.ErrInvalid, []string{"connections[0].keys[0].secret"}, "tiny-s3cr")

	after, _ := b.List(ctx)
	require.Equal(t, before, after, "an invalid write changes nothing")
}

func TestStoreSealedSecretsAreBound(t *testing.T) {
	ctx := context.Background()
	b := policy.NewMemoryBackend()
	s := newStore(t, b)
	_, err := s.Put(ctx, storedConn("retail-bank", "https://www.uplusbank.com"), 0)
	require.NoError(t, err)
	recs, _ := b.List(ctx)
	doc := recs["retail-bank"].Doc

	// The same document under another connection's ID is refused: its MAC
	// names retail-bank.
	moved := bytes.Replace(doc, []byte("id: retail-bank"), []byte("id: evil-corp"), 1)
	_, err = b.Swap(ctx, "evil-corp", 0, moved)
	require.NoError(t, err)
	_, err = s.Load(ctx)
	require.ErrorIs(t, err, policy.ErrInvalid)
	require.Contains(t, err.Error(), "not authenticated")
	_, _, err = s.Get(ctx, "evil-corp")
	require.ErrorIs(t, err, policy.ErrInvalid)
	require.NoError(t, b2Delete(ctx, b, "evil-corp"))

	// Behind the MAC, the seal is bound too: a sealed value pasted into a
	// file (as `msgsec policy pull` prints them) opens only for its own
	// connection and key.
	_, body, _ := bytes.Cut(doc, []byte("\n"))
	_, err = s.Parse(body, policy.LoadOptions{})
	require.NoError(t, err, "the pulled form opens in place")
	for name, edited := range map[string][]byte{
		"another connection": bytes.Replace(body, []byte("id: retail-bank"), []byte("id: evil-corp"), 1),
		"another kid":        bytes.Replace(body, []byte("id: k1"), []byte("id: k2"), 1),
	} {
		require.NotEqual(t, body, edited, name)
		_, err = s.Parse(edited, policy.LoadOptions{})
		testenv.RequireProblems(t, err, policy.ErrSecret, []string{"connections[0].keys[0].secret.sealed"})
	}

	// Nor with another sealing key, stored or pulled.
	b3 := policy.NewMemoryBackend()
	_, err = b3.Swap(ctx, "retail-bank", 0, doc)
	require.NoError(t, err)
	other, err := policy.NewStore(b3, policy.StoreOptions{SealingKey: bytes.Repeat([]byte{8}, 32)})
	require.NoError(t, err)
	_, err = other.Load(ctx)
	require.ErrorIs(t, err, policy.ErrInvalid)
	_, err = other.Parse(body, policy.LoadOptions{})
	require.ErrorIs(t, err, policy.ErrSecret)
	require.NotContains(t, err.Error(), "v1.", "the sealed value is not quoted")
}

func b2Delete(ctx context.Context, b *policy.MemoryBackend, id string) error {
	recs, _ := b.List(ctx)
	_, err := b.Swap(ctx, id, recs[id].Version, nil)
	return err
}

func TestStoreRefusesHandWrittenDocuments(t *testing.T) {
	ctx := context.Background()
	b := policy.NewMemoryBackend()
	s := newStore(t, b)
	for name, doc := range map[string]string{
		"not yaml":      "connections: [",
		"unknown field": "connections:\n- id: a\n  allowed_domainz: [https://a.example]\n",
		"other id":      "connections:\n- id: b\n  allowed_domains: [https://a.example]\n",
		"two":           "connections:\n- id: a\n  allowed_domains: [https://a.example]\n- id: c\n  allowed_domains: [https://a.example]\n",
	} {
		t.Run(name, func(t *testing.T) {
			recs, _ := b.List(ctx)
			_, err := b.Swap(ctx, "a", recs["a"].Version, []byte(doc))
			require.NoError(t, err)
			_, err = s.Load(ctx)
			require.ErrorIs(t, err, policy.ErrInvalid)
		})
	}
}

func TestPolicyFileRefusesSealedSecrets(t *testing.T) {
	_, err := policy.Parse([]byte("connections:\n- id: a\n  allowed_domains: [https://a.example]\n  token: {issuer: https://b.example}\n  keys:\n  - id: k1\n    secret: {sealed: v1.AAAA}\n"), policy.LoadOptions{})
	ps := testenv.RequireProblems(t, err, policy.ErrSecret, []string{"connections[0].keys[0].secret.sealed"})
	require.Contains(t, ps[0].Reason, "policy store")
}

func TestNewStoreReportsEveryProblem(t *testing.T) {
	_, err := policy.NewStore(nil, policy.StoreOptions{})
	testenv.RequireProblems(t, err, policy.ErrInvalid, []string{"backend", "sealing_key"})
	for _, k := range [][]byte{make([]byte, 16), make([]byte, 32)} {
		_, err = policy.NewStore(policy.NewMemoryBackend(), policy.StoreOptions{SealingKey: k})
		ps := testenv.RequireProblems(t, err, policy.ErrInvalid, []string{"sealing_key"})
		require.Equal(t, cfgerr.Redacted, ps[0].Value)
	}
}

// failingBackend answers like a Redis that is down, when down is set.
type failingBackend struct {
	*policy.MemoryBackend
	mu   sync.Mutex
	down bool
}

var errDown = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (f *failingBackend) setDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }
func (f *failingBackend) isDown() bool   { f.mu.Lock(); defer f.mu.Unlock(); return f.down }
func (f *failingBackend) List(ctx context.Context) (map[string]policy.Record, error) {
	if f.isDown() {
		return nil, errDown
	}
	return f.MemoryBackend.List(ctx)
}
func (f *failingBackend) Swap(ctx context.Context, id string, v uint64, doc []byte) (uint64, error) {
	if f.isDown() {
		return 0, errDown
	}
	return f.MemoryBackend.Swap(ctx, id, v, doc)
}

func allows(r *policy.Registry, conn, o string) bool {
	c, ok := r.Get(conn)
	return ok && c.Origins().Allows(o)
}

func TestRegistryFollowsStore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fb := &failingBackend{MemoryBackend: policy.NewMemoryBackend()}
	s := newStore(t, fb)
	v, err := s.Put(ctx, storedConn("retail-bank", "https://www.uplusbank.com"), 0)
	require.NoError(t, err)

	var logMu sync.Mutex
	var logs []string
	reloads := 0
	r, err := policy.NewRegistryFromSource(ctx, s, policy.RegistryOptions{
		Logf: func(f string, a ...any) {
			logMu.Lock()
			logs = append(logs, fmt.Sprintf(f, a...))
			logMu.Unlock()
		},
		OnReload: func(*policy.Snapshot, error) { reloads++ },
	})
	require.NoError(t, err)
	defer r.Close()
	r.Follow(ctx, time.Hour) // changes arrive by Watch, not the timer
	require.True(t, allows(r, "retail-bank", "https://www.uplusbank.com"))
	require.False(t, allows(r, "retail-bank", "https://new.example"))

	c, v, err := s.Get(ctx, "retail-bank")
	require.NoError(t, err)
	c.AllowedDomains = append(c.AllowedDomains, "https://new.example")
	v, err = s.Put(ctx, c, v)
	require.NoError(t, err)
	testenv.Eventually(t, 5*time.Second, "the registry follows an added domain", func() error {
		if !allows(r, "retail-bank", "https://new.example") {
			return errors.New("not yet")
		}
		return nil
	})
	c2, ok := r.Get("retail-bank")
	require.True(t, ok)
	_, err = c2.Verifier().Verify(ctx, signFor(t, "retail-bank", storeSecret))
	require.NoError(t, err, "the sealed secret reached the registry")

	// The store goes down: writes fail as unavailable, the policy stays.
	fb.setDown(true)
	_, err = s.Put(ctx, storedConn("retail-bank", "https://www.uplusbank.com"), v)
	require.ErrorIs(t, err, policy.ErrUnavailable)
	require.ErrorIs(t, r.Reload(ctx), policy.ErrUnavailable)
	require.True(t, allows(r, "retail-bank", "https://new.example"), "the last good policy stays")
	fb.setDown(false)

	// A removal reaches it; so does a delete.
	c.AllowedDomains = []string{"https://www.uplusbank.com"}
	v, err = s.Put(ctx, c, v)
	require.NoError(t, err)
	testenv.Eventually(t, 5*time.Second, "the registry follows a removed domain", func() error {
		if allows(r, "retail-bank", "https://new.example") {
			return errors.New("still allowed")
		}
		return nil
	})
	require.NoError(t, s.Delete(ctx, "retail-bank", v))
	testenv.Eventually(t, 5*time.Second, "the registry follows a delete", func() error {
		if _, ok := r.Get("retail-bank"); ok {
			return errors.New("still there")
		}
		return nil
	})

	// A document that does not compile here is logged; the set stays.
	_, err = s.Put(ctx, storedConn("retail-bank", "https://www.uplusbank.com"), 0)
	require.NoError(t, err)
	testenv.Eventually(t, 5*time.Second, "re-created", func() error {
		if !allows(r, "retail-bank", "https://www.uplusbank.com") {
			return errors.New("not yet")
		}
		return nil
	})
	recs, _ := fb.MemoryBackend.List(ctx)
	_, err = fb.MemoryBackend.Swap(ctx, "retail-bank", recs["retail-bank"].Version, []byte("connections: ["))
	require.NoError(t, err)
	testenv.Eventually(t, 5*time.Second, "the failed reload is logged", func() error {
		logMu.Lock()
		defer logMu.Unlock()
		for _, l := range logs {
			if bytes.Contains([]byte(l), []byte("retail-bank (keeps its last good version)")) {
				return nil
			}
		}
		return fmt.Errorf("logs: %q", logs)
	})
	assert.True(t, allows(r, "retail-bank", "https://www.uplusbank.com"), "the previous policy stays")
}

func TestRegistryFollowResyncsWithoutWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A backend with no Watch method: only the resync timer brings changes.
	b := struct{ policy.Backend }{policy.NewMemoryBackend()}
	s := newStore(t, b)
	v, err := s.Put(ctx, storedConn("retail-bank", "https://www.uplusbank.com"), 0)
	require.NoError(t, err)
	r, err := policy.NewRegistryFromSource(ctx, s, policy.RegistryOptions{})
	require.NoError(t, err)
	defer r.Close()
	version := r.Snapshot().Version()
	r.Follow(ctx, 50*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, version, r.Snapshot().Version(), "an unchanged store is not recompiled")

	_, err = s.Put(ctx, storedConn("retail-bank", "https://new.example"), v)
	require.NoError(t, err)
	testenv.Eventually(t, 5*time.Second, "the resync brings the change", func() error {
		if !allows(r, "retail-bank", "https://new.example") {
			return errors.New("not yet")
		}
		return nil
	})
}

func TestRegistryKeepsReplayCacheAcrossStoreUpdates(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, policy.NewMemoryBackend())
	v, err := s.Put(ctx, storedConn("retail-bank", "https://www.uplusbank.com"), 0)
	require.NoError(t, err)
	r, err := policy.NewRegistryFromSource(ctx, s, policy.RegistryOptions{})
	require.NoError(t, err)
	defer r.Close()
	tok := signFor(t, "retail-bank", storeSecret)
	c, _ := r.Get("retail-bank")
	_, err = c.Verifier().Verify(ctx, tok)
	require.NoError(t, err)

	_, err = s.Put(ctx, storedConn("retail-bank", "https://new.example"), v)
	require.NoError(t, err)
	require.NoError(t, r.Reload(ctx))
	c, _ = r.Get("retail-bank")
	require.True(t, c.Origins().Allows("https://new.example"))
	_, err = c.Verifier().Verify(ctx, tok)
	require.ErrorIs(t, err, secretdata.ErrReplayed, "an update opens no replay window")
}

// invalidBackend refuses its documents as a backend may (one too large to
// read): a policy problem, not an outage.
type invalidBackend struct{ *policy.MemoryBackend }

func (invalidBackend) List(context.Context) (map[string]policy.Record, error) {
	return nil, &cfgerr.Error{File: "store:a", Kind: policy.ErrSyntax, Reason: "too large"}
}

func TestStoreKeepsABackendsPolicyProblemsApartFromOutages(t *testing.T) {
	s := newStore(t, invalidBackend{policy.NewMemoryBackend()})
	_, err := s.Load(context.Background())
	require.ErrorIs(t, err, policy.ErrInvalid)
	require.NotErrorIs(t, err, policy.ErrUnavailable, "a bad document is not an outage: an operator must fix it, not wait")
}

func TestStoreParseOpensItsOwnSealedSecrets(t *testing.T) {
	ctx := context.Background()
	b := policy.NewMemoryBackend()
	s := newStore(t, b)
	_, err := s.Put(ctx, storedConn("retail-bank", "https://www.uplusbank.com"), 0)
	require.NoError(t, err)
	recs, _ := b.List(ctx)
	doc := recs["retail-bank"].Doc

	f, err := s.Parse(doc, policy.LoadOptions{})
	require.NoError(t, err, "a pulled document parses through the store")
	c, err := f.Connections[0].Compile(ctx, policy.CompileOptions{})
	require.NoError(t, err)
	_, err = c.Verifier().Verify(ctx, signFor(t, "retail-bank", storeSecret))
	require.NoError(t, err)

	_, err = policy.Parse(doc, policy.LoadOptions{})
	require.ErrorIs(t, err, policy.ErrSecret, "but not as a plain file")
	other, err := policy.NewStore(b, policy.StoreOptions{SealingKey: bytes.Repeat([]byte{9}, 32)})
	require.NoError(t, err)
	_, err = other.Parse(doc, policy.LoadOptions{})
	require.ErrorIs(t, err, policy.ErrSecret, "nor through a store with another key")
}

// One connection that cannot load on an instance does not hold up the
// others: their changes apply, and a new instance starts without it.
func TestOneBrokenConnectionDoesNotFreezeTheOthers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := policy.NewMemoryBackend()
	s := newStore(t, b)
	_, err := s.Put(ctx, storedConn("retail-bank", "https://www.uplusbank.com", "https://leaked.example"), 0)
	require.NoError(t, err)
	other := storedConn("other-tenant", "https://other.example")
	other.Keys[0].Secret = &policy.SecretRef{Env: "OTHER_SECRET"}
	env := map[string]string{"OTHER_SECRET": string(storeSecret)}
	writer, err := policy.NewStore(b, policy.StoreOptions{SealingKey: storeKey, Load: policy.LoadOptions{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}})
	require.NoError(t, err)
	_, err = writer.Put(ctx, other, 0) // valid where it was written...
	require.NoError(t, err)

	// ...but this instance lacks OTHER_SECRET: it starts without it.
	r, err := policy.NewRegistryFromSource(ctx, s, policy.RegistryOptions{})
	require.NoError(t, err)
	defer r.Close()
	_, ok := r.Get("other-tenant")
	require.False(t, ok, "left out: refused as unknown, never served half-configured")
	require.True(t, allows(r, "retail-bank", "https://leaked.example"))
	r.Follow(ctx, time.Hour)

	c, v, err := s.Get(ctx, "retail-bank")
	require.NoError(t, err)
	c.AllowedDomains = []string{"https://www.uplusbank.com"}
	_, err = s.Put(ctx, c, v)
	require.NoError(t, err)
	testenv.Eventually(t, 5*time.Second, "the removal applies despite the broken connection", func() error {
		if allows(r, "retail-bank", "https://leaked.example") {
			return errors.New("still allowed")
		}
		return nil
	})
	require.True(t, allows(r, "retail-bank", "https://www.uplusbank.com"))
	_, ok = r.Get("other-tenant")
	require.False(t, ok)
	require.ErrorContains(t, r.Reload(ctx), "other-tenant (left out)", "Reload names it")
	require.False(t, allows(r, "retail-bank", "https://leaked.example"), "and still applies the rest")
}

// Every tenth resync reloads an unchanged store, so a secret rotated
// behind an env reference on this instance is read again; Close ends
// Follow.
func TestFollowRereadsReferencesAndStopsOnClose(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	env := map[string]string{"RB_SECRET": string(storeSecret)}
	lookup := func(k string) (string, bool) { mu.Lock(); defer mu.Unlock(); v, ok := env[k]; return v, ok }
	b := policy.NewMemoryBackend()
	s, err := policy.NewStore(b, policy.StoreOptions{SealingKey: storeKey, Load: policy.LoadOptions{LookupEnv: lookup}})
	require.NoError(t, err)
	c := storedConn("retail-bank", "https://www.uplusbank.com")
	c.Keys[0].Secret = &policy.SecretRef{Env: "RB_SECRET"}
	v, err := s.Put(ctx, c, 0)
	require.NoError(t, err)
	r, err := policy.NewRegistryFromSource(ctx, s, policy.RegistryOptions{})
	require.NoError(t, err)
	before := runtime.NumGoroutine()
	r.Follow(ctx, 10*time.Millisecond)
	r.Follow(ctx, 10*time.Millisecond) // a second call does nothing
	require.LessOrEqual(t, runtime.NumGoroutine(), before+3, "one Follow: its ticker, its watcher, its closer")

	rotated := []byte("rotated-secret-0123456789-abcdefghijklmnop")
	mu.Lock()
	env["RB_SECRET"] = string(rotated)
	mu.Unlock()
	testenv.Eventually(t, 5*time.Second, "the rotated secret is read again", func() error {
		p, _ := r.Get("retail-bank")
		_, err := p.Verifier().Verify(ctx, signFor(t, "retail-bank", rotated))
		return err
	})

	require.NoError(t, r.Close())
	c.AllowedDomains = []string{"https://new.example"}
	_, err = s.Put(ctx, c, v)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	require.False(t, allows(r, "retail-bank", "https://new.example"), "a closed registry follows no more")
	// Close ends Follow's goroutines, though ctx lives on.
	testenv.Eventually(t, 5*time.Second, "Follow's goroutines end at Close", func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("%d goroutines, %d before Follow", n, before)
		}
		return nil
	})
}
