package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

// TestWaitReplicas: with WaitReplicas, a token is accepted only once its
// entry is on that many replicas; without them it is refused with the
// replay-check-unavailable error (the 503), never accepted.
func TestWaitReplicas(t *testing.T) {
	ctx := context.Background()
	primary := testenv.StartRedis(t)
	c := newClient(t, primary.URL())
	exp := time.Now().Add(time.Minute)
	r := newReplay(t, c, redisstore.Config{WaitReplicas: 1, WaitTimeout: 20 * time.Millisecond})

	start := time.Now()
	err := r.Record(ctx, "bank", "jti-before-replica", exp)
	require.ErrorIs(t, err, secretdata.ErrReplayCheckUnavailable, "no replica: not acknowledged, so refused")
	require.ErrorContains(t, err, "reached 0 of 1 replicas")
	require.Less(t, time.Since(start), time.Second, "bounded by WaitTimeout")
	require.ErrorIs(t, r.Record(ctx, "bank", "jti-before-replica", exp), secretdata.ErrReplayed,
		"the entry is on the primary: the token stays refused, never accepted later")

	testenv.StartReplica(t, c, primary.URL())
	// A generous wait for the positive case: a loaded CI machine may take
	// more than 20 ms to get the replica's acknowledgement.
	r = newReplay(t, c, redisstore.Config{WaitReplicas: 1, WaitTimeout: 300 * time.Millisecond, Timeout: 2 * time.Second})
	require.NoError(t, r.Record(ctx, "bank", "jti-1", exp), "acknowledged by the replica")
	require.ErrorIs(t, r.Record(ctx, "bank", "jti-1", exp), secretdata.ErrReplayed)

	two := newReplay(t, c, redisstore.Config{WaitReplicas: 2, WaitTimeout: 20 * time.Millisecond})
	require.ErrorIs(t, two.Record(ctx, "bank", "jti-2", exp), secretdata.ErrReplayCheckUnavailable, "one replica of the two required")
}

func TestWaitConfigProblems(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer c.Close()
	fields := func(err error) []string {
		var out []string
		for e := range cfgerr.All(err) {
			out = append(out, e.Field)
		}
		return out
	}
	_, err := redisstore.NewReplayCache(c, redisstore.Config{WaitReplicas: -1, WaitTimeout: time.Second})
	require.Equal(t, []string{"WaitReplicas", "WaitTimeout"}, fields(err), "every problem at once")
	_, err = redisstore.NewReplayCache(c, redisstore.Config{WaitReplicas: 1, Timeout: 40 * time.Millisecond})
	require.Equal(t, []string{"WaitTimeout"}, fields(err), "the default wait must fit in the Timeout")
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: true})
	defer ring.Close()
	_, err = redisstore.NewReplayCache(ring, redisstore.Config{WaitReplicas: 1})
	require.Equal(t, []string{"WaitReplicas"}, fields(err))
	short := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, ReadTimeout: 10 * time.Millisecond})
	defer short.Close()
	_, err = redisstore.NewReplayCache(short, redisstore.Config{WaitReplicas: 1})
	require.Equal(t, []string{"WaitTimeout"}, fields(err), "a read timeout shorter than the wait would retry every slow record")
	_, err = redisstore.NewStore(c, make32(), redisstore.Config{WaitReplicas: 1})
	require.Equal(t, []string{"WaitReplicas"}, fields(err), "a Store does not wait")
}

func make32() []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(i + 1)
	}
	return b
}
