package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/msgsec/msgsec/secretdata"
)

// The origins sent, and the decision each must get under the load-test
// policy (https://www.uplusbank.com, same-site matching).
var (
	allowedOrigins = []string{
		"https://www.uplusbank.com",
		"https://account.uplusbank.com",
		"https://uplusbank.com",
		"https://uplusbank.com:8443",
	}
	deniedOrigins = []string{
		"https://www.uplus.com",              // another site
		"http://www.uplusbank.com",           // scheme differs
		"https://uplusbank.com.evil.example", // suffix trick
		"https://evil.example",
		"null",
		"https://WWW.UPLUSBANK.COM", // not a browser serialisation
	}
)

// kind is one request type of the mix.
type kind int

const (
	preflightAllowed kind = iota // OPTIONS, allowed origin: CORS granted
	preflightDenied              // OPTIONS, disallowed origin: no CORS
	messageAllowed               // POST message, allowed origin, fresh token: 204
	messageDenied                // POST message, disallowed origin, fresh token: 403
	messageReplayed              // POST message, allowed origin, used token: 401
	sessionOpen                  // POST session, allowed origin, fresh token: 201
	numKinds
)

var kindNames = [numKinds]string{"preflight allowed", "preflight denied", "message allowed",
	"message denied", "message replayed", "session open"}

// cycle is the request mix: 3/8 preflights, 5/8 authenticated messages.
var cycle = []kind{preflightAllowed, messageAllowed, preflightDenied, messageDenied,
	messageAllowed, preflightAllowed, messageReplayed, preflightDenied}

// messagesPerSession keeps a session under the chat server's message cap
// (each customer message also gets an agent reply).
const messagesPerSession = 80

// loadConfig is one load run.
type loadConfig struct {
	base     string
	clients  int
	requests int
	signer   *secretdata.Signer
	// check: judge every answer (false for the baseline, which has no
	// middleware and so makes no decisions).
	check bool
	// reload, if set, is called reloads times, spread over the run.
	reload  func() error
	reloads int
}

// loadResult is what a run measured.
type loadResult struct {
	Requests       int            `json:"requests"`
	Seconds        float64        `json:"seconds"`
	Throughput     float64        `json:"throughput_rps"`
	P50            time.Duration  `json:"p50_ns"`
	P99            time.Duration  `json:"p99_ns"`
	Status5xx      int            `json:"status_5xx"`
	Errors         int            `json:"errors"` // transport errors and unexpected statuses
	WrongDecisions int            `json:"wrong_decisions"`
	Reloads        int            `json:"reloads"` // completed while requests ran
	ReloadErrors   int            `json:"reload_errors"`
	ByKind         map[string]int `json:"by_kind"`
	Problems       []string       `json:"problems,omitempty"` // the first few, for the report
}

type worker struct {
	cfg          *loadConfig
	client       *http.Client
	session      string
	sent         int    // messages on the current session
	lastToken    string // a token already accepted once
	latencies    []time.Duration
	counts       [numKinds]int
	status5xx    int
	errors       int
	wrong        int
	problems     []problemEntry
	seenProblems map[string]bool
}

