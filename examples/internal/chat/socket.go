package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Defaults for the WebSocket bounds in Config.
const (
	// DefaultSocketPingInterval is how often the server pings an open
	// socket; a peer that does not answer within SocketWriteTimeout is
	// dropped (a half-open TCP connection, a laptop that slept).
	DefaultSocketPingInterval = 30 * time.Second
	// DefaultSocketWriteTimeout bounds each write and each ping's pong.
	DefaultSocketWriteTimeout = 10 * time.Second
	// DefaultSocketIdleTimeout closes a socket on which the customer has
	// sent nothing for that long (an abandoned tab).
	DefaultSocketIdleTimeout = 10 * time.Minute
	// maxSocketsPerSession bounds the sockets one session may hold open (a
	// customer with the chat in a few tabs); more are refused 429, so a
	// session ID cannot be turned into an unbounded number of goroutines.
	maxSocketsPerSession = 4
)

// Close reasons the widget shows. Codes are RFC 6455's.
const (
	closeSessionEnded = "session ended"
	closeIdle         = "idle"
	closeShutdown     = "server shutting down"
	closeUnavailable  = "session store unavailable"
)

// socketFrame is what the server sends over the socket: a chat message
// ("message", the Message's fields inline) or a message the server did not
// take ("error", with why).
type socketFrame struct {
	Type string `json:"type"`
	*Message
	Error string `json:"error,omitempty"`
	// Problem and RetryAfter, on an error frame for a limit, are what the
	// HTTP route answers with its 429: the problem type
	// ("urn:msgsec:example:rate-limited", "…:storage-limit") and Retry-After
	// in seconds.
	Problem    string `json:"problem,omitempty"`
	RetryAfter int64  `json:"retry_after,omitempty"`
}

// errorFrame is the error frame telling the client why its message was not
// taken.
func errorFrame(no *refusal) socketFrame {
	f := socketFrame{Type: "error", Error: "not sent: " + no.detail}
	if no.kind != "" {
		f.Problem, f.RetryAfter = "urn:msgsec:example:"+no.kind, no.retryAfter()
	}
	return f
}

// socketRegistry tracks the open sockets: how many each session holds, and
// which to close when the server shuts down.
type socketRegistry struct {
	mu         sync.Mutex
	perSession map[string]int
	closing    bool
	done       chan struct{} // closed by closeAll
	wg         sync.WaitGroup
	// reached counts upgrade requests that reached the handler: the tests
	// check that one msgsec refuses never does.
	reached atomic.Int64
}

var (
	errTooManySockets = errors.New("chat: too many sockets for this session")
	errShuttingDown   = errors.New("chat: shutting down")
)

func newSocketRegistry() *socketRegistry {
	return &socketRegistry{perSession: map[string]int{}, done: make(chan struct{})}
}

// add reserves a socket for the session; release gives it back.
func (sr *socketRegistry) add(k string) (release func(), err error) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	switch {
	case sr.closing:
		return nil, errShuttingDown
	case sr.perSession[k] >= maxSocketsPerSession:
		return nil, errTooManySockets
	}
	sr.perSession[k]++
	sr.wg.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			sr.mu.Lock()
			if sr.perSession[k]--; sr.perSession[k] <= 0 {
				delete(sr.perSession, k)
			}
			sr.mu.Unlock()
			sr.wg.Done()
		})
	}, nil
}

// closeAll refuses new sockets, tells the open ones to close, and waits
// until they have.
func (sr *socketRegistry) closeAll() {
	sr.mu.Lock()
	if !sr.closing {
		sr.closing = true
		close(sr.done)
	}
	sr.mu.Unlock()
	sr.wg.Wait()
}

// CloseSockets closes every open WebSocket with 1001 (going away), refuses
// new ones (503) and returns when they have all closed; calling it again
// waits the same way. http.Server's Shutdown does not close hijacked
// connections, and runs what RegisterOnShutdown registered without waiting
// for it: register this with RegisterOnShutdown and call it once more
// after Shutdown returns, before the process exits.
func (s *Server) CloseSockets() { s.sockets.closeAll() }

