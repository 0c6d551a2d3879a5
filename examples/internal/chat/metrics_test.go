package chat

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// metricsFixture is a fixture with Prometheus metrics, served over HTTP.
func metricsFixture(t *testing.T, cfg Config) (*fixture, *httptest.Server) {
	t.Helper()
	m, h, err := NewPrometheusMetrics()
	require.NoError(t, err)
	cfg.Metrics, cfg.MetricsHandler = m, h
	f := newFixture(t, cfg)
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	return f, ts
}

// scrape GETs /metrics the way a Prometheus server does, addressed to the
// chat server's own host.
func scrape(t *testing.T, ts *httptest.Server, host string) (int, string) {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, ts.URL+"/metrics", nil)
	require.NoError(t, err)
	r.Host = host
	resp, err := ts.Client().Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// sample finds the sample of name whose labels include want, in the
// Prometheus text format. ok is false when there is none.
func sample(text, name string, want map[string]string) (v float64, ok bool) {
	for line := range strings.SplitSeq(text, "\n") {
		rest, found := strings.CutPrefix(line, name+"{")
		if !found {
			continue
		}
		labels, value, found := strings.Cut(rest, "} ")
		if !found {
			continue
		}
		match := true
		for k, v := range want {
			if !strings.Contains(","+labels+",", ","+k+"="+strconv.Quote(v)+",") {
				match = false
			}
		}
		if match {
			f, err := strconv.ParseFloat(value, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// eventually polls /metrics until sample name{want} has value n.
func eventually(t *testing.T, ts *httptest.Server, name string, want map[string]string, n float64) string {
	t.Helper()
	var text string
	require.Eventually(t, func() bool {
		_, text = scrape(t, ts, "chat.test")
		v, ok := sample(text, name, want)
		return ok && v == n
	}, 5*time.Second, 20*time.Millisecond, "%s%v = %v never appeared", name, want, n)
	return text
}

// An allowed and a denied request, and the counters that move in the
// scraped /metrics text (and those that must not).
func TestMetricsEndpoint(t *testing.T) {
	f, ts := metricsFixture(t, Config{})
	denied := map[string]string{"connection": conn, "kind": "origin-denied", "blocked": "true"}
	verifiedOK := map[string]string{"connection": conn, "outcome": "ok"}

	text := eventually(t, ts, "msgsec_policy_reloads_total", map[string]string{"outcome": "ok"}, 1)
	_, found := sample(text, "msgsec_middleware_decisions_total", denied)
	assert.False(t, found, "no denial yet")

	// Allowed: the bank's page opens a chat with a browser token, and the
	// bank's backend delivers secret data for it.
	sid := f.open(t, `{}`, map[string]string{"Authorization": "Bearer " + f.token(t, "")})
	client, err := delivery.NewClient(delivery.ClientConfig{BaseURL: ts.URL, Signer: f.signer, MaxRetries: -1})
	require.NoError(t, err)
	require.NoError(t, client.Send(context.Background(), conn, sid, secretdata.Claims{Subject: "customer-7",
		SecretData: map[string]any{"customer_id": "C-2002"}}))
	text = eventually(t, ts, "msgsec_token_verification_duration_seconds_count", verifiedOK, 2)
	eventually(t, ts, "msgsec_delivery_decisions_total", map[string]string{"connection": conn, "kind": "stored"}, 1)
	_, found = sample(text, "msgsec_middleware_decisions_total", denied)
	assert.False(t, found, "allowed requests are no denial")

	// Denied: the evil site, and a made-up connection.
	w := f.do(t, req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`,
		header: map[string]string{"Origin": evilOrigin, "Content-Type": "application/json"}})
	require.Equal(t, http.StatusForbidden, w.Code)
	w = f.do(t, req{method: "POST", path: "/connections/made-up-7f3a/sessions", body: `{}`,
		header: map[string]string{"Origin": bankOrigin, "Content-Type": "application/json"}})
	require.Equal(t, http.StatusNotFound, w.Code)

	text = eventually(t, ts, "msgsec_middleware_decisions_total", denied, 1)
	text = eventually(t, ts, "msgsec_middleware_decisions_total", map[string]string{"connection": "(unknown)", "kind": "unknown-connection"}, 1)
	v, _ := sample(text, "msgsec_token_verification_duration_seconds_count", verifiedOK)
	assert.Equal(t, 2.0, v, "the denials verified no token")

	for _, leak := range []string{"evil", "made-up", sid, "customer", "C-2002", "uplusbank"} {
		assert.NotContains(t, text, leak, "no request data in labels")
	}
}

// /metrics is the operator's: served to the chat server's own host only.
func TestMetricsOwnHostOnly(t *testing.T) {
	_, ts := metricsFixture(t, Config{})
	code, body := scrape(t, ts, "rebound.example")
	assert.Equal(t, http.StatusMisdirectedRequest, code)
	assert.NotContains(t, body, "msgsec_")
	code, body = scrape(t, ts, "chat.test")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "msgsec_policy_reloads_total")
}

// Without a MetricsHandler there is no /metrics.
func TestNoMetricsEndpointByDefault(t *testing.T) {
	f := newFixture(t, Config{})
	assert.Equal(t, http.StatusNotFound, f.do(t, req{method: "GET", path: "/metrics"}).Code)
}

// The server's 429s (MaxSessions, MaxMessages) count as rate-limited.
func TestMetricsRateLimited(t *testing.T) {
	f, ts := metricsFixture(t, Config{MaxSessions: 1, MaxMessages: 2})
	sid := f.open(t, `{}`, nil)
	open := req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`,
		header: map[string]string{"Origin": bankOrigin, "Content-Type": "application/json"}}
	require.Equal(t, http.StatusTooManyRequests, f.do(t, open).Code)
	msg := req{method: "POST", path: "/connections/retail-bank/sessions/" + sid + "/messages", body: `{"text":"hi"}`,
		header: map[string]string{"Origin": bankOrigin, "Content-Type": "application/json"}}
	require.Equal(t, http.StatusNoContent, f.do(t, msg).Code)
	require.Equal(t, http.StatusTooManyRequests, f.do(t, msg).Code)
	eventually(t, ts, "msgsec_rate_limited_total", map[string]string{"connection": conn, "limit": "max-sessions"}, 1)
	eventually(t, ts, "msgsec_rate_limited_total", map[string]string{"connection": conn, "limit": "max-messages"}, 1)
}

// With both Metrics and OnEvent set, the middleware's one event handler
// fans out: the metrics and OnEvent each hear every event, in the same
// numbers, whatever the route (an API POST, a WebSocket upgrade, cookies
// dropped).
func TestMetricsAndOnEventHearEveryEvent(t *testing.T) {
	var mu sync.Mutex
	heard := map[middleware.Kind]int{}
	f, ts := metricsFixture(t, Config{OnEvent: func(e middleware.Event) {
		mu.Lock()
		heard[e.Kind]++
		mu.Unlock()
	}})
	sid := f.open(t, `{}`, nil)
	const n = 3
	for range n {
		w := f.do(t, req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`,
			header: map[string]string{"Origin": evilOrigin, "Content-Type": "application/json"}})
		require.Equal(t, http.StatusForbidden, w.Code)
		r := dial(t, ts, "/connections/retail-bank/sessions/"+sid+"/ws", map[string]string{"Origin": evilOrigin})
		require.Equal(t, http.StatusForbidden, r.status, r.body)
		w = f.do(t, req{method: "POST", path: "/connections/retail-bank/sessions/" + sid + "/messages", body: `{"text":"hi"}`,
			header: map[string]string{"Origin": bankOrigin, "Content-Type": "application/json", "Cookie": privateName + "=" + privateValue}})
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	}
	eventually(t, ts, "msgsec_middleware_decisions_total", map[string]string{"connection": conn, "kind": "origin-denied", "blocked": "true"}, 2*n)
	eventually(t, ts, "msgsec_middleware_decisions_total", map[string]string{"connection": conn, "kind": "cookie-dropped"}, n)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[middleware.Kind]int{middleware.KindOriginDenied: 2 * n, middleware.KindCookieDropped: n}, heard)
}

// Each of Metrics and OnEvent alone is the handler; neither: none.
func TestEventHandlerFanOut(t *testing.T) {
	assert.Nil(t, eventHandler(nil, nil), "no handler: denials build no event")
	var got []string
	on := func(e middleware.Event) { got = append(got, "on:"+string(e.Kind)) }
	eventHandler(nil, on)(middleware.Event{Kind: middleware.KindOriginDenied})
	assert.Equal(t, []string{"on:origin-denied"}, got)
	m, _, err := NewPrometheusMetrics()
	require.NoError(t, err)
	assert.NotNil(t, eventHandler(m, nil))
	eventHandler(m, on)(middleware.Event{Kind: middleware.KindCookieDropped})
	assert.Equal(t, []string{"on:origin-denied", "on:cookie-dropped"}, got)
}
