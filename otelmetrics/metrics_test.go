package otelmetrics_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/otelmetrics"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

const (
	decisions = "msgsec.middleware.decisions"
	deliv     = "msgsec.delivery.decisions"
	verifyDur = "msgsec.token.verification.duration"
	backend   = "msgsec.backend.errors"
	reloads   = "msgsec.policy.reloads"
	limited   = "msgsec.rate_limited"
)

func TestNewRefusesNilProvider(t *testing.T) {
	_, err := otelmetrics.New(nil)
	require.Error(t, err)
}

// Each middleware denial counts once, under its connection and kind, and
// an admitted request counts no denial.
func TestMiddlewareDecisions(t *testing.T) {
	s := newSetup(t, "retail-bank")
	h := s.middleware(t)
	const path = "/connections/retail-bank/sessions"

	require.Equal(t, http.StatusCreated, send(h, "POST", path, map[string]string{"Origin": bankOrigin}))
	assert.Empty(t, s.collect(t, decisions), "an admitted request is no denial")

	require.Equal(t, http.StatusForbidden, send(h, "POST", path, map[string]string{"Origin": evilOrigin}))
	require.Equal(t, http.StatusForbidden, send(h, "POST", path, map[string]string{"Origin": evilOrigin}))
	require.Equal(t, http.StatusForbidden, send(h, "POST", path, nil))
	require.Equal(t, http.StatusNotFound, send(h, "POST", "/connections/nope/sessions", map[string]string{"Origin": bankOrigin}))
	require.Equal(t, http.StatusCreated, send(h, "POST", path, map[string]string{"Origin": bankOrigin, "Cookie": "page_viewed=1; tracker=x"}))

	got := s.collect(t, decisions)
	assert.Equal(t, int64(2), value(got, map[string]string{"connection": "retail-bank", "kind": "origin-denied", "blocked": "true"}))
	assert.Equal(t, int64(1), value(got, map[string]string{"connection": "retail-bank", "kind": "origin-required", "blocked": "true"}))
	assert.Equal(t, int64(1), value(got, map[string]string{"connection": "(unknown)", "kind": "unknown-connection"}))
	assert.Equal(t, int64(1), value(got, map[string]string{"connection": "retail-bank", "kind": "cookie-dropped", "blocked": "false"}))
	assert.Equal(t, int64(5), value(got, nil))
	for _, p := range got {
		assert.ElementsMatch(t, []string{"connection", "kind", "blocked"}, keys(p.labels), "no other label (origin, path, reason)")
	}
}

// Report-only would-be denials count with blocked=false.
func TestMiddlewareReportOnly(t *testing.T) {
	s := newSetup(t)
	s.reg = s.registry(t, policyDoc("retail-bank")+"    mode: report-only\n")
	h := s.middleware(t)
	require.Equal(t, http.StatusCreated, send(h, "POST", "/connections/retail-bank/sessions", map[string]string{"Origin": evilOrigin}))
	got := s.collect(t, decisions)
	assert.Equal(t, int64(1), value(got, map[string]string{"connection": "retail-bank", "kind": "origin-denied", "blocked": "false"}))
	assert.Zero(t, value(got, map[string]string{"blocked": "true"}))
}

// Token verification time is recorded per outcome, and a replay check
// that cannot be made counts as a replay-cache error.
func TestTokenVerification(t *testing.T) {
	s := newSetup(t, "retail-bank")
	h := s.middleware(t)
	const path = "/connections/retail-bank/sessions"
	tok := s.token(t, "retail-bank", "")
	hdr := func(tok string) map[string]string {
		return map[string]string{"Origin": bankOrigin, "Authorization": "Bearer " + tok}
	}
	require.Equal(t, http.StatusCreated, send(h, "POST", path, hdr(tok)))
	require.Equal(t, http.StatusUnauthorized, send(h, "POST", path, hdr(tok)), "replayed")
	require.Equal(t, http.StatusUnauthorized, send(h, "POST", path, hdr(tok[:len(tok)-2]+"xx")), "bad signature")
	s.replay.down.Store(true)
	require.Equal(t, http.StatusServiceUnavailable, send(h, "POST", path, hdr(s.token(t, "retail-bank", ""))))

	v := s.collect(t, verifyDur)
	for outcome, n := range map[string]int64{"ok": 1, "replayed": 1, "invalid": 1, "unavailable": 1} {
		assert.Equal(t, n, value(v, map[string]string{"connection": "retail-bank", "outcome": outcome}), outcome)
	}
	d := s.collect(t, decisions)
	assert.Equal(t, int64(2), value(d, map[string]string{"kind": "invalid-token"}))
	assert.Equal(t, int64(1), value(d, map[string]string{"kind": "token-unverifiable"}))
	b := s.collect(t, backend)
	assert.Equal(t, int64(1), value(b, map[string]string{"connection": "retail-bank", "backend": "replay-cache", "kind": "token-unverifiable"}))
	assert.Equal(t, int64(1), value(b, nil))
}

