package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msgsec/msgsec/secretdata"
)

// liftedLimits are the chat server flags that lift its per-client limits
// for the load and baseline runs: every load client there comes from
// 127.0.0.1, one client to the server, and those runs measure msgsec's
// cost, not the example's flood limits. The flood phase runs with the
// defaults.
var liftedLimits = []string{"-session-rate", "1e9", "-session-burst", "1000000", "-message-rate", "1e9", "-message-burst", "1000000"}

// floodConfig is one flood run: one client floods session opening and
// messages from its own loopback address while behaving clients, each from
// another address, chat at a customer's pace.
type floodConfig struct {
	base     string
	signer   *secretdata.Signer
	behaving int
	duration time.Duration
	// memory reads the server's resident and peak memory.
	memory func() (rss, peak int64, ok bool)
}

// floodResult is what a flood run measured.
type floodResult struct {
	Seconds      float64       `json:"seconds"`
	Behaving     int           `json:"behaving_clients"`
	BehavingSent int           `json:"behaving_requests"`
	BehavingOK   int           `json:"behaving_ok"`
	SuccessRate  float64       `json:"behaving_success_rate"`
	BehavingP99  time.Duration `json:"behaving_p99_ns"`
	// Of the behaving requests, the messages sent over a socket (every
	// other message) and those whose echo came back.
	BehavingSocketSent int         `json:"behaving_socket_messages"`
	BehavingSocketOK   int         `json:"behaving_socket_ok"`
	FloodSent          int64       `json:"flood_requests"`
	FloodLimited       int64       `json:"flood_429"`
	FloodAccepted      int64       `json:"flood_accepted"`
	FloodRetryAfter    bool        `json:"flood_429_have_retry_after"`
	Sockets            socketFlood `json:"flood_sockets"`
	RSSHalf            int64       `json:"rss_half_bytes"` // resident memory half-way through
	RSSEnd             int64       `json:"rss_end_bytes"`
	PeakRSS            int64       `json:"peak_rss_bytes"`
	Problems           []string    `json:"problems,omitempty"`
}

// behavingInterval is a behaving client's pace: under the default
// 2 messages a second per client.
const behavingInterval = 700 * time.Millisecond

