package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConsoleProbe is issue 16's black-box probe, against the demo
// command as `go run ./examples/demo` runs it (built into a temporary
// directory, on free ports): it prints the console's URL and login; the
// console's API refuses a request without the login (401); with the
// printed token, adding a domain (the connection's ETag as If-Match) makes
// the chat server's CORS preflight from that origin succeed within a
// second, without a restart.
func TestConsoleProbe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "demo")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/msgsec/msgsec/examples/demo").CombinedOutput()
	require.NoError(t, err, "go build examples/demo: %s", out)

	cmd := exec.CommandContext(ctx, bin, "-chat-addr", "127.0.0.1:0", "-bank-addr", "127.0.0.1:0",
		"-other-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr, err := os.CreateTemp(t.TempDir(), "demo-*.log")
	require.NoError(t, err)
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	lines := make(chan string, 256) // the welcome is some 35 lines
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody reads past the welcome
			}
		}
		close(lines)
		exited <- cmd.Wait() // after the last read (Wait closes the pipe)
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			assert.NoError(t, err, "the demo exits cleanly on SIGTERM")
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("the demo did not stop on SIGTERM")
		}
	}
	defer stop()

	// The welcome names every URL, the console's and its login among them.
	urls := map[string]*regexp.Regexp{
		"chat":    regexp.MustCompile(`^\s+chat agent view\s+(http://\S+)/agent$`),
		"console": regexp.MustCompile(`^\s+security console\s+(http://\S+/)$`),
		"login":   regexp.MustCompile(`^\s+console login \(this run\)\s+(http://\S+)$`),
	}
	found := map[string]string{}
	var welcome strings.Builder
	timeout := time.After(30 * time.Second)
read:
	for len(found) < len(urls) {
		select {
		case line, ok := <-lines:
			if !ok {
				break read // the demo ended
			}
			welcome.WriteString(line + "\n")
			for name, re := range urls {
				if m := re.FindStringSubmatch(line); m != nil {
					found[name] = m[1]
				}
			}
		case <-timeout:
			break read
		}
	}
	require.Len(t, found, len(urls), "the welcome lists the chat server, the console and its login:\n%s%s", welcome.String(), logs(stderr))
	chatURL, consoleURL := found["chat"], found["console"]
	login, err := url.Parse(found["login"])
	require.NoError(t, err)
	assert.Equal(t, consoleURL, login.Scheme+"://"+login.Host+"/", "the login is on the console's listener")
	assert.Equal(t, "/login", login.Path)
	token := login.Query().Get("token")
	require.Len(t, token, 43, "32 random bytes, base64url")

	api := func(method, path, bearer, etag, body string) (*http.Response, string) {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, consoleURL+"api/"+path, r)
		require.NoError(t, err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if etag != "" {
			req.Header.Set("If-Match", etag)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}

	// Without the login: 401, for reads and writes alike.
	for _, tt := range []struct{ name, method, path, bearer, body string }{
		{"list, no login", "GET", "connections", "", ""},
		{"connection, no login", "GET", "connections/retail-bank", "", ""},
		{"add a domain, no login", "POST", "connections/retail-bank/domains", "", `{"pattern":"https://partner.example"}`},
		{"list, a wrong token", "GET", "connections", token[:42] + "x", ""},
	} {
		resp, body := api(tt.method, tt.path, tt.bearer, `"1"`, tt.body)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, tt.name)
		assert.Contains(t, body, `"type":"urn:msgsec:problem:admin-unauthenticated"`, tt.name)
	}

	const partner = "https://partner.example"
	preflight := func() (int, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodOptions, chatURL+"/connections/retail-bank/sessions", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", partner)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin")
	}
	// Control: the chat server refuses the partner's preflight before.
	status, allowed := preflight()
	require.Equal(t, http.StatusForbidden, status, "an unlisted origin's preflight")
	require.Empty(t, allowed)

	// With the printed token: read the version, add the domain under it.
	resp, body := api("GET", "connections/retail-bank", token, "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	resp, body = api("POST", "connections/retail-bank/domains", token, etag, `{"pattern":"`+partner+`"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	added := time.Now()
	assert.Contains(t, body, `"allowed_domains":["http://www.uplusbank.localhost:*","`+partner+`"]`)
	assert.NotEqual(t, etag, resp.Header.Get("ETag"), "a new version")

	// The chat server follows within a second: poll every 20 ms, and
	// measure (a loaded machine is slow, but the change is pushed, not
	// polled for, so a second is plenty).
	const within = time.Second
	var took time.Duration
	for {
		status, allowed = preflight()
		took = time.Since(added)
		if status/100 == 2 && allowed == partner {
			break
		}
		if took > within {
			require.FailNowf(t, "the preflight is still refused", "after %v: status %d, Access-Control-Allow-Origin %q\n%s", took, status, allowed, logs(stderr))
		}
		time.Sleep(20 * time.Millisecond)
	}
	assert.LessOrEqual(t, took, within)
	t.Logf("the chat server admitted %s %v after the console's answer", partner, took.Round(time.Microsecond))

	// The demo never logs the login token.
	stop()
	assert.NotContains(t, logs(stderr), token)
}

func logs(f *os.File) string {
	b, _ := os.ReadFile(f.Name())
	return string(b)
}
