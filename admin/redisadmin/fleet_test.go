package redisadmin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/admin"
	"github.com/msgsec/msgsec/admin/redisadmin"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/policy/redispolicy"
)

// A chat-server instance on the shared store: a Registry following it,
// the middleware in front of one API route.
type chatInstance struct {
	srv *httptest.Server
	reg *policy.Registry
}

func newChatInstance(t *testing.T, ctx context.Context, store *policy.Store) *chatInstance {
	t.Helper()
	reg, err := policy.NewRegistryFromSource(ctx, store, policy.RegistryOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { reg.Close() })
	reg.Follow(ctx, time.Hour) // changes arrive by pub/sub only
	mw, err := middleware.ForRegistry(reg, middleware.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mw.Routes(mux).Handle("POST /connections/{connection}/messages", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &chatInstance{srv: srv, reg: reg}
}

// preflight reports whether the instance lets o call the messages route.
func (c *chatInstance) preflight(t *testing.T, o string) bool {
	req, err := http.NewRequest("OPTIONS", c.srv.URL+"/connections/retail-bank/messages", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", o)
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode == http.StatusNoContent && res.Header.Get("Access-Control-Allow-Origin") == o
}

// TestConsoleChangesReachTheFleet: the console on one instance and two
// chat-server instances share one Redis; a domain added or removed in the
// console applies on both within a second.
func TestConsoleChangesReachTheFleet(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := redisClient(t, testenv.RedisURL(t))
	prefix := fmt.Sprintf("t:fleet:%d", time.Now().UnixNano())
	key := bytes.Repeat([]byte{4}, 32)
	newStore := func() *policy.Store {
		b, err := redispolicy.New(redispolicy.Config{Client: c, Prefix: prefix})
		require.NoError(t, err)
		s, err := policy.NewStore(b, policy.StoreOptions{SealingKey: key})
		require.NoError(t, err)
		return s
	}
	journal, err := redisadmin.New(c, redisadmin.Config{Prefix: prefix + ":admin"})
	require.NoError(t, err)
	console, err := admin.New(admin.Config{Store: newStore(), Journal: journal, Logger: slog.New(slog.DiscardHandler),
		Authorize: func(r *http.Request) (string, error) {
			if r.Header.Get("Authorization") == "Bearer ops" {
				return "ops", nil
			}
			return "", admin.ErrUnauthenticated
		}})
	require.NoError(t, err)
	consoleSrv := httptest.NewServer(console)
	defer consoleSrv.Close()
	call := func(method, path, etag string, body any) (int, string) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, consoleSrv.URL+path, rd)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer ops")
		req.Header.Set("Content-Type", "application/json")
		if etag != "" {
			req.Header.Set("If-Match", etag)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode, res.Header.Get("ETag")
	}
	status, et := call("POST", "/api/connections", "", map[string]any{"id": "retail-bank", "mode": "enforce"})
	require.Equal(t, http.StatusCreated, status)
	status, et = call("POST", "/api/connections/retail-bank/domains", et, map[string]any{"pattern": "https://www.uplusbank.com"})
	require.Equal(t, http.StatusOK, status)

	fleet := []*chatInstance{newChatInstance(t, ctx, newStore()), newChatInstance(t, ctx, newStore())}
	for _, in := range fleet {
		require.True(t, in.preflight(t, "https://www.uplusbank.com"))
		require.False(t, in.preflight(t, "https://partner.example"))
	}

	within := func(what string, want bool) time.Duration {
		t.Helper()
		start := time.Now()
		for i, in := range fleet {
			testenv.Eventually(t, time.Second, fmt.Sprintf("instance %d: %s", i, what), func() error {
				if in.preflight(t, "https://partner.example") != want {
					return fmt.Errorf("not yet")
				}
				return nil
			})
		}
		return time.Since(start)
	}
	status, et = call("POST", "/api/connections/retail-bank/domains", et, map[string]any{"pattern": "https://partner.example"})
	require.Equal(t, http.StatusOK, status)
	t.Logf("added on both instances in %v", within("the added domain", true))
	status, _ = call("DELETE", "/api/connections/retail-bank/domains?pattern=https://partner.example", et, nil)
	require.Equal(t, http.StatusOK, status)
	t.Logf("removed on both instances in %v", within("the removed domain", false))

	// The audit is in the shared journal.
	es, err := journal.Entries(ctx, "retail-bank", 10)
	require.NoError(t, err)
	require.Len(t, es, 4)
	require.Equal(t, "ops", es[0].Principal)
}
