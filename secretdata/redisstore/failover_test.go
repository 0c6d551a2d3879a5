package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

// TestReplayAcrossFailover kills the Sentinel-managed primary under a load
// of fresh and replayed tokens, with replica acknowledgement off
// (WaitReplicas 0) and on (1, and 2: every replica), and counts what the
// failover did to replay protection.
//
// Two chat-server instances, A and B, each have their own failover client
// and ReplayCache on the master set. Every fresh token is verified once on
// A and replayed a moment later on B; once service is back, every token is
// replayed on B once more (the sweep). A replay is accepted exactly when
// the entry of a token accepted earlier was lost.
//
// On loopback a replica is a few microseconds behind, so a bare SIGKILL of
// the primary loses at most the writes in flight. To expose what
// asynchronous replication allows — writes the primary acknowledged but
// never sent — both replicas are paused (SIGSTOP) and the primary's links
// to them closed (CLIENT KILL TYPE replica: without it the kernel would
// keep buffering the replication stream into the paused replicas'
// sockets, and they would apply it when resumed) for 300 ms, as a
// partition between the primary and its replicas would; then the primary
// is killed and the replicas resumed. Every token accepted in those 300 ms
// is on the dead primary only.
//
// With the option on, such a token is refused with
// ErrReplayCheckUnavailable (the middleware's 503) and no replay is ever
// accepted; with it off, the tokens accepted in the window are accepted
// again by the sweep. In every case service resumes by itself once a
// replica is promoted (the killed node is restarted as a supervisor
// would, and rejoins as a replica: WaitReplicas 2 needs it back).
func TestReplayAcrossFailover(t *testing.T) {
	for _, tc := range []struct {
		name string
		wait int
	}{
		{"WaitReplicas=0", 0},
		{"WaitReplicas=1", 1},
		{"WaitReplicas=2", 2},
	} {
		t.Run(tc.name, func(t *testing.T) { replayFailover(t, tc.wait) })
	}
}

// outcome is how one presentation of a token was decided.
type outcome int

const (
	acceptedFresh    outcome = iota // the token's first presentation, accepted: correct
	acceptedAfter503                // accepted after only 503s before: correct (a first acceptance)
	refusedReplay                   // refused as replayed after an acceptance: correct
	refusedAfter503                 // refused as replayed, never accepted, after a 503: its entry survived; correct
	unavailable                     // ErrReplayCheckUnavailable: the 503
	replayAccepted                  // accepted a second time: the replay window
	freshRefused                    // first presentation refused as replayed: wrong
	otherError                      // any other error: wrong
	nOutcomes
)

var outcomeNames = [nOutcomes]string{
	"accepted fresh", "accepted after a 503", "replay refused", "refused after a 503", "503",
	"REPLAY ACCEPTED", "fresh refused as replayed", "other error",
}

// token is one token and what happened to it so far. One goroutine
// presents it at a time.
type token struct {
	raw           string
	presentations int
	acceptances   int
}

// present verifies tok on v and classifies the answer.
func (tok *token) present(ctx context.Context, v *secretdata.Verifier) (outcome, error) {
	_, err := v.Verify(ctx, tok.raw)
	first := tok.presentations == 0
	tok.presentations++
	switch {
	case err == nil:
		tok.acceptances++
		switch {
		case tok.acceptances > 1:
			return replayAccepted, nil
		case first:
			return acceptedFresh, nil
		}
		return acceptedAfter503, nil
	case errors.Is(err, secretdata.ErrReplayCheckUnavailable):
		return unavailable, nil
	case errors.Is(err, secretdata.ErrReplayed):
		switch {
		case tok.acceptances > 0:
			return refusedReplay, nil
		case first:
			return freshRefused, err
		}
		return refusedAfter503, nil
	}
	return otherError, err
}

// event is one decision: when its request started and ended.
type event struct {
	start, at time.Time
	fresh     bool
	o         outcome
}

// recorder collects every decision, and tells when service is clean again.
type recorder struct {
	mu        sync.Mutex
	events    []event
	errs      []error
	killedAt  time.Time // zero until the primary is killed
	cleanFrom time.Time // the first fresh acceptance after the last 503 since the kill
}

func (r *recorder) add(start time.Time, fresh bool, o outcome, err error) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event{start: start, at: now, fresh: fresh, o: o})
	if err != nil && len(r.errs) < 5 {
		r.errs = append(r.errs, err)
	}
	if r.killedAt.IsZero() || start.Before(r.killedAt) {
		return
	}
	switch {
	case o == unavailable:
		r.cleanFrom = time.Time{}
	case fresh && (o == acceptedFresh) && r.cleanFrom.IsZero():
		r.cleanFrom = now
	}
}

