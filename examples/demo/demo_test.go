package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestStartAndStop: the demo serves on the ports it is given (random here,
// so a running demo is never disturbed) and stops with its context.
func TestStartAndStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := start(ctx, config{chatAddr: "127.0.0.1:0", bankAddr: "127.0.0.1:0", otherAddr: "127.0.0.1:0", logger: quietLogger()})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(d.bankURL, "http://www.uplusbank.localhost:"), d.bankURL)
	assert.True(t, strings.HasPrefix(d.evilURL, "http://evil.localhost:"), d.evilURL)

	tests := []struct {
		name, url, want string
	}{
		{"chat server", d.chatURL + "/healthz", "ok"},
		{"bank site (by its loopback address)", "http://127.0.0.1:" + d.bankURL[strings.LastIndex(d.bankURL, ":")+1:] + "/", "U+ Bank"},
		{"evil site", "http://127.0.0.1:" + d.evilURL[strings.LastIndex(d.evilURL, ":")+1:] + "/", "Totally Legit Deals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(tt.url)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Contains(t, string(body), tt.want)
		})
	}

	var out strings.Builder
	d.printWelcome(&out)
	for _, u := range []string{d.bankURL, d.evilURL, d.chatURL + "/agent"} {
		assert.Contains(t, out.String(), u)
	}

	cancel()
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		require.FailNow(t, "servers did not stop")
	}
}

// TestStartRefusesBusyPort: a port in use is an error, and the listeners
// already opened are closed again.
func TestStartRefusesBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	freeAddr := free.Addr().String()
	free.Close()

	_, err = start(ctx, config{chatAddr: freeAddr, bankAddr: busy.Addr().String(), otherAddr: "127.0.0.1:0", logger: quietLogger()})
	require.Error(t, err)
	again, err := net.Listen("tcp", freeAddr)
	require.NoError(t, err, "the chat listener was closed")
	again.Close()
}
