package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/admin"
	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/policy"
)

// chatServer is a chat server following store, with a Recorder on its
// middleware, and one API route.
func chatServer(t *testing.T, store *policy.Store, j admin.Journal) (*httptest.Server, *admin.Recorder, *policy.Registry) {
	t.Helper()
	reg, err := policy.NewRegistryFromSource(context.Background(), store, policy.RegistryOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { reg.Close() })
	rec := admin.NewRecorder(j, reg)
	mw, err := middleware.ForRegistry(reg, middleware.WithEventHandler(rec.Event))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mw.Routes(mux).Handle("POST /connections/{connection}/messages", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, rec, reg
}

func post(t *testing.T, url, o string) int {
	t.Helper()
	req, err := http.NewRequest("POST", url, nil)
	require.NoError(t, err)
	req.Header.Set("Origin", o)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

func TestRolloutListsRefusedOriginsOfReportOnlyConnections(t *testing.T) {
	c := newConsole(t)
	et := c.create("retail-bank") // report-only
	a := c.do("POST", "/api/connections/retail-bank/domains", map[string]any{"pattern": "https://www.uplusbank.com"}, "If-Match", et)
	require.Equal(t, http.StatusOK, a.status)
	c.create("enforced")
	e := c.do("GET", "/api/connections/enforced", nil)
	a = c.do("PATCH", "/api/connections/enforced", map[string]any{"mode": "enforce"}, "If-Match", e.etag)
	require.Equal(t, http.StatusOK, a.status)
	a = c.do("POST", "/api/connections/enforced/domains", map[string]any{"pattern": "https://www.uplusbank.com"}, "If-Match", a.etag)
	require.Equal(t, http.StatusOK, a.status)

	srv, rec, _ := chatServer(t, c.store, c.journal)
	url := srv.URL + "/connections/retail-bank/messages"
	for range 3 {
		require.Equal(t, http.StatusNoContent, post(t, url, "https://partner.example"), "report-only lets it through")
	}
	require.Equal(t, http.StatusNoContent, post(t, url, "https://shop.example"))
	require.Equal(t, http.StatusNoContent, post(t, url, "https://account.uplusbank.com"))
	require.Equal(t, http.StatusNoContent, post(t, url, "https://www.uplusbank.com"), "an allowed origin is not counted")
	require.Equal(t, http.StatusNoContent, post(t, url, "https://PARTNER.example"), "not canonical: not counted")
	require.Equal(t, http.StatusNoContent, post(t, url, "null"))
	require.Equal(t, http.StatusForbidden, post(t, srv.URL+"/connections/enforced/messages", "https://partner.example"), "enforced: refused, not a roll-out count")
	require.NoError(t, rec.Flush(context.Background()))

	a = c.do("GET", "/api/connections/retail-bank/refused-origins", nil)
	require.Equal(t, http.StatusOK, a.status, a.body)
	hour := a.body["hours"].([]any)[0].(map[string]any)
	require.Equal(t, []any{
		map[string]any{"origin": "https://partner.example", "count": float64(3)},
		map[string]any{"origin": "https://account.uplusbank.com", "count": float64(1), "same_site_as": "https://www.uplusbank.com"},
		map[string]any{"origin": "https://shop.example", "count": float64(1)},
	}, hour["origins"])
	a = c.do("GET", "/api/connections/enforced/refused-origins", nil)
	require.Empty(t, a.body["hours"].([]any)[0].(map[string]any)["origins"])
}

func TestRecorderIsBounded(t *testing.T) {
	c := newConsole(t)
	c.create("retail-bank")
	srv, rec, reg := chatServer(t, c.store, c.journal)
	_ = srv
	require.NoError(t, reg.Reload(context.Background()))
	for i := range 5000 {
		rec.Event(middleware.Event{Connection: "retail-bank", Kind: middleware.KindOriginDenied, Origin: fmt.Sprintf("https://s%d.example", i)})
	}
	rec.Event(middleware.Event{Connection: "not-a-connection", Kind: middleware.KindOriginDenied, Origin: "https://x.example"})
	require.NoError(t, rec.Flush(context.Background()))
	rs, err := c.journal.Refusals(context.Background(), "retail-bank", time.Now().UTC().Truncate(time.Hour), 100000)
	require.NoError(t, err)
	require.Len(t, rs, admin.MaxOriginsPerHour+1, "bounded, the rest counted together")
	var other int64
	for _, r := range rs {
		if r.Origin == admin.OtherOrigins {
			other = r.Count
		}
	}
	require.Equal(t, int64(5000-admin.MaxOriginsPerHour), other, "nothing lost: the rest are counted")
	rs, _ = c.journal.Refusals(context.Background(), "not-a-connection", time.Now().UTC().Truncate(time.Hour), 10)
	require.Empty(t, rs, "only the registry's connections are counted")
}
