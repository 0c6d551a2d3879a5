package middleware

import (
	"net/http"
	"sync/atomic"

	"github.com/rs/cors"

	"github.com/msgsec/msgsec/internal/cowmap"
)

// corsPair holds the CORS answers of one compiled policy: plain for every
// admitted origin, cred (nil unless the policy turns credentials on) for
// the origins it lists by name, the only ones that may be told
// Access-Control-Allow-Credentials: true.
//
// An allowed preflight's answer is a pure function of the policy and three
// request values — Origin, Access-Control-Request-Method and
// Access-Control-Request-Headers — so rs/cors computes it once per distinct
// triple and later preflights replay its headers from memo, before the
// origin is even parsed again (the answer was only ever recorded for an
// origin the policy admits). Likewise refused remembers origins the policy
// refuses, so a repeated refused preflight skips the origin match. rs/cors
// and the matcher stay the ones that decide; the memos only save redoing
// the same work. Both are bounded (an allowed site can vary the request
// headers at will, anyone the Origin: refused origins get at most half of
// the origins, answers at most maxPreflightAnswers in all) and die with the
// policy on reload. A replayed answer's header values are shared: a
// handler must not modify them in place (append or Set, as rs/cors does).
type corsPair struct {
	plain, cred *corsEntry

	// origins remembers, per Origin value, whether the policy refuses it
	// and, when it admits it, the answers recorded for it: one string
	// hash finds both. Bounded, as are the answers per origin.
	origins  *cowmap.Map[string, *originMemo]
	refusedN atomic.Int64 // refused origins stored in origins
	answersN atomic.Int64 // answers stored across all origins
}

// originMemo is what a policy decided for one Origin value.
type originMemo struct {
	refused bool
	answers atomic.Pointer[[]memoAnswer] // copy-on-write, at most maxAnswersPerOrigin
}

type memoAnswer struct {
	method, headers string
	a               *preflightAnswer
}

// find returns the answer recorded for (method, headers), or nil.
func (om *originMemo) find(method, headers string) *preflightAnswer {
	if as := om.answers.Load(); as != nil {
		for i := range *as {
			if e := &(*as)[i]; e.method == method && e.headers == headers {
				return e.a
			}
		}
	}
	return nil
}

// add records an answer unless the origin has maxAnswersPerOrigin, and
// reports whether it did.
func (om *originMemo) add(method, headers string, a *preflightAnswer) bool {
	for {
		old := om.answers.Load()
		var cur []memoAnswer
		if old != nil {
			cur = *old
		}
		if len(cur) >= maxAnswersPerOrigin {
			return false
		}
		next := append(append(make([]memoAnswer, 0, len(cur)+1), cur...), memoAnswer{method, headers, a})
		if om.answers.CompareAndSwap(old, &next) {
			return true
		}
	}
}

// pick returns the entry for an admitted origin.
func (c *corsPair) pick(credentials bool) *corsEntry {
	if credentials && c.cred != nil {
		return c.cred
	}
	return c.plain
}

// corsEntry is one rs/cors instance.
type corsEntry struct {
	cors *cors.Cors
}

type preflightAnswer struct {
	status int
	keys   []string
	values [][]string // shared, never modified
	vary   int        // index of "Vary" in keys, or -1
}

const (
	maxPreflightMemo    = 1024 // origins remembered per policy
	maxAnswersPerOrigin = 16   // (method, headers) answers per origin
	maxPreflightAnswers = 2048 // answers per policy, across its origins
	maxPreflightKeySize = 1024
)

// preflightParts returns the request's Access-Control-Request-Method and
// -Headers, and false when the request is unusual (several method or
// header lines, huge values): those are answered without the memo.
func preflightParts(r *http.Request, origin string) (method, headers string, memoable bool) {
	m := r.Header["Access-Control-Request-Method"]
	h := r.Header["Access-Control-Request-Headers"]
	if len(m) != 1 || len(h) > 1 {
		return "", "", false
	}
	if len(h) == 1 {
		headers = h[0]
	}
	return m[0], headers, len(origin)+len(m[0])+len(headers) <= maxPreflightKeySize
}

// replay writes a recorded answer: as rs/cors does, Vary is added to,
// everything else is set (one map write per header; only Vary is read
// first).
func (a *preflightAnswer) replay(w http.ResponseWriter) {
	h := w.Header()
	for i, key := range a.keys {
		if i == a.vary {
			if prev, ok := h[key]; ok {
				h[key] = append(prev[:len(prev):len(prev)], a.values[i]...)
				continue
			}
		}
		h[key] = a.values[i]
	}
	w.WriteHeader(a.status)
}

// record runs rs/cors on the request and keeps what it wrote.
func (e *corsEntry) record(r *http.Request) *preflightAnswer {
	rec := &headerRecorder{h: http.Header{}}
	e.cors.HandlerFunc(rec, r)
	a := &preflightAnswer{status: rec.status, vary: -1}
	for k, v := range rec.h {
		if k == "Vary" {
			a.vary = len(a.keys)
		}
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
