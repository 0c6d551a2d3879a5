package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The flood phase's WebSocket part: the flooder also opens more sockets
// than a client may hold and floods messages over them, and every other
// message of a behaving client goes over its socket (a round trip: the
// message out, its echo back), so the socket path is loaded with the same
// per-client limits as the HTTP routes.

// socketFlood is what the flooder's sockets met.
type socketFlood struct {
	Attempts    int64 `json:"upgrade_attempts"`
	Upgrades    int64 `json:"upgrades"`     // sockets the flooder opened
	Refused     int64 `json:"refused_429"`  // upgrades answered 429 (over the stream bounds)
	Frames      int64 `json:"frames"`       // messages it sent over them
	Limited     int64 `json:"rate_limited"` // answered with a rate-limited error frame
	Stored      int64 `json:"stored"`       // taken (the echo came back)
	OtherErrors int64 `json:"other_errors"` // other error frames (e.g. the chat is full)
}

// floodSocketAttempts is how many sockets the flooder tries to open: more
// than the 8 streams one client may hold (and than the 4 sockets one
// session may).
const floodSocketAttempts = 12

// floodSocketText marks the flooder's socket messages.
const floodSocketText = "flood over the socket"

// wsClientFrom is an HTTP client for WebSocket handshakes from addr. Its
// transport has no per-host connection cap: a hijacked connection leaves
// the transport's accounting only when it closes.
func wsClientFrom(addr string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableCompression: true}}
}

// dialSocket opens the chat socket of session from the client c, with an
// allowed Origin. On a refused handshake it returns the status.
func dialSocket(ctx context.Context, c *http.Client, base, session string) (*websocket.Conn, int, error) {
	url := "ws" + strings.TrimPrefix(base, "http") + "/connections/" + connectionID + "/sessions/" + session + "/ws"
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPClient: c,
		HTTPHeader: http.Header{"Origin": {allowedOrigins[0]}}})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, status, err
	}
	conn.SetReadLimit(64 << 10)
	return conn, http.StatusSwitchingProtocols, nil
}

// frame is what the chat server sends over a socket.
type frame struct {
	Type    string `json:"type"`
	From    string `json:"from"`
	Text    string `json:"text"`
	Error   string `json:"error"`
	Problem string `json:"problem"`
}

// floodSockets runs the flooder's sockets until ctx ends: it opens up to
// floodSocketAttempts sockets on the sessions it has, and on each one
// writes messages as fast as the server reads them while reading what
// comes back. goFn starts a goroutine the phase waits for.
func floodSockets(ctx context.Context, base string, session func(i int) string, sf *socketFlood, problem func(string, ...any), goFn func(func())) {
	client := wsClientFrom("127.0.0.2")
	// Let the flooder open its first sessions (its burst) first.
	select {
	case <-ctx.Done():
		return
	case <-time.After(200 * time.Millisecond):
	}
	for i := 0; i < floodSocketAttempts && ctx.Err() == nil; i++ {
		s := session(i)
		for s == "" && ctx.Err() == nil { // the flooder has no session yet
			time.Sleep(10 * time.Millisecond)
			s = session(i)
		}
		atomic.AddInt64(&sf.Attempts, 1)
		conn, status, err := dialSocket(ctx, client, base, s)
		switch {
		case ctx.Err() != nil:
			return
		case status == http.StatusTooManyRequests:
			atomic.AddInt64(&sf.Refused, 1)
			continue
		case err != nil:
			problem("flooder socket: status %d: %v", status, err)
			continue
		}
		atomic.AddInt64(&sf.Upgrades, 1)
		goFn(func() { // the reader
			defer conn.CloseNow()
			for {
				_, data, err := conn.Read(ctx)
				if err != nil {
					return
				}
				var f frame
				if json.Unmarshal(data, &f) != nil {
					continue
				}
				switch {
				case f.Type == "error" && f.Problem == "urn:msgsec:example:rate-limited":
					atomic.AddInt64(&sf.Limited, 1)
				case f.Type == "error":
					atomic.AddInt64(&sf.OtherErrors, 1)
				case f.Type == "message" && f.From == "customer" && f.Text == floodSocketText:
					atomic.AddInt64(&sf.Stored, 1)
				}
			}
		})
		goFn(func() { // the writer
			msg := []byte(`{"text":"` + floodSocketText + `"}`)
			for ctx.Err() == nil {
				if conn.Write(ctx, websocket.MessageText, msg) != nil {
					return
				}
				atomic.AddInt64(&sf.Frames, 1)
			}
		})
	}
}

// behavingSocket is a behaving client's socket: round trips one message at
// a time.
type behavingSocket struct {
	conn   *websocket.Conn
	frames chan frame
}

func openBehavingSocket(ctx context.Context, base, addr, session string) (*behavingSocket, error) {
	conn, status, err := dialSocket(ctx, wsClientFrom(addr), base, session)
	if err != nil {
		return nil, fmt.Errorf("socket: status %d: %w", status, err)
	}
	bs := &behavingSocket{conn: conn, frames: make(chan frame, 64)}
	go func() {
		defer close(bs.frames)
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var f frame
			if json.Unmarshal(data, &f) == nil {
				select {
				case bs.frames <- f:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return bs, nil
}

// roundTrip sends text and waits (at most 10 s) for the agent's echo,
// skipping the session's other messages (those sent over HTTP).
func (bs *behavingSocket) roundTrip(ctx context.Context, text string) error {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := bs.conn.Write(wctx, websocket.MessageText, []byte(`{"text":"`+text+`"}`)); err != nil {
		return err
	}
	for {
		select {
		case <-wctx.Done():
			return fmt.Errorf("no echo within 10 s: %w", wctx.Err())
		case f, ok := <-bs.frames:
			switch {
			case !ok:
				return errors.New("socket closed")
			case f.Type == "error":
				return fmt.Errorf("error frame: %s", f.Error)
			case f.Type == "message" && f.From == "agent" && f.Text == "Echo: "+text:
				return nil
			}
		}
	}
}

func (bs *behavingSocket) close() { _ = bs.conn.Close(websocket.StatusNormalClosure, "done") }