func runLoad(ctx context.Context, cfg loadConfig) (*loadResult, error) {
	tr := &http.Transport{MaxIdleConns: cfg.clients, MaxIdleConnsPerHost: cfg.clients, MaxConnsPerHost: cfg.clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	var next, done atomic.Int64
	workers := make([]*worker, cfg.clients)
	var wg sync.WaitGroup
	reloadsDone := make(chan [2]int, 1)
	stopReloads := make(chan struct{})
	go func() { reloadsDone <- driveReloads(&cfg, &done, stopReloads) }()

	start := time.Now()
	for i := range workers {
		w := &worker{cfg: &cfg, client: client, latencies: make([]time.Duration, 0, cfg.requests/cfg.clients+1)}
		workers[i] = w
		wg.Go(func() {
			for ctx.Err() == nil {
				n := next.Add(1) - 1
				if n >= int64(cfg.requests) {
					return
				}
				w.do(ctx, int(n))
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopReloads)
	rl := <-reloadsDone
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load run stopped after %v (%d of %d requests): %w", elapsed.Round(time.Millisecond), done.Load(), cfg.requests, err)
	}

	res := &loadResult{Seconds: elapsed.Seconds(), Reloads: rl[0], ReloadErrors: rl[1], ByKind: map[string]int{}}
	var all []time.Duration
	seen := map[string]bool{} // the first problem of each kind is always reported
	for _, w := range workers {
		all = append(all, w.latencies...)
		res.Status5xx += w.status5xx
		res.Errors += w.errors
		res.WrongDecisions += w.wrong
		for k, c := range w.counts {
			res.ByKind[kindNames[k]] += c
		}
		for _, p := range w.problems {
			if len(res.Problems) < 10 || !seen[p.key] {
				seen[p.key] = true
				res.Problems = append(res.Problems, p.text)
			}
		}
	}
	res.Requests = len(all)
	res.Throughput = float64(res.Requests) / elapsed.Seconds()
	slices.Sort(all)
	res.P50, res.P99 = percentile(all, 0.50), percentile(all, 0.99)
	return res, nil
}

// driveReloads reloads the policy each time another 1/(reloads+1) of the
// requests has completed, so the reloads are spread over the whole run
// whatever its speed. It returns (reloads done, reload errors).
func driveReloads(cfg *loadConfig, done *atomic.Int64, stop <-chan struct{}) [2]int {
	var n, failed int
	if cfg.reload == nil {
		return [2]int{}
	}
	tick := time.NewTicker(200 * time.Microsecond)
	defer tick.Stop()
	for n < cfg.reloads {
		select {
		case <-stop:
			return [2]int{n, failed}
		case <-tick.C:
		}
		if done.Load() < int64((n+1)*cfg.requests/(cfg.reloads+1)) {
			continue
		}
		if err := cfg.reload(); err != nil {
			failed++
		}
		n++
	}
	return [2]int{n, failed}
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// do sends request n of the mix and judges the answer.
func (w *worker) do(ctx context.Context, n int) {
	k := cycle[n%len(cycle)]
	if (k == messageAllowed || k == messageDenied || k == messageReplayed) && (w.session == "" || w.sent >= messagesPerSession) {
		k = sessionOpen
	}
	if k == messageReplayed && w.lastToken == "" {
		k = messageAllowed
	}
	origin := allowedOrigins[n%len(allowedOrigins)]
	if k == preflightDenied || k == messageDenied {
		origin = deniedOrigins[n%len(deniedOrigins)]
	}
	token := w.lastToken
	if k != messageReplayed && k != preflightAllowed && k != preflightDenied {
		var err error
		if token, err = w.cfg.signer.Sign(secretdata.Claims{Subject: "load-customer",
			SecretData: map[string]any{secretdata.ClaimAuthenticationStatus: "authenticated"}}); err != nil {
			w.problem("sign: %v", err)
			return
		}
	}
	req := w.request(ctx, k, origin, token)
	start := time.Now()
	resp, err := w.client.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
	w.latencies = append(w.latencies, time.Since(start))
	w.counts[k]++
	if err != nil {
		w.errors++
		w.problem("%s: %v", kindNames[k], err)
		return
	}
	w.judge(k, origin, token, resp, body)
}

func (w *worker) request(ctx context.Context, k kind, origin, token string) *http.Request {
	const conn = "/connections/" + connectionID
	var req *http.Request
	switch k {
	case preflightAllowed, preflightDenied:
		req, _ = http.NewRequestWithContext(ctx, http.MethodOptions, w.cfg.base+conn+"/sessions", nil)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	case sessionOpen:
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.base+conn+"/sessions",
			bytes.NewReader([]byte(`{"cookies":{"page_viewed":"home","session_id":"private"}}`)))
	default:
		req, _ = http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.base+conn+"/sessions/"+w.session+"/messages",
			bytes.NewReader([]byte(`{"text":"hello from the load test"}`)))
	}
	req.Header.Set("Origin", origin)
	if req.Method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// judge counts 5xx, errors and wrong decisions. A wrong decision is an
// allowed origin refused, a disallowed one let through, or a replayed
// token accepted.
func (w *worker) judge(k kind, origin, token string, resp *http.Response, body []byte) {
	code := resp.StatusCode
	if code >= 500 {
		w.status5xx++
		w.errors++
		w.problem("%s: status %d", kindNames[k], code)
		return
	}
	granted := resp.Header.Get("Access-Control-Allow-Origin") == origin
	switch k {
	case sessionOpen:
		var r struct{ Session string }
		if code == http.StatusCreated && json.Unmarshal(body, &r) == nil && r.Session != "" {
			w.session, w.sent, w.lastToken = r.Session, 0, token
			return
		}
	case messageAllowed, messageDenied, messageReplayed:
		w.sent++
		if k == messageAllowed && code == http.StatusNoContent {
			w.lastToken = token
		}
	}
	if !w.cfg.check {
		if k == sessionOpen || (k == messageAllowed && code != http.StatusNoContent) {
			w.errors++
			w.problem("%s: status %d", kindNames[k], code)
		}
		return
	}
	ok := false
	switch k {
	case preflightAllowed:
		ok = code < 300 && granted
	case preflightDenied:
		ok = !granted && code >= 400
	case messageAllowed, sessionOpen:
		ok = code < 300 && granted
	case messageDenied:
		ok = code == http.StatusForbidden && !granted
	case messageReplayed:
		ok = code == http.StatusUnauthorized
	}
	if ok {
		return
	}
	// A decision the other way is wrong; anything else is an error.
	if code < 300 || code == http.StatusUnauthorized || code == http.StatusForbidden || granted {
		w.wrong++
		w.problem("WRONG DECISION: %s from %q: status %d, cors granted %v", kindNames[k], origin, code, granted)
		return
	}
	w.errors++
	w.problem("%s from %q: unexpected status %d", kindNames[k], origin, code)
}

// problem records what went wrong: the first ten, plus the first of each
// kind of problem (the format names it), so a rare kind is never crowded
// out of the report by a frequent one.
func (w *worker) problem(format string, args ...any) {
	key := format
	if len(args) > 0 {
		if s, ok := args[0].(string); ok {
			key += s
		}
	}
	if w.seenProblems == nil {
		w.seenProblems = map[string]bool{}
	}
	first := !w.seenProblems[key]
	w.seenProblems[key] = true
	if len(w.problems) < 10 || first {
		w.problems = append(w.problems, problemEntry{key: key, text: fmt.Sprintf(format, args...)})
	}
}

// problemEntry is one recorded problem and the kind it is of.
type problemEntry struct{ key, text string }
