package redispolicy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/policy/redispolicy"
)

// TestStoreOnCluster runs the policy store on a 3-primary Redis Cluster:
// writes (compare-and-set, one script on one key), conflicts, List over
// every primary, and change notices (Watch) all work without a CROSSSLOT
// error, and connections spread over the slots (each connection's hash
// is its own hash tag).
func TestStoreOnCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := testenv.StartCluster(t)
	prefix := uniquePrefix()
	b := newBackend(t, cl.Client(t), prefix)
	s := newStore(t, b)

	changed := make(chan struct{}, 100)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan error, 1)
	go func() {
		watchDone <- newBackend(t, cl.Client(t), prefix).Watch(watchCtx, func() {
			select {
			case changed <- struct{}{}:
			default:
			}
		})
	}()
	defer func() { stopWatch(); require.NoError(t, <-watchDone) }()
	waitChanged := func(what string) {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(10 * time.Second):
			require.FailNow(t, "no change notice: "+what)
		}
	}
	waitChanged("the subscription's first call")

	const n = 30
	versions := map[string]uint64{}
	for i := range n {
		id := fmt.Sprintf("conn-%02d", i)
		v, err := s.Put(ctx, connPolicy(id, bankSite), 0)
		require.NoError(t, err, id)
		versions[id] = v
	}
	waitChanged("after the creations")

	// A stale write is a conflict; a current one wins.
	_, err := s.Put(ctx, connPolicy("conn-00", newSite), 0)
	var ce *policy.ConflictError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, versions["conn-00"], ce.Have)
	for len(changed) > 0 {
		<-changed
	}
	v, err := s.Put(ctx, connPolicy("conn-00", bankSite, newSite), versions["conn-00"])
	require.NoError(t, err)
	require.Greater(t, v, versions["conn-00"])
	waitChanged("after an update")

	recs, err := b.List(ctx)
	require.NoError(t, err)
	require.Len(t, recs, n, "List reads every primary")
	require.Equal(t, v, recs["conn-00"].Version)

	// WaitReplicas on a Cluster: the script and WAIT go to the key's
	// primary in one pipeline. These primaries have no replica, so the
	// write is refused as unavailable, and has landed (re-read).
	waiting, err := redispolicy.New(redispolicy.Config{Client: cl.Client(t), Prefix: prefix, WaitReplicas: 1, WaitTimeout: 10 * time.Millisecond})
	require.NoError(t, err)
	ws := newStore(t, waiting)
	for i := range 5 {
		id := fmt.Sprintf("waited-%d", i)
		_, err := ws.Put(ctx, connPolicy(id, bankSite), 0)
		require.ErrorIs(t, err, policy.ErrUnavailable, id)
		require.ErrorContains(t, err, "reached 0 of 1 replicas", id)
		_, v, err := ws.Get(ctx, id)
		require.NoError(t, err, "%s landed on its primary nonetheless", id)
		require.Positive(t, v)
	}

	nCross, first := cl.CrossSlotErrors()
	require.Zero(t, nCross, "CROSSSLOT errors (first: %v)", first)
	slots := cl.Slots(t, prefix+":{*}")
	t.Logf("slot spread: %d connection hashes on %d slots", n+5, len(slots))
	require.Greater(t, len(slots), (n+5)*8/10)
}
