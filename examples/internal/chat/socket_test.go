package chat

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// upgrade is the header set of a WebSocket handshake from origin (none if
// empty), enough for the middleware (httptest.ResponseRecorder cannot be
// hijacked, so these requests must be refused before Accept).
func upgrade(origin string) map[string]string {
	h := map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	if origin != "" {
		h["Origin"] = origin
	}
	return h
}

// dialResult is a handshake's outcome.
type dialResult struct {
	conn   *websocket.Conn // nil unless upgraded
	status int
	ctype  string
	body   string
	header http.Header // the handshake's answer
}

// dial opens a WebSocket to ts at path with the given header (Origin and
// any other; "Origin" may hold several values joined by "\n").
func dial(t *testing.T, ts *httptest.Server, path string, header map[string]string) dialResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := http.Header{}
	for k, v := range header {
		for _, one := range strings.Split(v, "\n") {
			h.Add(k, one)
		}
	}
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+path, &websocket.DialOptions{HTTPHeader: h})
	var r dialResult
	if resp != nil {
		r.status, r.ctype, r.header = resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header
		if resp.Body != nil {
			b, _ := io.ReadAll(resp.Body)
			r.body = string(b)
		}
	}
	if err == nil {
		r.conn = c
		t.Cleanup(func() { c.CloseNow() })
	}
	return r
}

// readFrame reads one server frame (At zeroed), within 10 s.
func readFrame(t *testing.T, c *websocket.Conn) socketFrame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, data, err := c.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, websocket.MessageText, typ)
	var f socketFrame
	require.NoError(t, json.Unmarshal(data, &f), "%s", data)
	if f.Message != nil {
		f.At = time.Time{}
	}
	return f
}

// readTexts reads n message frames and returns "from: text" for each.
func readTexts(t *testing.T, c *websocket.Conn, n int) []string {
	t.Helper()
	var out []string
	for range n {
		f := readFrame(t, c)
		require.Equal(t, "message", f.Type, "%+v", f)
		out = append(out, f.From+": "+f.Text)
	}
	return out
}

func write(t *testing.T, c *websocket.Conn, typ websocket.MessageType, data string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, typ, []byte(data)))
}

// closedWith reads until the socket closes and returns its close status
// and reason (-1 if it ended without a close frame).
func closedWith(t *testing.T, c *websocket.Conn, within time.Duration) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		require.NoError(t, ctx.Err(), "the socket did not close within %v", within)
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason
		}
		return -1, err.Error()
	}
}

// twoConnections is the built-in policy plus a second connection that
// admits the same site, so only the session check keeps one connection's
// session ID from working under the other.
func twoConnections() []byte {
	return append(DefaultPolicy(), []byte(`
  - id: wealth
    name: U+ Wealth (demo)
    allowed_domains:
      - http://www.uplusbank.localhost:*
    allowed_cookies: [page_viewed]
    keys:
      - id: uplus-demo
        algorithm: HS256
        secret: {env: UPLUS_JWT_SECRET}
    token:
      issuer: uplusbank-backend
      max_lifetime: 5m
      secret_data: optional
    mode: enforce
`)...)
}

