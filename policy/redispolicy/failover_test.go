package redispolicy_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/policy/redispolicy"
)

// TestWritesAcrossFailover writes policies on a Sentinel-managed primary
// while it is cut off from its replicas for 300 ms (SIGSTOP and CLIENT
// KILL TYPE replica, as in the replay cache's failover test) and then
// killed, until writes succeed again on the promoted replica. Each of four
// writers owns one connection and replaces its document in a loop with
// compare-and-set, re-reading after every refused write.
//
// With WaitReplicas=1 every write that returned success is still there
// after the failover — on the new primary, on every replica, and in force
// on two instances following the store — and each node holds every
// connection whole (document, version and seq of one write). A write that
// was refused may or may not have landed; either way, all of it or none.
// With WaitReplicas=0 the writes acknowledged while the replicas were cut
// off are lost (counted and logged: a version read back, or named by a
// conflict, below one the writer had been given).
func TestWritesAcrossFailover(t *testing.T) {
	for _, wait := range []int{0, 1} {
		t.Run("WaitReplicas="+strconv.Itoa(wait), func(t *testing.T) { policyFailover(t, wait) })
	}
}

// writer is one connection's writer and what it was told.
type writer struct {
	id       string
	acked    []uint64          // versions reported as written, in order (lost ones removed)
	markers  map[uint64]string // the marker origin of each acknowledged version
	tried    map[string]bool   // every marker attempted
	v        uint64            // the version the next write names
	last     string            // the marker of the last acknowledged write
	n        int
	counts   map[string]int
	lostAcks int
}

func (w *writer) marker() string { return fmt.Sprintf("https://w%d.%s.example", w.n, w.id) }

// observe notes a stored version read back (or named by a conflict): one
// below acknowledged versions means those were lost.
func (w *writer) observe(have uint64) {
	for len(w.acked) > 0 && w.acked[len(w.acked)-1] > have {
		w.lostAcks++
		w.acked = w.acked[:len(w.acked)-1]
	}
	w.v = have
}

func policyFailover(t *testing.T, wait int) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := testenv.StartSentinel(t)
	prefix := uniquePrefix()
	b, err := redispolicy.New(redispolicy.Config{Client: s.Client(t), Prefix: prefix, WaitReplicas: wait})
	require.NoError(t, err)
	store := newStore(t, b)

	const nWriters = 4
	writers := make([]*writer, nWriters)
	for i := range writers {
		w := &writer{id: fmt.Sprintf("conn-%d", i), markers: map[uint64]string{}, tried: map[string]bool{}, counts: map[string]int{}}
		w.tried[w.marker()] = true
		v, err := store.Put(ctx, connPolicy(w.id, bankSite, w.marker()), 0)
		require.NoError(t, err)
		w.v, w.last, w.acked, w.markers[v] = v, w.marker(), []uint64{v}, w.marker()
		writers[i] = w
	}
	// Two instances following the store, each on its own failover client.
	ins := []*instance{
		newInstance(t, ctx, newStore(t, newBackend(t, s.Client(t), prefix)), time.Second),
		newInstance(t, ctx, newStore(t, newBackend(t, s.Client(t), prefix)), time.Second),
	}

	var (
		mu        sync.Mutex
		cutAt     time.Time
		killAt    time.Time
		windowOK  int // writes acknowledged while the replicas were cut off
		firstOK   time.Duration
		stopAfter = make(chan struct{})
	)
	var wg sync.WaitGroup
	for _, w := range writers {
		wg.Go(func() {
			// reread reads the stored version back and returns its marker.
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
				// A write is in the window, or after the kill, by when it
				// started (killAt is set once the primary is dead).
				mu.Lock()
				cut, killed := !cutAt.IsZero(), !killAt.IsZero()
				mu.Unlock()
				v, err := store.Put(ctx, connPolicy(w.id, bankSite, m), w.v)
				now := time.Now()
				mu.Lock()
				if err == nil && cut && !killed {
					windowOK++
				}
				if err == nil && killed && firstOK == 0 {
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
	old := s.Primary(t)
	replicas := s.Replicas(t)
	require.Len(t, replicas, 2)
	for _, r := range replicas {
		s.PauseNode(t, r)
	}
	require.Equal(t, 2, s.DropReplicaLinks(t))
	mu.Lock()
	cutAt = time.Now()
	mu.Unlock()
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, old, s.KillPrimary(t))
	mu.Lock()
	killAt = time.Now()
	mu.Unlock()
	for _, r := range replicas {
		s.ResumeNode(t, r)
	}
	next := s.WaitForNewPrimary(t, old, 20*time.Second)
	s.RestartNode(t, old)
	close(stopAfter) // each writer stops after its first write acknowledged after the kill
	wg.Wait()
	require.NoError(t, ctx.Err(), "writes resume within the test's minute")

	lost, counts := 0, map[string]int{}
	for _, w := range writers {
		lost += w.lostAcks
		for k, n := range w.counts {
			counts[k] += n
		}
	}
	t.Logf("WaitReplicas=%d: failover %s -> %s; writes: %v; acknowledged while the replicas were cut off: %d; acknowledged writes lost: %d; first write acknowledged %v after the kill",
		wait, old, next, counts, windowOK, lost, firstOK.Round(time.Millisecond))

	// Everywhere: the new primary and both replicas (the restarted node
	// among them) hold each connection whole and alike.
	s.WaitReplicasSynced(t, 2, 30*time.Second)
	primary := s.Primary(t)
	for _, w := range writers {
		got, v, err := store.Get(ctx, w.id)
		require.NoError(t, err, "%s parses and its MAC holds", w.id)
		require.Equal(t, w.acked[len(w.acked)-1], v, "%s: the last acknowledged write is the stored one", w.id)
		require.Equal(t, w.last, lastMarker(got.AllowedDomains), w.id)
		var want map[string]string
		for _, addr := range s.NodeAddrs() {
			h, err := s.NodeClient(t, addr).HGetAll(ctx, prefix+":{"+w.id+"}").Result()
			require.NoError(t, err)
			require.Equal(t, strconv.FormatUint(v, 10), h["version"], "%s on %s (primary %s)", w.id, addr, primary)
			require.Equal(t, h["version"], h["seq"], "%s on %s: version and seq of one write", w.id, addr)
			require.Contains(t, h["doc"], w.last, "%s on %s", w.id, addr)
			if want == nil {
				want = h
			}
			require.Equal(t, want, h, "%s: %s holds what the others hold", w.id, addr)
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
		require.Zero(t, windowOK, "nothing is acknowledged while no replica has it")
		// Every acknowledged version is still the history's: none was
		// taken back (observe removed none), and the stored one is the last.
		for _, w := range writers {
			require.Equal(t, w.counts["ok"]+1, len(w.acked), "%s: every acknowledged write kept", w.id)
		}
	}
}

// lastMarker is the writer's marker among a connection's domains (the
// last one; the first is bankSite).
func lastMarker(domains []string) string {
	if len(domains) == 0 {
		return ""
	}
	d := domains[len(domains)-1]
	if !strings.HasPrefix(d, "https://w") {
		return ""
	}
	return d
}
