// Package problem writes the RFC 9457 problem documents msgsec's HTTP
// handlers answer denials with. Documents are built once from fixed
// strings (nothing from a request is ever echoed) and carry a stable type
// URI, "urn:msgsec:problem:" + a kind, shared by every package.
package problem

import (
	"net/http"
	"strconv"
)

// URI returns the problem type URI of a kind ("origin-denied", ...).
func URI(kind string) string { return "urn:msgsec:problem:" + kind }

// Doc is a prebuilt problem document.
type Doc struct {
	Status int
	body   []byte
}

// New builds the document of kind with a fixed title and detail.
func New(kind string, status int, title, detail string) Doc {
	body := `{"type":` + strconv.Quote(URI(kind)) + `,"title":` + strconv.Quote(title) +
		`,"status":` + strconv.Itoa(status) + `,"detail":` + strconv.Quote(detail) + "}\n"
	return Doc{Status: status, body: []byte(body)}
}

// Header values shared by every response (never modified).
var (
	hdrProblemJSON = []string{"application/problem+json"}
	hdrNoStore     = []string{"no-store"}
	hdrNoSniff     = []string{"nosniff"}
	hdrBearer      = []string{`Bearer error="invalid_token"`}
	hdrRetry       = []string{"1"}
)

// Write answers with the document: application/problem+json, never cached,
// with WWW-Authenticate on 401 and Retry-After on 503.
func (d Doc) Write(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = hdrProblemJSON
	h["Cache-Control"] = hdrNoStore
	h["X-Content-Type-Options"] = hdrNoSniff
	switch d.Status {
	case http.StatusUnauthorized:
		h["Www-Authenticate"] = hdrBearer
	case http.StatusServiceUnavailable:
		h["Retry-After"] = hdrRetry
	}
	w.WriteHeader(d.Status)
	_, _ = w.Write(d.body)
}