// TestSocketHandshake is the black-box probe of the WebSocket route
// against a real listener: msgsec decides who may upgrade (the full origin,
// scheme and port included; a refusal is its 403 problem document and the
// handler is never reached), and the session ID must name a live session
// of the connection in the path.
func TestSocketHandshake(t *testing.T) {
	f := newFixtureWith(t, Config{}, twoConnections())
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	sid := f.open(t, `{}`, nil)
	path := "/connections/retail-bank/sessions/" + sid + "/ws"
	// The test server's own host, as coder/websocket's own check (host
	// only) would admit it under any scheme.
	ownHostHTTPS := "https://" + strings.TrimPrefix(ts.URL, "http://")

	tests := []struct {
		name        string
		path        string
		origin      string
		wantStatus  int
		wantProblem string // the msgsec problem type, for a refusal by the middleware
		reaches     bool   // the request reaches the handler
	}{
		{"the bank's page", path, bankOrigin, http.StatusSwitchingProtocols, "", true},
		{"the widget iframe (the chat server's own origin)", path, selfOrigin, http.StatusSwitchingProtocols, "", true},
		{"an unlisted site", path, evilOrigin, http.StatusForbidden, "origin-denied", false},
		{"a sandboxed iframe (Origin: null)", path, "null", http.StatusForbidden, "origin-denied", false},
		{"no Origin", path, "", http.StatusForbidden, "origin-required", false},
		{"two Origin headers", path, bankOrigin + "\n" + evilOrigin, http.StatusForbidden, "origin-denied", false},
		{"the bank's host over https (scheme differs)", path, "https://www.uplusbank.localhost:8081", http.StatusForbidden, "origin-denied", false},
		{"the bank's origin in capitals (not a browser serialisation)", path, strings.ToUpper(bankOrigin), http.StatusForbidden, "origin-denied", false},
		{"this server's host under another scheme", path, ownHostHTTPS, http.StatusForbidden, "origin-denied", false},
		{"an unknown session", "/connections/retail-bank/sessions/nope/ws", bankOrigin, http.StatusNotFound, "", true},
		{"the session under another connection that admits the same site", "/connections/wealth/sessions/" + sid + "/ws", bankOrigin, http.StatusNotFound, "", true},
		{"an unknown connection", "/connections/other/sessions/" + sid + "/ws", bankOrigin, http.StatusNotFound, "unknown-connection", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.srv.sockets.reached.Load()
			h := map[string]string{}
			if tt.origin != "" {
				h["Origin"] = tt.origin
			}
			r := dial(t, ts, tt.path, h)
			require.Equal(t, tt.wantStatus, r.status, r.body)
			if tt.wantProblem != "" {
				assert.Equal(t, "application/problem+json", r.ctype)
				assert.Contains(t, r.body, `"type":"urn:msgsec:problem:`+tt.wantProblem+`"`)
			}
			reached := f.srv.sockets.reached.Load() - before
			if tt.reaches {
				assert.Equal(t, int64(1), reached, "reaches the handler")
			} else {
				assert.Zero(t, reached, "a request msgsec refuses never reaches Accept")
			}
			if tt.wantStatus != http.StatusSwitchingProtocols {
				assert.Nil(t, r.conn)
				return
			}
			// Upgraded: a message round-trips through the echo agent.
			// (The session's earlier messages come first.)
			write(t, r.conn, websocket.MessageText, `{"text":"hello from `+tt.origin+`"}`)
			var got []string
			for len(got) < 2 || got[len(got)-2] != "customer: hello from "+tt.origin {
				require.Less(t, len(got), 20, "%q", got)
				got = append(got, readTexts(t, r.conn, 1)...)
			}
			assert.Equal(t, "agent: Echo: hello from "+tt.origin, got[len(got)-1])
		})
	}
	page := f.agentPage(t)
	assert.Contains(t, page, "Echo: hello from "+bankOrigin, "the agent view shows messages sent over the socket")
	assert.NotContains(t, page, "hello from "+evilOrigin)
	assert.NotContains(t, f.logs.String(), sid, "logs carry session IDs only hashed")
}

// TestSocketReportOnly: a report-only policy reports the refused origin
// but does not let it open a socket the chat server without msgsec would
// refuse: coder/websocket's own same-host check stays on for it. An
// allowed origin still connects.
func TestSocketReportOnly(t *testing.T) {
	doc := strings.Replace(string(DefaultPolicy()), "mode: enforce", "mode: report-only", 1)
	require.Contains(t, doc, "mode: report-only")
	f := newFixtureWith(t, Config{}, []byte(doc))
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	sid := f.open(t, `{}`, map[string]string{"Origin": bankOrigin})
	path := "/connections/retail-bank/sessions/" + sid + "/ws"

	r := dial(t, ts, path, map[string]string{"Origin": evilOrigin})
	assert.Equal(t, http.StatusForbidden, r.status, "refused by the library's own check")
	assert.NotEqual(t, "application/problem+json", r.ctype, "not by msgsec: report-only blocks nothing itself")
	assert.Nil(t, r.conn)
	assert.Contains(t, f.logs.String(), "would be denied", "reported")

	ok := dial(t, ts, path, map[string]string{"Origin": bankOrigin})
	require.Equal(t, http.StatusSwitchingProtocols, ok.status, ok.body)
}

