package redispolicy_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/policy"
)

// propagation is how long a change may take to reach an instance in these
// tests: the goal is one second; the margin is for a loaded CI machine.
const propagation = 3 * time.Second

// TestTwoInstancesFollowOneStore: a write through the store changes both
// instances' decisions (a newly added origin's preflight gets 204 with
// Access-Control-Allow-Origin on each) and a removal refuses it on both.
// The resync interval is an hour, so only pub/sub can bring the change.
func TestTwoInstancesFollowOneStore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, prefix := sharedRedis(t)
	s := newStore(t, newBackend(t, c, prefix))
	v, err := s.Put(ctx, connPolicy(conn, bankSite), 0)
	require.NoError(t, err)
	a := newInstance(t, ctx, s, time.Hour)
	b := newInstance(t, ctx, newStore(t, newBackend(t, newClient(t, testenv.RedisURL(t)), prefix)), time.Hour)
	for _, in := range []*instance{a, b} {
		_, ok := in.preflight(conn, bankSite)
		require.True(t, ok)
		code, ok := in.preflight(conn, newSite)
		require.False(t, ok, "status %d", code)
	}
	time.Sleep(100 * time.Millisecond) // both subscribed: nothing below relies on the first catch-up

	p, v, err := s.Get(ctx, conn)
	require.NoError(t, err)
	p.AllowedDomains = append(p.AllowedDomains, newSite)
	v, err = s.Put(ctx, p, v)
	require.NoError(t, err)
	eventuallyAdmits(t, propagation, newSite, true, a, b)

	p.AllowedDomains = []string{bankSite}
	_, err = s.Put(ctx, p, v)
	require.NoError(t, err)
	eventuallyAdmits(t, propagation, newSite, false, a, b)
	eventuallyAdmits(t, propagation, bankSite, true, a, b)
}

// TestConcurrentWritesExactlyOneWins: writes from the same version, at
// once, from two clients: exactly one succeeds, the other gets a
// *policy.ConflictError naming the winner's version.
func TestConcurrentWritesExactlyOneWins(t *testing.T) {
	ctx := context.Background()
	c, prefix := sharedRedis(t)
	s1 := newStore(t, newBackend(t, c, prefix))
	s2 := newStore(t, newBackend(t, newClient(t, testenv.RedisURL(t)), prefix))
	v, err := s1.Put(ctx, connPolicy(conn, bankSite), 0)
	require.NoError(t, err)
	for round := range 20 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		vs := make([]uint64, 2)
		errs := make([]error, 2)
		for i, s := range []*policy.Store{s1, s2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				vs[i], errs[i] = s.Put(ctx, connPolicy(conn, bankSite, "https://w"+string(rune('a'+i))+".example"), v)
			}()
		}
		close(start)
		wg.Wait()
		won := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, won, "round %d: both writes succeeded", round)
				won = i
			}
		}
		require.NotEqual(t, -1, won, "round %d: no write succeeded: %v", round, errs)
		var ce *policy.ConflictError
		require.ErrorAs(t, errs[1-won], &ce, "round %d", round)
		require.Equal(t, policy.ConflictError{ID: conn, Want: v, Have: vs[won]}, *ce)
		require.Greater(t, vs[won], v)
		_, got, err := s1.Get(ctx, conn)
		require.NoError(t, err)
		require.Equal(t, vs[won], got)
		v = got
	}
}

