package redisstore_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
	"github.com/msgsec/msgsec/secretdata/redisstore"
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
	s1 := newStore(t, c1, testKey, redisstore.Config{Prefix: prefix})
	s2 := newStore(t, c2, testKey, redisstore.Config{Prefix: prefix})

	want := storedClaims()
	require.NoError(t, s1.Put(bg(), connA, sessA, want, time.Minute))
	got, err := s2.Get(bg(), connA, sessA)
	require.NoError(t, err, "other instance")
	require.True(t, reflect.DeepEqual(got, want), "other instance read %+v, want %+v", got.SecretData, want.SecretData)
	_, err = s2.Get(bg(), connA, sessB)
	require.ErrorIs(t, err, delivery.ErrNotFound)

	// A second delivery replaces the first.
	next := storedClaims()
	next.SecretData = map[string]any{secretdata.ClaimCustomerID: "C-2002"}
	require.NoError(t, s2.Put(bg(), connA, sessA, next, time.Minute))
	got, err = s1.Get(bg(), connA, sessA)
	require.NoError(t, err, "after replacement")
	require.Equal(t, "C-2002", got.SecretData[secretdata.ClaimCustomerID], "after replacement")

	// Session end: one instance deletes, no instance finds it.
	require.NoError(t, s2.Delete(bg(), connA, sessA))
	_, err = s1.Get(bg(), connA, sessA)
	require.ErrorIs(t, err, delivery.ErrNotFound)
	require.NoError(t, s1.Delete(bg(), connA, sessA), "deleting twice")
	require.Empty(t, keys(t, c1, prefix), "keys left after delete")
}

func TestStoreArguments(t *testing.T) {
	c, prefix := sharedRedis(t)
	s := newStore(t, c, testKey, redisstore.Config{Prefix: prefix})
	long := strings.Repeat("x", 257)
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
			require.ErrorIs(t, s.Put(bg(), tc.conn, tc.session, tc.claims, tc.ttl), tc.want, "Put")
			if tc.want == delivery.ErrInvalidID {
				_, err := s.Get(bg(), tc.conn, tc.session)
				require.ErrorIs(t, err, tc.want, "Get")
				require.ErrorIs(t, s.Delete(bg(), tc.conn, tc.session), tc.want, "Delete")
			}
		})
	}
	require.Empty(t, keys(t, c, prefix), "refused calls wrote keys")
}

// TestStoreRawRedisHidesPlaintext reads what Redis really holds: neither
// the key nor the value shows the IDs or the secret data.
func TestStoreRawRedisHidesPlaintext(t *testing.T) {
	c, prefix := sharedRedis(t)
	s := newStore(t, c, testKey, redisstore.Config{Prefix: prefix})
	require.NoError(t, s.Put(bg(), connA, sessA, storedClaims(), time.Minute))
	ks := keys(t, c, prefix)
	require.Len(t, ks, 1)
	requireNoneIn(t, ks[0], connA, sessA, "AAAA")
	raw, err := c.Get(bg(), ks[0]).Result()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(raw), 50, "stored value length")
	requireNoneIn(t, raw, append(plaintextNeedles, "customer_id", "authentication_status", connA, sessA, testIssuer, "jti-stored")...)
}

// TestStoreSealing moves and forges stored bytes the way someone with
// write access to Redis could, and checks nothing opens.
func TestStoreSealing(t *testing.T) {
	c, prefix := sharedRedis(t)
	s := newStore(t, c, testKey, redisstore.Config{Prefix: prefix})
	require.NoError(t, s.Put(bg(), connA, sessA, storedClaims(), time.Minute))
	raw, err := c.Get(bg(), redisstore.StoreKey(prefix, connA, sessA)).Bytes()
	require.NoError(t, err)
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
			require.NoError(t, c.Set(bg(), redisstore.StoreKey(prefix, connA, tc.session), tc.value, time.Minute).Err())
			r := newStore(t, c, tc.key, redisstore.Config{Prefix: prefix})
			got, err := r.Get(bg(), connA, tc.session)
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, got)
		})
	}
}

func TestStoreTTL(t *testing.T) {
	c, prefix := sharedRedis(t)
	s := newStore(t, c, testKey, redisstore.Config{Prefix: prefix})
	require.NoError(t, s.Put(bg(), connA, sessA, storedClaims(), 2*time.Minute))
	ttl, err := c.PTTL(bg(), redisstore.StoreKey(prefix, connA, sessA)).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 119*time.Second, "PTTL just under 2m")
	require.LessOrEqual(t, ttl, 2*time.Minute, "PTTL just under 2m")

	start := time.Now()
	require.NoError(t, s.Put(bg(), connA, sessB, storedClaims(), 300*time.Millisecond))
	_, err = s.Get(bg(), connA, sessB)
	require.NoError(t, err, "before expiry")
	testenv.Eventually(t, 5*time.Second, "store expiry", func() error {
		if _, err := s.Get(bg(), connA, sessB); !errors.Is(err, delivery.ErrNotFound) {
			return errors.New("still there")
		}
		return nil
	})
	require.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "data expired before its ttl")
}

// TestStoreSealedDeadline keeps the bytes in Redis past their TTL (as a
// Redis that lost the expiry would): the sealed deadline still refuses them.
func TestStoreSealedDeadline(t *testing.T) {
	c, prefix := sharedRedis(t)
	now := time.Now()
	clock := &now
	s := newStore(t, c, testKey, redisstore.Config{Prefix: prefix, Now: func() time.Time { return *clock }})
	require.NoError(t, s.Put(bg(), connA, sessA, storedClaims(), time.Minute))
	key := redisstore.StoreKey(prefix, connA, sessA)
	require.NoError(t, c.Persist(bg(), key).Err())
	_, err := s.Get(bg(), connA, sessA)
	require.NoError(t, err, "within the deadline")
	later := now.Add(time.Minute + time.Second)
	clock = &later
	_, err = s.Get(bg(), connA, sessA)
	require.ErrorIs(t, err, delivery.ErrNotFound)
}
