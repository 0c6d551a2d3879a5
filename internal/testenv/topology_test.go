package testenv_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/redisurl"
	"github.com/msgsec/msgsec/internal/testenv"
)

func TestClusterOfThreePrimaries(t *testing.T) {
	cl := testenv.StartCluster(t)
	require.Len(t, cl.Addrs(), 3)
	c := cl.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Keys land on every primary.
	for i := range 300 {
		require.NoError(t, c.Set(ctx, fmt.Sprintf("topo-test:%d", i), i, time.Minute).Err())
	}
	var masters atomic.Int32
	require.NoError(t, c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		if n > 0 {
			masters.Add(1)
		}
		return err
	}))
	require.EqualValues(t, 3, masters.Load(), "300 keys on every one of the 3 primaries")
	require.Len(t, cl.Keys(t, "topo-test:*"), 300)
	require.Greater(t, len(cl.Slots(t, "topo-test:*")), 250)

	// The CROSSSLOT counter sees a cross-slot command.
	n, _ := cl.CrossSlotErrors()
	require.Zero(t, n)
	require.Error(t, c.MGet(ctx, "topo-test:1", "topo-test:2", "topo-test:3").Err())
	n, first := cl.CrossSlotErrors()
	require.Equal(t, 1, n, "MGET over three slots: one CROSSSLOT")
	require.ErrorContains(t, first, "CROSSSLOT")

	// Every URL form reaches it: the seed list, and one node's redis://
	// URL (the single-endpoint case: Connect finds cluster mode).
	for _, raw := range []string{cl.URL(), cl.NodeURL(1)} {
		c2, u, err := redisurl.Open(ctx, raw)
		require.NoError(t, err, raw)
		_, isCluster := c2.(*redis.ClusterClient)
		require.True(t, isCluster, "%s (%v) gives a ClusterClient", raw, u.Kind())
		for i := range 300 {
			require.NoError(t, c2.Get(ctx, fmt.Sprintf("topo-test:%d", i)).Err(), "no MOVED error: key %d", i)
		}
		require.NoError(t, c2.Close())
	}
}

func TestSentinelFailover(t *testing.T) {
	t0 := time.Now()
	s := testenv.StartSentinel(t)
	t.Logf("started in %v", time.Since(t0).Round(time.Millisecond))
	require.Len(t, s.SentinelAddrs(), 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	c, u, err := redisurl.Open(ctx, s.URL())
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, redisurl.Sentinel, u.Kind())
	require.Equal(t, s.MasterName(), u.MasterName())
	require.NoError(t, c.Set(ctx, "before", "1", 0).Err())
	// WAIT: the write reached both replicas before the primary dies.
	acked, err := c.Do(ctx, "WAIT", 2, 2000).Int()
	require.NoError(t, err)
	require.Equal(t, 2, acked)

	old := s.Primary(t)
	require.Equal(t, s.NodeAddrs()[0], old)
	start := time.Now()
	require.Equal(t, old, s.KillPrimary(t))
	next := s.WaitForNewPrimary(t, old, 30*time.Second)
	t.Logf("failover: %s -> %s in %v", old, next, time.Since(start).Round(time.Millisecond))
	require.NotEqual(t, old, next)

	// The same client follows the promotion by itself.
	testenv.Eventually(t, 20*time.Second, "the failover client writes to the new primary", func() error {
		return c.Set(ctx, "after", "2", 0).Err()
	})
	t.Logf("client writes again %v after the kill", time.Since(start).Round(time.Millisecond))
	require.Equal(t, "1", c.Get(ctx, "before").Val(), "an acknowledged-by-replicas write survives")

	// The old primary comes back as a replica of the new one.
	s.RestartNode(t, old)
	oc := s.NodeClient(t, old)
	testenv.Eventually(t, 30*time.Second, "the old primary replicates the new one", func() error {
		info, err := oc.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "role:slave") || !strings.Contains(info, "master_link_status:up") {
			return fmt.Errorf("not a synced replica yet")
		}
		return nil
	})
	t.Logf("old primary a synced replica %v after the kill", time.Since(start).Round(time.Millisecond))
	require.Equal(t, next, s.Primary(t))
}

func TestClusterWithReplicasFailover(t *testing.T) {
	t0 := time.Now()
	cl := testenv.StartClusterWith(t, testenv.ClusterOptions{ReplicasPerPrimary: 1})
	t.Logf("6 nodes started and in sync in %v", time.Since(t0).Round(time.Millisecond))
	require.Len(t, cl.Addrs(), 6)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := cl.Client(t)

	// Slot is CLUSTER KEYSLOT.
	for _, k := range []string{"a", "topo-test:{conn-1}", "x{}y", "{}", "{a}{b}", "föö"} {
		want, err := c.ClusterKeySlot(ctx, k).Result()
		require.NoError(t, err)
		require.EqualValues(t, want, testenv.Slot(k), k)
	}

	const key = "topo-test:{failover}"
	p, err := c.MasterForKey(ctx, key)
	require.NoError(t, err)
	require.Equal(t, p.Options().Addr, cl.PrimaryFor(t, key))
	nodes := cl.NodesFor(t, key)
	require.Len(t, nodes, 2)
	require.Equal(t, []string{nodes[1]}, cl.ReplicasOf(t, nodes[0]))
	pipe := p.Pipeline()
	pipe.Set(ctx, key, "1", 0)
	acked := pipe.Do(ctx, "wait", 1, 2000)
	_, err = pipe.Exec(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, acked.Val())
	require.Equal(t, "1", cl.NodeClient(t, nodes[1]).Get(ctx, key).Val(), "the replica reads the key")

	start := time.Now()
	old, next := cl.KillPrimaryFor(t, key, 20*time.Second)
	t.Logf("failover %s -> %s in %v", old, next, time.Since(start).Round(time.Millisecond))
	require.Equal(t, nodes[0], old)
	require.Equal(t, nodes[1], next, "its replica is promoted")
	c2 := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), ContextTimeoutEnabled: true})
	defer c2.Close()
	require.Equal(t, "1", c2.Get(ctx, key).Val(), "a replicated write survives")

	cl.RestartNode(t, old)
	cl.WaitHealthy(t, 30*time.Second)
	t.Logf("old primary a synced replica %v after the kill", time.Since(start).Round(time.Millisecond))
	require.Equal(t, []string{next, old}, cl.NodesFor(t, key))
	require.Equal(t, "1", cl.NodeClient(t, old).Get(ctx, key).Val())
}
