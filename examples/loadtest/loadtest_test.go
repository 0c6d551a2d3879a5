package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestLoadToolSmallRun runs the tool end to end with small counts, as CI
// does: build, start, load with reloads, oversize phase, and the baseline
// when the chat server offers one.
func TestLoadToolSmallRun(t *testing.T) {
	bin := buildBin(t)
	var out bytes.Buffer
	args := []string{"-chatserver", bin, "-clients", "4", "-requests", "1200", "-reloads", "10",
		"-oversize", "8", "-max-overhead", "0", "-timeout", "2m"}
	if !supportsFlag(bin, "no-middleware") {
		args = append(args, "-baseline=false")
	}
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"wrong decisions 0", "policy reloads during the run: 10", `"load test v11"`,
		"refused with 431", "refused with 413", "refused with 401", "PASS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
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
	if err == nil || !strings.Contains(err.Error(), "wrong decisions") {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"WRONG DECISION: preflight denied", "WRONG DECISION: message denied", "WRONG DECISION: message replayed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
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
	if err == nil || !strings.Contains(err.Error(), "5xx") {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
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
		{"stray argument", []string{"now"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(tc.args, &bytes.Buffer{})
			if (err == nil) != tc.ok {
				t.Fatalf("parseFlags(%q): %v", tc.args, err)
			}
		})
	}
	var out bytes.Buffer
	if _, err := parseFlags([]string{"-print-policy"}, &out); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "id: retail-bank") {
		t.Fatalf("-print-policy: %v %q", err, out.String())
	}
}
