package secretdata

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMemoryReplayCache(t *testing.T) {
	now := t0
	c, err := NewMemoryReplayCache(MemoryReplayCacheConfig{MaxEntries: 1024, Now: func() time.Time { return now }})
	require.NoError(t, err)
	exp := t0.Add(time.Minute)

	require.NoError(t, c.Record(ctx, "iss", "jti-1", exp))
	require.ErrorIs(t, c.Record(ctx, "iss", "jti-1", exp), ErrReplayed, "same pair")
	require.NoError(t, c.Record(ctx, "other-iss", "jti-1", exp), "same jti, other issuer")
	require.NoError(t, c.Record(ctx, "iss", "jti-2", exp), "other jti")
	// issuer+jti must not be ambiguous when concatenated.
	require.NoError(t, c.Record(ctx, "is", "sjti-1", exp))

	now = exp.Add(-time.Nanosecond)
	require.ErrorIs(t, c.Record(ctx, "iss", "jti-1", exp), ErrReplayed, "until expiry")
	now = exp
	require.NoError(t, c.Record(ctx, "iss", "jti-1", exp.Add(time.Minute)), "after expiry it is forgotten")
	require.Equal(t, 1, c.Len(), "expired entries were evicted")
}

func TestMemoryReplayCacheFailsClosedWhenFull(t *testing.T) {
	now := t0
	c, err := NewMemoryReplayCache(MemoryReplayCacheConfig{MaxEntries: 16, Now: func() time.Time { return now }})
	require.NoError(t, err)
	full := 0
	for i := range 200 {
		err := c.Record(ctx, "iss", fmt.Sprint("jti-", i), t0.Add(time.Minute))
		if err != nil {
			require.ErrorIs(t, err, ErrReplayCheckUnavailable)
			full++
		}
	}
	require.Greater(t, full, 0)
	require.LessOrEqual(t, c.Len(), 16)

	// Once entries expire there is room again.
	now = t0.Add(time.Minute)
	require.NoError(t, c.Record(ctx, "iss", "jti-new", t0.Add(2*time.Minute)))

	// And a full cache makes Verify fail closed, not open.
	v := newVerifier(t, func(cfg *VerifierConfig) { cfg.Replay = c }, hmacKey(t, "k1"))
	for i := range 200 {
		_, _ = v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().with(fmt.Sprintf(`"jti":"jti-%016d"`, i)).json()))
	}
	_, err = v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().with(`"jti":"jti-one-more-0000000"`).json()))
	require.ErrorIs(t, err, ErrReplayCheckUnavailable)
}

func TestMemoryReplayCacheConfig(t *testing.T) {
	_, err := NewMemoryReplayCache(MemoryReplayCacheConfig{MaxEntries: 3})
	require.ErrorIs(t, err, ErrConfig)
}

// TestMemoryReplayCacheConcurrent races many goroutines on overlapping
// pairs: every pair must be accepted exactly once (run with -race).
func TestMemoryReplayCacheConcurrent(t *testing.T) {
	c, err := NewMemoryReplayCache(MemoryReplayCacheConfig{Now: fixedNow})
	require.NoError(t, err)
	const workers, pairs = 32, 500
	var accepted [pairs]atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range pairs {
				j := (i + w*7) % pairs
				err := c.Record(ctx, "iss", fmt.Sprint("jti-", j), t0.Add(time.Minute))
				if err == nil {
					accepted[j].Add(1)
				} else if !isReplayed(err) {
					t.Errorf("unexpected error: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	for i := range accepted {
		require.Equal(t, int32(1), accepted[i].Load(), "pair %d", i)
	}
}

func isReplayed(err error) bool { return err == ErrReplayed }

// TestVerifyConcurrentReplay: many goroutines verify the same token at
// once; exactly one wins.
func TestVerifyConcurrentReplay(t *testing.T) {
	v := newVerifier(t, nil, hmacKey(t, "k1"))
	token := hs256(testSecret, stdHeader, baseClaims().json())
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := v.Verify(ctx, token); err == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int32(1), ok.Load())
}

func TestExpiryHeapOrder(t *testing.T) {
	var h expiryHeap
	exps := []int64{5, 3, 9, 1, 7, 3, 8, 2, 6, 4, 0}
	for _, e := range exps {
		h.push(expiryEntry{exp: e})
	}
	var got []int64
	for len(h) > 0 {
		got = append(got, h.pop().exp)
	}
	require.Equal(t, []int64{0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9}, got)
}
