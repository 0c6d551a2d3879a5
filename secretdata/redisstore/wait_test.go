package redisstore_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

// startReplica runs a redis-server replicating primary (a redis:// URL)
// and waits until the primary counts it.
func startReplica(t testing.TB, primary *redis.Client, primaryURL string) {
	t.Helper()
	u, err := url.Parse(primaryURL)
	require.NoError(t, err)
	// The default waits 5 s for more replicas before a full sync; and the
	// sync's snapshot goes to a temporary directory, not the package's.
	require.NoError(t, primary.ConfigSet(context.Background(), "repl-diskless-sync-delay", "0").Err())
	require.NoError(t, primary.ConfigSet(context.Background(), "repl-diskless-sync", "yes").Err())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(testenv.RedisServer(t), "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--replicaof", u.Hostname(), u.Port(), "--loglevel", "warning", "--dir", t.TempDir())
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	testenv.Eventually(t, 10*time.Second, "the replica is in sync", func() error {
		n, err := primary.Do(context.Background(), "wait", 1, 100).Int64()
		if err != nil {
			return err
		}
		if n < 1 {
			return errNotYet
		}
		return nil
	})
}

var errNotYet = errors.New("not yet")

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

	startReplica(t, c, primary.URL())
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
