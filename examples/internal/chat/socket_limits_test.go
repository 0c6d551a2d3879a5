package chat

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The socket path takes the same per-client limits as the HTTP routes: a
// socket is one of the client's open streams, every message over it spends
// a token of the client's message bucket, and its text counts against the
// session's and the store's byte bounds.

// TestSocketIsAStream: opening a socket counts as one of the client's open
// streams; over MaxStreamsPerClient the upgrade is refused 429 with
// Retry-After and a problem document, before any handshake; closing a
// socket frees its slot; another client has its own.
func TestSocketIsAStream(t *testing.T) {
	f, ts := metricsFixture(t, Config{Limits: Limits{MaxStreamsPerClient: 2, ClientIPHeader: "X-Forwarded-For"}})
	sid := f.open(t, `{}`, nil)
	path := "/connections/retail-bank/sessions/" + sid + "/ws"
	from := func(ip string) map[string]string {
		return map[string]string{"Origin": selfOrigin, "X-Forwarded-For": ip}
	}
	const a, b = "198.51.100.7", "198.51.100.8"

	first := dial(t, ts, path, from(a))
	require.NotNil(t, first.conn, first.body)
	second := dial(t, ts, path, from(a))
	require.NotNil(t, second.conn, second.body)

	before := f.srv.sockets.reached.Load()
	over := dial(t, ts, path, from(a))
	require.Equal(t, http.StatusTooManyRequests, over.status, over.body)
	assert.Nil(t, over.conn)
	assert.Equal(t, "application/problem+json", over.ctype)
	assert.Contains(t, over.body, `"type":"urn:msgsec:example:rate-limited"`)
	secs, err := strconv.Atoi(over.header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After is whole seconds")
	assert.GreaterOrEqual(t, secs, 1)
	assert.Equal(t, int64(1), f.srv.sockets.reached.Load()-before, "refused by the handler, before Accept")
	assert.Equal(t, 2, f.srv.openSockets(), "no third socket")
	eventually(t, ts, "msgsec_rate_limited_total", map[string]string{"connection": conn, "limit": "streams"}, 1)

	other := dial(t, ts, path, from(b))
	require.NotNil(t, other.conn, "another client has its own streams: %s", other.body)

	// Closing a socket gives its slot back, once the server has seen it
	// close: poll with a deadline.
	require.NoError(t, first.conn.Close(websocket.StatusNormalClosure, "bye"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := dial(t, ts, path, from(a))
		if r.conn != nil {
			break
		}
		require.Equal(t, http.StatusTooManyRequests, r.status, r.body)
		require.True(t, time.Now().Before(deadline), "the closed socket's slot was not freed")
		time.Sleep(50 * time.Millisecond)
	}
	// The slot is taken again: a's two streams are open.
	assert.Equal(t, http.StatusTooManyRequests, dial(t, ts, path, from(a)).status)
}

// TestSocketMessagesSpendTheClientsTokens: every message received over a
// socket spends a token of the client's message bucket — the same bucket
// as its HTTP messages — and one over the limit is answered with an error
// frame (the problem type and Retry-After, which the widget shows), is not
// stored, and leaves the socket open.
func TestSocketMessagesSpendTheClientsTokens(t *testing.T) {
	f, ts := metricsFixture(t, Config{Limits: Limits{MessagesPerSecond: 1, MessageBurst: 3}})
	sid := f.open(t, `{}`, nil)
	path := "/connections/retail-bank/sessions/" + sid
	c := dial(t, ts, path+"/ws", map[string]string{"Origin": selfOrigin}).conn
	require.NotNil(t, c)

	for i := range 3 {
		text := "message " + strconv.Itoa(i)
		write(t, c, websocket.MessageText, `{"text":"`+text+`"}`)
		assert.Equal(t, []string{"customer: " + text, "agent: Echo: " + text}, readTexts(t, c, 2))
	}
	write(t, c, websocket.MessageText, `{"text":"one too many"}`)
	fr := readFrame(t, c)
	assert.Equal(t, "error", fr.Type)
	assert.Equal(t, "not sent: this client is over its message limit; retry later", fr.Error)
	assert.Equal(t, "urn:msgsec:example:rate-limited", fr.Problem)
	assert.GreaterOrEqual(t, fr.RetryAfter, int64(1))
	assert.Nil(t, fr.Message)

	// A malformed frame spends a token too (checked first, as over HTTP),
	// so a flood of garbage is limited like a flood of messages.
	write(t, c, websocket.MessageText, `garbage`)
	assert.Equal(t, "urn:msgsec:example:rate-limited", readFrame(t, c).Problem)

	// The bucket is the client's: its HTTP messages are refused as well
	// (the test server's clients all come from 127.0.0.1).
	assertLimited(t, f.do(t, req{method: "POST", path: path + "/messages", body: `{"text":"over http"}`,
		header: map[string]string{"Origin": bankOrigin, "Content-Type": jsonCT}, remote: "127.0.0.1:9"}), "rate-limited")
	eventually(t, ts, "msgsec_rate_limited_total", map[string]string{"connection": conn, "limit": "message-rate"}, 3)

	f.clock.add(time.Second)
	write(t, c, websocket.MessageText, `{"text":"after a second"}`)
	assert.Equal(t, []string{"customer: after a second", "agent: Echo: after a second"}, readTexts(t, c, 2), "the socket stayed open and the bucket refilled")
	page := f.agentPage(t)
	assert.Contains(t, page, "Echo: after a second")
	assert.NotContains(t, page, "one too many", "a refused message is not stored")
	assert.NotContains(t, page, "over http")
}

// TestSocketMessagesAreBoundedInBytes: a socket message counts against the
// session's text (MaxSessionBytes) and the store's (MaxTotalBytes) exactly
// as an HTTP one; over either, an error frame with the storage-limit
// problem, nothing stored.
func TestSocketMessagesAreBoundedInBytes(t *testing.T) {
	// Each message stores its text and the echo ("Echo: " + text): 2006
	// bytes for 1000. Session A may hold 8000, the store 8000 in all.
	f := newFixture(t, Config{Limits: Limits{MaxSessionBytes: 4 * MaxTextBytes, MaxTotalBytes: 4 * MaxTextBytes, MessageBurst: 100}})
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	text := strings.Repeat("x", MaxTextBytes/2)
	socket := func(sid string) *websocket.Conn {
		c := dial(t, ts, "/connections/retail-bank/sessions/"+sid+"/ws", map[string]string{"Origin": selfOrigin}).conn
		require.NotNil(t, c)
		return c
	}
	a, b := socket(f.open(t, `{}`, nil)), socket(f.open(t, `{}`, nil))
	for range 3 {
		write(t, a, websocket.MessageText, `{"text":"`+text+`"}`)
		readTexts(t, a, 2)
	}
	write(t, a, websocket.MessageText, `{"text":"`+text+`"}`)
	fr := readFrame(t, a)
	assert.Equal(t, socketFrame{Type: "error", Error: "not sent: this chat holds as much text as it may",
		Problem: "urn:msgsec:example:storage-limit", RetryAfter: 60}, fr, "over the session's bound")

	write(t, b, websocket.MessageText, `{"text":"`+text+`"}`)
	fr = readFrame(t, b)
	assert.Equal(t, "urn:msgsec:example:storage-limit", fr.Problem, "over the store's total, though b's own chat is empty")
	write(t, b, websocket.MessageText, `{"text":"short"}`)
	assert.Equal(t, []string{"customer: short", "agent: Echo: short"}, readTexts(t, b, 2), "what still fits is taken")
}

// TestSocketFloodMeetsBackpressure: a client that floods its socket gets
// one error frame per back-off, not one per message: after a message over
// the rate the server reads nothing more from that socket for a while
// (until a token is there, at most maxBackOff), so the rest wait in the
// TCP buffers instead of each costing the server a frame's work.
func TestSocketFloodMeetsBackpressure(t *testing.T) {
	// One message at once, then one a second (of the test's clock, which
	// stands still: every later message is over the rate).
	f := newFixture(t, Config{Limits: Limits{MessagesPerSecond: 1, MessageBurst: 1}})
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	c := dial(t, ts, "/connections/retail-bank/sessions/"+f.open(t, `{}`, nil)+"/ws", map[string]string{"Origin": selfOrigin}).conn
	require.NotNil(t, c)
	const sent = 500
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	go func() {
		for range sent {
			if c.Write(ctx, websocket.MessageText, []byte(`{"text":"flood"}`)) != nil {
				return
			}
		}
	}()
	var messages, errs int
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			break // the 1.5 s are over
		}
		var fr socketFrame
		require.NoError(t, json.Unmarshal(data, &fr))
		switch fr.Type {
		case "message":
			messages++
		case "error":
			assert.Equal(t, "urn:msgsec:example:rate-limited", fr.Problem)
			errs++
		}
	}
	assert.Equal(t, 2, messages, "the one message the bucket allowed, and its echo")
	assert.GreaterOrEqual(t, errs, 1, "the flood was refused")
	assert.LessOrEqual(t, errs, 3, "one error frame per back-off of up to %v, not one per message (%d sent)", maxBackOff, sent)
}
