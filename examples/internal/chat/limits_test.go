package chat

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openFrom opens a session as the client at remote and returns the answer.
func (f *fixture) openFrom(t testing.TB, remote string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	h := map[string]string{"Origin": bankOrigin, "Content-Type": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	return f.do(t, req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`, header: h, remote: remote})
}

// assertLimited checks a 429 answer: Retry-After in whole seconds, at
// least 1, and an RFC 9457 problem document that echoes nothing.
func assertLimited(t *testing.T, w *httptest.ResponseRecorder, kind string) int {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, w.Code, w.Body.String())
	secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
	require.NoError(t, err, "Retry-After is whole seconds")
	assert.GreaterOrEqual(t, secs, 1)
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	var doc struct {
		Type   string
		Status int
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	assert.Equal(t, "urn:msgsec:example:"+kind, doc.Type)
	assert.Equal(t, http.StatusTooManyRequests, doc.Status)
	return secs
}

func TestSessionOpeningIsRateLimitedPerClient(t *testing.T) {
	f := newFixture(t, Config{Limits: Limits{SessionsPerMinute: 6, SessionBurst: 2}})
	const a, b = "198.51.100.7:1111", "198.51.100.8:2222"
	for range 2 {
		assert.Equal(t, http.StatusCreated, f.openFrom(t, a, nil).Code)
	}
	secs := assertLimited(t, f.openFrom(t, a, nil), "rate-limited")
	assert.LessOrEqual(t, secs, 10, "6 a minute: one token every 10 s")
	assert.Equal(t, http.StatusCreated, f.openFrom(t, b, nil).Code, "another client has its own bucket")
	assertLimited(t, f.openFrom(t, "198.51.100.7:3333", nil), "rate-limited") // a new port is the same client

	f.clock.add(10 * time.Second)
	assert.Equal(t, http.StatusCreated, f.openFrom(t, a, nil).Code, "the bucket refills with time")
	assertLimited(t, f.openFrom(t, a, nil), "rate-limited")
}

func TestMessagesAreRateLimitedPerClient(t *testing.T) {
	f := newFixture(t, Config{Limits: Limits{MessagesPerSecond: 1, MessageBurst: 3}})
	const a = "198.51.100.9:1111"
	w := f.openFrom(t, a, nil)
	require.Equal(t, http.StatusCreated, w.Code)
	var out openResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
	send := func(remote string) *httptest.ResponseRecorder {
		return f.do(t, req{method: "POST", path: "/connections/retail-bank/sessions/" + out.Session + "/messages",
			body: `{"text":"hi"}`, header: map[string]string{"Origin": bankOrigin, "Content-Type": "application/json"}, remote: remote})
	}
	for range 3 {
		assert.Equal(t, http.StatusNoContent, send(a).Code)
	}
	assertLimited(t, send(a), "rate-limited")
	assert.Equal(t, http.StatusNoContent, send("198.51.100.10:1").Code, "the limit is the client's, not the session's")
	f.clock.add(time.Second)
	assert.Equal(t, http.StatusNoContent, send(a).Code)
}

func TestSessionTextIsBounded(t *testing.T) {
	f := newFixture(t, Config{Limits: Limits{MaxSessionBytes: 3 * MaxTextBytes, MessageBurst: 100}})
	id := f.open(t, `{}`, nil)
	text := strings.Repeat("x", MaxTextBytes/2)
	send := func() *httptest.ResponseRecorder {
		return f.do(t, req{method: "POST", path: "/connections/retail-bank/sessions/" + id + "/messages",
			body: `{"text":"` + text + `"}`, header: map[string]string{"Origin": bankOrigin, "Content-Type": "application/json"}})
	}
	// Each message stores its text and the echo ("Echo: " + text).
	for range 2 {
		require.Equal(t, http.StatusNoContent, send().Code)
	}
	assertLimited(t, send(), "storage-limit")
	assert.Equal(t, http.StatusNoContent, f.do(t, req{method: "POST", path: "/connections/retail-bank/sessions/" + f.open(t, `{}`, nil) + "/messages",
		body: `{"text":"hello"}`, header: map[string]string{"Origin": bankOrigin, "Content-Type": "application/json"}}).Code, "another session has room")
}

func TestClientIdentity(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	key := func(l Limits, remote string, xff ...string) string {
		r.RemoteAddr = remote
		r.Header.Del("X-Forwarded-For")
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		return l.clientKey(r)
	}
	var direct Limits
	behind := Limits{ClientIPHeader: "X-Forwarded-For"}
	assert.Equal(t, "198.51.100.7", key(direct, "198.51.100.7:1234"))
	assert.Equal(t, "198.51.100.7", key(direct, "198.51.100.7:1234", "203.0.113.9"), "without the option the header is not trusted")
	assert.Equal(t, "2001:db8:1:2::/64", key(direct, "[2001:db8:1:2:aaaa::1]:443"), "IPv6 counts per /64")
	assert.Equal(t, key(direct, "[2001:db8:1:2:aaaa::1]:443"), key(direct, "[2001:db8:1:2:bbbb::7]:443"))
	assert.Equal(t, "198.51.100.7", key(direct, "[::ffff:198.51.100.7]:1"), "IPv4-mapped is IPv4")
	assert.Equal(t, "203.0.113.9", key(behind, "10.0.0.1:1", "198.51.100.1, 203.0.113.9"), "the proxy's own entry is the last")
	assert.Equal(t, "203.0.113.9", key(behind, "10.0.0.1:1", "1.2.3.4", "203.0.113.9"))
	assert.Equal(t, "?", key(behind, "10.0.0.1:1"), "a missing header is one shared client, never a fresh one")
	assert.Equal(t, "?", key(behind, "10.0.0.1:1", "not-an-ip"))
	assert.Equal(t, "?", key(direct, "garbage"))
}

func TestClientsAreBounded(t *testing.T) {
	l := Limits{MaxClients: 3}
	require.NoError(t, l.defaults())
	c := newClients(&l, time.Now)
	first := c.get("a")
	for i := range 1000 {
		c.get(fmt.Sprint("flood-", i))
	}
	assert.Equal(t, 3, c.order.Len())
	assert.Len(t, c.byKey, 3)
	assert.NotSame(t, first, c.get("a"), "the least recently seen was forgotten")
}

func TestStreamsPerClientAreBounded(t *testing.T) {
	l := Limits{MaxStreamsPerClient: 2, MaxStreams: 3}
	require.NoError(t, l.defaults())
	c := newClients(&l, time.Now)
	a, b := c.get("a"), c.get("b")
	d1, ok := c.openStream(a)
	require.True(t, ok)
	d2, ok := c.openStream(a)
	require.True(t, ok)
	_, ok = c.openStream(a)
	assert.False(t, ok, "per client")
	d3, ok := c.openStream(b)
	require.True(t, ok)
	_, ok = c.openStream(b)
	assert.False(t, ok, "in total")
	d1()
	d1() // a second call frees nothing more
	d4, ok := c.openStream(b)
	assert.True(t, ok, "a closed stream frees its slot")
	d4()
	d5, ok := c.openStream(a)
	require.True(t, ok, "a: 1 open of 2")
	_, ok = c.openStream(a)
	assert.False(t, ok, "a is at its 2 again: the repeated done did not free a second slot")
	d2()
	d3()
	d5()
}

func TestLimitsConfigRefused(t *testing.T) {
	for _, l := range []Limits{
		{SessionBurst: -1}, {MessagesPerSecond: -1}, {MaxSessionBytes: 10}, {MaxTotalBytes: 1000, MaxSessionBytes: 100_000},
		{ClientIPHeader: "X-Forwarded-For: 1"},
	} {
		assert.ErrorIs(t, l.defaults(), ErrConfig, "%+v", l)
	}
}

func TestAgentViewIsPaginated(t *testing.T) {
	f := newFixture(t, Config{Limits: Limits{SessionBurst: 100}})
	for range agentPageSessions + 3 {
		f.open(t, `{}`, nil)
	}
	first := f.agentPage(t)
	assert.Contains(t, first, fmt.Sprintf("Agent view: %d session(s)", agentPageSessions+3))
	assert.Equal(t, agentPageSessions, strings.Count(first, `<section class="session"`))
	assert.Contains(t, first, `href="/agent?page=2"`)
	w := f.do(t, req{method: "GET", path: "/agent?page=2"})
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, 3, strings.Count(w.Body.String(), `<section class="session"`))
	for _, bad := range []string{"0", "-1", "x", "99999999999"} {
		assert.Equal(t, http.StatusBadRequest, f.do(t, req{method: "GET", path: "/agent?page=" + bad}).Code, bad)
	}
}

// Ending a chat (DELETE) gives its text back to the store's total.
func TestEndingAChatFreesItsText(t *testing.T) {
	f := newFixture(t, Config{Limits: Limits{MaxSessionBytes: 4 * MaxTextBytes, MaxTotalBytes: 4 * MaxTextBytes, MessageBurst: 100}})
	text := strings.Repeat("x", MaxTextBytes/2) // 2006 bytes stored with its echo
	send := func(id string) *httptest.ResponseRecorder {
		return f.do(t, req{method: "POST", path: "/connections/retail-bank/sessions/" + id + "/messages",
			body: `{"text":"` + text + `"}`, header: map[string]string{"Origin": bankOrigin, "Content-Type": "application/json"}})
	}
	a, b := f.open(t, `{}`, nil), f.open(t, `{}`, nil)
	for range 3 {
		require.Equal(t, http.StatusNoContent, send(a).Code)
	}
	assertLimited(t, send(b), "storage-limit")
	w := f.do(t, req{method: "DELETE", path: "/connections/retail-bank/sessions/" + a, header: map[string]string{"Origin": bankOrigin}})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	assert.Equal(t, http.StatusNoContent, send(b).Code, "a's text no longer counts")
}
