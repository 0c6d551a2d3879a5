package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Oversized inputs sent by the oversize phase.
const (
	bigHeaderBytes = 2 << 20 // one header line, above any header cap
	bigBodyBytes   = 1 << 20 // a message body, above the chat server's 16 KiB cap
	// bigTokenBytes is a bearer token above the verifier's 8 KiB cap but
	// below the chat server's 64 KiB header cap, so it reaches the
	// middleware (a bigger one is refused earlier, with 431).
	bigTokenBytes = 48 << 10
)

// oversizeResult is one kind of oversized request, sent n times.
type oversizeResult struct {
	Kind    string        `json:"kind"`
	Bytes   int           `json:"bytes"`
	Sent    int           `json:"sent"`
	Refused int           `json:"refused"` // answered with the expected status
	Want    int           `json:"want_status"`
	P99     time.Duration `json:"p99_ns"`
	// PeakGain is how much the server's peak resident memory grew while
	// these requests ran (Linux; 0 elsewhere).
	PeakGain int64         `json:"peak_rss_gain_bytes"`
	Max      time.Duration `json:"max_ns"`
	Problems []string      `json:"problems,omitempty"`
}

// oversizePhase sends n of each oversized request, clients at a time, to a
// session the load run opened, and reports how each was refused.
func oversizePhase(ctx context.Context, base string, n, clients int, session func() (string, error), peak func() int64) ([]oversizeResult, error) {
	sid, err := session()
	if err != nil {
		return nil, err
	}
	msgURL := base + "/connections/" + connectionID + "/sessions/" + sid + "/messages"
	bigHeader := strings.Repeat("a", bigHeaderBytes)
	bigBody := append(append([]byte(`{"text":"`), bytes.Repeat([]byte("a"), bigBodyBytes)...), `"}`...)
	bigToken := strings.Repeat("A", bigTokenBytes)
	kinds := []struct {
		name  string
		bytes int
		want  int
		req   func() *http.Request
	}{
		{"header", bigHeaderBytes, http.StatusRequestHeaderFieldsTooLarge, func() *http.Request {
			r, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/connections/"+connectionID+"/config", nil)
			r.Header.Set("Origin", allowedOrigins[0])
			r.Header.Set("X-Padding", bigHeader)
			return r
		}},
		{"body", bigBodyBytes, http.StatusRequestEntityTooLarge, func() *http.Request {
			r, _ := http.NewRequestWithContext(ctx, http.MethodPost, msgURL, bytes.NewReader(bigBody))
			r.Header.Set("Origin", allowedOrigins[0])
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
		{"token", bigTokenBytes, http.StatusUnauthorized, func() *http.Request {
			r, _ := http.NewRequestWithContext(ctx, http.MethodPost, msgURL, strings.NewReader(`{"text":"hi"}`))
			r.Header.Set("Origin", allowedOrigins[0])
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Bearer "+bigToken)
			return r
		}},
	}
	var out []oversizeResult
	for _, k := range kinds {
		res := oversizeResult{Kind: k.name, Bytes: k.bytes, Want: k.want}
		peakBefore := peak()
		var mu sync.Mutex
		var lat []time.Duration
		work := make(chan struct{}, n)
		for range n {
			work <- struct{}{}
		}
		close(work)
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				// A fresh transport per request: the server closes the
				// connection after refusing, and a reused one would fail.
				client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
				for range work {
					start := time.Now()
					resp, err := client.Do(k.req())
					status := 0
					if err == nil {
						_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
						resp.Body.Close()
						status = resp.StatusCode
					}
					d := time.Since(start)
					mu.Lock()
					lat = append(lat, d)
					res.Sent++
					switch {
					case status == k.want:
						res.Refused++
					case len(res.Problems) < 5 && err != nil:
						res.Problems = append(res.Problems, err.Error())
					case len(res.Problems) < 5:
						res.Problems = append(res.Problems, fmt.Sprintf("status %d, want %d", status, k.want))
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		slices.Sort(lat)
		res.P99, res.Max = percentile(lat, 0.99), lat[len(lat)-1]
		res.PeakGain = peak() - peakBefore
		out = append(out, res)
	}
	return out, nil
}
