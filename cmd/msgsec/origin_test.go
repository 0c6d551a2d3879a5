package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOrigin(t *testing.T) {
	e := newTestEnv()
	cases := []struct {
		name    string
		env     *testEnv
		origins []string
		code    int
		stdout  []string
		stderr  string
	}{
		{
			name:    "subdomain admitted by the same-site entry, pattern named",
			env:     e,
			origins: []string{"https://account.uplusbank.com"},
			code:    exitOK,
			stdout:  []string{`"https://account.uplusbank.com" allowed by https://www.uplusbank.com (same site`},
		},
		{
			name:    "apex with a path-free origin and any port",
			env:     e,
			origins: []string{"https://uplusbank.com", "https://uplusbank.com:8443"},
			code:    exitOK,
		},
		{
			name:    "another site is denied with the reason",
			env:     e,
			origins: []string{"https://www.uplus.com"},
			code:    exitFail,
			stdout:  []string{`"https://www.uplus.com" denied: no matching pattern`},
		},
		{
			name:    "plain http is denied by scheme",
			env:     e,
			origins: []string{"http://www.uplusbank.com"},
			code:    exitFail,
			stdout:  []string{`"http://www.uplusbank.com" denied: scheme:`},
		},
		{
			name:    "one denial fails the run",
			env:     e,
			origins: []string{"https://www.uplusbank.com", "https://www.uplus.com"},
			code:    exitFail,
			stdout:  []string{"allowed by", "denied:"},
		},
		{
			name:    "malformed origin is denied as malformed",
			env:     e,
			origins: []string{"https://www.uplusbank.com/store"},
			code:    exitFail,
			stdout:  []string{`"https://www.uplusbank.com/store" denied: malformed:`},
		},
		{
			name:    "non-canonical origin is denied, never normalised into a match",
			env:     e,
			origins: []string{"HTTPS://WWW.UPLUSBANK.COM"},
			code:    exitFail,
			stdout:  []string{"denied: not canonical"},
		},
		{
			name:    "null is denied",
			env:     e,
			origins: []string{"null"},
			code:    exitFail,
			stdout:  []string{`"null" denied: null`},
		},
		{
			name:    "control characters cannot forge output lines",
			env:     e,
			origins: []string{"https://www.uplus.com\n\"https://evil.example\" allowed by *"},
			code:    exitFail,
			stdout:  []string{`denied: malformed`},
		},
		{
			name:    "unset secret variable: placeholder, with a note",
			env:     e.without(),
			origins: []string{"https://account.uplusbank.com"},
			code:    exitOK,
			stdout:  []string{"allowed by https://www.uplusbank.com"},
			stderr:  "msgsec origin: note: UPLUS_JWT_SECRET is not set",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"origin", "--policy", examplePath, "--connection", connID}, tc.origins...)
			r := tc.env.run(t, "", args...)
			require.Equal(t, tc.code, r.code, "stdout=%q stderr=%q", r.stdout, r.stderr)
			require.Equal(t, len(tc.origins), strings.Count(r.stdout, "\n"), "one line per origin: %q", r.stdout)
			for _, s := range tc.stdout {
				require.Contains(t, r.stdout, s)
			}
			if tc.stderr == "" {
				require.Empty(t, r.stderr)
			} else {
				require.Contains(t, r.stderr, tc.stderr)
			}
		})
	}
}

func TestOriginInputErrors(t *testing.T) {
	e := newTestEnv()
	badSecret := e.without()
	badSecret.vars[secretEnv] = "c2hvcnQ" // "short": set, so used as-is, and refused
	cases := []struct {
		name string
		env  *testEnv
		args []string
		want string
	}{
		{"missing file", e, []string{"--policy", "nope.yaml", "--connection", connID, "https://a.example"}, "no such file or directory"},
		{"invalid YAML", e, []string{"--policy", writeFile(t, "p.yaml", invalidYAML), "--connection", connID, "https://a.example"}, "p.yaml: line 2: did not find"},
		{"unknown connection lists the known ones", e, []string{"--policy", examplePath, "--connection", "retail", "https://a.example"}, `unknown connection "retail" in ../../examples/policies/uplusbank.yaml (it has: retail-bank)`},
		{"no origin", e, []string{"--policy", examplePath, "--connection", connID}, "give at least one ORIGIN"},
		{"no policy flag", e, []string{"--connection", connID, "https://a.example"}, "--policy FILE is required"},
		{"no connection flag", e, []string{"--policy", examplePath, "https://a.example"}, "--connection ID is required"},
		{"a set but invalid secret is still an error", badSecret, []string{"--policy", examplePath, "--connection", connID, "https://a.example"}, "shorter than the hash size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.env.run(t, "", append([]string{"origin"}, tc.args...)...)
			requireOneLineError(t, r, tc.want)
		})
	}
}

func TestOriginJSON(t *testing.T) {
	e := newTestEnv()
	r := e.run(t, "", "origin", "--json", "--policy", examplePath, "--connection", connID,
		"https://account.uplusbank.com", "https://www.uplus.com")
	require.Equal(t, exitFail, r.code)
	var rep originReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	require.Equal(t, connID, rep.Connection)
	require.Equal(t, "same-site", rep.DomainMatching)
	require.False(t, rep.AllAllowed)
	require.False(t, rep.ReportOnly)
	require.Len(t, rep.Results, 2)
	require.Equal(t, originFinding{
		Origin: "https://account.uplusbank.com", Allowed: true, Pattern: "https://www.uplusbank.com",
		Reason: "allowed", Detail: rep.Results[0].Detail,
	}, rep.Results[0])
	require.False(t, rep.Results[1].Allowed)
	require.Equal(t, "no matching pattern", rep.Results[1].Reason)
}

func TestOriginExactAndReportOnly(t *testing.T) {
	e := newTestEnv()
	p := writeFile(t, "p.yaml", `connections:
  - id: shop
    allowed_domains: [https://www.uplusbank.com]
    mode: report-only
    token: {secret_data: optional}
`)
	r := e.run(t, "", "origin", "--policy", p, "--connection", "shop", "https://account.uplusbank.com")
	require.Equal(t, exitFail, r.code, "exact matching admits only the entry itself")
	require.Contains(t, r.stderr, "report-only: denied origins are logged, not blocked")

	r = e.run(t, "", "origin", "--policy", p, "--connection", "shop", "https://www.uplusbank.com")
	require.Equal(t, exitOK, r.code)
}