// TestSocketMessages: the socket sends the session's history (after
// ?after=N), each new message as it is added (through the socket or the
// HTTP route), refuses bad frames with an error frame and goes on, and
// filters cookies sent with a message as the HTTP route does.
func TestSocketMessages(t *testing.T) {
	f := newFixture(t, Config{MaxMessages: 6})
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	sid := f.open(t, `{"cookies":{"page_viewed":"1"}}`, nil)
	path := "/connections/retail-bank/sessions/" + sid
	w := f.do(t, req{method: "POST", path: path + "/messages", body: `{"text":"<b>over http</b>"}`, header: map[string]string{"Origin": bankOrigin, "Content-Type": jsonCT}})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())

	t.Run("history, then resume after an ID", func(t *testing.T) {
		all := dial(t, ts, path+"/ws", map[string]string{"Origin": selfOrigin})
		require.NotNil(t, all.conn, all.body)
		assert.Equal(t, []string{"customer: <b>over http</b>", "agent: Echo: <b>over http</b>"}, readTexts(t, all.conn, 2))
		resumed := dial(t, ts, path+"/ws?after=1", map[string]string{"Origin": selfOrigin})
		require.NotNil(t, resumed.conn, resumed.body)
		f := readFrame(t, resumed.conn)
		assert.Equal(t, 2, f.ID)
		assert.Equal(t, "Echo: <b>over http</b>", f.Text)
	})

	c := dial(t, ts, path+"/ws?after=2", map[string]string{"Origin": selfOrigin}).conn
	require.NotNil(t, c)
	other := dial(t, ts, path+"/ws?after=2", map[string]string{"Origin": bankOrigin}).conn
	require.NotNil(t, other)
	tests := []struct {
		name, frame string
		wantError   string // the error frame's text; "" when stored
	}{
		{"not JSON", `hello`, "not sent: malformed message"},
		{"unknown field", `{"text":"hi","admin":true}`, "not sent: malformed message"},
		{"trailing data", `{"text":"hi"} {}`, "not sent: malformed message"},
		{"empty text", `{"text":""}`, "not sent: text must be 1 to 2000 bytes of UTF-8"},
		{"text too long", `{"text":"` + strings.Repeat("a", MaxTextBytes+1) + `"}`, "not sent: text must be 1 to 2000 bytes of UTF-8"},
		{"a message with cookies", `{"text":"with cookies","cookies":{"page_viewed":"2","session_id":"` + privateValue + `"}}`, ""},
		{"another", `{"text":"third"}`, ""},
		{"over the session's message bound", `{"text":"fourth"}`, "not sent: Too Many Requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(t, c, websocket.MessageText, tt.frame)
			f := readFrame(t, c)
			if tt.wantError != "" {
				assert.Equal(t, socketFrame{Type: "error", Error: tt.wantError}, f)
				return
			}
			require.Equal(t, "message", f.Type, "%+v", f)
			var text string
			require.NoError(t, json.Unmarshal([]byte(tt.frame), &struct {
				Text *string `json:"text"`
			}{&text}))
			assert.Equal(t, FromCustomer+": "+text, f.From+": "+f.Text)
			assert.Equal(t, "agent: Echo: "+text, strings.Join(readTexts(t, c, 1), ""))
		})
	}
	// The other socket on the session saw the stored messages only.
	assert.Equal(t, []string{"customer: with cookies", "agent: Echo: with cookies", "customer: third", "agent: Echo: third"}, readTexts(t, other, 4))
	assert.Equal(t, []Cookie{{"page_viewed", "2"}}, f.list(t)[0].Cookies, "cookies filtered by the allowlist")
	page := f.agentPage(t)
	assert.Contains(t, page, "Echo: third")
	assert.NotContains(t, page, privateValue)
	assert.NotContains(t, f.logs.String(), privateValue)
}

