package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/msgsec/msgsec/secretdata"
)

func newStore(t testing.TB, c *clock, mod func(*MemoryStoreConfig)) *MemoryStore {
	t.Helper()
	cfg := MemoryStoreConfig{Key: storeKey32, Now: c.Now}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewMemoryStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawBytes returns every byte the store keeps for a session.
func (s *MemoryStore) rawBytes() [][]byte {
	s.table().mu.Lock()
	defer s.table().mu.Unlock()
	var out [][]byte
	for _, e := range s.table().entries {
		out = append(out, bytes.Clone(e.sealed))
	}
	return out
}

func TestNewMemoryStoreConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  MemoryStoreConfig
		ok   bool
	}{
		{"defaults", MemoryStoreConfig{Key: storeKey32}, true},
		{"no key", MemoryStoreConfig{}, false},
		{"short key", MemoryStoreConfig{Key: storeKey32[:16]}, false},
		{"negative MaxEntries", MemoryStoreConfig{Key: storeKey32, MaxEntries: -1}, false},
		{"negative MaxBytes", MemoryStoreConfig{Key: storeKey32, MaxBytes: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewMemoryStore(tc.cfg)
			if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, ErrConfig)) {
				t.Fatalf("NewMemoryStore: %v", err)
			}
		})
	}
}

// TestMemoryStoreRawBytesHidePlaintext reads what the store really keeps
// and looks for the customer's data in it.
func TestMemoryStoreRawBytesHidePlaintext(t *testing.T) {
	s := newStore(t, newClock(), nil)
	if err := s.Put(background(), connA, sessA, testClaims(), time.Hour); err != nil {
		t.Fatal(err)
	}
	raw := s.rawBytes()
	if len(raw) != 1 || len(raw[0]) == 0 {
		t.Fatalf("store holds %d entries", len(raw))
	}
	for _, n := range append(plaintextNeedles, "customer_id", "authentication_status") {
		if bytes.Contains(raw[0], []byte(n)) {
			t.Errorf("raw stored bytes contain %q", n)
		}
	}
	got, err := s.Get(background(), connA, sessA)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := got.CustomerID(); id != custID || got.Subject != subject {
		t.Fatalf("Get returned customer %q subject %q", id, got.Subject)
	}
}

// TestMemoryStoreMovedCiphertextFailsToOpen copies one session's sealed
// bytes into another's slot, as an attacker with write access to the
// backing memory (or a Redis) might.
func TestMemoryStoreMovedCiphertextFailsToOpen(t *testing.T) {
	for _, tc := range []struct {
		name     string
		to       storeKey
		wantOpen bool
	}{
		{"back into its own slot", storeKey{connA, sessA}, true},
		{"into another session", storeKey{connA, sessB}, false},
		{"into another connection's session", storeKey{connB, sessA}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, newClock(), nil)
			for _, k := range []storeKey{{connA, sessA}, {connA, sessB}, {connB, sessA}} {
				c := testClaims()
				c.SecretData = map[string]any{"owner": k.connection + "/" + k.session}
				if err := s.Put(background(), k.connection, k.session, c, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			s.table().mu.Lock()
			s.table().entries[tc.to].sealed = bytes.Clone(s.table().entries[storeKey{connA, sessA}].sealed)
			s.table().mu.Unlock()
			got, err := s.Get(background(), tc.to.connection, tc.to.session)
			if tc.wantOpen {
				if err != nil || got.SecretData["owner"] != connA+"/"+sessA {
					t.Fatalf("Get = %v, %v", got, err)
				}
				return
			}
			if !errors.Is(err, ErrCorrupt) || got != nil {
				t.Fatalf("Get = %v, %v; want ErrCorrupt", got, err)
			}
		})
	}
}

func TestMemoryStoreTTL(t *testing.T) {
	c := newClock()
	s := newStore(t, c, nil)
	if err := s.Put(background(), connA, sessA, testClaims(), 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name    string
		advance time.Duration
		want    error
		wantLen int
	}{
		{"just stored", 0, nil, 1},
		{"a nanosecond before expiry", 10*time.Minute - time.Nanosecond, nil, 1},
		{"at expiry", time.Nanosecond, ErrNotFound, 0},
		{"long after", time.Hour, ErrNotFound, 0},
	} {
		c.Advance(step.advance)
		_, err := s.Get(background(), connA, sessA)
		if !errors.Is(err, step.want) {
			t.Fatalf("%s: Get error %v, want %v", step.name, err, step.want)
		}
		if n := s.Len(); n != step.wantLen {
			t.Fatalf("%s: Len %d, want %d", step.name, n, step.wantLen)
		}
	}
}