// The histogram's buckets resolve microseconds: a fast verification does
// not land in a catch-all bucket.
func TestVerificationBuckets(t *testing.T) {
	s := newSetup(t, "retail-bank")
	s.m.Verified("retail-bank", 30*time.Microsecond, nil)
	s.m.Verified("retail-bank", 3*time.Millisecond, nil)
	hist := s.histogram(t, verifyDur)
	require.NotEmpty(t, hist.Bounds)
	assert.Less(t, hist.Bounds[0], 0.0001)
	var nonEmpty int
	for _, c := range hist.BucketCounts {
		if c > 0 {
			nonEmpty++
		}
	}
	assert.Equal(t, 2, nonEmpty, "30µs and 3ms fall in different buckets")
}

// failingStore fails every Put as unavailable and every Delete otherwise.
type failingStore struct{}

func (failingStore) Put(context.Context, string, string, *secretdata.Claims, time.Duration) error {
	return fmt.Errorf("redis: %w", delivery.ErrStoreUnavailable)
}
func (failingStore) Get(context.Context, string, string) (*secretdata.Claims, error) {
	return nil, delivery.ErrNotFound
}
func (failingStore) Delete(context.Context, string, string) error { return errors.New("disk on fire") }

// Delivery outcomes count by kind; store failures are backend errors.
func TestDeliveryDecisions(t *testing.T) {
	s := newSetup(t, "retail-bank")
	store, err := delivery.NewMemoryStore([]byte("0123456789abcdef0123456789abcdef"), delivery.MemoryStoreConfig{})
	require.NoError(t, err)
	ok := s.delivery(t, store, nil)
	bad := s.delivery(t, failingStore{}, nil)
	path := "/connections/retail-bank/sessions/s-1/secret-data"
	bearer := func() map[string]string {
		return map[string]string{"Authorization": "Bearer " + s.token(t, "retail-bank", "s-1")}
	}

	require.Equal(t, http.StatusNoContent, send(ok, "POST", path, bearer()))
	require.Equal(t, http.StatusUnauthorized, send(ok, "POST", path, nil))
	require.Equal(t, http.StatusServiceUnavailable, send(bad, "POST", path, bearer()))
	require.Equal(t, http.StatusInternalServerError, send(bad, "DELETE", path, bearer()))
	require.Equal(t, http.StatusNotFound, send(ok, "POST", "/connections/nope/sessions/s-1/secret-data", bearer()))

	got := s.collect(t, deliv)
	for kind, n := range map[string]int64{"stored": 1, "invalid-token": 1, "store-unavailable": 1, "store-error": 1} {
		assert.Equal(t, n, value(got, map[string]string{"connection": "retail-bank", "kind": kind}), kind)
	}
	assert.Equal(t, int64(1), value(got, map[string]string{"connection": "(unknown)", "kind": "unknown-connection"}))
	b := s.collect(t, backend)
	assert.Equal(t, int64(1), value(b, map[string]string{"backend": "store", "kind": "store-unavailable"}))
	assert.Equal(t, int64(1), value(b, map[string]string{"backend": "store", "kind": "store-error"}))
	assert.Equal(t, int64(2), value(b, nil))
}

// Reload outcomes are counted, and the connection labels follow the
// policies in force: a removed connection is "(unknown)" from then on.
func TestReloads(t *testing.T) {
	s := newSetup(t, "retail-bank")
	assert.Equal(t, int64(1), value(s.collect(t, reloads), map[string]string{"outcome": "ok"}), "the first load counts")

	s.m.Reloaded(s.reg.Snapshot(), errors.New("bad file"))
	got := s.collect(t, reloads)
	assert.Equal(t, int64(1), value(got, map[string]string{"outcome": "failed"}))
	assert.Equal(t, int64(1), value(got, map[string]string{"outcome": "ok"}))

	s.m.RateLimited(context.Background(), "retail-bank", "message")
	s.registry(t, policyDoc("business-bank")) // its first load reports a snapshot without retail-bank
	s.m.RateLimited(context.Background(), "retail-bank", "message")
	s.m.RateLimited(context.Background(), "business-bank", "message")
	rl := s.collect(t, limited)
	assert.Equal(t, int64(1), value(rl, map[string]string{"connection": "retail-bank"}))
	assert.Equal(t, int64(1), value(rl, map[string]string{"connection": "(unknown)"}))
	assert.Equal(t, int64(1), value(rl, map[string]string{"connection": "business-bank"}))
}