// TestSocketBounds: every way a socket is bounded closes it.
func TestSocketBounds(t *testing.T) {
	open := func(t *testing.T, cfg Config) (*fixture, *httptest.Server, string) {
		f := newFixture(t, cfg)
		ts := httptest.NewServer(f.srv)
		t.Cleanup(ts.Close)
		sid := f.open(t, `{}`, nil)
		return f, ts, "/connections/retail-bank/sessions/" + sid + "/ws"
	}
	self := map[string]string{"Origin": selfOrigin}

	t.Run("a frame over the read limit closes with 1009", func(t *testing.T) {
		_, ts, path := open(t, Config{})
		c := dial(t, ts, path, self).conn
		require.NotNil(t, c)
		write(t, c, websocket.MessageText, `{"text":"`+strings.Repeat("a", maxBodyBytes)+`"}`)
		code, _ := closedWith(t, c, 10*time.Second)
		assert.Equal(t, websocket.StatusMessageTooBig, code)
	})

	t.Run("a binary frame closes with 1003", func(t *testing.T) {
		_, ts, path := open(t, Config{})
		c := dial(t, ts, path, self).conn
		require.NotNil(t, c)
		write(t, c, websocket.MessageBinary, `{"text":"hi"}`)
		code, _ := closedWith(t, c, 10*time.Second)
		assert.Equal(t, websocket.StatusUnsupportedData, code)
	})

	t.Run("idle: closed after the idle timeout, not before", func(t *testing.T) {
		_, ts, path := open(t, Config{SocketIdleTimeout: 600 * time.Millisecond})
		c := dial(t, ts, path, self).conn
		require.NotNil(t, c)
		start := time.Now()
		// Activity postpones it: a message every 200ms for a second.
		for range 5 {
			time.Sleep(200 * time.Millisecond)
			write(t, c, websocket.MessageText, `{"text":"still here"}`)
		}
		code, reason := closedWith(t, c, 10*time.Second)
		assert.Equal(t, websocket.StatusNormalClosure, code)
		assert.Equal(t, closeIdle, reason)
		assert.Greater(t, time.Since(start), time.Second+500*time.Millisecond, "activity reset the timer")
	})

	t.Run("a peer that stops answering pings is dropped", func(t *testing.T) {
		f, ts, path := open(t, Config{SocketPingInterval: 100 * time.Millisecond, SocketWriteTimeout: 300 * time.Millisecond})
		// Control: a peer that reads (and so answers pings) stays.
		alive := dial(t, ts, path, self).conn
		require.NotNil(t, alive)
		go func() {
			for {
				if _, _, err := alive.Read(context.Background()); err != nil {
					return
				}
			}
		}()
		// This one never reads, so it never sends a pong.
		silent := dial(t, ts, path, self).conn
		require.NotNil(t, silent)
		require.Equal(t, 2, f.srv.openSockets())
		deadline := time.Now().Add(10 * time.Second)
		for f.srv.openSockets() != 1 {
			require.True(t, time.Now().Before(deadline), "the silent peer was not dropped: %d open", f.srv.openSockets())
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond) // several more pings
		assert.Equal(t, 1, f.srv.openSockets(), "the answering peer stays")
	})

	t.Run("the session's end closes its sockets", func(t *testing.T) {
		_, ts, path := open(t, Config{SessionLifetime: time.Second})
		c := dial(t, ts, path, self).conn
		require.NotNil(t, c)
		code, reason := closedWith(t, c, 10*time.Second)
		assert.Equal(t, websocket.StatusNormalClosure, code)
		assert.Equal(t, closeSessionEnded, reason)
	})

	t.Run("a session that expired while purged closes its sockets", func(t *testing.T) {
		f, ts, path := open(t, Config{SessionLifetime: time.Minute})
		c := dial(t, ts, path, self).conn
		require.NotNil(t, c)
		f.clock.add(2 * time.Minute)
		f.list(t) // purges the expired session, which wakes its watchers
		code, reason := closedWith(t, c, 10*time.Second)
		assert.Equal(t, websocket.StatusNormalClosure, code)
		assert.Equal(t, closeSessionEnded, reason)
		assert.Equal(t, http.StatusNotFound, dial(t, ts, path, self).status, "no new socket for it")
	})

	t.Run("sockets per session are bounded", func(t *testing.T) {
		_, ts, path := open(t, Config{})
		for i := range maxSocketsPerSession {
			require.NotNil(t, dial(t, ts, path, self).conn, "socket %d", i+1)
		}
		r := dial(t, ts, path, self)
		assert.Equal(t, http.StatusTooManyRequests, r.status)
		assert.Nil(t, r.conn)
	})

	t.Run("CloseSockets closes every socket with 1001 and refuses new ones", func(t *testing.T) {
		f, ts, path := open(t, Config{})
		a, b := dial(t, ts, path, self).conn, dial(t, ts, path, self).conn
		require.NotNil(t, a)
		require.NotNil(t, b)
		done := make(chan struct{})
		go func() { f.srv.CloseSockets(); close(done) }()
		for _, c := range []*websocket.Conn{a, b} {
			code, reason := closedWith(t, c, 10*time.Second)
			assert.Equal(t, websocket.StatusGoingAway, code)
			assert.Equal(t, closeShutdown, reason)
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("CloseSockets did not return")
		}
		assert.Zero(t, f.srv.openSockets())
		assert.Equal(t, http.StatusServiceUnavailable, dial(t, ts, path, self).status)
	})
}