// TestMemoryStoreSweepsOnPut: expired entries are dropped by later calls
// for other sessions, not only when their own session is read.
func TestMemoryStoreSweepsOnPut(t *testing.T) {
	c := newClock()
	s := newStore(t, c, nil)
	for i := range 50 {
		if err := s.Put(background(), connA, fmt.Sprint("old-", i), testClaims(), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(time.Minute)
	if err := s.Put(background(), connA, "new", testClaims(), time.Minute); err != nil {
		t.Fatal(err)
	}
	s.table().mu.Lock()
	n, h, size := len(s.table().entries), len(s.table().byExp), s.table().size
	s.table().mu.Unlock()
	if n != 1 || h != 1 {
		t.Fatalf("after a Put past expiry: %d entries, %d heap items; want 1, 1", n, h)
	}
	if want := s.table().entries[storeKey{connA, "new"}].cost(); size != want {
		t.Fatalf("byte accounting %d, want %d", size, want)
	}
}

func TestMemoryStoreFullFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*MemoryStoreConfig)
	}{
		{"entry bound", func(c *MemoryStoreConfig) { c.MaxEntries = 2 }},
		{"byte bound", func(c *MemoryStoreConfig) { c.MaxBytes = 2 * 700 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			s := newStore(t, c, tc.cfg)
			put := func(sess string, ttl time.Duration) error {
				return s.Put(background(), connA, sess, testClaims(), ttl)
			}
			if err := put("s1", time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := put("s2", time.Hour); err != nil {
				t.Fatal(err)
			}
			err := put("s3", time.Hour)
			var full *FullError
			if !errors.As(err, &full) || !errors.Is(err, ErrStoreFull) || !errors.Is(err, ErrStoreUnavailable) {
				t.Fatalf("third Put: %v; want a *FullError wrapping ErrStoreFull and ErrStoreUnavailable", err)
			}
			for _, sess := range []string{"s1", "s2"} {
				if _, err := s.Get(background(), connA, sess); err != nil {
					t.Fatalf("live session %s was evicted: %v", sess, err)
				}
			}
			if err := put("s2", time.Hour); err != nil {
				t.Fatalf("replacing a session in a full store: %v", err)
			}
			c.Advance(time.Minute) // s1 expires and frees its slot
			if err := put("s3", time.Hour); err != nil {
				t.Fatalf("Put after an expiry freed room: %v", err)
			}
		})
	}
}

func TestMemoryStoreDelete(t *testing.T) {
	s := newStore(t, newClock(), nil)
	for _, sess := range []string{sessA, sessB} {
		if err := s.Put(background(), connA, sess, testClaims(), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(background(), connA, sessA); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(background(), connA, sessA); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if _, err := s.Get(background(), connA, sessB); err != nil {
		t.Fatalf("Delete removed another session: %v", err)
	}
	if err := s.Delete(background(), connA, sessA); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if err := s.Delete(background(), connB, "never-stored"); err != nil {
		t.Fatalf("deleting what was never stored: %v", err)
	}
	if s.Len() != 1 {
		t.Fatalf("Len %d, want 1", s.Len())
	}
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
		{"empty connection", background(), "", sessA, testClaims(), time.Minute, ErrInvalidID},
		{"empty session", background(), connA, "", testClaims(), time.Minute, ErrInvalidID},
		{"session with a slash", background(), connA, "a/b", testClaims(), time.Minute, ErrInvalidID},
		{"nil claims", background(), connA, sessA, nil, time.Minute, ErrConfig},
		{"zero ttl", background(), connA, sessA, testClaims(), 0, ErrConfig},
		{"negative ttl", background(), connA, sessA, testClaims(), -time.Second, ErrConfig},
		{"cancelled context", cancelled, connA, sessA, testClaims(), time.Minute, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Put(tc.ctx, tc.conn, tc.sess, tc.claims, tc.ttl); !errors.Is(err, tc.want) {
				t.Fatalf("Put: %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := s.Get(background(), "bad id", sessA); !errors.Is(err, ErrInvalidID) {
		t.Fatalf("Get with a bad id: %v", err)
	}
}

// TestMemoryStoreAgainstModel runs random operations against the store and
// a plain map with deadlines, and checks they agree, and that the heap and
// the byte count stay consistent.
func TestMemoryStoreAgainstModel(t *testing.T) {
	c := newClock()
	s := newStore(t, c, func(cfg *MemoryStoreConfig) { cfg.MaxEntries = 8 })
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
			if wantFull != errors.Is(err, ErrStoreFull) || (!wantFull && err != nil) {
				t.Fatalf("op %d: Put %s: %v (live %d, exists %v)", i, sess, err, live(), exists)
			}
			if err == nil {
				model[sess] = c.Now().Add(ttl)
			}
		case op < 7:
			_, err := s.Get(background(), connA, sess)
			d, ok := model[sess]
			want := ok && c.Now().Before(d)
			if want != (err == nil) {
				t.Fatalf("op %d: Get %s: %v, model live %v", i, sess, err, want)
			}
		case op < 8:
			if err := s.Delete(background(), connA, sess); err != nil {
				t.Fatal(err)
			}
			delete(model, sess)
		default:
			c.Advance(time.Duration(rng.IntN(20)) * time.Second)
		}
		s.table().mu.Lock()
		size := 0
		for j, e := range s.table().byExp {
			if e.idx != j || s.table().entries[e.key] != e {
				s.table().mu.Unlock()
				t.Fatalf("op %d: heap slot %d out of sync", i, j)
			}
			size += e.cost()
		}
		consistent := len(s.table().byExp) == len(s.table().entries) && size == s.table().size
		s.table().mu.Unlock()
		if !consistent {
			t.Fatalf("op %d: heap/map/size inconsistent", i)
		}
	}
}

func TestMemoryStoreConcurrent(t *testing.T) {
	c := newClock()
	s := newStore(t, c, func(cfg *MemoryStoreConfig) { cfg.MaxEntries = 64 })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				sess := fmt.Sprint("s", (g*7+i)%32)
				_ = s.Put(background(), connA, sess, testClaims(), time.Minute)
				if got, err := s.Get(background(), connA, sess); err == nil && got.SessionID != sessA {
					t.Errorf("Get returned someone else's claims")
				}
				if i%10 == 0 {
					_ = s.Delete(background(), connA, sess)
					c.Advance(time.Second)
				}
			}
		})
	}
	wg.Wait()
	if n := s.Len(); n > 64 {
		t.Fatalf("Len %d above the bound", n)
	}
}
