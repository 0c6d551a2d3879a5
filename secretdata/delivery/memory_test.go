package delivery_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

func newStore(t testing.TB, c *clock, mod func(*delivery.MemoryStoreConfig)) *delivery.MemoryStore {
	t.Helper()
	cfg := delivery.MemoryStoreConfig{Now: c.Now}
	if mod != nil {
		mod(&cfg)
	}
	s, err := delivery.NewMemoryStore(storeKey32, cfg)
	require.NoError(t, err)
	return s
}

func TestNewMemoryStoreConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  []byte
		cfg  delivery.MemoryStoreConfig
		bad  []string // the fields reported, nil if accepted
	}{
		{"defaults", storeKey32, delivery.MemoryStoreConfig{}, nil},
		{"no key", nil, delivery.MemoryStoreConfig{}, []string{"key"}},
		{"short key", storeKey32[:16], delivery.MemoryStoreConfig{}, []string{"key"}},
		{"all-zero key", make([]byte, 32), delivery.MemoryStoreConfig{}, []string{"key"}},
		{"negative MaxEntries", storeKey32, delivery.MemoryStoreConfig{MaxEntries: -1}, []string{"MaxEntries"}},
		{"negative MaxBytes", storeKey32, delivery.MemoryStoreConfig{MaxBytes: -1}, []string{"MaxBytes"}},
		{"every problem at once", storeKey32[:31], delivery.MemoryStoreConfig{MaxEntries: -1, MaxBytes: -1},
			[]string{"key", "MaxEntries", "MaxBytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := delivery.NewMemoryStore(tc.key, tc.cfg)
			if tc.bad == nil {
				require.NoError(t, err)
				return
			}
			testenv.RequireProblems(t, err, delivery.ErrConfig, tc.bad, string(storeKey32[:16]))
		})
	}
}

// TestMemoryStoreRawBytesHidePlaintext reads what the store really keeps
// and looks for the customer's data in it.
func TestMemoryStoreRawBytesHidePlaintext(t *testing.T) {
	s := newStore(t, newClock(), nil)
	require.NoError(t, s.Put(background(), connA, sessA, testClaims(), time.Hour))
	raw := s.RawBytes()
	require.Len(t, raw, 1)
	require.NotEmpty(t, raw[0])
	for _, n := range append(plaintextNeedles, "customer_id", "authentication_status") {
		assert.False(t, bytes.Contains(raw[0], []byte(n)), "raw stored bytes contain %q", n)
	}
	got, err := s.Get(background(), connA, sessA)
	require.NoError(t, err)
	id, _ := got.CustomerID()
	require.Equal(t, custID, id)
	require.Equal(t, subject, got.Subject)
}

// TestMemoryStoreMovedCiphertextFailsToOpen copies one session's sealed
// bytes into another's slot, as an attacker with write access to the
// backing memory (or a Redis) might.
func TestMemoryStoreMovedCiphertextFailsToOpen(t *testing.T) {
	type slot struct{ connection, session string }
	for _, tc := range []struct {
		name     string
		to       slot
		wantOpen bool
	}{
		{"back into its own slot", slot{connA, sessA}, true},
		{"into another session", slot{connA, sessB}, false},
		{"into another connection's session", slot{connB, sessA}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, newClock(), nil)
			for _, k := range []slot{{connA, sessA}, {connA, sessB}, {connB, sessA}} {
				c := testClaims()
				c.SecretData = map[string]any{"owner": k.connection + "/" + k.session}
				require.NoError(t, s.Put(background(), k.connection, k.session, c, time.Hour))
			}
			s.CopySealed(connA, sessA, tc.to.connection, tc.to.session)
			got, err := s.Get(background(), tc.to.connection, tc.to.session)
			if tc.wantOpen {
				require.NoError(t, err)
				require.Equal(t, connA+"/"+sessA, got.SecretData["owner"])
				return
			}
			require.ErrorIs(t, err, delivery.ErrCorrupt)
			require.Nil(t, got)
		})
	}
}

