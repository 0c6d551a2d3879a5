package chat

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/msgsec/msgsec/internal/testenv"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRedisSessionsKeepSecretsSealed: Redis holds neither the browser
// claims' secret data nor any ID in a key, and claims moved to another
// session do not open there.
func TestRedisSessionsKeepSecretsSealed(t *testing.T) {
	ctx := context.Background()
	c, prefix := sharedRedis(t)
	st := newRedisSessions(t, c, prefix, make32(9))
	a, b := testSession(conn, time.Minute), testSession(conn, time.Minute)
	b.BrowserClaims.SecretData["customer_id"] = "C-other"
	require.NoError(t, st.Create(ctx, a, 10))
	require.NoError(t, st.Create(ctx, b, 10))

	ks := redisKeys(t, c, prefix)
	require.NotEmpty(t, ks)
	for _, k := range ks {
		for _, needle := range []string{a.ID, b.ID, conn} {
			assert.NotContains(t, k, needle, "a key holds an ID")
		}
		if typ, _ := c.Type(ctx, k).Result(); typ == "hash" {
			h, err := c.HGetAll(ctx, k).Result()
			require.NoError(t, err)
			for f, v := range h {
				assert.NotContains(t, v, "C-1001", "field %s holds secret data in clear", f)
				assert.NotContains(t, v, "C-other", "field %s holds secret data in clear", f)
			}
		}
	}

	// Copy a's sealed claims over b's: b must not show them.
	ma, mb := st.metaKey(member(conn, a.ID)), st.metaKey(member(conn, b.ID))
	sealed, err := c.HGet(ctx, ma, "claims").Result()
	require.NoError(t, err)
	require.NoError(t, c.HSet(ctx, mb, "claims", sealed).Err())
	_, err = st.Get(ctx, conn, b.ID)
	assert.ErrorIs(t, err, errCorruptSession)
	_, _, err = st.List(ctx, Page{})
	assert.ErrorIs(t, err, errCorruptSession, "the agent view fails rather than show moved claims")

	// Another key opens nothing either.
	other := newRedisSessions(t, c, prefix, make32(10))
	_, err = other.Get(ctx, conn, a.ID)
	assert.ErrorIs(t, err, errCorruptSession)
}

// TestNewRedisSessionsRefusesBadConfig: configuration is checked once.
func TestNewRedisSessionsRefusesBadConfig(t *testing.T) {
	good := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer good.Close()
	noTimeout := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer noTimeout.Close()
	tests := []struct {
		name   string
		client redis.UniversalClient
		key    []byte
		cfg    RedisSessionsConfig
	}{
		{"nil client", nil, make32(1), RedisSessionsConfig{}},
		{"client ignores deadlines", noTimeout, make32(1), RedisSessionsConfig{}},
		{"short key", good, make([]byte, 16), RedisSessionsConfig{}},
		{"all-zero key", good, make([]byte, 32), RedisSessionsConfig{}},
		{"prefix with a brace", good, make32(1), RedisSessionsConfig{Prefix: "a{b}"}},
		{"prefix with a space", good, make32(1), RedisSessionsConfig{Prefix: "a b"}},
		{"timeout too long", good, make32(1), RedisSessionsConfig{Timeout: time.Minute}},
		{"poll too fast", good, make32(1), RedisSessionsConfig{PollInterval: time.Millisecond}},
		{"poll too slow", good, make32(1), RedisSessionsConfig{PollInterval: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRedisSessions(tt.client, tt.key, tt.cfg)
			assert.ErrorIs(t, err, ErrConfig)
		})
	}
	_, err := NewRedisSessions(good, make32(1), RedisSessionsConfig{})
	assert.NoError(t, err, "defaults")
}

// TestTwoServersShareRedisSessions: two chat servers on one Redis, as two
// instances behind a load balancer. A session opened on A takes messages
// through B, B's agent view shows it with its verified browser data, and
// a socket on B sees what A appends (and its messages reach A).
func TestTwoServersShareRedisSessions(t *testing.T) {
	c, prefix := sharedRedis(t)
	a := newFixture(t, Config{Sessions: newRedisSessions(t, c, prefix, make32(9))})
	b := newFixture(t, Config{Sessions: newRedisSessions(t, c, prefix, make32(9))})
	tsB := httptest.NewServer(b.srv)
	defer tsB.Close()

	sid := a.open(t, `{"cookies":{"page_viewed":"7"}}`, map[string]string{"Authorization": "Bearer " + a.token(t, "")})
	path := "/connections/retail-bank/sessions/" + sid
	h := map[string]string{"Origin": selfOrigin, "Content-Type": jsonCT}
	w := b.do(t, req{method: "POST", path: path + "/messages", body: `{"text":"via B"}`, header: h})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())

	page := b.agentPage(t)
	for _, want := range []string{sid, "via B", "Echo: via B", `data-mode="browser"`, "<th>customer_id</th><td>C-1001</td>", "<th>page_viewed</th><td>7</td>"} {
		assert.Contains(t, page, want)
	}

	sock := dial(t, tsB, path+"/ws?after=2", map[string]string{"Origin": selfOrigin})
	require.NotNil(t, sock.conn, sock.body)
	w = a.do(t, req{method: "POST", path: path + "/messages", body: `{"text":"via A"}`, header: h})
	require.Equal(t, http.StatusNoContent, w.Code)
	assert.Equal(t, []socketFrame{
		{Type: "message", Message: &Message{ID: 3, From: FromCustomer, Text: "via A"}},
		{Type: "message", Message: &Message{ID: 4, From: FromAgent, Text: "Echo: via A"}},
	}, []socketFrame{readFrame(t, sock.conn), readFrame(t, sock.conn)}, "a socket on B sees what A appends")
	// And a message sent over B's socket is stored for A.
	write(t, sock.conn, websocket.MessageText, `{"text":"socket on B"}`)
	assert.Equal(t, []string{"customer: socket on B", "agent: Echo: socket on B"}, readTexts(t, sock.conn, 2))
	assert.Contains(t, a.agentPage(t), "Echo: socket on B")

	// Ending the chat on A closes B's socket and removes it everywhere.
	w = a.do(t, req{method: "DELETE", path: path, header: h})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	code, reason := closedWith(t, sock.conn, 10*time.Second)
	assert.Equal(t, websocket.StatusNormalClosure, code)
	assert.Equal(t, closeSessionEnded, reason)
	assert.NotContains(t, b.agentPage(t), sid)
	assert.Equal(t, http.StatusNotFound, b.do(t, req{method: "DELETE", path: path, header: h}).Code)
}

