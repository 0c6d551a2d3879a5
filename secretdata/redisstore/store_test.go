package redisstore

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

const (
	connA = "retail-bank"
	sessA = "session-AAAA-1111"
	sessB = "session-BBBB-2222"
)

// TestStoreAcrossInstances writes with one Store (one client) and reads,
// replaces and deletes with another, as two chat-server instances — or one
// instance before and after a restart — would.
func TestStoreAcrossInstances(t *testing.T) {
	c1, prefix := sharedRedis(t)
	c2 := newClient(t, "redis://"+c1.Options().Addr+"/"+itoa(c1.Options().DB))
	s1 := newStore(t, c1, testKey, Config{Prefix: prefix})
	s2 := newStore(t, c2, testKey, Config{Prefix: prefix})

	want := storedClaims()
	if err := s1.Put(bg(), connA, sessA, want, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := s2.Get(bg(), connA, sessA)
	if err != nil {
		t.Fatalf("other instance: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("other instance read %+v, want %+v", got.SecretData, want.SecretData)
	}
	if _, err := s2.Get(bg(), connA, sessB); !errors.Is(err, delivery.ErrNotFound) {
		t.Fatalf("another session: %v, want ErrNotFound", err)
	}

	// A second delivery replaces the first.
	next := storedClaims()
	next.SecretData = map[string]any{secretdata.ClaimCustomerID: "C-2002"}
	if err := s2.Put(bg(), connA, sessA, next, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := s1.Get(bg(), connA, sessA); err != nil || got.SecretData[secretdata.ClaimCustomerID] != "C-2002" {
		t.Fatalf("after replacement: %v, %v", got, err)
	}

	// Session end: one instance deletes, no instance finds it.
	if err := s2.Delete(bg(), connA, sessA); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Get(bg(), connA, sessA); !errors.Is(err, delivery.ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
	if err := s1.Delete(bg(), connA, sessA); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if ks := keys(t, c1, prefix); len(ks) != 0 {
		t.Fatalf("keys left after delete: %q", ks)
	}
}

func TestStoreArguments(t *testing.T) {
	c, prefix := sharedRedis(t)
	s := newStore(t, c, testKey, Config{Prefix: prefix})
	long := strings.Repeat("x", delivery.MaxIDLen+1)
	for _, tc := range []struct {
		name          string
		conn, session string
		claims        *secretdata.Claims
		ttl           time.Duration
		want          error
	}{
		{"empty connection", "", sessA, storedClaims(), time.Minute, delivery.ErrInvalidID},
		{"session with a slash", connA, "a/b", storedClaims(), time.Minute, delivery.ErrInvalidID},
		{"session too long", connA, long, storedClaims(), time.Minute, delivery.ErrInvalidID},
		{"dot-dot session", connA, "..", storedClaims(), time.Minute, delivery.ErrInvalidID},
		{"nil claims", connA, sessA, nil, time.Minute, delivery.ErrConfig},
		{"zero ttl", connA, sessA, storedClaims(), 0, delivery.ErrConfig},
		{"negative ttl", connA, sessA, storedClaims(), -time.Second, delivery.ErrConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Put(bg(), tc.conn, tc.session, tc.claims, tc.ttl); !errors.Is(err, tc.want) {
				t.Fatalf("Put: %v, want %v", err, tc.want)
			}
			if tc.want == delivery.ErrInvalidID {
				if _, err := s.Get(bg(), tc.conn, tc.session); !errors.Is(err, tc.want) {
					t.Fatalf("Get: %v, want %v", err, tc.want)
				}
				if err := s.Delete(bg(), tc.conn, tc.session); !errors.Is(err, tc.want) {
					t.Fatalf("Delete: %v, want %v", err, tc.want)
				}
			}
		})
	}
	if ks := keys(t, c, prefix); len(ks) != 0 {
		t.Fatalf("refused calls wrote keys: %q", ks)
	}
}

// TestStoreRawRedisHidesPlaintext reads what Redis really holds: neither
// the key nor the value shows the IDs or the secret data.
func TestStoreRawRedisHidesPlaintext(t *testing.T) {
	c, prefix := sharedRedis(t)
	s := newStore(t, c, testKey, Config{Prefix: prefix})
	if err := s.Put(bg(), connA, sessA, storedClaims(), time.Minute); err != nil {
		t.Fatal(err)
	}
	ks := keys(t, c, prefix)
	if len(ks) != 1 {
		t.Fatalf("%d keys, want 1: %q", len(ks), ks)
	}
	if n, ok := containsAny(ks[0], connA, sessA, "AAAA"); ok {
		t.Fatalf("key %q contains %q", ks[0], n)
	}
	raw, err := c.Get(bg(), ks[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 50 {
		t.Fatalf("stored value is %d bytes", len(raw))
	}
	needles := append(plaintextNeedles, "customer_id", "authentication_status", connA, sessA, testIssuer, "jti-stored")
	if n, ok := containsAny(raw, needles...); ok {
		t.Fatalf("raw stored value contains %q", n)
	}
}

// TestStoreSealing moves and forges stored bytes the way someone with
// write access to Redis could, and checks nothing opens.
func TestStoreSealing(t *testing.T) {
	c, prefix := sharedRedis(t)
	s := newStore(t, c, testKey, Config{Prefix: prefix})
	if err := s.Put(bg(), connA, sessA, storedClaims(), time.Minute); err != nil {
		t.Fatal(err)
	}
	raw, err := c.Get(bg(), storeKey(prefix, connA, sessA)).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	otherKey := []byte("fedcba9876543210fedcba9876543210")
	flipped := append([]byte{}, raw...)
	flipped[len(flipped)/2] ^= 1
	for _, tc := range []struct {
		name    string
		key     []byte // the reading store's key
		session string // where the bytes are planted and read
		value   []byte
		want    error
	}{
		{"copied to another session", testKey, sessB, raw, delivery.ErrCorrupt},
		{"read with another key", otherKey, sessA, raw, delivery.ErrCorrupt},
		{"one bit flipped", testKey, sessA, flipped, delivery.ErrCorrupt},
		{"truncated", testKey, sessA, raw[:10], delivery.ErrCorrupt},
		{"not ciphertext at all", testKey, sessA, []byte(`{"customer_id":"forged"}`), delivery.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Set(bg(), storeKey(prefix, connA, tc.session), tc.value, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			r := newStore(t, c, tc.key, Config{Prefix: prefix})
			got, err := r.Get(bg(), connA, tc.session)
			if !errors.Is(err, tc.want) || got != nil {
				t.Fatalf("Get: %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestStoreTTL(t *testing.T) {
	c, prefix := sharedRedis(t)
	s := newStore(t, c, testKey, Config{Prefix: prefix})
	if err := s.Put(bg(), connA, sessA, storedClaims(), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	ttl, err := c.PTTL(bg(), storeKey(prefix, connA, sessA)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 119*time.Second || ttl > 2*time.Minute {
		t.Fatalf("PTTL %v, want just under 2m", ttl)
	}

	start := time.Now()
	if err := s.Put(bg(), connA, sessB, storedClaims(), 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(bg(), connA, sessB); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	eventually(t, 5*time.Second, "store expiry", func() error {
		if _, err := s.Get(bg(), connA, sessB); !errors.Is(err, delivery.ErrNotFound) {
			return errors.New("still there")
		}
		return nil
	})
	if time.Since(start) < 250*time.Millisecond {
		t.Fatal("data expired before its ttl")
	}
}

// TestStoreSealedDeadline keeps the bytes in Redis past their TTL (as a
// Redis that lost the expiry would): the sealed deadline still refuses them.
func TestStoreSealedDeadline(t *testing.T) {
	c, prefix := sharedRedis(t)
	now := time.Now()
	clock := &now
	s := newStore(t, c, testKey, Config{Prefix: prefix, Now: func() time.Time { return *clock }})
	if err := s.Put(bg(), connA, sessA, storedClaims(), time.Minute); err != nil {
		t.Fatal(err)
	}
	key := storeKey(prefix, connA, sessA)
	if err := c.Persist(bg(), key).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(bg(), connA, sessA); err != nil {
		t.Fatalf("within the deadline: %v", err)
	}
	later := now.Add(time.Minute + time.Second)
	clock = &later
	if _, err := s.Get(bg(), connA, sessA); !errors.Is(err, delivery.ErrNotFound) {
		t.Fatalf("past the sealed deadline: %v, want ErrNotFound", err)
	}
}
