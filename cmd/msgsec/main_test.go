package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
)

const (
	examplePath = "../../examples/policies/uplusbank.yaml"
	secretEnv   = "UPLUS_JWT_SECRET"
	connID      = "retail-bank"
)

// result is one in-process run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

// testEnv holds a fresh secret, as an operator would export it.
type testEnv struct {
	secret  []byte // the HMAC key: the printed text's bytes (the default encoding, raw)
	encoded string // what UPLUS_JWT_SECRET holds: `msgsec secret new` output
	vars    map[string]string
}

func newTestEnv() *testEnv {
	enc := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret())
	return &testEnv{secret: []byte(enc), encoded: enc, vars: map[string]string{secretEnv: enc}}
}

// without returns an environment lacking the secret variable.
func (e *testEnv) without() *testEnv {
	return &testEnv{secret: e.secret, encoded: e.encoded, vars: map[string]string{}}
}

func (e *testEnv) lookup(name string) (string, bool) {
	v, ok := e.vars[name]
	return v, ok
}

func (e *testEnv) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut, e.lookup)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// writeFile writes a file under a fresh temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// requireOneLineError checks the contract for input errors: exit 2, one
// line on stderr, nothing on stdout.
func requireOneLineError(t *testing.T, r result, wantInStderr string) {
	t.Helper()
	require.Equal(t, exitUsage, r.code, "stdout=%q stderr=%q", r.stdout, r.stderr)
	require.Empty(t, r.stdout)
	require.Equal(t, 1, strings.Count(r.stderr, "\n"), "want one line, got %q", r.stderr)
	require.Contains(t, r.stderr, wantInStderr)
}

func TestHelp(t *testing.T) {
	e := newTestEnv()
	for _, cmd := range commands() {
		t.Run(cmd.name, func(t *testing.T) {
			args := append(strings.Fields(cmd.name), "--help")
			r := e.run(t, "", args...)
			require.Equal(t, exitOK, r.code)
			require.Contains(t, r.stdout, "Usage: msgsec "+cmd.name)
			require.Contains(t, r.stdout, "Exit codes:")
			require.Empty(t, r.stderr)
		})
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"top-level --help", []string{"--help"}, exitOK, "policy check"},
		{"help word", []string{"help"}, exitOK, "Exit codes:"},
		{"help for a command", []string{"help", "sign"}, exitOK, "Usage: msgsec sign"},
		{"group help", []string{"policy", "--help"}, exitOK, "msgsec policy check"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, "", tc.args...)
			require.Equal(t, tc.code, r.code)
			require.Contains(t, r.stdout, tc.want)
		})
	}
}

func TestUsageErrors(t *testing.T) {
	e := newTestEnv()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"group without subcommand", []string{"policy"}, "needs a subcommand: policy check, policy example, policy push, policy pull"},
		{"unknown subcommand", []string{"keys", "old"}, `not "old"`},
		{"unknown flag", []string{"secret", "new", "--bits", "128"}, "flag provided but not defined: -bits"},
		{"bad flag value", []string{"sign", "--lifetime", "soon"}, `invalid value "soon" for flag -lifetime`},
		{"extra argument is not echoed", []string{"secret", "new", "eyJhbGciOi.secret.arg"}, "too many arguments: want 0, got 1"},
		{"policy check without a file", []string{"policy", "check"}, "missing the policy FILE"},
		{"policy check with two files", []string{"policy", "check", "a.yaml", "b.yaml"}, "too many arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, "", tc.args...)
			requireOneLineError(t, r, tc.want)
			require.NotContains(t, r.stderr, "eyJhbGciOi")
		})
	}
	t.Run("no arguments prints usage to stderr", func(t *testing.T) {
		r := e.run(t, "")
		require.Equal(t, exitUsage, r.code)
		require.Contains(t, r.stderr, "Usage:")
		require.Empty(t, r.stdout)
	})
}

func TestParseInterleaved(t *testing.T) {
	e := newTestEnv()
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"flag before the file", []string{"policy", "check", "--strict", examplePath}, exitFail},
		{"flag after the file", []string{"policy", "check", examplePath, "--strict"}, exitFail},
		{"no flag", []string{"policy", "check", examplePath}, exitOK},
		{"double dash ends flags", []string{"origin", "--policy", examplePath, "--connection", connID, "--", "https://uplusbank.com"}, exitOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, "", tc.args...)
			require.Equal(t, tc.code, r.code, "stdout=%q stderr=%q", r.stdout, r.stderr)
		})
	}
}

func TestOneLine(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"plain", "policy x: 1 problem", "policy x: 1 problem"},
		{"newline becomes separator", "a\nb", "a; b"},
		{"crlf", "a\r\nb", "a; b"},
		{"escape and bell escaped", "a\x1b[31m\x07b", `a\x1b[31m\x07b`},
		{"unicode line separator", "a\u2028b", `a\x2028b`},
		{"unicode kept", "münchen", "münchen"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, oneLine(tc.in))
		})
	}
}
