// Package cookieline gives the middleware the one Cookie-header operation
// that package cookies does not export: rewriting a request's Cookie
// header without building the kept cookies. The middleware builds them
// only when a handler asks (with (*cookies.Allowlist).Filter on the line
// left), which saves most requests an allocation; when it reports drops,
// it gets the report from the same pass.
//
// Package cookies installs the operation when it is initialised, before
// any package that can reach a *cookies.Allowlist runs; nothing else may.
package cookieline

import "net/http"

// hook is package cookies' func(*cookies.Allowlist, *http.Request, bool)
// (string, []*http.Cookie, []cookies.Drop), held as any because this
// package cannot name those types (cookies imports it).
var hook any

// Install sets the operation Rewrite runs. Package cookies calls it once,
// from its init function; a second call panics.
func Install[A, D any](f func(a A, r *http.Request, report bool) (line string, kept []*http.Cookie, dropped []D)) {
	if hook != nil {
		panic("cookieline: installed twice")
	}
	hook = f
}

// Rewrite rewrites r's Cookie header as (*cookies.Allowlist).RewriteRequest
// does and returns the Cookie line left ("" when nothing is kept), which
// holds exactly the kept cookies. With report it also returns the kept
// cookies and what was dropped, as FilterReport would have; without, it
// builds neither. Call it as Rewrite[*cookies.Allowlist, cookies.Drop].
func Rewrite[A, D any](a A, r *http.Request, report bool) (line string, kept []*http.Cookie, dropped []D) {
	return hook.(func(A, *http.Request, bool) (string, []*http.Cookie, []D))(a, r, report)
}
