package policy

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
)

// countingJWKS is a loopback JWKS server that counts the connections open to
// it and the fetches of each path ("/down" answers 500).
type countingJWKS struct {
	*httptest.Server
	doc  atomic.Pointer[[]byte]
	open atomic.Int64
	mu   sync.Mutex
	hits map[string]int
}

func newCountingJWKS(t *testing.T, doc []byte) *countingJWKS {
	t.Helper()
	s := &countingJWKS{hits: map[string]int{}}
	s.doc.Store(&doc)
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		if r.URL.Path == "/down" {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*s.doc.Load())
	}))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		switch state {
		case http.StateNew:
			s.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.open.Add(-1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *countingJWKS) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// edJWKS returns a fresh Ed25519 signing key and the JWKS publishing it.
func edJWKS(t *testing.T, kid string) (secretdata.Key, []byte) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	k, err := secretdata.NewPrivateKey(kid, secretdata.EdDSA, priv)
	require.NoError(t, err)
	doc := fmt.Sprintf(`{"keys":[{"kty":"OKP","crv":"Ed25519","use":"sig","kid":%q,"x":%q}]}`,
		kid, base64.RawURLEncoding.EncodeToString(pub))
	return k, []byte(doc)
}

// jwksConns is a policy file with a connection whose JWKS URL stays put
// ("steady", renamed on every reload) and one whose URL moves ("moving").
// With bad set, a third connection's JWKS cannot be fetched, so the reload
// fails after fetching moving's new set.
func jwksConns(gen int, steadyURL, movingURL, badURL string) string {
	doc := fmt.Sprintf(`connections:
  - {id: steady, name: "gen-%d", jwks_url: %q, token: {issuer: bank}}
  - {id: moving, name: "gen-%d", jwks_url: %q, token: {issuer: bank}}
`, gen, steadyURL, gen, movingURL)
	if badURL != "" {
		doc += fmt.Sprintf("  - {id: bad, jwks_url: %q, token: {issuer: bank}}\n", badURL)
	}
	return doc
}

func signFor(t *testing.T, k secretdata.Key, aud string) string {
	t.Helper()
	s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: k, Issuer: "bank", Audience: aud})
	require.NoError(t, err)
	tok, err := s.Sign(secretdata.Claims{Issuer: "bank", Audience: aud})
	require.NoError(t, err)
	return tok
}