// acceptOptions decides who checks the Origin at Accept.
//
// msgsec has already checked it: an upgrade reaches this handler only if
// the middleware admitted its Origin, the full origin (scheme, host and
// port, byte-exact) against the connection's allowed domains or the chat
// server's own origin, or if the policy is report-only (reported, not
// blocked). coder/websocket's own check compares hosts only (its
// OriginPatterns are path.Match globs over "host[:port]", case-folded,
// scheme ignored unless spelled out, and the request's own Host always
// admitted), so it would disagree with msgsec both ways: it cannot express
// same-site matching or ":*", and it admits origins msgsec refuses (the
// bank's host over http when only https is listed, "HTTP://WWW.…", or any
// page on this server's host under another scheme). So it is switched off
// (InsecureSkipVerify) exactly when the compiled policy that this request
// was checked against admits the Origin — the same matcher, so the two
// cannot differ. Otherwise (report-only, or the DangerouslyNoMiddleware
// baseline) the library's own same-host check stays on, so report-only
// never lets a refused site open a socket that the chat server without
// msgsec would have refused.
func (s *Server) acceptOptions(r *http.Request, in requestInfo) *websocket.AcceptOptions {
	if s.bare {
		return nil
	}
	o := r.Header["Origin"]
	if len(o) == 1 && (in.policy.Origins().Allows(o[0]) || s.self.Allows(o[0])) {
		return &websocket.AcceptOptions{InsecureSkipVerify: true}
	}
	return nil
}

// socket serves GET …/sessions/{session}/ws: the widget's chat, both ways.
// The session ID in the URL is the chat's credential: the session must be
// live and belong to this connection, or the upgrade is refused (404)
// before any handshake. Then every message since ?after=N (all of them by
// default) and each new one is sent as a "message" frame; each text frame
// the client sends is one messageRequest, taken as POST …/messages takes
// it. Bounded: at most maxBodyBytes per client frame (then 1009), each
// write and each ping's pong within SocketWriteTimeout, a ping every
// SocketPingInterval, closed after SocketIdleTimeout without a customer
// message, when the session ends (1000 "session ended"), and at
// CloseSockets (1001).
func (s *Server) socket(w http.ResponseWriter, r *http.Request) {
	in, ok := s.info(w, r)
	if !ok {
		return
	}
	s.sockets.reached.Add(1)
	conn, id := in.policy.ID(), r.PathValue("session")
	// A socket is one of the client's open streams (Limits.MaxStreams…),
	// held until it closes; over the bound, 429 before any handshake.
	client := s.limits.clientKey(r)
	done, ok := s.clients.openStream(s.clients.get(client))
	if !ok {
		s.metrics.RateLimited(r.Context(), conn, "streams")
		rateLimited(w, "open socket", 10*time.Second)
		return
	}
	defer done()
	if _, err := s.sessions.Get(r.Context(), conn, id); err != nil {
		s.logStoreError("get", conn, err)
		http.Error(w, http.StatusText(statusFor(err)), statusFor(err))
		return
	}
	release, err := s.sockets.add(key(conn, id))
	switch {
	case errors.Is(err, errShuttingDown):
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	case err != nil:
		s.metrics.RateLimited(r.Context(), conn, "session-sockets")
		writeProblem(w, http.StatusTooManyRequests, "rate-limited", "too many sockets",
			"this chat has as many sockets open as it may; close one first", 10)
		return
	}
	defer release()
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	c, err := websocket.Accept(w, r, s.acceptOptions(r, in))
	if err != nil {
		return // Accept has answered (403 for an origin it refuses)
	}
	c.SetReadLimit(maxBodyBytes)
	s.serveSocket(c, in, client, conn, id, after)
}

