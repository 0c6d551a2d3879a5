package redisstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

// TestOnCluster runs the replay cache and the secret-data store on a
// 3-primary Redis Cluster: every call is one key, so there is no CROSSSLOT
// error, and the keys of different tokens and sessions spread over the
// slots (no hash tag shared by all of them).
func TestOnCluster(t *testing.T) {
	cl := testenv.StartCluster(t)
	c := cl.Client(t)
	prefix := uniquePrefix()
	replay := newReplay(t, c, redisstore.Config{Prefix: prefix})
	store := newStore(t, c, testKey, redisstore.Config{Prefix: prefix})
	v := newVerifier(t, replay)
	signer := newSigner(t)
	const n = 100
	for i := range n {
		tok := sign(t, signer)
		_, err := v.Verify(bg(), tok)
		require.NoError(t, err, "fresh token %d", i)
		_, err = v.Verify(bg(), tok)
		require.ErrorIs(t, err, secretdata.ErrReplayed, "replayed token %d", i)

		session := "session-" + itoa(i)
		require.NoError(t, store.Put(bg(), testAudience, session, storedClaims(), time.Minute))
		got, err := store.Get(bg(), testAudience, session)
		require.NoError(t, err)
		require.Equal(t, storedClaims().SecretData, got.SecretData)
		if i%2 == 0 {
			require.NoError(t, store.Delete(bg(), testAudience, session))
			_, err = store.Get(bg(), testAudience, session)
			require.ErrorIs(t, err, delivery.ErrNotFound)
		}
	}
	nCross, first := cl.CrossSlotErrors()
	require.Zero(t, nCross, "CROSSSLOT errors (first: %v)", first)

	replaySlots := cl.Slots(t, prefix+":replay:*")
	storeSlots := cl.Slots(t, prefix+":sd:*")
	t.Logf("slot spread: %d replay keys on %d slots, %d secret-data keys on %d slots",
		total(replaySlots), len(replaySlots), total(storeSlots), len(storeSlots))
	require.Equal(t, n, total(replaySlots))
	require.Equal(t, n/2, total(storeSlots))
	require.Greater(t, len(replaySlots), n*9/10, "one slot per token, nearly")
	require.Greater(t, len(storeSlots), n/2*9/10, "one slot per session, nearly")
}

func total(slots map[int64]int) int {
	n := 0
	for _, k := range slots {
		n += k
	}
	return n
}
