package redisstore_test

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

// TestRedisStoppedFailsClosedThenRecovers stops a redis-server of the
// test's own mid-test: every operation fails closed with the Unavailable
// sentinels, within the Timeout; when the server is back on the same port,
// the very same objects work again without being rebuilt.
func TestRedisStoppedFailsClosedThenRecovers(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := newClient(t, srv.URL())
	const timeout = 200 * time.Millisecond
	replay := newReplay(t, c, redisstore.Config{Timeout: timeout})
	store := newStore(t, c, testKey, redisstore.Config{Timeout: timeout})
	v := newVerifier(t, replay)
	signer := newSigner(t)

	// With a short timeout a loaded machine can make a healthy call time
	// out; such a call is retried (it answered "unavailable", never a
	// wrong answer), every other answer is checked as it comes.
	before := sign(t, signer)
	require.NoError(t, untilAvailable(t, func() error { _, err := v.Verify(bg(), before); return err }), "before the outage")
	require.NoError(t, untilAvailable(t, func() error { return store.Put(bg(), connA, sessA, storedClaims(), time.Minute) }), "before the outage")

	srv.Stop()
	down := sign(t, signer)
	for _, tc := range []struct {
		name string
		op   func() error
		want error
	}{
		{"verify", func() error { _, err := v.Verify(bg(), down); return err }, secretdata.ErrReplayCheckUnavailable},
		{"record", func() error { return replay.Record(bg(), testIssuer, "j-down", time.Now().Add(time.Minute)) }, secretdata.ErrReplayCheckUnavailable},
		{"put", func() error { return store.Put(bg(), connA, sessB, storedClaims(), time.Minute) }, delivery.ErrStoreUnavailable},
		{"get", func() error { _, err := store.Get(bg(), connA, sessA); return err }, delivery.ErrStoreUnavailable},
		{"delete", func() error { return store.Delete(bg(), connA, sessA) }, delivery.ErrStoreUnavailable},
	} {
		t.Run("down/"+tc.name, func(t *testing.T) {
			start := time.Now()
			err := tc.op()
			require.ErrorIs(t, err, tc.want, tc.name)
			require.NotErrorIs(t, err, secretdata.ErrReplayed, "an outage reported as an answer")
			require.NotErrorIs(t, err, delivery.ErrNotFound, "an outage reported as an answer")
			require.LessOrEqual(t, time.Since(start), timeout+time.Second, "with a %v timeout", timeout)
		})
	}

	srv.Start()
	// Nothing was rebuilt: the same verifier and store answer again. The
	// token refused during the outage was never recorded, so it passes now.
	testenv.Eventually(t, 10*time.Second, "verify after restart", func() error {
		_, err := v.Verify(bg(), down)
		return err
	})
	require.ErrorIs(t, untilAvailable(t, func() error { _, err := v.Verify(bg(), down); return err }), secretdata.ErrReplayed, "replay after recovery")
	require.NoError(t, untilAvailable(t, func() error { return store.Put(bg(), connA, sessB, storedClaims(), time.Minute) }), "put after restart")
	require.NoError(t, untilAvailable(t, func() error { _, err := store.Get(bg(), connA, sessB); return err }), "get after restart")
	// Redis ran without persistence: what it held before its own restart
	// is gone (see the package doc), and that is reported as not found.
	require.ErrorIs(t, untilAvailable(t, func() error { _, err := store.Get(bg(), connA, sessA); return err }), delivery.ErrNotFound,
		"pre-restart data on a non-persistent redis")
}

// TestChatServerRestartLosesNothing drops every object of a "chat server"
// (client, store, replay cache) and builds new ones on the same Redis: the
// secret data and the replay entries are all still there.
func TestChatServerRestartLosesNothing(t *testing.T) {
	srv := testenv.StartRedis(t)
	signer := newSigner(t)
	tokens := []string{sign(t, signer), sign(t, signer), sign(t, signer)}
	sessions := []string{"s-1", "s-2", "s-3"}

	before := newClient(t, srv.URL())
	v := newVerifier(t, newReplay(t, before, redisstore.Config{}))
	store := newStore(t, before, testKey, redisstore.Config{})
	for i, tok := range tokens {
		claims, err := v.Verify(bg(), tok)
		require.NoError(t, err)
		require.NoError(t, store.Put(bg(), connA, sessions[i], claims, time.Minute))
	}
	require.NoError(t, before.Close())

	after := newClient(t, srv.URL())
	v2 := newVerifier(t, newReplay(t, after, redisstore.Config{}))
	store2 := newStore(t, after, testKey, redisstore.Config{})
	for i, tok := range tokens {
		got, err := store2.Get(bg(), connA, sessions[i])
		require.NoError(t, err, "session %s after restart: %v", sessions[i], err)
		id, _ := got.CustomerID()
		require.Equal(t, "C-1001-secret-customer", id, "session %s", sessions[i])
		_, err = v2.Verify(bg(), tok)
		require.ErrorIs(t, err, secretdata.ErrReplayed)
	}
}

// TestUnresponsiveRedisIsBounded points the client at a listener that
// accepts connections and never answers (a hung Redis): calls give up at
// the Timeout, not at go-redis's own 3-second read timeout.
func TestUnresponsiveRedisIsBounded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = conn.Close() })
		}
	}()
	c := newClient(t, "redis://"+l.Addr().String()+"/0")
	const timeout = 100 * time.Millisecond
	replay := newReplay(t, c, redisstore.Config{Timeout: timeout})
	store := newStore(t, c, testKey, redisstore.Config{Timeout: timeout})
	for _, tc := range []struct {
		name string
		op   func() error
		want error
	}{
		{"record", func() error { return replay.Record(bg(), testIssuer, "j", time.Now().Add(time.Minute)) }, secretdata.ErrReplayCheckUnavailable},
		{"put", func() error { return store.Put(bg(), connA, sessA, storedClaims(), time.Minute) }, delivery.ErrStoreUnavailable},
		{"get", func() error { _, err := store.Get(bg(), connA, sessA); return err }, delivery.ErrStoreUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			require.ErrorIs(t, tc.op(), tc.want, tc.name)
			require.LessOrEqual(t, time.Since(start), timeout+500*time.Millisecond, "with a %v timeout", timeout)
		})
	}
}