// clientFrom returns an HTTP client whose connections leave from addr
// (127.0.0.0/8 is all loopback on Linux), so the server sees one remote
// address per simulated client.
func clientFrom(addr string, conns int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// runFlood runs the flood phase.
func runFlood(ctx context.Context, cfg floodConfig) (*floodResult, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	res := &floodResult{Behaving: cfg.behaving}
	var mu sync.Mutex
	var latencies []time.Duration
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(res.Problems) < 10 {
			res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
		}
	}
	var wg sync.WaitGroup
	start := time.Now()

	// The flooder: 8 connections from 127.0.0.2, opening sessions and
	// sending messages as fast as the server answers, with no token (the
	// policy's secret data is optional, as it is for anonymous chats).
	flooder := clientFrom("127.0.0.2", 8)
	var retryAfter atomic.Bool
	retryAfter.Store(true)
	var floodSession atomic.Value
	floodSession.Store("")
	// The flooder's first sessions, for its sockets (spread over several,
	// so that the client's stream bound, not only the session's, is met).
	var floodSessions []string
	for range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				path, body := "/sessions", `{"cookies":{"page_viewed":"flood"}}`
				if s := floodSession.Load().(string); s != "" && i%2 == 1 {
					path, body = "/sessions/"+s+"/messages", `{"text":"`+string(bytes.Repeat([]byte("x"), 1900))+`"}`
				}
				code, hdr, b, err := floodPost(ctx, flooder, cfg.base+"/connections/"+connectionID+path, body, "")
				if err != nil {
					continue // the phase's end cancels requests in flight
				}
				atomic.AddInt64(&res.FloodSent, 1)
				switch {
				case code == http.StatusTooManyRequests:
					atomic.AddInt64(&res.FloodLimited, 1)
					if hdr.Get("Retry-After") == "" {
						retryAfter.Store(false)
					}
				case code < 300:
					atomic.AddInt64(&res.FloodAccepted, 1)
					var r struct{ Session string }
					if json.Unmarshal(b, &r) == nil && r.Session != "" {
						floodSession.Store(r.Session)
						mu.Lock()
						if len(floodSessions) < floodSocketAttempts {
							floodSessions = append(floodSessions, r.Session)
						}
						mu.Unlock()
					}
				}
			}
		})
	}

	// The flooder's sockets: more than it may hold, each flooded.
	wg.Go(func() {
		floodSockets(ctx, cfg.base, func(i int) string {
			mu.Lock()
			defer mu.Unlock()
			if len(floodSessions) == 0 {
				return ""
			}
			return floodSessions[i%len(floodSessions)]
		}, &res.Sockets, problem, wg.Go)
	})

	// The behaving clients: one session each, then a message per interval,
	// each with a freshly signed token, from 127.0.0.3, .4, …; every other
	// message goes over the session's socket instead (the widget's way),
	// and counts when its echo comes back.
	for c := range cfg.behaving {
		wg.Go(func() {
			addr := fmt.Sprintf("127.0.0.%d", 3+c)
			client := clientFrom(addr, 1)
			session := ""
			var socket *behavingSocket
			defer func() {
				if socket != nil {
					socket.close()
				}
			}()
			tick := time.NewTicker(behavingInterval)
			defer tick.Stop()
			for n := 0; ctx.Err() == nil; n++ {
				if session != "" && n%2 == 0 {
					text := fmt.Sprintf("hello over the socket %d", n)
					t0 := time.Now()
					var err error
					if socket == nil {
						socket, err = openBehavingSocket(ctx, cfg.base, addr, session)
					}
					if err == nil {
						err = socket.roundTrip(ctx, text)
					}
					if ctx.Err() != nil {
						return // the phase ended mid-round-trip: not counted
					}
					d := time.Since(t0)
					mu.Lock()
					res.BehavingSent++
					res.BehavingSocketSent++
					latencies = append(latencies, d)
					if err == nil {
						res.BehavingOK++
						res.BehavingSocketOK++
					}
					mu.Unlock()
					if err != nil {
						problem("behaving client %d: %v", c, err)
						if socket != nil {
							socket.close()
							socket = nil // open a new one next time
						}
					}
					select {
					case <-ctx.Done():
					case <-tick.C:
					}
					continue
				}
				tok, err := cfg.signer.Sign(secretdata.Claims{Subject: "flood-customer",
					SecretData: map[string]any{secretdata.ClaimAuthenticationStatus: "authenticated"}})
				if err != nil {
					problem("sign: %v", err)
					return
				}
				path, body, want := "/sessions", `{"cookies":{"page_viewed":"home"}}`, http.StatusCreated
				if session != "" {
					path, body, want = "/sessions/"+session+"/messages", `{"text":"hello, I need help with my card"}`, http.StatusNoContent
				}
				t0 := time.Now()
				code, _, b, err := floodPost(ctx, client, cfg.base+"/connections/"+connectionID+path, body, tok)
				if ctx.Err() != nil {
					return // the phase ended with this request in flight: not counted
				}
				d := time.Since(t0)
				mu.Lock()
				res.BehavingSent++
				latencies = append(latencies, d)
				if err == nil && code == want {
					res.BehavingOK++
				}
				mu.Unlock()
				switch {
				case err != nil:
					problem("behaving client %d: %v", c, err)
				case code != want:
					problem("behaving client %d: %s: status %d, want %d", c, path, code, want)
				case session == "":
					var r struct{ Session string }
					_ = json.Unmarshal(b, &r)
					session = r.Session
				}
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
		})
	}

	// Memory, half-way and at the end.
	wg.Go(func() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(cfg.duration / 2):
		}
		res.RSSHalf, _, _ = cfg.memory()
	})
	wg.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.RSSEnd, res.PeakRSS, _ = cfg.memory()
	res.FloodRetryAfter = retryAfter.Load()
	if res.BehavingSent > 0 {
		res.SuccessRate = float64(res.BehavingOK) / float64(res.BehavingSent)
	}
	slices.Sort(latencies)
	res.BehavingP99 = percentile(latencies, 0.99)
	return res, nil
}

// floodPost sends a JSON POST from an allowed origin, with a token when tok is
// not empty, and returns the status, headers and (at most 64 KiB of) body.
func floodPost(ctx context.Context, c *http.Client, url, body, tok string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Origin", allowedOrigins[0])
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, resp.Header, b, err
}
