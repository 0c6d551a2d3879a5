package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWebSocketProbe is issue 14's black-box probe, against the chatserver
// binary: a WebSocket upgrade from an unlisted origin gets msgsec's 403
// problem document; from an allowed one (the listed origin, or a same-site
// one under the policy's same-site matching) 101, and a message
// round-trips; without Origin 403; for a session the connection does not
// have, refused. Then SIGTERM closes the open socket (1001) and the
// process exits.
func TestWebSocketProbe(t *testing.T) {
	bin := buildBin(t)
	srv := startTestServer(t, bin, newSecret())
	const conn = "/connections/" + connectionID
	code, body := post(t, srv.base+conn+"/sessions", "https://www.uplusbank.com", "", `{}`)
	var s struct{ Session string }
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &s) != nil || s.Session == "" {
		t.Fatalf("open a session: %d %q", code, body)
	}
	ws := "ws" + strings.TrimPrefix(srv.base, "http")
	path := conn + "/sessions/" + s.Session + "/ws"

	tests := []struct {
		name, path, origin string
		wantStatus         int
		wantProblem        string // msgsec's problem type, when it refuses
	}{
		{"the listed origin", path, "https://www.uplusbank.com", http.StatusSwitchingProtocols, ""},
		{"a same-site origin (same-site matching)", path, "https://account.uplusbank.com", http.StatusSwitchingProtocols, ""},
		{"an unlisted origin", path, "https://evil.example", http.StatusForbidden, "origin-denied"},
		{"the listed host over http (scheme differs)", path, "http://www.uplusbank.com", http.StatusForbidden, "origin-denied"},
		{"a look-alike host", path, "https://www.uplusbank.com.evil.example", http.StatusForbidden, "origin-denied"},
		{"Origin: null (sandboxed frame)", path, "null", http.StatusForbidden, "origin-denied"},
		{"no Origin", path, "", http.StatusForbidden, "origin-required"},
		{"a session this connection does not have", conn + "/sessions/AAAAAAAAAAAAAAAAAAAAAA/ws", "https://www.uplusbank.com", http.StatusNotFound, ""},
		{"the session under an unknown connection", "/connections/other/sessions/" + s.Session + "/ws", "https://www.uplusbank.com", http.StatusNotFound, "unknown-connection"},
	}
	var open *websocket.Conn
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			c, resp, err := websocket.Dial(ctx, ws+tt.path, &websocket.DialOptions{HTTPHeader: h})
			if resp == nil {
				t.Fatalf("no answer: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tt.wantStatus, err)
			}
			if tt.wantStatus != http.StatusSwitchingProtocols {
				if c != nil {
					t.Fatal("upgraded anyway")
				}
				b, _ := io.ReadAll(resp.Body)
				if tt.wantProblem != "" {
					if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("Content-Type %q, want msgsec's problem document", ct)
					}
					if !strings.Contains(string(b), `"type":"urn:msgsec:problem:`+tt.wantProblem+`"`) {
						t.Errorf("body %q, want problem type %s", b, tt.wantProblem)
					}
				}
				return
			}
			text := "hello from " + tt.origin
			if err := c.Write(ctx, websocket.MessageText, []byte(`{"text":"`+text+`"}`)); err != nil {
				t.Fatal(err)
			}
			for {
				_, data, err := c.Read(ctx)
				if err != nil {
					t.Fatalf("no echo: %v", err)
				}
				var m struct{ Type, From, Text string }
				if err := json.Unmarshal(data, &m); err != nil {
					t.Fatalf("frame %q: %v", data, err)
				}
				if m.Type == "message" && m.From == "agent" && m.Text == "Echo: "+text {
					break
				}
			}
			if open == nil {
				open = c // kept open for the shutdown below
			} else {
				c.CloseNow()
			}
		})
	}
	if open == nil {
		t.Fatal("no socket opened")
	}

	// SIGTERM: the server closes the socket, going away, and exits.
	read := make(chan error, 1)
	go func() {
		for { // (frames of the other rows' messages come first)
			if _, _, err := open.Read(context.Background()); err != nil {
				read <- err
				return
			}
		}
	}()
	start := time.Now()
	srv.stop()
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("shutdown took %v with a socket open", took)
	}
	select {
	case err := <-read:
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway {
			t.Errorf("socket ended with %v, want close 1001", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the socket stayed open after shutdown")
	}
}