// TestInvalidWriteChangesNothing: a write that fails validation leaves
// Redis byte for byte as it was, announces nothing, and leaves both
// instances' policies in force.
func TestInvalidWriteChangesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, prefix := sharedRedis(t)
	s := newStore(t, newBackend(t, c, prefix))
	v, err := s.Put(ctx, connPolicy(conn, bankSite), 0)
	require.NoError(t, err)
	a := newInstance(t, ctx, s, time.Hour)
	b := newInstance(t, ctx, s, time.Hour)
	before := rawContents(t, c, prefix+":*", true)
	va, vb := a.reg.Snapshot(), b.reg.Snapshot()

	sub := c.Subscribe(ctx, prefix+":changes")
	defer sub.Close()
	_, err = sub.Receive(ctx) // the subscription's confirmation
	require.NoError(t, err)

	bad := connPolicy(conn, "https://*.com", "null")
	bad.AllowedCookies = append(bad.AllowedCookies, "JSESSIONID")
	_, err = s.Put(ctx, bad, v)
	testenv.RequireProblems(t, err, policy.ErrInvalid, []string{
		"connections[0].allowed_domains[0]", "connections[0].allowed_domains[1]", "connections[0].allowed_cookies[1]",
	}, string(hmacSecret))
	short := connPolicy(conn, newSite)
	short.Keys[0].Secret = policy.SecretBytes([]byte("short"))
	_, err = s.Put(ctx, short, v)
	require.ErrorIs(t, err, policy.ErrInvalid)

	require.Equal(t, before, rawContents(t, c, prefix+":*", true), "an invalid write changes nothing in Redis")
	_, err = sub.ReceiveTimeout(ctx, 300*time.Millisecond)
	require.Error(t, err, "an invalid write announces nothing")
	require.Same(t, va, a.reg.Snapshot())
	require.Same(t, vb, b.reg.Snapshot())
}

// TestRedisStoppedThenBack: with Redis gone both instances keep answering
// with the last policy and writes fail as unavailable; when Redis is back
// writes work and both instances catch up (by resubscribing: the resync
// interval is an hour).
func TestRedisStoppedThenBack(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := testenv.StartPersistentRedis(t)
	c := newClient(t, srv.URL())
	s := newStore(t, newBackend(t, c, ""))
	v, err := s.Put(ctx, connPolicy(conn, bankSite), 0)
	require.NoError(t, err)
	a := newInstance(t, ctx, s, time.Hour)
	b := newInstance(t, ctx, newStore(t, newBackend(t, newClient(t, srv.URL()), "")), time.Hour)

	srv.Stop()
	_, err = s.Put(ctx, connPolicy(conn, bankSite, newSite), v)
	require.ErrorIs(t, err, policy.ErrUnavailable)
	require.NotErrorIs(t, err, policy.ErrConflict)
	_, err = s.Load(ctx)
	require.ErrorIs(t, err, policy.ErrUnavailable)
	for _, in := range []*instance{a, b} {
		require.ErrorIs(t, in.reg.Reload(ctx), policy.ErrUnavailable)
		code, ok := in.preflight(conn, bankSite)
		require.True(t, ok, "the last good policy stays in force (status %d)", code)
		_, ok = in.preflight(conn, evilSite)
		require.False(t, ok)
	}
	testenv.Eventually(t, propagation, "the broken subscription is noticed", func() error {
		if !a.logged("watching the store failed") {
			return errors.New("not yet")
		}
		return nil
	})

	srv.Start()
	require.NoError(t, untilAvailable(t, func() error {
		_, err := s.Put(ctx, connPolicy(conn, bankSite, newSite), v)
		return err
	}), "writes work again")
	eventuallyAdmits(t, 2*propagation, newSite, true, a, b)
}

// TestAOFRestartLosesNothing: a Redis with appendonly yes, appendfsync
// always, restarted: every document, version and tombstone written before
// is there after, and versions keep growing.
func TestAOFRestartLosesNothing(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartPersistentRedis(t)
	c := newClient(t, srv.URL())
	be := newBackend(t, c, "")
	s := newStore(t, be)
	vs := map[string]uint64{}
	for _, id := range []string{"a", "b", "c", "gone"} {
		v, err := s.Put(ctx, connPolicy(id, "https://"+id+".example"), 0)
		require.NoError(t, err)
		vs[id] = v
	}
	v, err := s.Put(ctx, connPolicy("b", "https://b2.example"), vs["b"])
	require.NoError(t, err)
	vs["b"] = v
	require.NoError(t, s.Delete(ctx, "gone", vs["gone"]))
	goneVersion := vs["gone"]
	delete(vs, "gone")
	before, err := be.List(ctx)
	require.NoError(t, err)
	rawBefore := rawContents(t, c, "*", false)

	srv.Stop()
	srv.Start()
	var after map[string]policy.Record
	require.NoError(t, untilAvailable(t, func() (err error) { after, err = be.List(ctx); return err }))
	require.Equal(t, before, after, "every document and version survives")
	require.Equal(t, rawBefore, rawContents(t, c, "*", false), "every key and field survives")
	require.Len(t, after, 3)
	for id, v := range vs {
		require.Equal(t, v, after[id].Version, id)
	}
	f, err := s.Load(ctx)
	require.NoError(t, err)
	require.Len(t, f.Connections, 3)
	v, err = s.Put(ctx, connPolicy("gone", "https://gone.example"), 0)
	require.NoError(t, err)
	require.Greater(t, v, goneVersion, "the tombstone's counter survived the restart")
}

