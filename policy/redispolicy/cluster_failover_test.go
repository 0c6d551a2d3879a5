package redispolicy_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/policy/redispolicy"
)

// TestWritesAcrossClusterFailover is TestWritesAcrossFailover on a Redis
// Cluster of three primaries with one replica each (cluster-node-timeout
// 1 s): six writers, one connection each — three on the slots of the
// primary that will be killed, three on the two others — replace their
// documents in a loop with compare-and-set, re-reading after every
// refused write. The victim's replica is cut off for 300 ms (SIGSTOP and
// CLIENT KILL TYPE replica), then the victim is SIGKILLed, its replica
// resumed and promoted, and the victim restarted (it rejoins as the new
// primary's replica), until every writer has had a write acknowledged
// after the kill.
//
// With WaitReplicas=1 every write that returned success is still there
// after the failover — read through a fresh ClusterClient, on both nodes
// serving its slot, and in force on two instances following the store —
// and each node holds every connection whole (document, version and seq
// of one write). A refused write may or may not have landed; either way,
// all of it or none. With WaitReplicas=0 the writes acknowledged by the
// victim while its replica was cut off are lost (counted and logged).
func TestWritesAcrossClusterFailover(t *testing.T) {
	for _, wait := range []int{0, 1} {
		t.Run("WaitReplicas="+strconv.Itoa(wait), func(t *testing.T) { clusterPolicyFailover(t, wait) })
	}
}

