package redispolicy_test

import (
	"context"
	"net"
	"net/url"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/policy/redispolicy"
)

// TestWaitReplicas: with WaitReplicas, a write is reported as done only
// once that many replicas have it; otherwise it fails as unavailable — and
// may have landed, which a re-read shows and a retry with the old version
// is told by a conflict.
func TestWaitReplicas(t *testing.T) {
	ctx := context.Background()
	primary := testenv.StartRedis(t)
	c := newClient(t, primary.URL())
	prefix := uniquePrefix()
	b, err := redispolicy.New(redispolicy.Config{Client: c, Prefix: prefix, WaitReplicas: 1, WaitTimeout: 20 * time.Millisecond})
	require.NoError(t, err)
	s := newStore(t, b)

	start := time.Now()
	_, err = s.Put(ctx, connPolicy(conn, bankSite), 0)
	require.ErrorIs(t, err, policy.ErrUnavailable, "no replica: not acknowledged")
	require.ErrorContains(t, err, "reached 0 of 1 replicas")
	require.Less(t, time.Since(start), time.Second, "bounded by WaitTimeout")
	got, v, err := s.Get(ctx, conn)
	require.NoError(t, err, "the write landed on the primary nonetheless: re-read")
	require.Equal(t, []string{bankSite}, got.AllowedDomains)
	_, err = s.Put(ctx, connPolicy(conn, bankSite), 0)
	require.ErrorIs(t, err, policy.ErrConflict, "a retry naming the old version is told by a conflict")

	startReplica(t, c, primary.URL())
	v2, err := s.Put(ctx, connPolicy(conn, bankSite, newSite), v)
	require.NoError(t, err, "acknowledged by the replica")
	require.Greater(t, v2, v)
	require.NoError(t, s.Delete(ctx, conn, v2), "a delete waits too")

	// After SCRIPT FLUSH (as on a replica just promoted) the script is
	// sent whole.
	require.NoError(t, c.ScriptFlush(ctx).Err())
	_, err = s.Put(ctx, connPolicy(conn, bankSite), 0)
	require.NoError(t, err)

	two, err := redispolicy.New(redispolicy.Config{Client: c, Prefix: prefix, WaitReplicas: 2, WaitTimeout: 20 * time.Millisecond})
	require.NoError(t, err)
	_, err = newStore(t, two).Put(ctx, connPolicy("other", bankSite), 0)
	require.ErrorIs(t, err, policy.ErrUnavailable, "one replica of the two required")
}

// startReplica runs a redis-server replicating primary (a redis:// URL)
// and waits until the primary counts it.
func startReplica(t *testing.T, primary *redis.Client, primaryURL string) {
	t.Helper()
	u, err := url.Parse(primaryURL)
	require.NoError(t, err)
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
			return context.DeadlineExceeded
		}
		return nil
	})
}