// eventually polls cond until it holds or the deadline passes (key sets stop
// and connections close asynchronously); it returns the last value seen.
func eventually(deadline time.Duration, read func() int, ok func(int) bool) int {
	end := time.Now().Add(deadline)
	for {
		v := read()
		if ok(v) || time.Now().After(end) {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A reload closes the JWKS key sets of URLs it drops (also when it fails
// after fetching one) and keeps the set of a URL that stays; Close closes
// the rest. Each leaked set would keep jwk.Cache's five goroutines running.
func TestRegistryReloadClosesDroppedKeySets(t *testing.T) {
	ctx := context.Background()
	key, doc := edJWKS(t, "k1")
	servers := [2]*countingJWKS{newCountingJWKS(t, doc), newCountingJWKS(t, doc)}
	steadyURL := servers[0].URL + "/steady"
	moving := func(gen int) string { return fmt.Sprintf("%s/jwks-%d", servers[gen%2].URL, gen) }
	openConns := func() int { return int(servers[0].open.Load() + servers[1].open.Load()) }

	// A transport of the test's own, and no client timeout: nothing but
	// closing gives a connection back.
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	opts := RegistryOptions{Compile: CompileOptions{HTTPClient: &http.Client{Transport: tr}}}

	path := filepath.Join(t.TempDir(), "p.yaml")
	testenv.WriteFile(t, path, jwksConns(0, steadyURL, moving(0), ""))
	r, err := NewRegistry(ctx, path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	first, _ := r.Get("moving")
	_, err = first.Verifier().Verify(ctx, signFor(t, key, "moving"))
	require.NoError(t, err, "control: the JWKS key verifies")
	baseG := runtime.NumGoroutine() // the registry's two live key sets included
	const reloads = 100
	const slackG, maxConns = 25, 6

	for gen := 1; gen <= reloads; gen++ {
		testenv.WriteFile(t, path, jwksConns(gen, steadyURL, moving(gen), ""))
		require.NoError(t, r.Reload(ctx))
		if gen%10 == 0 { // a failed reload must not leak what it fetched either
			testenv.WriteFile(t, path, jwksConns(gen, steadyURL, moving(1000+gen), servers[1].URL+"/down"))
			require.Error(t, r.Reload(ctx))
		}
	}
	g := eventually(5*time.Second, runtime.NumGoroutine, func(n int) bool { return n <= baseG+slackG })
	conns := eventually(5*time.Second, openConns, func(n int) bool { return n <= maxConns })
	t.Logf("after %d reloads: %d goroutines (baseline %d), %d open connections to the JWKS servers", reloads, g, baseG, conns)
	assert.LessOrEqual(t, g, baseG+slackG, "goroutines grow with reloads: replaced key sets are not closed")
	assert.LessOrEqual(t, conns, maxConns, "connections to the JWKS servers grow with reloads")

	// The steady URL kept its one key set: fetched once, never again.
	assert.Equal(t, 1, servers[0].hitsOf("/steady"))
	steady, _ := r.Get("steady")
	assert.Equal(t, fmt.Sprintf("gen-%d", reloads), steady.Name())
	_, err = steady.Verifier().Verify(ctx, signFor(t, key, "steady"))
	require.NoError(t, err, "a reused key set still verifies")
	cur, _ := r.Get("moving")
	_, err = cur.Verifier().Verify(ctx, signFor(t, key, "moving"))
	require.NoError(t, err)

	// A request still holding the first policy: its key set is closed, so
	// it refuses the token (fail closed) rather than panic or trust keys
	// nobody refreshes.
	_, err = first.Verifier().Verify(ctx, signFor(t, key, "moving"))
	require.ErrorIs(t, err, secretdata.ErrUnknownKey)

	// Close stops the rest; the policies handed out then refuse JWKS tokens.
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "idempotent")
	require.ErrorIs(t, r.Reload(ctx), ErrRegistryClosed)
	_, err = steady.Verifier().Verify(ctx, signFor(t, key, "steady"))
	require.ErrorIs(t, err, secretdata.ErrUnknownKey)
	after := eventually(5*time.Second, runtime.NumGoroutine, func(n int) bool { return n <= baseG-5 })
	t.Logf("after Close: %d goroutines", after)
	assert.LessOrEqual(t, after, baseG-5, "Close stops the live key sets' goroutines")
}

// A key set fetched by a reload outlives the reload's context (a reload
// triggered by an admin request must not stop it when the request ends):
// it still refreshes when the bank rotates its key.
func TestRegistryKeySetOutlivesReloadContext(t *testing.T) {
	key, doc := edJWKS(t, "k1")
	srv := newCountingJWKS(t, doc)
	path := filepath.Join(t.TempDir(), "p.yaml")
	testenv.WriteFile(t, path, jwksConns(0, srv.URL+"/a", srv.URL+"/b", ""))
	ctx, cancel := context.WithCancel(context.Background())
	r, err := NewRegistry(ctx, path, RegistryOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	cancel()
	p, _ := r.Get("steady")
	_, err = p.Verifier().Verify(context.Background(), signFor(t, key, "steady"))
	require.NoError(t, err)

	// The bank rotates to k2: the first token with the unknown kid asks for
	// an early refresh, which a key set stopped with ctx could not make.
	key2, doc2 := edJWKS(t, "k2")
	srv.doc.Store(&doc2)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = p.Verifier().Verify(context.Background(), signFor(t, key2, "steady"))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, err, "the rotated key is fetched after the reload's context ended")

	// A reload whose context is already done fails without swapping.
	testenv.WriteFile(t, path, jwksConns(1, srv.URL+"/c", srv.URL+"/b", ""))
	require.ErrorIs(t, r.Reload(ctx), context.Canceled)
	p2, _ := r.Get("steady")
	assert.Same(t, p, p2)
}

// Key sets supplied through CompileOptions.KeySet belong to the caller: the
// registry drops them from its cache but never closes them.
func TestRegistryLeavesCallersKeySetsOpen(t *testing.T) {
	ctx := context.Background()
	key, doc := edJWKS(t, "k1")
	srv := newCountingJWKS(t, doc)
	var mine []*secretdata.RemoteKeySet
	supply := func(ctx context.Context, url string) (*secretdata.RemoteKeySet, error) {
		ks, err := secretdata.NewRemoteKeySet(ctx, secretdata.RemoteKeySetConfig{URL: url, DangerouslyAllowHTTP: true})
		if err == nil {
			mine = append(mine, ks)
		}
		return ks, err
	}
	t.Cleanup(func() {
		for _, ks := range mine {
			ks.Close()
		}
	})
	path := filepath.Join(t.TempDir(), "p.yaml")
	testenv.WriteFile(t, path, jwksConns(0, srv.URL+"/a", srv.URL+"/b", ""))
	r, err := NewRegistry(ctx, path, RegistryOptions{Compile: CompileOptions{KeySet: supply}})
	require.NoError(t, err)
	first, _ := r.Get("moving")
	testenv.WriteFile(t, path, jwksConns(1, srv.URL+"/a", srv.URL+"/c", ""))
	require.NoError(t, r.Reload(ctx))
	require.Len(t, mine, 3, "the kept URL is not asked for again")
	require.NoError(t, r.Close())
	_, err = first.Verifier().Verify(ctx, signFor(t, key, "moving"))
	require.NoError(t, err, "the caller's key set is still open")
}
