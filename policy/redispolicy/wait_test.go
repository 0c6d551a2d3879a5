package redispolicy_test

import (
	"context"
	"testing"
	"time"

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

	testenv.StartReplica(t, c, primary.URL())
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