func TestMemoryStoreTTL(t *testing.T) {
	c := newClock()
	s := newStore(t, c, nil)
	require.NoError(t, s.Put(background(), connA, sessA, testClaims(), 10*time.Minute))
	for _, step := range []struct {
		name    string
		advance time.Duration
		want    error
		wantLen int
	}{
		{"just stored", 0, nil, 1},
		{"a nanosecond before expiry", 10*time.Minute - time.Nanosecond, nil, 1},
		{"at expiry", time.Nanosecond, delivery.ErrNotFound, 0},
		{"long after", time.Hour, delivery.ErrNotFound, 0},
	} {
		c.Advance(step.advance)
		_, err := s.Get(background(), connA, sessA)
		require.ErrorIs(t, err, step.want)
		require.Equal(t, step.wantLen, s.Len(), step.name)
	}
}

// TestMemoryStoreSweepsOnPut: expired entries are dropped by later calls
// for other sessions, not only when their own session is read.
func TestMemoryStoreSweepsOnPut(t *testing.T) {
	c := newClock()
	s := newStore(t, c, nil)
	for i := range 50 {
		require.NoError(t, s.Put(background(), connA, fmt.Sprint("old-", i), testClaims(), time.Minute))
	}
	c.Advance(time.Minute)
	require.NoError(t, s.Put(background(), connA, "new", testClaims(), time.Minute))
	n, h, size := s.Held()
	require.Equal(t, 1, n, "entries after a Put past expiry")
	require.Equal(t, 1, h, "heap items after a Put past expiry")
	require.Equal(t, s.EntryCost(connA, "new"), size, "byte accounting")
}

func TestMemoryStoreFullFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*delivery.MemoryStoreConfig)
	}{
		{"entry bound", func(c *delivery.MemoryStoreConfig) { c.MaxEntries = 2 }},
		{"byte bound", func(c *delivery.MemoryStoreConfig) { c.MaxBytes = 2 * 700 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			s := newStore(t, c, tc.cfg)
			put := func(sess string, ttl time.Duration) error {
				return s.Put(background(), connA, sess, testClaims(), ttl)
			}
			require.NoError(t, put("s1", time.Minute))
			require.NoError(t, put("s2", time.Hour))
			err := put("s3", time.Hour)
			require.ErrorIs(t, err, delivery.ErrStoreFull)
			require.ErrorIs(t, err, delivery.ErrStoreUnavailable)
			for _, sess := range []string{"s1", "s2"} {
				_, err := s.Get(background(), connA, sess)
				require.NoError(t, err, "live session %s was evicted", sess)
			}
			require.NoError(t, put("s2", time.Hour), "replacing a session in a full store")
			c.Advance(time.Minute) // s1 expires and frees its slot
			require.NoError(t, put("s3", time.Hour), "Put after an expiry freed room")
		})
	}
}

func TestMemoryStoreDelete(t *testing.T) {
	s := newStore(t, newClock(), nil)
	for _, sess := range []string{sessA, sessB} {
		require.NoError(t, s.Put(background(), connA, sess, testClaims(), time.Hour))
	}
	require.NoError(t, s.Delete(background(), connA, sessA))
	_, err := s.Get(background(), connA, sessA)
	require.ErrorIs(t, err, delivery.ErrNotFound)
	_, err = s.Get(background(), connA, sessB)
	require.NoError(t, err, "Delete removed another session")
	require.NoError(t, s.Delete(background(), connA, sessA), "deleting twice")
	require.NoError(t, s.Delete(background(), connB, "never-stored"), "deleting what was never stored")
	require.Equal(t, 1, s.Len())
}