// TestRedisSessionsOutage: with Redis stopped every session route fails
// closed with 503 within the timeout; when Redis is back, they work again.
func TestRedisSessionsOutage(t *testing.T) {
	rs := testenv.StartRedis(t)
	c := newRedisClient(t, rs.URL())
	st, err := NewRedisSessions(c, make32(9), RedisSessionsConfig{Timeout: 200 * time.Millisecond})
	require.NoError(t, err)
	f := newFixture(t, Config{Sessions: st})
	sid := f.open(t, `{}`, nil)
	path := "/connections/retail-bank/sessions/" + sid
	h := map[string]string{"Origin": selfOrigin, "Content-Type": jsonCT}

	rs.Stop()
	tests := []struct {
		name string
		req  req
	}{
		{"open", req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`, header: map[string]string{"Origin": bankOrigin, "Content-Type": jsonCT}}},
		{"message", req{method: "POST", path: path + "/messages", body: `{"text":"hi"}`, header: h}},
		{"socket", req{method: "GET", path: path + "/ws", header: upgrade(selfOrigin)}},
		{"end", req{method: "DELETE", path: path, header: h}},
		{"agent view", req{method: "GET", path: "/agent"}},
	}
	for _, tt := range tests {
		t.Run("down: "+tt.name, func(t *testing.T) {
			start := time.Now()
			w := f.do(t, tt.req)
			assert.Equal(t, http.StatusServiceUnavailable, w.Code)
			assert.Less(t, time.Since(start), 2*time.Second, "bounded by the timeout")
		})
	}
	assert.True(t, errors.Is(st.Append(context.Background(), conn, sid, nil, msgs("x"), lim(10)), ErrSessionStoreUnavailable))
	assert.NotContains(t, f.logs.String(), sid, "errors name no session")

	rs.Start() // empty: the old session is gone (no persistence), new ones work
	deadline := time.Now().Add(5 * time.Second)
	for {
		w := f.do(t, tests[0].req)
		if w.Code == http.StatusCreated {
			break
		}
		require.True(t, time.Now().Before(deadline), "no recovery: %d", w.Code)
		time.Sleep(50 * time.Millisecond)
	}
	assert.True(t, strings.Contains(f.agentPage(t), "1 session(s)"))
}

// TestRedisSessionsSpreadOverACluster: on a 3-primary Cluster, one
// session's keys share a slot (its scripts are atomic there) and
// different sessions' keys do not: no hash tag is shared by all of them.
func TestRedisSessionsSpreadOverACluster(t *testing.T) {
	ctx := context.Background()
	cl := testenv.StartCluster(t)
	c := cl.Client(t)
	const prefix = "msgsec-chat-spread"
	st := newRedisSessions(t, c, prefix, make32(9))
	const n = 60
	ids := make([]string, n)
	for i := range ids {
		s := testSession(conn, time.Minute)
		ids[i] = s.ID
		require.NoError(t, st.Create(ctx, s, n))
		require.NoError(t, st.Append(ctx, conn, s.ID, nil, msgs("hello", "again"), lim(10)))
	}
	list, total, err := st.List(ctx, Page{LastMessages: 1})
	require.NoError(t, err)
	require.Equal(t, n, total)
	require.Len(t, list, n)
	require.NoError(t, st.End(ctx, conn, ids[0]))
	_, total, err = st.List(ctx, Page{})
	require.NoError(t, err)
	require.Equal(t, n-1, total)

	sessionSlots := map[int64]bool{}
	for _, id := range ids[1:] {
		m := member(conn, id)
		meta, err := c.ClusterKeySlot(ctx, st.metaKey(m)).Result()
		require.NoError(t, err)
		msgsSlot, err := c.ClusterKeySlot(ctx, st.msgsKey(m)).Result()
		require.NoError(t, err)
		require.Equal(t, meta, msgsSlot, "one session's keys share a slot")
		sessionSlots[meta] = true
	}
	slots := cl.Slots(t, prefix+":*")
	t.Logf("slot spread: %d sessions on %d slots; all %d keys (with the index) on %d slots",
		n-1, len(sessionSlots), len(cl.Keys(t, prefix+":*")), len(slots))
	require.Greater(t, len(sessionSlots), (n-1)*9/10, "different sessions apart")
	nCross, first := cl.CrossSlotErrors()
	require.Zero(t, nCross, "CROSSSLOT errors (first: %v)", first)
}
