package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The embedded example must be the file in examples/, byte for byte.
func TestExamplePolicyMatchesExamplesDir(t *testing.T) {
	want, err := os.ReadFile(examplePath)
	require.NoError(t, err)
	require.Equal(t, string(want), examplePolicy, "cmd/msgsec/example-policy.yaml drifted from examples/policies/uplusbank.yaml; copy it over")
}

func TestPolicyExample(t *testing.T) {
	e := newTestEnv()
	r := e.run(t, "", "policy", "example")
	require.Equal(t, exitOK, r.code)
	require.Equal(t, examplePolicy, r.stdout)

	// What it prints is a policy that passes the check.
	p := writeFile(t, "policy.yaml", r.stdout)
	r = e.run(t, "", "policy", "check", p)
	require.Equal(t, exitOK, r.code, r.stdout)
}

const (
	invalidYAML = "connections:\n  - id: retail-bank\n    allowed_domains: [https://www.uplusbank.com\n"
	typoPolicy  = `connections:
  - id: retail-bank
    allowed_domain:
      - https://www.uplusbank.com
    token:
      secret_data: optional
`
	badValuesPolicy = `connections:
  - id: retail-bank
    allowed_domains:
      - https://*.co.uk
      - https://www.uplusbank.com/path
    token:
      secret_data: optional
`
	warningsPolicy = `connections:
  - id: open
    allowed_domains: ["*"]
    token:
      secret_data: optional
`
)

func TestPolicyCheck(t *testing.T) {
	e := newTestEnv()
	cases := []struct {
		name     string
		env      *testEnv
		file     string // content; examplePath when empty
		args     []string
		code     int
		stdout   []string
		noStdout []string
	}{
		{
			name:   "example passes with its one warning",
			env:    e,
			code:   exitOK,
			stdout: []string{"uplusbank.yaml:48: warning: connections[0].token.secret_data:", "[secret-data-optional]", "ok: 1 connection (retail-bank), 0 errors, 1 warning"},
		},
		{
			name:   "strict fails on warnings",
			env:    e,
			args:   []string{"--strict"},
			code:   exitFail,
			stdout: []string{"failed: 1 connection (retail-bank), 0 errors, 1 warning"},
		},
		{
			name:   "missing secret variable is a warning with its path (secrets are often absent where policies are checked)",
			env:    e.without(),
			code:   exitOK,
			stdout: []string{"warning: connections[0].keys[0].secret.env: environment variable UPLUS_JWT_SECRET is not set here", "[secret-unavailable]", "ok: 1 connection (retail-bank), 0 errors, 2 warnings"},
		},
		{
			name:   "missing secret variable fails with --strict",
			env:    e.without(),
			args:   []string{"--strict"},
			code:   exitFail,
			stdout: []string{"[secret-unavailable]", "failed"},
		},
		{
			name:   "a short secret is an error with its path and line",
			env:    &testEnv{vars: map[string]string{secretEnv: "not 32 characters long"}},
			code:   exitFail,
			stdout: []string{"uplusbank.yaml:39: error: connections[0].keys[0].secret: shorter than the hash size (HS256 needs at least 32 characters", "failed: 1 error"},
		},
		{
			name:   "invalid YAML is an error",
			env:    e,
			file:   invalidYAML,
			code:   exitFail,
			stdout: []string{"error: ", "failed: 1 error"},
		},
		{
			name:   "unknown field names the field and a suggestion",
			env:    e,
			file:   typoPolicy,
			code:   exitFail,
			stdout: []string{`policy.yaml:3: error: connections[0].allowed_domain: unknown field (did you mean "allowed_domains"?)`},
		},
		{
			name:   "every invalid value is reported at once",
			env:    e,
			file:   badValuesPolicy,
			code:   exitFail,
			stdout: []string{"connections[0].allowed_domains[0]", "connections[0].allowed_domains[1]", "failed: 2 errors"},
		},
		{
			name:   "warnings alone pass without strict",
			env:    e,
			file:   warningsPolicy,
			code:   exitOK,
			stdout: []string{"[star-origin]", "[secret-data-optional]", "[no-keys]", "ok: 1 connection (open), 0 errors, 3 warnings"},
		},
		{
			name: "warnings fail with strict",
			env:  e,
			file: warningsPolicy,
			args: []string{"--strict"},
			code: exitFail,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := examplePath
			if tc.file != "" {
				path = writeFile(t, "policy.yaml", tc.file)
			}
			r := tc.env.run(t, "", append(append([]string{"policy", "check"}, tc.args...), path)...)
			require.Equal(t, tc.code, r.code, "stdout=%q stderr=%q", r.stdout, r.stderr)
			for _, s := range tc.stdout {
				require.Contains(t, r.stdout, s)
			}
			require.Empty(t, r.stderr)
		})
	}
}

func TestPolicyCheckUnreadableFile(t *testing.T) {
	e := newTestEnv()
	r := e.run(t, "", "policy", "check", "testdata-does-not-exist.yaml")
	requireOneLineError(t, r, "no such file or directory")
}

func TestPolicyCheckJSON(t *testing.T) {
	e := newTestEnv()
	t.Run("example", func(t *testing.T) {
		r := e.run(t, "", "policy", "check", "--json", examplePath)
		require.Equal(t, exitOK, r.code)
		var rep checkReport
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
		require.True(t, rep.OK)
		require.Equal(t, []string{connID}, rep.Connections)
		require.Empty(t, rep.Errors)
		require.Equal(t, []checkFinding{{
			Path: "connections[0].token.secret_data", Line: 48, Code: "secret-data-optional",
			Message: "anonymous chats are admitted: requests without CustomerSecretData reach the chat",
		}}, rep.Warnings)
	})
	t.Run("errors carry kinds", func(t *testing.T) {
		r := (&testEnv{vars: map[string]string{secretEnv: "not 32 characters long"}}).run(t, "", "policy", "check", "--json", examplePath)
		require.Equal(t, exitFail, r.code)
		var rep checkReport
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
		require.False(t, rep.OK)
		require.Len(t, rep.Errors, 1)
		require.Equal(t, "value", rep.Errors[0].Kind)
		require.Equal(t, 39, rep.Errors[0].Line)
		require.True(t, strings.HasSuffix(rep.Errors[0].Path, ".secret"))
	})
	t.Run("syntax kind", func(t *testing.T) {
		r := e.run(t, "", "policy", "check", "--json", writeFile(t, "p.yaml", invalidYAML))
		require.Equal(t, exitFail, r.code)
		var rep checkReport
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
		require.Equal(t, "syntax", rep.Errors[0].Kind)
	})
}