// TestRawRedisNeverHoldsASecret: after writes of a secret given in memory
// and one given inline, nothing in Redis — key names, fields, values, the
// DUMP of every key — nor any change notice holds the secret in clear,
// base64, base64url or hex.
func TestRawRedisNeverHoldsASecret(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t) // a server of our own: every key in it is ours
	c := newClient(t, srv.URL())
	s := newStore(t, newBackend(t, c, ""))
	sub := c.Subscribe(ctx, "msgsec:policy:changes")
	defer sub.Close()
	_, err := sub.Receive(ctx)
	require.NoError(t, err)

	v, err := s.Put(ctx, connPolicy(conn, bankSite), 0)
	require.NoError(t, err)
	f, err := policy.Parse([]byte("connections:\n- id: inline-bank\n  allowed_domains: [https://www.uplusbank.com]\n"+
		"  token: {issuer: https://backend.example}\n  keys:\n  - id: k1\n    secret: {value: "+string(hmacSecret)+", insecure_inline: true}\n"), policy.LoadOptions{})
	require.NoError(t, err)
	_, err = s.Put(ctx, &f.Connections[0], 0)
	require.NoError(t, err)
	p, v, err := s.Get(ctx, conn)
	require.NoError(t, err)
	_, err = s.Put(ctx, p, v) // a read-modify-write re-seals what it read
	require.NoError(t, err)

	needles := []string{string(hmacSecret), base64.StdEncoding.EncodeToString(hmacSecret), base64.RawStdEncoding.EncodeToString(hmacSecret),
		base64.URLEncoding.EncodeToString(hmacSecret), base64.RawURLEncoding.EncodeToString(hmacSecret), hex.EncodeToString(hmacSecret),
		strings.ToUpper(hex.EncodeToString(hmacSecret)), string(sealingKey), hex.EncodeToString(sealingKey)}
	raw := rawContents(t, c, "*", true)
	require.Len(t, raw, 2)
	sealed := 0
	for k, fields := range raw {
		for _, n := range needles {
			require.NotContains(t, k, n)
		}
		for f, val := range fields {
			for _, n := range needles {
				require.NotContains(t, val, n, "%s %s", k, f)
			}
			if f == "doc" {
				require.Contains(t, val, "sealed: v1.")
				sealed++
			}
		}
	}
	require.Equal(t, 2, sealed)
	for range 3 {
		msg, err := sub.ReceiveMessage(ctx)
		require.NoError(t, err)
		require.Contains(t, []string{conn, "inline-bank"}, msg.Payload, "a notice names the connection only")
	}
}