// TestNewRefusesBadSocketConfig: negative socket bounds are refused.
func TestNewRefusesBadSocketConfig(t *testing.T) {
	good := newFixture(t, Config{})
	for _, cfg := range []Config{
		{SocketPingInterval: -1}, {SocketWriteTimeout: -time.Second}, {SocketIdleTimeout: -1},
	} {
		cfg.Policies, cfg.Store, cfg.SelfOrigin = good.reg, good.store, selfOrigin
		_, err := New(cfg)
		assert.ErrorIs(t, err, ErrConfig, "%+v", cfg)
	}
}

// openSockets counts the sockets open now.
func (s *Server) openSockets() int {
	s.sockets.mu.Lock()
	defer s.sockets.mu.Unlock()
	n := 0
	for _, c := range s.sockets.perSession {
		n += c
	}
	return n
}

// TestEndSessionClosesSockets: ending the chat (DELETE) closes every
// socket of the session with "session ended", deletes its messages and
// secret data, and leaves other sessions' sockets open.
func TestEndSessionClosesSockets(t *testing.T) {
	f := newFixture(t, Config{})
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	sid, other := f.open(t, `{}`, nil), f.open(t, `{}`, nil)
	path := "/connections/retail-bank/sessions/" + sid
	self := map[string]string{"Origin": selfOrigin}
	a, b := dial(t, ts, path+"/ws", self).conn, dial(t, ts, path+"/ws", self).conn
	keep := dial(t, ts, "/connections/retail-bank/sessions/"+other+"/ws", self).conn
	require.NotNil(t, a)
	require.NotNil(t, b)
	require.NotNil(t, keep)
	ctx := context.Background()
	require.NoError(t, f.store.Put(ctx, conn, sid, &secretdata.Claims{Subject: "c"}, time.Minute))
	require.NoError(t, f.store.Put(ctx, conn, other, &secretdata.Claims{Subject: "c"}, time.Minute))

	w := f.do(t, req{method: "DELETE", path: path, header: map[string]string{"Origin": evilOrigin}})
	assert.Equal(t, http.StatusForbidden, w.Code, "another site cannot end it")
	w = f.do(t, req{method: "DELETE", path: "/connections/retail-bank/sessions/nope", header: self})
	assert.Equal(t, http.StatusNotFound, w.Code)
	w = f.do(t, req{method: "DELETE", path: path, header: self})
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	for _, c := range []*websocket.Conn{a, b} {
		code, reason := closedWith(t, c, 10*time.Second)
		assert.Equal(t, websocket.StatusNormalClosure, code)
		assert.Equal(t, closeSessionEnded, reason)
	}
	assert.Equal(t, http.StatusNotFound, f.do(t, req{method: "DELETE", path: path, header: self}).Code, "ended once")
	assert.Equal(t, http.StatusNotFound, dial(t, ts, path+"/ws", self).status)
	assert.NotContains(t, f.agentPage(t), sid)
	_, err := f.store.Get(ctx, conn, sid)
	assert.ErrorIs(t, err, delivery.ErrNotFound, "its secret data deleted")
	_, err = f.store.Get(ctx, conn, other)
	assert.NoError(t, err, "not the other session's")

	write(t, keep, websocket.MessageText, `{"text":"still here"}`)
	assert.Equal(t, []string{"customer: still here", "agent: Echo: still here"}, readTexts(t, keep, 2), "other sessions go on")
}
