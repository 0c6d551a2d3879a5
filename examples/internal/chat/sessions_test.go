package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
)

// storeKind builds a fresh, empty SessionStore of one implementation.
type storeKind struct {
	name string
	// setup, when set, runs once in the kind's own test before its cases.
	setup func(t *testing.T)
	make  func(t *testing.T) SessionStore
}

// storeKinds are the stores the contract runs on: memory, one Redis, and
// a 3-primary Redis Cluster (started once for all its cases; the test
// fails if any command hits CROSSSLOT).
func storeKinds() []storeKind {
	var cl *testenv.Cluster
	return []storeKind{
		{name: "memory", make: func(*testing.T) SessionStore {
			return newMemorySessions(time.Now, DefaultMaxTotalBytes, func(string, string) {})
		}},
		{name: "redis", make: func(t *testing.T) SessionStore {
			c, prefix := sharedRedis(t)
			return newRedisSessions(t, c, prefix, make32(9))
		}},
		{name: "redis cluster", setup: func(t *testing.T) {
			cl = testenv.StartCluster(t)
			t.Cleanup(func() {
				n, first := cl.CrossSlotErrors()
				assert.Zero(t, n, "CROSSSLOT errors on the Cluster (first: %v)", first)
			})
		}, make: func(t *testing.T) SessionStore {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			return newRedisSessions(t, cl.Client(t), "msgsec-chat-test-"+hex.EncodeToString(b), make32(9))
		}},
	}
}

func newRedisSessions(t testing.TB, c redis.UniversalClient, prefix string, key []byte) *RedisSessions {
	t.Helper()
	s, err := NewRedisSessions(c, key, RedisSessionsConfig{Prefix: prefix, PollInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	return s
}

func testSession(connection string, lifetime time.Duration) *Session {
	now := time.Now()
	return &Session{
		ID: newSessionID(), Connection: connection, Origin: bankOrigin,
		Created: now, Expires: now.Add(lifetime),
		Cookies: []Cookie{{"page_viewed", "3"}},
		BrowserClaims: &secretdata.Claims{Issuer: "uplusbank-backend", Subject: "customer-42", Audience: conn,
			ID: "jti-1", SecretData: map[string]any{"customer_id": "C-1001"}},
	}
}

// lim bounds a session to n messages and the default text bytes.
func lim(n int) Bounds { return Bounds{Messages: n, Bytes: DefaultMaxSessionBytes} }

func msgs(texts ...string) []Message {
	out := make([]Message, 0, len(texts))
	for _, t := range texts {
		out = append(out, Message{From: FromCustomer, Text: t, At: time.Unix(1_750_000_000, 0).UTC()})
	}
	return out
}

func texts(ms []Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, strconv.Itoa(m.ID)+":"+m.Text)
	}
	return out
}