func clusterPolicyFailover(t *testing.T, wait int) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cl := testenv.StartClusterWith(t, testenv.ClusterOptions{ReplicasPerPrimary: 1})
	prefix := uniquePrefix()
	key := func(id string) string { return prefix + ":{" + id + "}" }
	b, err := redispolicy.New(redispolicy.Config{Client: cl.Client(t), Prefix: prefix, WaitReplicas: wait})
	require.NoError(t, err)
	store := newStore(t, b)

	// Three connections on the victim's slots, three on the others' (at
	// least one on each).
	victim := cl.PrimaryFor(t, key("conn-0"))
	slots, err := cl.Client(t).ClusterSlots(ctx).Result()
	require.NoError(t, err)
	primaryOf := func(id string) string {
		s := testenv.Slot(key(id))
		for _, r := range slots {
			if int(r.Start) <= s && s <= int(r.End) {
				return r.Nodes[0].Addr
			}
		}
		return ""
	}
	var ids []string
	onVictim, others := 0, map[string]int{}
	for i := 0; len(ids) < 6 && i < 1000; i++ {
		id := fmt.Sprintf("conn-%d", i)
		switch p := primaryOf(id); {
		case p == victim && onVictim < 3:
			onVictim++
		case p != victim && len(others) < 2 && others[p] == 0, p != victim && len(others) == 2 && len(ids)-onVictim < 3:
			others[p]++
		default:
			continue
		}
		ids = append(ids, id)
	}
	require.Len(t, ids, 6)
	require.Equal(t, 3, onVictim)
	require.Len(t, others, 2)

	writers := make([]*writer, len(ids))
	isVictim := map[*writer]bool{}
	for i, id := range ids {
		w := &writer{id: id, markers: map[uint64]string{}, tried: map[string]bool{}, counts: map[string]int{}}
		w.tried[w.marker()] = true
		v, err := store.Put(ctx, connPolicy(w.id, bankSite, w.marker()), 0)
		require.NoError(t, err)
		w.v, w.last, w.acked, w.markers[v] = v, w.marker(), []uint64{v}, w.marker()
		writers[i] = w
		isVictim[w] = primaryOf(id) == victim
	}
	// Two instances following the store, each on its own ClusterClient.
	ins := []*instance{
		newInstance(t, ctx, newStore(t, newBackend(t, cl.Client(t), prefix)), time.Second),
		newInstance(t, ctx, newStore(t, newBackend(t, cl.Client(t), prefix)), time.Second),
	}

	var (
		mu        sync.Mutex
		cutAt     time.Time
		killAt    time.Time
		windowOK  int // writes on the victim acknowledged while its replica was cut off
		firstOK   time.Duration
		stopAfter = make(chan struct{})
	)
	var wg sync.WaitGroup
	for _, w := range writers {
		wg.Go(func() {
			reread := func() string {
				for ctx.Err() == nil {
					got, v, err := store.Get(ctx, w.id)
					if err == nil {
						w.observe(v)
						if !w.tried[lastMarker(got.AllowedDomains)] {
							t.Errorf("%s: version %d holds a document no write sent: %v", w.id, v, got.AllowedDomains)
						}
						return lastMarker(got.AllowedDomains)
					}
					if !errors.Is(err, policy.ErrUnavailable) {
						t.Errorf("%s: re-read: %v", w.id, err)
						return ""
					}
					time.Sleep(20 * time.Millisecond)
				}
				return ""
			}
			for ctx.Err() == nil {
				select {
				case <-stopAfter:
					if w.counts["ok after the kill"] > 0 {
						return
					}
				default:
				}
				w.n++
				m := w.marker()
				w.tried[m] = true
				mu.Lock()
				cut, killed := !cutAt.IsZero(), !killAt.IsZero()
				mu.Unlock()
				v, err := store.Put(ctx, connPolicy(w.id, bankSite, m), w.v)
				now := time.Now()
				mu.Lock()
				if err == nil && cut && !killed && isVictim[w] {
					windowOK++
				}
				if err == nil && killed && isVictim[w] && firstOK == 0 {
					firstOK = now.Sub(killAt)
				}
				mu.Unlock()
				var ce *policy.ConflictError
				switch {
				case err == nil:
					w.acked = append(w.acked, v)
					w.markers[v], w.v, w.last = m, v, m
					w.counts["ok"]++
					if killed {
						w.counts["ok after the kill"]++
					}
				case errors.As(err, &ce):
					w.counts["conflict"]++
					w.observe(ce.Have)
					reread()
				case errors.Is(err, policy.ErrUnavailable):
					if reread() == m {
						w.counts["refused, landed"]++ // whole, as the checks below see
					} else {
						w.counts["refused, not applied"]++
					}
				default:
					t.Errorf("%s: %v", w.id, err)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}

	time.Sleep(500 * time.Millisecond)
	old := cl.PrimaryFor(t, key(ids[0]))
	require.Equal(t, victim, old)
	replicas := cl.ReplicasOf(t, old)
	require.Len(t, replicas, 1)
	cl.PauseNode(t, replicas[0])
	require.Equal(t, 1, cl.DropReplicaLinks(t, old))
	mu.Lock()
	cutAt = time.Now()
	mu.Unlock()
	time.Sleep(300 * time.Millisecond)
	cl.KillNode(t, old)
	mu.Lock()
	killAt = time.Now()
	mu.Unlock()
	cl.ResumeNode(t, replicas[0])
	next := cl.WaitForPromotion(t, key(ids[0]), old, 20*time.Second)
	promotedIn := time.Since(killAt)
	cl.RestartNode(t, old)
	close(stopAfter) // each writer stops after its first write acknowledged after the kill
	wg.Wait()
	require.NoError(t, ctx.Err(), "writes resume within the test's 45 s")

	lost, counts, victimCounts := 0, map[string]int{}, map[string]int{}
	for _, w := range writers {
		lost += w.lostAcks
		for k, n := range w.counts {
			counts[k] += n
			if isVictim[w] {
				victimCounts[k] += n
			}
		}
	}
	t.Logf("WaitReplicas=%d: failover %s -> %s in %v; writes: %v (on the killed primary's slots: %v); acknowledged by it while its replica was cut off: %d; acknowledged writes lost: %d; first write on its slots acknowledged %v after the kill",
		wait, old, next, promotedIn.Round(time.Millisecond), counts, victimCounts, windowOK, lost, firstOK.Round(time.Millisecond))

	// Everywhere: through a fresh ClusterClient, and on both nodes serving
	// each connection's slot (the restarted node among them), whole and
	// alike.
	cl.WaitHealthy(t, 30*time.Second)
	fresh := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = fresh.Close() })
	freshStore := newStore(t, newBackend(t, fresh, prefix))
	for _, w := range writers {
		got, v, err := freshStore.Get(ctx, w.id)
		require.NoError(t, err, "%s parses and its MAC holds", w.id)
		require.Equal(t, w.acked[len(w.acked)-1], v, "%s: the last acknowledged write is the stored one", w.id)
		require.Equal(t, w.last, lastMarker(got.AllowedDomains), w.id)
		nodes := cl.NodesFor(t, key(w.id))
		require.Len(t, nodes, 2, w.id)
		var want map[string]string
		for _, addr := range nodes {
			h, err := cl.NodeClient(t, addr).HGetAll(ctx, key(w.id)).Result()
			require.NoError(t, err)
			require.Equal(t, strconv.FormatUint(v, 10), h["version"], "%s on %s (primary %s)", w.id, addr, nodes[0])
			require.Equal(t, h["version"], h["seq"], "%s on %s: version and seq of one write", w.id, addr)
			require.Contains(t, h["doc"], w.last, "%s on %s", w.id, addr)
			if want == nil {
				want = h
			}
			require.Equal(t, want, h, "%s: %s holds what %s holds", w.id, addr, nodes[0])
		}
	}
	// In force on every instance following the store.
	for i, in := range ins {
		for _, w := range writers {
			testenv.Eventually(t, 10*time.Second, fmt.Sprintf("instance %d enforces %s's last write", i, w.id), func() error {
				if !in.allows(w.id, w.last) {
					return errors.New("not yet")
				}
				return nil
			})
		}
	}
	if wait > 0 {
		require.Zero(t, lost, "with WaitReplicas=%d no acknowledged write is lost", wait)
		require.Zero(t, windowOK, "nothing is acknowledged on the victim while no replica has it")
		for _, w := range writers {
			require.Equal(t, w.counts["ok"]+1, len(w.acked), "%s: every acknowledged write kept", w.id)
		}
	}
}
