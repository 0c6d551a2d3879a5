package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
)

// twoConns writes a file whose two connections both carry the generation
// in their names, so a reader can tell a mixed state from a consistent one.
func twoConns(gen int) string {
	return fmt.Sprintf(`connections:
  - {id: a, name: "gen-%d", allowed_domains: ["https://gen-%d.example"], token: {secret_data: optional}}
  - {id: b, name: "gen-%d", allowed_domains: ["https://gen-%d.example"], token: {secret_data: optional}}
`, gen, gen, gen, gen)
}

func TestRegistryReload(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.yaml")
	testenv.WriteFile(t, path, twoConns(1))
	r, err := NewRegistry(ctx, path, RegistryOptions{})
	require.NoError(t, err)
	a, ok := r.Get("a")
	require.True(t, ok)
	assert.True(t, a.Origins().Allows("https://gen-1.example"))
	_, ok = r.Get("missing")
	assert.False(t, ok)

	testenv.WriteFile(t, path, twoConns(2))
	require.NoError(t, r.Reload(ctx))
	a2, _ := r.Get("a")
	assert.False(t, a2.Origins().Allows("https://gen-1.example"), "the new policy decides the next request")
	assert.True(t, a2.Origins().Allows("https://gen-2.example"))
	assert.True(t, a.Origins().Allows("https://gen-1.example"), "a compiled policy already handed out never changes")
	assert.Equal(t, uint64(2), r.Snapshot().Version())

	// A failed reload keeps what is in force and says why.
	testenv.WriteFile(t, path, "connections: [{id: a, allowed_domains: ['https://*.com']}]")
	err = r.Reload(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalid)
	a3, _ := r.Get("a")
	assert.Same(t, a2, a3)
	assert.Equal(t, uint64(2), r.Snapshot().Version())
	assert.Equal(t, []string{"a", "b"}, r.Snapshot().IDs())
}

func TestRegistrySharesReplayCacheAcrossReloads(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.yaml")
	testenv.WriteFile(t, path, twoConns(1))
	r, err := NewRegistry(ctx, path, RegistryOptions{})
	require.NoError(t, err)
	exp := time.Now().Add(time.Minute)
	require.NoError(t, r.replay().Record(ctx, "bank", "jti-1", exp))
	testenv.WriteFile(t, path, twoConns(2))
	require.NoError(t, r.Reload(ctx))
	assert.Error(t, r.replay().Record(ctx, "bank", "jti-1", exp), "a reload must not forget seen tokens")
}

// Readers running during 1,000 reloads never see a mix of old and new.
func TestRegistryReadersSeeConsistentSnapshots(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.yaml")
	testenv.WriteFile(t, path, twoConns(0))
	r, err := NewRegistry(ctx, path, RegistryOptions{})
	require.NoError(t, err)

	var stop atomic.Bool
	var wg sync.WaitGroup
	var reads atomic.Int64
	var mixed atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				s := r.Snapshot()
				a, _ := s.Get("a")
				b, _ := s.Get("b")
				if a.Name() != b.Name() || !a.Origins().Allows("https://"+a.Name()+".example") {
					mixed.Add(1)
				}
				reads.Add(1)
			}
		}()
	}
	reloads := 1000
	if testing.Short() {
		reloads = 100
	}
	for i := 1; i <= reloads; i++ {
		testenv.WriteFile(t, path, twoConns(i))
		require.NoError(t, r.Reload(ctx))
	}
	stop.Store(true)
	wg.Wait()
	assert.Zero(t, mixed.Load())
	assert.Positive(t, reads.Load())
	a, _ := r.Get("a")
	assert.Equal(t, fmt.Sprintf("gen-%d", reloads), a.Name())
	assert.Equal(t, uint64(reloads+1), r.Snapshot().Version())
}

func TestRegistryWatchFile(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "p.yaml")
	testenv.WriteFile(t, path, twoConns(1))
	var logs []string
	var mu sync.Mutex
	r, err := NewRegistry(ctx, path, RegistryOptions{Logf: func(f string, a ...any) {
		mu.Lock()
		logs = append(logs, fmt.Sprintf(f, a...))
		mu.Unlock()
	}})
	require.NoError(t, err)
	r.WatchFile(ctx, 5*time.Millisecond)
	testenv.WriteFile(t, path, twoConns(2))
	require.Eventually(t, func() bool {
		a, _ := r.Get("a")
		return a.Name() == "gen-2"
	}, 5*time.Second, 5*time.Millisecond)
	testenv.WriteFile(t, path, "connections: [")
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(logs) >= 2
	}, 5*time.Second, 5*time.Millisecond)
	a, _ := r.Get("a")
	assert.Equal(t, "gen-2", a.Name(), "a broken file keeps the policies in force")
	mu.Lock()
	assert.Contains(t, logs[len(logs)-1], "failed, keeping version 2")
	mu.Unlock()
}

func TestRegistryFromBytes(t *testing.T) {
	r, err := NewRegistryFromBytes(context.Background(), []byte(twoConns(7)), RegistryOptions{})
	require.NoError(t, err)
	a, ok := r.Get("a")
	require.True(t, ok)
	assert.Equal(t, "gen-7", a.Name())
	assert.Contains(t, r.String(), "2 connections")
	_, err = NewRegistryFromBytes(context.Background(), []byte("connections: []"), RegistryOptions{})
	assert.ErrorIs(t, err, ErrMissing)
}

func TestRegistryWatchSignals(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "p.yaml")
	testenv.WriteFile(t, path, twoConns(1))
	r, err := NewRegistry(ctx, path, RegistryOptions{})
	require.NoError(t, err)
	r.WatchSignals(ctx, syscall.SIGHUP)
	testenv.WriteFile(t, path, twoConns(2))
	a, _ := r.Get("a")
	assert.Equal(t, "gen-1", a.Name(), "nothing reloads before the signal")
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool {
		a, _ := r.Get("a")
		return a.Name() == "gen-2"
	}, 5*time.Second, 5*time.Millisecond)
}
