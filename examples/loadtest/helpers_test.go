package main

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chatServerBin builds examples/chatserver once per test binary.
var chatServerBin = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "msgsec-loadtest-bin-")
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return buildChatServer(ctx, dir)
})

func buildBin(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the chat server")
	}
	bin, err := chatServerBin()
	require.NoError(t, err)
	return bin
}

func startTestServer(t testing.TB, bin string, secret []byte, extra ...string) *server {
	t.Helper()
	srv, err := startServer(context.Background(), bin, t.TempDir(), secret, nil, extra...)
	require.NoError(t, err)
	t.Cleanup(srv.stop)
	return srv
}

// post sends a POST with a JSON body from origin (none if empty) with a
// bearer token (none if empty) and returns the status and body.
func post(t testing.TB, url, origin, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func get(t testing.TB, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

// kill ends the server at once (SIGKILL), as a crash would.
func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
	if s.stderr != nil {
		s.stderr.Close()
		s.stderr = nil
	}
}
