package redisstore_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

func TestReplayCacheRecord(t *testing.T) {
	c, prefix := sharedRedis(t)
	r := newReplay(t, c, redisstore.Config{Prefix: prefix})
	exp := time.Now().Add(5 * time.Minute)
	// Steps run in order on one cache: each sees what the earlier recorded.
	for _, tc := range []struct {
		name        string
		issuer, jti string
		want        error
	}{
		{"first use is accepted", "iss-a", "jti-1", nil},
		{"second use is replayed", "iss-a", "jti-1", secretdata.ErrReplayed},
		{"another jti is accepted", "iss-a", "jti-2", nil},
		{"same jti from another issuer is accepted", "iss-b", "jti-1", nil},
		{"field boundary shift is another pair", "iss-a:jti", "1", nil},
		{"and is itself replayed after", "iss-a:jti", "1", secretdata.ErrReplayed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Record(bg(), tc.issuer, tc.jti, exp)
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.want)
			}
		})
	}
}

// TestReplayAcrossVerifiers runs two chat-server instances, each with its
// own Verifier, client and ReplayCache, on one Redis: a token accepted by
// one is refused by the other.
func TestReplayAcrossVerifiers(t *testing.T) {
	c1, prefix := sharedRedis(t)
	c2 := newClient(t, "redis://"+c1.Options().Addr+"/"+itoa(c1.Options().DB))
	v1 := newVerifier(t, newReplay(t, c1, redisstore.Config{Prefix: prefix}))
	v2 := newVerifier(t, newReplay(t, c2, redisstore.Config{Prefix: prefix}))
	s := newSigner(t)

	tok := sign(t, s)
	_, err := v1.Verify(bg(), tok)
	require.NoError(t, err, "first instance refused a fresh token")
	_, err = v2.Verify(bg(), tok)
	require.ErrorIs(t, err, secretdata.ErrReplayed)
	_, err = v1.Verify(bg(), tok)
	require.ErrorIs(t, err, secretdata.ErrReplayed)
	// The refusal comes from Redis: an instance with a namespace of its own
	// (another prefix) has not seen the token.
	v3 := newVerifier(t, newReplay(t, c2, redisstore.Config{Prefix: prefix + "-other"}))
	t.Cleanup(func() { deletePrefix(c2, prefix+"-other") })
	_, err = v3.Verify(bg(), tok)
	require.NoError(t, err, "separate namespace refused the token")
	// A fresh token still passes on the second instance.
	_, err = v2.Verify(bg(), sign(t, s))
	require.NoError(t, err, "second instance refused a fresh token")
}

// TestReplayRace has many goroutines on two instances race to use one
// token: exactly one wins.
func TestReplayRace(t *testing.T) {
	c1, prefix := sharedRedis(t)
	c2 := newClient(t, "redis://"+c1.Options().Addr+"/"+itoa(c1.Options().DB))
	caches := []*redisstore.ReplayCache{newReplay(t, c1, redisstore.Config{Prefix: prefix}), newReplay(t, c2, redisstore.Config{Prefix: prefix})}
	exp := time.Now().Add(time.Minute)
	for round := range 20 {
		jti := "race-" + itoa(round)
		var wins, replays atomic.Int32
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				switch err := caches[i%2].Record(bg(), testIssuer, jti, exp); {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, secretdata.ErrReplayed):
					replays.Add(1)
				default:
					assert.NoError(t, err, "Record")
				}
			})
		}
		wg.Wait()
		require.EqualValues(t, 1, wins.Load(), "round %d: accepted", round)
		require.EqualValues(t, 15, replays.Load(), "round %d: replayed", round)
	}
}

func TestReplayTTL(t *testing.T) {
	c, prefix := sharedRedis(t)
	now := time.Now()
	for _, tc := range []struct {
		name     string
		expires  time.Time
		min, max time.Duration // bounds on the key's PTTL right after Record
	}{
		{"expiry plus MaxLeeway", now.Add(2 * time.Minute), 2*time.Minute + secretdata.MaxLeeway - time.Second, 2*time.Minute + secretdata.MaxLeeway},
		{"expired, but less than MaxLeeway ago", now.Add(-secretdata.MaxLeeway + 3*time.Second), 2 * time.Second, 3 * time.Second},
		{"past expiry still refused for a second", now.Add(-time.Hour), 900 * time.Millisecond, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReplay(t, c, redisstore.Config{Prefix: prefix, Now: func() time.Time { return now }})
			jti := "ttl-" + strings.ReplaceAll(tc.name, " ", "-")
			require.NoError(t, r.Record(bg(), testIssuer, jti, tc.expires))
			ttl, err := c.PTTL(bg(), redisstore.ReplayKey(prefix, testIssuer, jti)).Result()
			require.NoError(t, err)
			require.GreaterOrEqual(t, ttl, tc.min, "PTTL")
			require.LessOrEqual(t, ttl, tc.max, "PTTL")
			require.ErrorIs(t, r.Record(bg(), testIssuer, jti, tc.expires), secretdata.ErrReplayed, "immediate second Record")
		})
	}
}

