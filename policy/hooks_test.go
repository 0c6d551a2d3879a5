package policy_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

var hookSecret = base64.RawURLEncoding.EncodeToString([]byte("policy-hooks-test-secret-32-bytes!!"))

func hookDoc(domain string) string {
	return `connections:
  - id: retail-bank
    allowed_domains: [` + domain + `]
    keys: [{id: k1, secret: {value: ` + hookSecret + `, insecure_inline: true}}]
    token: {issuer: bank}
`
}

type reloadSeen struct {
	snap *policy.Snapshot
	err  error
}

// OnReload hears every load, the first included, with the snapshot in
// force afterwards and the error.
func TestRegistryOnReload(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.yaml")
	require.NoError(t, os.WriteFile(path, []byte(hookDoc("https://a.example")), 0o600))
	var mu sync.Mutex
	var seen []reloadSeen
	reg, err := policy.NewRegistry(ctx, path, policy.RegistryOptions{OnReload: func(s *policy.Snapshot, err error) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, reloadSeen{s, err})
	}})
	require.NoError(t, err)
	require.Len(t, seen, 1, "the first load is reported")
	assert.NoError(t, seen[0].err)
	assert.Same(t, reg.Snapshot(), seen[0].snap)

	require.NoError(t, os.WriteFile(path, []byte(hookDoc("https://b.example")), 0o600))
	require.NoError(t, reg.Reload(ctx))
	require.Len(t, seen, 2)
	assert.NoError(t, seen[1].err)
	assert.Equal(t, uint64(2), seen[1].snap.Version(), "a successful reload reports the new snapshot")

	require.NoError(t, os.WriteFile(path, []byte(hookDoc("https://*.com")), 0o600))
	rerr := reg.Reload(ctx)
	require.Error(t, rerr)
	require.Len(t, seen, 3)
	assert.Equal(t, rerr, seen[2].err, "a failed reload reports its error")
	assert.Same(t, seen[1].snap, seen[2].snap, "and the snapshot it kept")

	require.NoError(t, reg.Close())
	require.ErrorIs(t, reg.Reload(ctx), policy.ErrRegistryClosed)
	require.Len(t, seen, 4)
	assert.ErrorIs(t, seen[3].err, policy.ErrRegistryClosed)
}

// A first load that fails is reported with no snapshot.
func TestRegistryOnReloadFirstLoadFails(t *testing.T) {
	var seen []reloadSeen
	_, err := policy.NewRegistryFromBytes(context.Background(), []byte(hookDoc("https://*.com")), policy.RegistryOptions{
		OnReload: func(s *policy.Snapshot, err error) { seen = append(seen, reloadSeen{s, err}) },
	})
	require.Error(t, err)
	require.Len(t, seen, 1)
	assert.Nil(t, seen[0].snap)
	assert.Equal(t, err, seen[0].err)
}

type verifySeen struct {
	conn string
	took time.Duration
	err  error
}

// OnVerify hears each verification of a compiled verifier: the
// connection, a duration and the outcome, for Verify and VerifySession.
func TestCompileOnVerify(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var seen []verifySeen
	reg, err := policy.NewRegistryFromBytes(ctx, []byte(hookDoc("https://a.example")), policy.RegistryOptions{
		Compile: policy.CompileOptions{OnVerify: func(c string, took time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, verifySeen{c, took, err})
		}},
	})
	require.NoError(t, err)
	file, err := policy.Parse([]byte(hookDoc("https://a.example")), policy.LoadOptions{})
	require.NoError(t, err)
	sc, err := file.Connections[0].SignerConfig("", time.Now())
	require.NoError(t, err)
	signer, err := secretdata.NewSigner(sc)
	require.NoError(t, err)
	tok, err := signer.Sign(secretdata.Claims{Subject: "c"})
	require.NoError(t, err)
	sessTok, err := signer.Sign(secretdata.Claims{Subject: "c", SessionID: "s-1"})
	require.NoError(t, err)

	p, ok := reg.Get("retail-bank")
	require.True(t, ok)
	_, err = p.Verifier().Verify(ctx, tok)
	require.NoError(t, err)
	_, err = p.Verifier().Verify(ctx, tok) // replayed
	require.Error(t, err)
	_, err = p.Verifier().VerifySession(ctx, sessTok, "s-1")
	require.NoError(t, err)
	_, err = p.Verifier().Verify(ctx, strings.Repeat("x", 20))
	require.Error(t, err)

	require.Len(t, seen, 4)
	for _, s := range seen {
		assert.Equal(t, "retail-bank", s.conn)
		assert.Positive(t, s.took)
	}
	assert.NoError(t, seen[0].err)
	assert.True(t, errors.Is(seen[1].err, secretdata.ErrReplayed), "the verifier's own error is reported: %v", seen[1].err)
	assert.NoError(t, seen[2].err)
	assert.ErrorIs(t, seen[3].err, secretdata.ErrMalformed)
}
