package main

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadToolSmallRun runs the tool end to end with small counts, as CI
// does: build, start, load with reloads, oversize phase, and the baseline
// when the chat server offers one.
func TestLoadToolSmallRun(t *testing.T) {
	bin := buildBin(t)
	var out bytes.Buffer
	args := []string{"-chatserver", bin, "-clients", "4", "-requests", "1200", "-reloads", "10",
		"-oversize", "8", "-max-overhead", "0", "-flood", "3s", "-flood-clients", "5", "-timeout", "2m"}
	if !supportsFlag(bin, "no-middleware") {
		args = append(args, "-baseline=false")
	}
	require.NoErrorf(t, run(context.Background(), args, &out), "%s", out.String())
	for _, want := range []string{"wrong decisions 0", "policy reloads during the run: 10", `"load test v11"`,
		"refused with 431", "refused with 413", "refused with 401", "5 behaving clients", "over a WebSocket", "flooder sockets:", "PASS"} {
		assert.Contains(t, out.String(), want, "the report")
	}
}

// TestFloodJudge: a flood run fails when a behaving client lost requests,
// when the flooder was never limited, or when memory grew with the flood.
func TestFloodJudge(t *testing.T) {
	good := floodResult{BehavingSent: 100, BehavingOK: 100, SuccessRate: 1, FloodLimited: 5000, FloodRetryAfter: true,
		BehavingSocketSent: 50, BehavingSocketOK: 50,
		Sockets: socketFlood{Attempts: 12, Upgrades: 8, Refused: 4, Frames: 9000, Limited: 8990, Stored: 10},
		RSSHalf: 20 << 20, RSSEnd: 21 << 20, PeakRSS: 22 << 20}
	rep := &report{Flood: &good}
	judge(rep, options{})
	require.Empty(t, rep.Failures, "a good flood run")
	for name, bad := range map[string]func(f *floodResult){
		"lost requests":    func(f *floodResult) { f.BehavingOK, f.SuccessRate = 95, 0.95 },
		"never limited":    func(f *floodResult) { f.FloodLimited = 0 },
		"no Retry-After":   func(f *floodResult) { f.FloodRetryAfter = false },
		"memory grew":      func(f *floodResult) { f.RSSEnd = f.RSSHalf + 64<<20 },
		"peak too high":    func(f *floodResult) { f.PeakRSS = 1 << 30 },
		"behaving silence": func(f *floodResult) { f.BehavingSent, f.BehavingOK, f.SuccessRate = 0, 0, 0 },
		"no socket used":   func(f *floodResult) { f.BehavingSocketSent, f.BehavingSocketOK = 0, 0 },
		"no flood socket":  func(f *floodResult) { f.Sockets.Upgrades = 0 },
		"sockets unbound":  func(f *floodResult) { f.Sockets.Upgrades, f.Sockets.Refused = 12, 0 },
		"socket unlimited": func(f *floodResult) { f.Sockets.Limited = 0 },
	} {
		f := good
		bad(&f)
		rep := &report{Flood: &f}
		judge(rep, options{})
		assert.NotEmpty(t, rep.Failures, "%s: judged a pass", name)
	}
}

// TestLoadToolCatchesWrongDecisions points the tool at a server that lets
// every origin and every token through: the tool must fail and count wrong
// decisions, or its zero would mean nothing.
func TestLoadToolCatchesWrongDecisions(t *testing.T) {
	permissive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		switch {
		case r.Method == http.MethodOptions:
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.URL.Path, "/sessions"):
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"session":"s1"}`))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer permissive.Close()
	t.Setenv(secretEnv, string(newSecret()))
	var out bytes.Buffer
	err := run(context.Background(), []string{"-target", permissive.URL, "-clients", "2", "-requests", "3000"}, &out)
	require.Errorf(t, err, "%s", out.String())
	require.Containsf(t, err.Error(), "wrong decisions", "%s", out.String())
	for _, want := range []string{"WRONG DECISION: preflight denied", "WRONG DECISION: message denied", "WRONG DECISION: message replayed"} {
		assert.Contains(t, out.String(), want, "the report")
	}
}

// TestLoadToolCatchesServerErrors points the tool at a server that fails.
func TestLoadToolCatchesServerErrors(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	t.Setenv(secretEnv, string(newSecret()))
	var out bytes.Buffer
	err := run(context.Background(), []string{"-target", failing.URL, "-clients", "2", "-requests", "50"}, &out)
	require.Errorf(t, err, "%s", out.String())
	require.Containsf(t, err.Error(), "5xx", "%s", out.String())
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"defaults", nil, true},
		{"help", []string{"-h"}, false},
		{"too many clients", []string{"-clients", "257"}, false},
		{"no clients", []string{"-clients", "0"}, false},
		{"fewer requests than clients", []string{"-clients", "8", "-requests", "4"}, false},
		{"too many requests", []string{"-requests", "1000001"}, false},
		{"negative server procs", []string{"-server-procs", "-1"}, false},
		{"one server proc", []string{"-server-procs", "1"}, true},
		{"negative reloads", []string{"-reloads", "-1"}, false},
		{"unbounded time", []string{"-timeout", "0"}, false},
		{"too long", []string{"-timeout", "31m"}, false},
		{"remote target", []string{"-target", "http://example.com:8080"}, false},
		{"private-network target", []string{"-target", "http://10.0.0.1:8080"}, false},
		{"loopback target", []string{"-target", "http://127.0.0.1:8080"}, true},
		{"localhost target", []string{"-target", "http://localhost:8080/"}, true},
		{"ipv6 loopback target", []string{"-target", "http://[::1]:8080"}, true},
		{"remote redis", []string{"-redis", "redis://redis.example:6379/0"}, false},
		{"loopback redis", []string{"-redis", "redis://127.0.0.1:6379/0"}, true},
		{"loopback redis with a password", []string{"-redis", "redis://:pw@localhost:6379/0"}, true},
		{"loopback cluster", []string{"-redis", "redis-cluster://127.0.0.1:7000,127.0.0.1:7001"}, true},
		{"cluster with one remote node", []string{"-redis", "redis-cluster://127.0.0.1:7000,10.0.0.2:7001"}, false},
		{"loopback sentinel", []string{"-redis", "redis-sentinel://127.0.0.1:26379,[::1]:26380/mymaster"}, true},
		{"remote sentinel", []string{"-redis", "redis-sentinel://sentinel.example:26379/mymaster"}, false},
		{"not a redis url", []string{"-redis", "http://127.0.0.1:6379"}, false},
		{"stray argument", []string{"now"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(tc.args, &bytes.Buffer{})
			if tc.ok {
				require.NoErrorf(t, err, "parseFlags(%q)", tc.args)
			} else {
				require.Errorf(t, err, "parseFlags(%q)", tc.args)
			}
		})
	}
	_, err := parseFlags([]string{"-redis", "redis://app:S3CR3T-pw@redis.example:6379/0"}, &bytes.Buffer{})
	require.ErrorContains(t, err, "not a loopback address")
	require.NotContains(t, err.Error(), "S3CR3T-pw", "a refused -redis URL never shows its password")
	var out bytes.Buffer
	_, err = parseFlags([]string{"-print-policy"}, &out)
	require.ErrorIs(t, err, flag.ErrHelp, "-print-policy")
	require.Contains(t, out.String(), "id: retail-bank", "-print-policy")
}