func TestMemoryStoreArguments(t *testing.T) {
	s := newStore(t, newClock(), nil)
	cancelled, cancel := context.WithCancel(background())
	cancel()
	for _, tc := range []struct {
		name       string
		ctx        context.Context
		conn, sess string
		claims     *secretdata.Claims
		ttl        time.Duration
		want       error
	}{
		{"valid", background(), connA, sessA, testClaims(), time.Minute, nil},
		{"empty connection", background(), "", sessA, testClaims(), time.Minute, delivery.ErrInvalidID},
		{"empty session", background(), connA, "", testClaims(), time.Minute, delivery.ErrInvalidID},
		{"session with a slash", background(), connA, "a/b", testClaims(), time.Minute, delivery.ErrInvalidID},
		{"nil claims", background(), connA, sessA, nil, time.Minute, delivery.ErrConfig},
		{"zero ttl", background(), connA, sessA, testClaims(), 0, delivery.ErrConfig},
		{"negative ttl", background(), connA, sessA, testClaims(), -time.Second, delivery.ErrConfig},
		{"cancelled context", cancelled, connA, sessA, testClaims(), time.Minute, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Put(tc.ctx, tc.conn, tc.sess, tc.claims, tc.ttl)
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.want)
			}
		})
	}
	_, err := s.Get(background(), "bad id", sessA)
	require.ErrorIs(t, err, delivery.ErrInvalidID)
}

// TestMemoryStoreAgainstModel runs random operations against the store and
// a plain map with deadlines, and checks they agree, and that the heap and
// the byte count stay consistent.
func TestMemoryStoreAgainstModel(t *testing.T) {
	c := newClock()
	s := newStore(t, c, func(cfg *delivery.MemoryStoreConfig) { cfg.MaxEntries = 8 })
	model := map[string]time.Time{}
	rng := rand.New(rand.NewPCG(1, 2))
	live := func() int {
		n := 0
		for _, d := range model {
			if c.Now().Before(d) {
				n++
			}
		}
		return n
	}
	for i := range 5000 {
		sess := fmt.Sprint("s", rng.IntN(12))
		switch op := rng.IntN(10); {
		case op < 4:
			ttl := time.Duration(1+rng.IntN(100)) * time.Second
			err := s.Put(background(), connA, sess, testClaims(), ttl)
			_, exists := model[sess]
			exists = exists && c.Now().Before(model[sess])
			wantFull := !exists && live() >= 8
			if wantFull {
				require.ErrorIs(t, err, delivery.ErrStoreFull, "op %d: Put %s (live %d, exists %v)", i, sess, live(), exists)
			} else {
				require.NoError(t, err, "op %d: Put %s (live %d, exists %v)", i, sess, live(), exists)
			}
			if err == nil {
				model[sess] = c.Now().Add(ttl)
			}
		case op < 7:
			_, err := s.Get(background(), connA, sess)
			d, ok := model[sess]
			want := ok && c.Now().Before(d)
			require.Equal(t, want, err == nil, "op %d: Get %s: %v, model live %v", i, sess, err, want)
		case op < 8:
			require.NoError(t, s.Delete(background(), connA, sess))
			delete(model, sess)
		default:
			c.Advance(time.Duration(rng.IntN(20)) * time.Second)
		}
		require.True(t, s.Consistent(), "op %d: heap/map/size inconsistent", i)
	}
}

func TestMemoryStoreConcurrent(t *testing.T) {
	c := newClock()
	s := newStore(t, c, func(cfg *delivery.MemoryStoreConfig) { cfg.MaxEntries = 64 })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				sess := fmt.Sprint("s", (g*7+i)%32)
				_ = s.Put(background(), connA, sess, testClaims(), time.Minute)
				if got, err := s.Get(background(), connA, sess); err == nil {
					assert.Equal(t, sessA, got.SessionID, "Get returned someone else's claims")
				}
				if i%10 == 0 {
					_ = s.Delete(background(), connA, sess)
					c.Advance(time.Second)
				}
			}
		})
	}
	wg.Wait()
	require.LessOrEqual(t, s.Len(), 64, "above the bound")
}