// TestSessionStores runs the SessionStore contract against the memory
// store and the Redis store: both must behave alike.
func TestSessionStores(t *testing.T) {
	ctx := context.Background()
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			if kind.setup != nil {
				kind.setup(t)
			}
			tests := []struct {
				name string
				run  func(t *testing.T, st SessionStore)
			}{
				{"created session reads back, without messages", func(t *testing.T, st SessionStore) {
					s := testSession(conn, time.Minute)
					require.NoError(t, st.Create(ctx, s, 10))
					got, err := st.Get(ctx, conn, s.ID)
					require.NoError(t, err)
					assert.Equal(t, s.ID, got.ID)
					assert.Equal(t, s.Origin, got.Origin)
					assert.True(t, s.Expires.Equal(got.Expires))
					assert.Equal(t, s.Cookies, got.Cookies)
					require.NotNil(t, got.BrowserClaims)
					assert.Equal(t, "C-1001", got.BrowserClaims.SecretData["customer_id"])
					assert.Empty(t, got.Messages)
				}},
				{"unknown session", func(t *testing.T, st SessionStore) {
					_, err := st.Get(ctx, conn, "nope")
					assert.ErrorIs(t, err, ErrNoSession)
					assert.ErrorIs(t, st.Append(ctx, conn, "nope", nil, msgs("a"), lim(10)), ErrNoSession)
					_, _, err = st.Messages(ctx, conn, "nope", 0)
					assert.ErrorIs(t, err, ErrNoSession)
				}},
				{"another connection does not see the session", func(t *testing.T, st SessionStore) {
					s := testSession(conn, time.Minute)
					require.NoError(t, st.Create(ctx, s, 10))
					_, err := st.Get(ctx, "other-connection", s.ID)
					assert.ErrorIs(t, err, ErrNoSession)
					assert.ErrorIs(t, st.Append(ctx, "other-connection", s.ID, nil, msgs("a"), lim(10)), ErrNoSession)
				}},
				{"messages are numbered and resumed after an id", func(t *testing.T, st SessionStore) {
					s := testSession(conn, time.Minute)
					require.NoError(t, st.Create(ctx, s, 10))
					require.NoError(t, st.Append(ctx, conn, s.ID, nil, msgs("a", "b"), lim(10)))
					require.NoError(t, st.Append(ctx, conn, s.ID, nil, msgs("c"), lim(10)))
					for _, c := range []struct {
						after int
						want  []string
					}{{0, []string{"1:a", "2:b", "3:c"}}, {2, []string{"3:c"}}, {3, []string{}},
						{4, []string{"1:a", "2:b", "3:c"}}, {-1, []string{"1:a", "2:b", "3:c"}}} {
						got, exp, err := st.Messages(ctx, conn, s.ID, c.after)
						require.NoError(t, err)
						assert.Equal(t, c.want, texts(got), "after %d", c.after)
						assert.True(t, s.Expires.Equal(exp))
					}
				}},
				{"message bound refuses and adds nothing", func(t *testing.T, st SessionStore) {
					s := testSession(conn, time.Minute)
					require.NoError(t, st.Create(ctx, s, 10))
					require.NoError(t, st.Append(ctx, conn, s.ID, nil, msgs("a", "b"), lim(3)))
					assert.ErrorIs(t, st.Append(ctx, conn, s.ID, nil, msgs("c", "d"), lim(3)), ErrTooManyMessages)
					got, _, err := st.Messages(ctx, conn, s.ID, 0)
					require.NoError(t, err)
					assert.Equal(t, []string{"1:a", "2:b"}, texts(got))
				}},
				{"text bound refuses and adds nothing", func(t *testing.T, st SessionStore) {
					s := testSession(conn, time.Minute)
					require.NoError(t, st.Create(ctx, s, 10))
					b := Bounds{Messages: 100, Bytes: 10}
					require.NoError(t, st.Append(ctx, conn, s.ID, nil, msgs("aaaa", "bbbb"), b))
					assert.ErrorIs(t, st.Append(ctx, conn, s.ID, nil, msgs("ccc"), b), ErrTooMuchText, "8 + 3 > 10")
					require.NoError(t, st.Append(ctx, conn, s.ID, nil, msgs("cc"), b), "8 + 2 = 10 fits")
					got, _, err := st.Messages(ctx, conn, s.ID, 0)
					require.NoError(t, err)
					assert.Equal(t, []string{"1:aaaa", "2:bbbb", "3:cc"}, texts(got))
					// Another session has its own bound.
					s2 := testSession(conn, time.Minute)
					require.NoError(t, st.Create(ctx, s2, 10))
					require.NoError(t, st.Append(ctx, conn, s2.ID, nil, msgs("dddddddddd"), b))
				}},
				{"cookies: nil keeps, empty clears, others replace", func(t *testing.T, st SessionStore) {
					s := testSession(conn, time.Minute)
					require.NoError(t, st.Create(ctx, s, 10))
					require.NoError(t, st.Append(ctx, conn, s.ID, nil, msgs("a"), lim(10)))
					got, _ := st.Get(ctx, conn, s.ID)
					assert.Equal(t, []Cookie{{"page_viewed", "3"}}, got.Cookies)
					require.NoError(t, st.Append(ctx, conn, s.ID, []Cookie{{"cart_contents", "x"}}, msgs("b"), lim(10)))
					got, _ = st.Get(ctx, conn, s.ID)
					assert.Equal(t, []Cookie{{"cart_contents", "x"}}, got.Cookies)
					require.NoError(t, st.Append(ctx, conn, s.ID, []Cookie{}, msgs("c"), lim(10)))
					got, _ = st.Get(ctx, conn, s.ID)
					assert.Empty(t, got.Cookies)
				}},
				{"session bound", func(t *testing.T, st SessionStore) {
					require.NoError(t, st.Create(ctx, testSession(conn, time.Minute), 2))
					require.NoError(t, st.Create(ctx, testSession(conn, time.Minute), 2))
					assert.ErrorIs(t, st.Create(ctx, testSession(conn, time.Minute), 2), ErrSessionsFull)
				}},
				{"list: newest first, with messages", func(t *testing.T, st SessionStore) {
					old, young := testSession(conn, time.Minute), testSession(conn, time.Minute)
					young.Created = old.Created.Add(time.Second)
					require.NoError(t, st.Create(ctx, old, 10))
					require.NoError(t, st.Create(ctx, young, 10))
					require.NoError(t, st.Append(ctx, conn, old.ID, nil, msgs("hello"), lim(10)))
					list, _, err := st.List(ctx, Page{})
					require.NoError(t, err)
					require.Len(t, list, 2)
					assert.Equal(t, []string{young.ID, old.ID}, []string{list[0].ID, list[1].ID})
					assert.Equal(t, []string{"1:hello"}, texts(list[1].Messages))
					assert.Equal(t, "C-1001", list[1].BrowserClaims.SecretData["customer_id"])
				}},
				{"list: pages, and the last messages", func(t *testing.T, st SessionStore) {
					var ids []string // newest first
					base := time.Now()
					for i := range 5 {
						s := testSession(conn, time.Minute)
						s.Created = base.Add(time.Duration(i) * time.Second)
						s.Expires = base.Add(time.Minute + time.Duration(i)*time.Second)
						require.NoError(t, st.Create(ctx, s, 10))
						ids = append([]string{s.ID}, ids...)
					}
					require.NoError(t, st.Append(ctx, conn, ids[1], nil, msgs("a", "b", "c", "d"), lim(10)))
					got, total, err := st.List(ctx, Page{Offset: 1, Limit: 2, LastMessages: 3})
					require.NoError(t, err)
					assert.Equal(t, 5, total)
					require.Len(t, got, 2)
					assert.Equal(t, ids[1:3], []string{got[0].ID, got[1].ID})
					assert.Equal(t, []string{"2:b", "3:c", "4:d"}, texts(got[0].Messages), "the last 3, numbered as stored")
					got, total, err = st.List(ctx, Page{Offset: 4, Limit: 2})
					require.NoError(t, err)
					assert.Equal(t, 5, total)
					require.Len(t, got, 1)
					assert.Equal(t, ids[4], got[0].ID)
					got, _, err = st.List(ctx, Page{Offset: 9, Limit: 2})
					require.NoError(t, err)
					assert.Empty(t, got)
				}},
				{"watch is signalled by an append", func(t *testing.T, st SessionStore) {
					s := testSession(conn, time.Minute)
					require.NoError(t, st.Create(ctx, s, 10))
					ch, stop := st.Watch(conn, s.ID)
					defer stop()
					require.NoError(t, st.Append(ctx, conn, s.ID, nil, msgs("a"), lim(10)))
					select {
					case <-ch:
					case <-time.After(2 * time.Second):
						require.FailNow(t, "not signalled")
					}
				}},
				{"an expired session is gone and frees its slot", func(t *testing.T, st SessionStore) {
					s := testSession(conn, 150*time.Millisecond)
					require.NoError(t, st.Create(ctx, s, 1))
					time.Sleep(1100 * time.Millisecond) // past the memory store's purge interval too
					_, err := st.Get(ctx, conn, s.ID)
					assert.ErrorIs(t, err, ErrNoSession)
					assert.ErrorIs(t, st.Append(ctx, conn, s.ID, nil, msgs("a"), lim(10)), ErrNoSession)
					require.NoError(t, st.Create(ctx, testSession(conn, time.Minute), 1))
					list, _, err := st.List(ctx, Page{})
					require.NoError(t, err)
					assert.Len(t, list, 1)
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) { tt.run(t, kind.make(t)) })
			}
		})
	}
}

