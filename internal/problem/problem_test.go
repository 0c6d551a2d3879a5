package problem_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/problem"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		status int
		header string
	}{
		{http.StatusUnauthorized, "Www-Authenticate"},
		{http.StatusServiceUnavailable, "Retry-After"},
		{http.StatusForbidden, ""},
	} {
		d := problem.New("some-kind", tc.status, "a title", `a "detail"`)
		w := httptest.NewRecorder()
		d.Write(w)
		require.Equal(t, tc.status, w.Code)
		require.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
		require.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		require.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
		if tc.header != "" {
			require.NotEmptyf(t, w.Header().Get(tc.header), "missing %s on %d", tc.header, tc.status)
		}
		var body map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
		require.Equal(t, "urn:msgsec:problem:some-kind", body["type"])
		require.Equal(t, `a "detail"`, body["detail"])
		require.Equal(t, float64(tc.status), body["status"])
	}
}
