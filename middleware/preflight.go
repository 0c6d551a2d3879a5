package middleware

import (
	"net/http"

	"github.com/rs/cors"

	"github.com/msgsec/msgsec/internal/cowmap"
)

// corsPair holds the CORS answers of one compiled policy: plain for every
// admitted origin, cred (nil unless the policy turns credentials on) for
// the origins it lists by name, the only ones that may be told
// Access-Control-Allow-Credentials: true.
type corsPair struct {
	plain, cred *corsEntry
}

// pick returns the entry for an admitted origin.
func (c *corsPair) pick(credentials bool) *corsEntry {
	if credentials && c.cred != nil {
		return c.cred
	}
	return c.plain
}

// corsEntry is one rs/cors instance, with a memo of the preflight answers
// it gave.
//
// An allowed preflight's answer is a pure function of the policy and three
// request values — Origin, Access-Control-Request-Method and
// Access-Control-Request-Headers — so rs/cors computes it once per distinct
// triple and later preflights replay its headers. rs/cors stays the one that
// decides; the memo only saves redoing the same work. It is bounded (an
// allowed site can vary the request headers at will) and dies with the
// policy on reload.
type corsEntry struct {
	cors *cors.Cors

	memo *cowmap.Map[preflightKey, *preflightAnswer] // lock-free reads, bounded
}

type preflightKey struct {
	origin, method, headers string
}

type preflightAnswer struct {
	status int
	keys   []string
	values [][]string // shared, never modified
}

const (
	maxPreflightMemo    = 1024
	maxPreflightKeySize = 1024
)

// preflight answers an allowed preflight through rs/cors, or from the memo
// of an identical earlier one.
func (e *corsEntry) preflight(w http.ResponseWriter, r *http.Request, origin string) {
	method := r.Header["Access-Control-Request-Method"]
	headers := r.Header["Access-Control-Request-Headers"]
	if len(method) != 1 || len(headers) > 1 {
		e.cors.HandlerFunc(w, r) // unusual: no memo
		return
	}
	k := preflightKey{origin: origin, method: method[0]}
	if len(headers) == 1 {
		k.headers = headers[0]
	}
	if len(k.origin)+len(k.method)+len(k.headers) > maxPreflightKeySize {
		e.cors.HandlerFunc(w, r)
		return
	}
	a, ok := e.memo.Get(k)
	if !ok {
		a = e.record(r)
		e.memo.Add(k, a)
	}
	h := w.Header()
	for i, key := range a.keys {
		// As rs/cors does: Vary is added to, everything else is set.
		if prev, ok := h[key]; ok && key == "Vary" {
			h[key] = append(prev[:len(prev):len(prev)], a.values[i]...)
		} else {
			h[key] = a.values[i]
		}
	}
	w.WriteHeader(a.status)
}

// record runs rs/cors on the request and keeps what it wrote.
func (e *corsEntry) record(r *http.Request) *preflightAnswer {
	rec := &headerRecorder{h: http.Header{}}
	e.cors.HandlerFunc(rec, r)
	a := &preflightAnswer{status: rec.status}
	for k, v := range rec.h {
		a.keys = append(a.keys, k)
		a.values = append(a.values, append([]string(nil), v...))
	}
	return a
}

// headerRecorder captures headers and status; preflight answers have no body.
type headerRecorder struct {
	h      http.Header
	status int
}

func (r *headerRecorder) Header() http.Header { return r.h }
func (r *headerRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}
func (r *headerRecorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
