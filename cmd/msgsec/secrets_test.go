package main

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// No command prints the secret a policy references, in any encoding, on
// success or on failure; verify prints no secret-data value unless asked.
func TestSecretsNeverPrinted(t *testing.T) {
	e := newTestEnv()
	tok := e.sign(t, "--subject", "customer-42")
	forms := []string{
		e.encoded,
		base64.StdEncoding.EncodeToString(e.secret),
		base64.RawStdEncoding.EncodeToString(e.secret),
		hex.EncodeToString(e.secret),
		string(e.secret),
		e.encoded[:16], // a prefix is a leak too
	}
	p := []string{"--policy", examplePath, "--connection", connID}
	runs := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"policy check", "", []string{"policy", "check", examplePath}},
		{"policy check json", "", []string{"policy", "check", "--json", "--strict", examplePath}},
		{"origin", "", append([]string{"origin", "--json"}, append(p, "https://account.uplusbank.com", "https://x.example/")...)},
		{"sign with a bad lifetime", "", append([]string{"sign", "--data", "{}", "--lifetime", "20h"}, p...)},
		{"verify", "", append([]string{"verify"}, append(p, tok)...)},
		{"verify json", "", append([]string{"verify", "--json"}, append(p, tok)...)},
		{"verify tampered", "", append([]string{"verify"}, append(p, tamper(tok))...)},
		{"verify with a bad flag", "", append([]string{"verify", "--frob"}, append(p, tok)...)},
		{"help", "", []string{"verify", "--help"}},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			out := e.run(t, r.stdin, r.args...)
			for _, f := range forms {
				require.NotContains(t, out.stdout, f)
				require.NotContains(t, out.stderr, f)
			}
			for _, data := range []string{"C-1001", "customer-42", "gold"} {
				require.NotContains(t, out.stdout+out.stderr, data, "secret data or subject printed unmasked")
			}
		})
	}

	t.Run("secret set but invalid", func(t *testing.T) {
		bad := e.without()
		bad.vars[secretEnv] = "c2hvcnQtYnV0LXNlY3JldA" // base64url "short-but-secret"
		for _, args := range [][]string{
			{"policy", "check", examplePath},
			append([]string{"sign", "--data", "{}"}, p...),
			append([]string{"verify"}, append(p, tok)...),
			append([]string{"origin"}, append(p, "https://uplusbank.com")...),
		} {
			out := bad.run(t, "", args...)
			require.NotEqual(t, exitOK, out.code)
			for _, f := range []string{"c2hvcnQtYnV0LXNlY3JldA", "short-but-secret"} {
				require.NotContains(t, out.stdout+out.stderr, f)
			}
		}
	})
}

// The built binary behaves like run(): the smoke test for go install.
func TestBinarySmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH")
	}
	bin := filepath.Join(t.TempDir(), "msgsec")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	e := newTestEnv()
	cmd := exec.Command(bin, "origin", "--policy", examplePath, "--connection", connID,
		"https://account.uplusbank.com", "https://www.uplus.com")
	cmd.Env = append(os.Environ(), secretEnv+"="+e.encoded)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr)
	require.Equal(t, exitFail, exitErr.ExitCode())
	require.Equal(t, `"https://account.uplusbank.com" allowed by https://www.uplusbank.com (same site (same scheme and registrable domain))`+"\n"+
		`"https://www.uplus.com" denied: no matching pattern: its site (https://uplus.com) is not the site of any entry`+"\n", stdout.String())
	require.Empty(t, stderr.String())

	check := exec.Command(bin, "policy", "check", examplePath)
	check.Env = append(os.Environ(), secretEnv+"="+e.encoded)
	out, err = check.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "ok: 1 connection (retail-bank)")
}