// sharedRedis returns a client on the test Redis (MSGSEC_REDIS_URL) and a
// key prefix no other test uses, deleted when the test ends.
func sharedRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	c := newRedisClient(t, testenv.RedisURL(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.Ping(ctx).Err(), "MSGSEC_REDIS_URL does not answer")
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "msgsec-chat-test-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, k := range redisKeys(t, c, prefix) {
			c.Del(ctx, k)
		}
	})
	return c, prefix
}

func newRedisClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	require.NoError(t, err)
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1 // an outage test wants the first failure
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func redisKeys(t testing.TB, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ks, err := c.Keys(ctx, prefix+":*").Result()
	require.NoError(t, err)
	return ks
}

// TestMemoryTotalText: the memory store holds at most its total of text
// over all sessions; an ended session's text is freed for others.
func TestMemoryTotalText(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	st := newMemorySessions(clock, 10, func(string, string) {})
	b := Bounds{Messages: 100, Bytes: 100}
	short := &Session{ID: newSessionID(), Connection: conn, Created: now, Expires: now.Add(time.Minute)}
	long := &Session{ID: newSessionID(), Connection: conn, Created: now, Expires: now.Add(time.Hour)}
	require.NoError(t, st.Create(ctx, short, 10))
	require.NoError(t, st.Create(ctx, long, 10))
	require.NoError(t, st.Append(ctx, conn, short.ID, nil, msgs("123456"), b))
	assert.ErrorIs(t, st.Append(ctx, conn, long.ID, nil, msgs("12345"), b), ErrTooMuchText, "6 + 5 > 10 in total, though the session is far from its own bound")
	require.NoError(t, st.Append(ctx, conn, long.ID, nil, msgs("1234"), b))

	now = now.Add(2 * time.Minute) // short has ended
	require.NoError(t, st.Append(ctx, conn, long.ID, nil, msgs("123456"), b), "the ended session's text was freed")
	assert.ErrorIs(t, st.Append(ctx, conn, long.ID, nil, msgs("1"), b), ErrTooMuchText)
}