// TestHandWrittenDocumentsAreRefused: a document written into Redis by
// hand that does not parse (or is too large to read) is refused like a bad
// file: the load fails as invalid (not as an outage), the failure is
// logged, and the previous policy stays.
func TestHandWrittenDocumentsAreRefused(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, prefix := sharedRedis(t)
	s := newStore(t, newBackend(t, c, prefix))
	v, err := s.Put(ctx, connPolicy(conn, bankSite), 0)
	require.NoError(t, err)
	in := newInstance(t, ctx, s, time.Hour)
	key := prefix + ":{" + conn + "}"
	for name, doc := range map[string]string{
		"not yaml":      "connections: [",
		"unknown field": "connections:\n- id: retail-bank\n  allowed_domainz: [https://evil.example]\n",
		"inline secret": "connections:\n- id: retail-bank\n  allowed_domains: [https://evil.example]\n  token: {issuer: https://b.example}\n  keys:\n  - id: k1\n    secret: {value: S3CR3T-hand-written-0123456789-abcdef}\n",
		"too large":     "connections: []\n#" + strings.Repeat("x", 1<<20),
	} {
		t.Run(name, func(t *testing.T) {
			before := in.reg.Snapshot()
			v++
			require.NoError(t, c.HSet(ctx, key, "doc", doc, "version", v).Err())
			require.NoError(t, c.Publish(ctx, prefix+":changes", conn).Err())
			_, err := s.Load(ctx)
			require.ErrorIs(t, err, policy.ErrInvalid)
			require.NotErrorIs(t, err, policy.ErrUnavailable, "a bad document is not an outage")
			require.NotContains(t, err.Error(), "S3CR3T")
			testenv.Eventually(t, propagation, "the failed reload is logged", func() error {
				if !in.logged("reload from the store failed") {
					return errors.New("not yet")
				}
				return nil
			})
			require.Same(t, before, in.reg.Snapshot(), "the previous policy stays")
			_, ok := in.preflight(conn, bankSite)
			require.True(t, ok)
			_, ok = in.preflight(conn, "https://evil.example")
			require.False(t, ok)
		})
	}
}

// TestWritesUnderLoad: 100 writes alternately add and remove an origin
// while requests run against two instances: no 5xx, and every preflight's
// answer is the decision of a policy its instance had in force while the
// request ran (when it started, when it ended, or in between, when
// writes came faster than the request). An origin the writes never touch is
// always admitted, and one never listed is always refused.
func TestWritesUnderLoad(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, prefix := sharedRedis(t)
	s := newStore(t, newBackend(t, c, prefix))
	v, err := s.Put(ctx, connPolicy(conn, bankSite), 0)
	require.NoError(t, err)
	ins := []*instance{newInstance(t, ctx, s, time.Hour), newInstance(t, ctx, s, time.Hour)}

	var requests, fivexx, wrong atomic.Int64
	var wrongMu sync.Mutex
	var wrongs []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			deadline := time.Now().Add(time.Minute) // bounded, whatever happens
			for time.Now().Before(deadline) {
				select {
				case <-stop:
					return
				default:
				}
				in := ins[rng.IntN(len(ins))]
				o := []string{newSite, newSite, bankSite, evilSite}[rng.IntN(4)]
				// OnReload records each snapshot just after it is swapped
				// in; these record the ones a request may see before that.
				from := in.current()
				code, got := in.preflight(conn, o)
				to := in.current()
				requests.Add(1)
				if code >= 500 {
					fivexx.Add(1)
				}
				// The answer is that of a snapshot in force while the
				// request ran: the one when it started, the one when it
				// ended, or one in between.
				admit, refuse := in.decisions(conn, o, from, to)
				ok := got && admit || !got && refuse
				switch o {
				case bankSite:
					ok = ok && got
				case evilSite:
					ok = ok && !got
				}
				if !ok {
					wrong.Add(1)
					wrongMu.Lock()
					wrongs = append(wrongs, o)
					wrongMu.Unlock()
				}
			}
		}()
	}
	p, v, err := s.Get(ctx, conn)
	require.NoError(t, err)
	for i := range 100 {
		if i%2 == 0 {
			p.AllowedDomains = []string{bankSite, newSite}
		} else {
			p.AllowedDomains = []string{bankSite}
		}
		v, err = s.Put(ctx, p, v)
		require.NoError(t, err)
		time.Sleep(5 * time.Millisecond)
	}
	// The last write removed newSite: every instance ends there.
	eventuallyAdmits(t, propagation, newSite, false, ins...)
	close(stop)
	wg.Wait()
	t.Logf("%d requests, %d 5xx, %d wrong decisions", requests.Load(), fivexx.Load(), wrong.Load())
	require.Greater(t, requests.Load(), int64(200))
	require.Zero(t, fivexx.Load())
	require.Zero(t, wrong.Load(), "wrong decisions for %v", wrongs)
	require.Equal(t, http.StatusNoContent, func() int { code, _ := ins[0].preflight(conn, bankSite); return code }())
}
