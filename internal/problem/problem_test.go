package problem

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
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
		d := New("some-kind", tc.status, "a title", `a "detail"`)
		w := httptest.NewRecorder()
		d.Write(w)
		if w.Code != tc.status {
			t.Fatalf("status %d, want %d", w.Code, tc.status)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("content type %q", ct)
		}
		if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("missing no-store/nosniff: %v", w.Header())
		}
		if tc.header != "" && w.Header().Get(tc.header) == "" {
			t.Fatalf("missing %s on %d", tc.header, tc.status)
		}
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if body["type"] != "urn:msgsec:problem:some-kind" || body["detail"] != `a "detail"` || body["status"] != float64(tc.status) {
			t.Fatalf("body %v", body)
		}
	}
}