// TestReplayEntryOutlivesEveryLeeway: whatever leeway the recording
// Verifier runs (none, the default, the most allowed), the entry lives at
// least until exp + secretdata.MaxLeeway, the last moment any Verifier
// sharing the Redis would still accept the token. It fails if an entry
// could expire earlier — if the TTL were exp plus only the recorder's
// leeway, or plus a margin shorter than MaxLeeway — because a Verifier
// with MaxLeeway would then accept a replay after the entry is gone.
func TestReplayEntryOutlivesEveryLeeway(t *testing.T) {
	c, prefix := sharedRedis(t)
	now := time.Unix(time.Now().Unix(), 0) // whole seconds, as exp is
	clock := func() time.Time { return now }
	k, err := secretdata.NewHMACKey("k1", secretdata.HS256, testSecret)
	require.NoError(t, err)
	verifier := func(t *testing.T, leeway time.Duration, now func() time.Time) *secretdata.Verifier {
		t.Helper()
		v, err := secretdata.NewVerifier(secretdata.VerifierConfig{
			Keys: []secretdata.Key{k}, Issuer: testIssuer, Audience: testAudience,
			Leeway: leeway, Replay: newReplay(t, c, redisstore.Config{Prefix: prefix, Now: now}), Now: now,
		})
		require.NoError(t, err)
		return v
	}
	for _, tc := range []struct {
		name   string
		leeway time.Duration // the recording Verifier's
		exp    time.Duration // the token's exp, from now
	}{
		{"no leeway, fresh token", -1, time.Minute},
		{"no leeway, a second before exp", -1, time.Second},
		{"default leeway, fresh token", 0, time.Minute},
		{"default leeway, at its end", 0, -secretdata.DefaultLeeway + time.Second},
		{"MaxLeeway, fresh token", secretdata.MaxLeeway, time.Minute},
		{"MaxLeeway, at its end", secretdata.MaxLeeway, -secretdata.MaxLeeway + time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp := now.Add(tc.exp)
			s, err := secretdata.NewSigner(secretdata.SignerConfig{
				Key: k, Issuer: testIssuer, Audience: testAudience, Lifetime: 2 * time.Minute,
				Now: func() time.Time { return exp.Add(-2 * time.Minute) },
			})
			require.NoError(t, err)
			tok := sign(t, s)
			claims, err := verifier(t, tc.leeway, clock).Verify(bg(), tok)
			require.NoError(t, err, "recording verifier refused the token")
			require.True(t, claims.ExpiresAt.Equal(exp), "exp %v, want %v", claims.ExpiresAt, exp)
			ttl, err := c.PTTL(bg(), redisstore.ReplayKey(prefix, testIssuer, claims.ID)).Result()
			require.NoError(t, err)
			// Real time has moved on by a few milliseconds since the SET.
			want := exp.Add(secretdata.MaxLeeway).Sub(now)
			require.GreaterOrEqual(t, ttl, want-time.Second,
				"the entry expires before exp + MaxLeeway: a Verifier with MaxLeeway would accept a replay")
			// Such a Verifier, one second before the end of its leeway,
			// finds the entry.
			late := func() time.Time { return exp.Add(secretdata.MaxLeeway - time.Second) }
			_, err = verifier(t, secretdata.MaxLeeway, late).Verify(bg(), tok)
			require.ErrorIs(t, err, secretdata.ErrReplayed)
		})
	}
}

// TestReplayEntryExpires waits (polling) for a short entry to go: the pair
// is accepted again only after its expiry plus MaxLeeway.
func TestReplayEntryExpires(t *testing.T) {
	c, prefix := sharedRedis(t)
	r := newReplay(t, c, redisstore.Config{Prefix: prefix})
	const life = 1200 * time.Millisecond
	start := time.Now()
	exp := start.Add(-secretdata.MaxLeeway + life) // so the entry lives life
	require.NoError(t, r.Record(bg(), testIssuer, "short", exp))
	require.ErrorIs(t, r.Record(bg(), testIssuer, "short", exp), secretdata.ErrReplayed, "before expiry")
	testenv.Eventually(t, 5*time.Second, "entry expiry", func() error {
		return r.Record(bg(), testIssuer, "short", exp)
	})
	require.GreaterOrEqual(t, time.Since(start), life-50*time.Millisecond, "the entry left before expiry plus MaxLeeway")
}

// TestReplayKeysHideIdentity reads the keys Redis really holds.
func TestReplayKeysHideIdentity(t *testing.T) {
	c, prefix := sharedRedis(t)
	r := newReplay(t, c, redisstore.Config{Prefix: prefix})
	issuer, jti := "https://issuer.example/tenant-7", "jti-VISIBLE-0123456789abcdef"
	require.NoError(t, r.Record(bg(), issuer, jti, time.Now().Add(time.Minute)))
	ks := keys(t, c, prefix)
	require.Len(t, ks, 1, "keys under the prefix")
	requireNoneIn(t, ks[0], issuer, jti, "tenant-7", "VISIBLE")
	require.True(t, strings.HasPrefix(ks[0], prefix+":replay:"), "key %q outside the layout", ks[0])
}
