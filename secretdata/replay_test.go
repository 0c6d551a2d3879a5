package secretdata_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
)

func TestMemoryReplayCache(t *testing.T) {
	now := t0
	c, err := secretdata.NewMemoryReplayCache(secretdata.MemoryReplayCacheConfig{MaxEntries: 1024, Now: func() time.Time { return now }})
	require.NoError(t, err)
	exp := t0.Add(time.Minute)

	require.NoError(t, c.Record(ctx, "iss", "jti-1", exp))
	require.ErrorIs(t, c.Record(ctx, "iss", "jti-1", exp), secretdata.ErrReplayed, "same pair")
	require.NoError(t, c.Record(ctx, "other-iss", "jti-1", exp), "same jti, other issuer")
	require.NoError(t, c.Record(ctx, "iss", "jti-2", exp), "other jti")
	// issuer+jti must not be ambiguous when concatenated.
	require.NoError(t, c.Record(ctx, "is", "sjti-1", exp))

	now = exp.Add(-time.Nanosecond)
	require.ErrorIs(t, c.Record(ctx, "iss", "jti-1", exp), secretdata.ErrReplayed, "until expiry")
	now = exp
	require.NoError(t, c.Record(ctx, "iss", "jti-1", exp.Add(time.Minute)), "after expiry it is forgotten")
	require.NoError(t, c.Record(ctx, "iss", "jti-2", exp.Add(time.Minute)), "every expired entry is")
}

func TestMemoryReplayCacheFailsClosedWhenFull(t *testing.T) {
	now := t0
	c, err := secretdata.NewMemoryReplayCache(secretdata.MemoryReplayCacheConfig{MaxEntries: 16, Now: func() time.Time { return now }})
	require.NoError(t, err)
	full := 0
	for i := range 200 {
		err := c.Record(ctx, "iss", fmt.Sprint("jti-", i), t0.Add(time.Minute))
		if err != nil {
			require.ErrorIs(t, err, secretdata.ErrReplayCheckUnavailable)
			full++
		}
	}
	require.Greater(t, full, 0)
	require.LessOrEqual(t, 200-full, 16, "no more than MaxEntries are held")

	// Once entries expire there is room again.
	now = t0.Add(time.Minute)
	require.NoError(t, c.Record(ctx, "iss", "jti-new", t0.Add(2*time.Minute)))

	// And a full cache makes Verify fail closed, not open.
	v := newVerifier(t, func(cfg *secretdata.VerifierConfig) { cfg.Replay = c }, hmacKey(t, "k1"))
	for i := range 200 {
		_, _ = v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().with(fmt.Sprintf(`"jti":"jti-%016d"`, i)).json()))
	}
	_, err = v.Verify(ctx, hs256(testSecret, stdHeader, baseClaims().with(`"jti":"jti-one-more-0000000"`).json()))
	require.ErrorIs(t, err, secretdata.ErrReplayCheckUnavailable)
}

func TestMemoryReplayCacheConfig(t *testing.T) {
	_, err := secretdata.NewMemoryReplayCache(secretdata.MemoryReplayCacheConfig{MaxEntries: 3})
	require.ErrorIs(t, err, secretdata.ErrConfig)
}

// TestMemoryReplayCacheConcurrent races many goroutines on overlapping
// pairs: every pair must be accepted exactly once (run with -race).
func TestMemoryReplayCacheConcurrent(t *testing.T) {
	c, err := secretdata.NewMemoryReplayCache(secretdata.MemoryReplayCacheConfig{Now: fixedNow})
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
				} else {
					assert.Equal(t, secretdata.ErrReplayed, err, "the cache's own error, unwrapped")
				}
			}
		}()
	}
	wg.Wait()
	for i := range accepted {
		require.Equal(t, int32(1), accepted[i].Load(), "pair %d", i)
	}
}

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