// serveSocket runs one accepted socket of the client (its Limits key)
// until it closes.
func (s *Server) serveSocket(c *websocket.Conn, in requestInfo, client, conn, id string, after int) {
	// Not the request's context: after the upgrade the connection is the
	// server's; CloseSockets ends it.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()    // 3. the reader and the pinger have returned
	defer c.CloseNow() // 2. (after a Close: no-op) which ends their calls
	defer cancel()     // 1.
	wake, stop := s.sessions.Watch(conn, id)
	defer stop()

	activity := make(chan struct{}, 1)
	wg.Add(2)
	go func() { // the only reader: client messages, and pongs for Ping
		defer wg.Done()
		defer cancel()
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return // closed by the peer, too big (1009), or ctx
			}
			signal(activity)
			if typ != websocket.MessageText {
				_ = c.Close(websocket.StatusUnsupportedData, "text frames only")
				return
			}
			if no := s.receive(ctx, in, client, id, data); no != nil {
				s.send(ctx, c, errorFrame(no))
				if no.kind == "rate-limited" {
					s.backOff(ctx, no.retry)
				}
			}
		}
	}()
	go func() { // keepalive: a peer that stops answering is dropped
		defer wg.Done()
		defer cancel()
		t := time.NewTicker(s.pingEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				pctx, pcancel := context.WithTimeout(ctx, s.writeTimeout)
				err := c.Ping(pctx)
				pcancel()
				if err != nil {
					return
				}
			}
		}
	}()

	msgs, expires, err := s.sessions.Messages(ctx, conn, id, after)
	if err != nil {
		s.closeFor(c, err)
		return
	}
	end := time.NewTimer(expires.Sub(s.now()))
	defer end.Stop()
	idle := time.NewTimer(s.idleTimeout)
	defer idle.Stop()
	for {
		for i := range msgs {
			after = msgs[i].ID
			if !s.send(ctx, c, socketFrame{Type: "message", Message: &msgs[i]}) {
				return
			}
		}
		msgs = nil
		select {
		case <-ctx.Done():
			return
		case <-s.sockets.done:
			_ = c.Close(websocket.StatusGoingAway, closeShutdown)
			return
		case <-end.C:
			_ = c.Close(websocket.StatusNormalClosure, closeSessionEnded)
			return
		case <-idle.C:
			_ = c.Close(websocket.StatusNormalClosure, closeIdle)
			return
		case <-activity:
			idle.Reset(s.idleTimeout)
		case <-wake:
			msgs, _, err = s.sessions.Messages(ctx, conn, id, after)
			if err != nil {
				s.closeFor(c, err)
				return
			}
		}
	}
}

// maxBackOff bounds how long a socket's reader pauses after a message over
// the client's message rate.
const maxBackOff = time.Second

// backOff pauses the socket's reader after a message over the client's
// message rate, until a token is there (at most maxBackOff, and half the
// write timeout, so pongs are still read in time). The client's frames
// meanwhile wait in the TCP buffers: one flooding its socket gets one
// error frame per pause and then meets TCP backpressure, instead of
// costing the server a frame's work (and an error frame) per message.
func (s *Server) backOff(ctx context.Context, retry time.Duration) {
	t := time.NewTimer(min(retry, maxBackOff, s.writeTimeout/2))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// closeFor closes a socket whose session can no longer be read: ended, or
// the store is down (1013, try again later: the widget may reconnect).
func (s *Server) closeFor(c *websocket.Conn, err error) {
	if errors.Is(err, ErrNoSession) {
		_ = c.Close(websocket.StatusNormalClosure, closeSessionEnded)
		return
	}
	s.log.Error("chat: session store", "op", "messages", "err", err)
	_ = c.Close(websocket.StatusTryAgainLater, closeUnavailable)
}

// send writes one frame within the write timeout.
func (s *Server) send(ctx context.Context, c *websocket.Conn, f socketFrame) bool {
	data, err := json.Marshal(f)
	if err != nil {
		return false
	}
	wctx, cancel := context.WithTimeout(ctx, s.writeTimeout)
	defer cancel()
	return c.Write(wctx, websocket.MessageText, data) == nil
}

// receive takes one client frame as POST …/messages takes its body: a
// token of the client's message bucket first (the same bucket as its HTTP
// messages, so a socket is no way around the limit), then one
// messageRequest (unknown fields and trailing data refused), then take,
// within the session's and the store's bounds. It returns nil when the
// messages were stored (the Watch then sends them), else why not.
func (s *Server) receive(ctx context.Context, in requestInfo, client, id string, data []byte) *refusal {
	if ok, retry := s.clients.take(s.clients.get(client).messages); !ok {
		s.metrics.RateLimited(ctx, in.policy.ID(), "message-rate")
		return rateLimitedRefusal("message", retry)
	}
	var req messageRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if dec.Decode(&req) != nil || dec.More() {
		return &refusal{status: http.StatusBadRequest, detail: "malformed message"}
	}
	return s.take(ctx, in, id, req)
}