func (r *recorder) kill(at time.Time) {
	r.mu.Lock()
	r.killedAt = at
	r.mu.Unlock()
}

// cleanFor reports whether the last d have had fresh acceptances and no 503.
func (r *recorder) cleanFor(d time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.cleanFrom.IsZero() && time.Since(r.cleanFrom) >= d
}

// figures summarises the events: counts per outcome, and the time from
// the kill to the first fresh acceptance and to the start of the first
// 1 s with fresh acceptances and no 503.
type figures struct {
	load, sweep          [nOutcomes]int
	firstOK, clean       time.Duration
	windowAccepted       int // fresh tokens accepted while the replicas were cut off
	requests, during503s int
	steadyP50, steadyP99 time.Duration // fresh acceptances before the cut
}

func (f figures) correct() int {
	n := 0
	for _, o := range []outcome{acceptedFresh, acceptedAfter503, refusedReplay, refusedAfter503} {
		n += f.load[o] + f.sweep[o]
	}
	return n
}

func replayFailover(t *testing.T, wait int) {
	ctx := context.Background()
	s := testenv.StartSentinel(t)
	signer := newSigner(t)
	// Instances A and B: a failover client, a ReplayCache and a Verifier
	// each, on the same master set.
	instance := func() *secretdata.Verifier {
		return newVerifier(t, newReplay(t, s.Client(t), redisstore.Config{WaitReplicas: wait}))
	}
	a, b := instance(), instance()

	rec := &recorder{}
	var (
		mu     sync.Mutex
		tokens []*token
	)
	loadCtx, stop := context.WithCancel(ctx)
	defer stop()
	const workers = 8
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for loadCtx.Err() == nil {
				raw, err := signer.Sign(testClaims())
				if err != nil {
					rec.add(time.Now(), true, otherError, err)
					return
				}
				tok := &token{raw: raw}
				mu.Lock()
				tokens = append(tokens, tok)
				mu.Unlock()
				start := time.Now()
				o, err := tok.present(ctx, a) // fresh, on instance A
				rec.add(start, true, o, err)
				time.Sleep(3 * time.Millisecond) // a moment later …
				start = time.Now()
				o, err = tok.present(ctx, b) // … the same token on instance B
				rec.add(start, false, o, err)
				if o == unavailable {
					time.Sleep(5 * time.Millisecond) // as a client backs off
				}
			}
		})
	}

	// Steady state first.
	time.Sleep(500 * time.Millisecond)
	old := s.Primary(t)
	replicas := s.Replicas(t)
	require.Len(t, replicas, 2)

	// Cut the replicas off for 300 ms, then crash the primary.
	for _, r := range replicas {
		s.PauseNode(t, r)
	}
	require.Equal(t, 2, s.DropReplicaLinks(t), "both replication links closed")
	cutAt := time.Now()
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, old, s.KillPrimary(t))
	killAt := time.Now() // the primary is dead from here on
	rec.kill(killAt)
	for _, r := range replicas {
		s.ResumeNode(t, r)
	}
	next := s.WaitForNewPrimary(t, old, 20*time.Second)
	promoted := time.Since(killAt)
	s.RestartNode(t, old) // a supervisor restarts the crashed node: it rejoins as a replica

	// Service resumes by itself: the load runs until it has had 1 s of
	// fresh acceptances without a 503, at most 25 s after the kill.
	deadline := killAt.Add(25 * time.Second)
	for !rec.cleanFor(time.Second) {
		if time.Now().After(deadline) {
			stop()
			wg.Wait()
			f := summarise(rec, cutAt, killAt)
			require.FailNowf(t, "service did not resume", "no clean second within 25 s of the kill (first fresh acceptance after %v); counts %v; errors %v",
				f.firstOK, f.load, rec.errs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	wg.Wait()

	// The sweep: every token once more on B, now that service is back. A
	// token accepted before is accepted again only if its entry was lost.
	sweep := make([]event, 0, len(tokens))
	for _, tok := range tokens {
		o, err := presentUntilAvailable(ctx, tok, b)
		require.NotEqual(t, unavailable, o, "the sweep runs once service is back")
		sweep = append(sweep, event{o: o})
		if err != nil && o == otherError {
			t.Errorf("sweep: %v", err)
		}
	}

	f := summarise(rec, cutAt, killAt)
	for _, e := range sweep {
		f.sweep[e.o]++
	}
	replays := f.load[replayAccepted] + f.sweep[replayAccepted]
	t.Logf("WaitReplicas=%d: %d tokens, %d requests during the load and %d in the sweep; failover %s -> %s, promoted %v after the kill",
		wait, len(tokens), f.requests, len(sweep), old, next, promoted.Round(time.Millisecond))
	t.Logf("  replays accepted: %d (load %d, sweep %d); 503s: %d (%d of them from the cut to recovery); correct decisions: %d; wrong: %d fresh refused as replayed, %d other errors",
		replays, f.load[replayAccepted], f.sweep[replayAccepted], f.load[unavailable], f.during503s, f.correct(),
		f.load[freshRefused]+f.sweep[freshRefused], f.load[otherError]+f.sweep[otherError])
	t.Logf("  fresh tokens accepted while the replicas were cut off (300 ms): %d; before the cut a fresh Verify took p50 %v, p99 %v",
		f.windowAccepted, f.steadyP50.Round(time.Microsecond), f.steadyP99.Round(time.Microsecond))
	t.Logf("  recovery: first fresh acceptance %v after the kill, 1 s of clean operation from %v after the kill",
		f.firstOK.Round(time.Millisecond), f.clean.Round(time.Millisecond))
	t.Logf("  load: %s", formatCounts(f.load))
	t.Logf("  sweep: %s", formatCounts(f.sweep))

	require.Zero(t, f.load[otherError]+f.sweep[otherError], "only verdicts and 503s: %v", rec.errs)
	require.LessOrEqual(t, f.firstOK, 15*time.Second, "service resumes by itself after promotion")
	if wait > 0 {
		require.Zero(t, replays, "with WaitReplicas=%d no replay is accepted", wait)
		require.Zero(t, f.load[freshRefused]+f.sweep[freshRefused], "every request correctly decided or a 503: %v", rec.errs)
		require.Zero(t, f.windowAccepted, "nothing is accepted while no replica acknowledges")
		return
	}
	// Off: every token accepted in the window lived on the dead primary
	// only. Its count is a rate-dependent figure; that the window exists
	// is deterministic once it accepted a few tokens (a margin of one
	// in-flight request per worker).
	if f.windowAccepted > 2*workers {
		require.Positive(t, replays, "with WaitReplicas=0 tokens accepted while the replicas were cut off are accepted again")
	} else {
		t.Logf("  too few tokens accepted in the window (%d) to require a replay", f.windowAccepted)
	}
}

// presentUntilAvailable presents tok on v, retrying a 503 for up to 10 s
// (a loaded machine can time out a healthy call).
func presentUntilAvailable(ctx context.Context, tok *token, v *secretdata.Verifier) (outcome, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		o, err := tok.present(ctx, v)
		if o != unavailable || time.Now().After(deadline) {
			return o, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func summarise(rec *recorder, cutAt, killAt time.Time) figures {
	rec.mu.Lock()
	events := append([]event(nil), rec.events...)
	rec.mu.Unlock()
	sort.Slice(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })
	var f figures
	f.requests = len(events)
	var steady []time.Duration
	for _, e := range events {
		if e.fresh && e.o == acceptedFresh && e.at.Before(cutAt) {
			steady = append(steady, e.at.Sub(e.start))
		}
	}
	if len(steady) > 0 {
		sort.Slice(steady, func(i, j int) bool { return steady[i] < steady[j] })
		f.steadyP50, f.steadyP99 = steady[len(steady)/2], steady[len(steady)*99/100]
	}
	var cleanFrom time.Time
	cleanDone := false
	for _, e := range events {
		f.load[e.o]++
		if e.fresh && e.o == acceptedFresh && e.start.After(cutAt) && e.start.Before(killAt) {
			f.windowAccepted++
		}
		if e.start.Before(killAt) {
			continue
		}
		if e.fresh && e.o == acceptedFresh && f.firstOK == 0 {
			f.firstOK = e.at.Sub(killAt)
		}
		if cleanDone {
			continue
		}
		switch {
		case e.o == unavailable:
			f.during503s++
			cleanFrom = time.Time{}
		case e.fresh && e.o == acceptedFresh && cleanFrom.IsZero():
			cleanFrom = e.at
		case !cleanFrom.IsZero() && e.at.Sub(cleanFrom) >= time.Second:
			f.clean, cleanDone = cleanFrom.Sub(killAt), true
		}
	}
	// 503s before the kill (the window) count too.
	for _, e := range events {
		if e.o == unavailable && e.start.Before(killAt) && e.start.After(cutAt) {
			f.during503s++
		}
	}
	return f
}

func formatCounts(c [nOutcomes]int) string {
	out := ""
	for o, n := range c {
		if n == 0 {
			continue
		}
		if out != "" {
			out += ", "
		}
		out += fmt.Sprintf("%s %d", outcomeNames[o], n)
	}
	return out
}