// A registry whose file breaks reports a failed reload.
func TestReloadFailureThroughRegistry(t *testing.T) {
	s := newSetup(t)
	path := t.TempDir() + "/p.yaml"
	require.NoError(t, writeFile(path, policyDoc("retail-bank")))
	reg, err := policy.NewRegistry(context.Background(), path, policy.RegistryOptions{OnReload: s.m.Reloaded})
	require.NoError(t, err)
	require.NoError(t, writeFile(path, "connections: [{id: x, allowed_domains: ['https://*.com']}]"))
	require.Error(t, reg.Reload(context.Background()))
	got := s.collect(t, reloads)
	assert.Equal(t, int64(1), value(got, map[string]string{"outcome": "failed"}))
	assert.Equal(t, int64(1), value(got, map[string]string{"outcome": "ok"}))
}

// Unbounded input, bounded labels: 1,000 made-up connection IDs through
// the middleware, a delivery Handler wired (wrongly) to verify any
// connection, token verification and the rate-limit counter, plus 1,000
// made-up limit names, yield a handful of label values. (The verifications
// are retail-bank's verifier's, so they are labelled retail-bank.)
func TestUnboundedInputBoundedLabels(t *testing.T) {
	s := newSetup(t, "retail-bank")
	h := s.middleware(t)
	anyConn := s.delivery(t, failingStore{}, func(string) (*secretdata.Verifier, bool) {
		p, _ := s.reg.Get("retail-bank")
		return p.Verifier(), true // every connection ID gets as far as the token
	})
	ctx := context.Background()
	for range 1000 {
		id := rand.Text()[:12]
		send(h, "POST", "/connections/"+id+"/sessions", map[string]string{"Origin": "https://" + id + ".example"})
		send(anyConn, "POST", "/connections/"+id+"/sessions/"+id+"/secret-data", map[string]string{"Authorization": "Bearer a.b.c"})
		s.m.Verified(id, time.Millisecond, errors.New(id))
		s.m.RateLimited(ctx, id, rand.Text())
	}
	assert.Equal(t, int64(1000), value(s.collect(t, decisions), map[string]string{"connection": "(unknown)", "kind": "unknown-connection"}))
	assert.Equal(t, int64(1000), value(s.collect(t, deliv), map[string]string{"connection": "(unknown)", "kind": "invalid-token"}))
	for _, name := range []string{decisions, deliv, verifyDur, limited} {
		got := s.collect(t, name)
		assert.Subset(t, []string{"(unknown)", "retail-bank"}, labelValues(got, "connection"), name)
		assert.LessOrEqual(t, len(got), 17, "%s: %d series", name, len(got))
	}
	assert.Len(t, labelValues(s.collect(t, limited), "limit"), 17, "16 limit names and (other)")
	assert.Contains(t, labelValues(s.collect(t, limited), "limit"), "(other)")
}

// A nil *Metrics records nothing and does not panic, so a server can call
// it with metrics off.
func TestNilMetrics(t *testing.T) {
	var m *otelmetrics.Metrics
	assert.NotPanics(t, func() {
		m.MiddlewareEvent(middleware.Event{Kind: middleware.KindOriginDenied})
		m.DeliveryEvent(delivery.Event{Kind: delivery.KindStored})
		m.Verified("c", time.Second, nil)
		m.Reloaded(nil, nil)
		m.RateLimited(context.Background(), "c", "x")
	})
}

// Kinds msgsec does not define count as "(other)", never as themselves.
func TestUnknownKinds(t *testing.T) {
	s := newSetup(t, "retail-bank")
	s.m.MiddlewareEvent(middleware.Event{Connection: "retail-bank", Kind: "https://evil.example"})
	s.m.DeliveryEvent(delivery.Event{Connection: "retail-bank", Kind: "sess-123"})
	assert.Equal(t, []string{"(other)"}, labelValues(s.collect(t, decisions), "kind"))
	assert.Equal(t, []string{"(other)"}, labelValues(s.collect(t, deliv), "kind"))
}

// Events from many goroutines all count (run with -race).
func TestConcurrentEvents(t *testing.T) {
	s := newSetup(t, "retail-bank")
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 500 {
				s.m.MiddlewareEvent(middleware.Event{Connection: "retail-bank", Kind: middleware.KindOriginDenied, Blocked: true})
			}
		}()
	}
	for range 8 {
		<-done
	}
	assert.Equal(t, int64(4000), value(s.collect(t, decisions), nil))
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
