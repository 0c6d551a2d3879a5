// Package admin is the Security tab of a chat platform built on msgsec: an
// [http.Handler] that an operator's console mounts behind its own login,
// over a shared [policy.Store], to edit each connection's allowed domains,
// allowed cookies and signing keys live.
//
// The handler serves a JSON API under /api/ (problems as RFC 9457
// documents, with field paths) and a server-rendered page at / whose one
// script drives it. What it does that a hand-written console tends to get
// wrong:
//
//   - An added domain comes back with what it admits and refuses, from
//     [origin.Matcher.Explain] (in same-site mode https://www.example.com
//     also admits https://account.example.com, never
//     https://www.exam.com); refused patterns (*.com, null, paths) get the
//     same reasons as msgsec policy check.
//   - Sensitive cookie names (session_id, auth…) are refused unless the
//     request opts in explicitly, and the audit says so.
//   - An HMAC secret is made by the console, shown in the one response
//     that creates it, and kept sealed in the store; keys are listed by
//     ID, algorithm and validity, never their secret.
//   - Writes name the version they read (If-Match with the ETag; 412 when
//     another write came first, 428 when it is missing).
//   - Report-only connections collect the origins they would have refused
//     ([Recorder], bounded), so an admin adds the right domains before
//     switching to enforce. Any-website policies carry a loud warning.
//
// The console defends itself: every request goes through the
// Config.Authorize the platform supplies (New refuses a nil one), state
// changes through net/http's CrossOriginProtection, and every answer has
// a strict CSP (no inline script), frame-ancestors 'none' and no-store.
// Every change is audited (who, when, what, before and after, never a
// secret) in a [Journal] and through slog.
//
// # API
//
// Every route needs the login Authorize accepts; writes need If-Match with
// the connection's ETag (GET it first) and Content-Type: application/json.
// Answers are JSON; refusals are problem documents
// ("urn:msgsec:problem:admin-..."), with "errors" listing field paths.
//
//	GET    /api/connections                          list
//	POST   /api/connections                          create {"id","name","issuer","mode"}
//	GET    /api/connections/{id}                     one connection, ETag
//	PATCH  /api/connections/{id}                     {"name","mode","issuer","domain_matching","jwks_url","secret_data"}
//	DELETE /api/connections/{id}
//	POST   /api/connections/{id}/domains             {"pattern"}: the answer explains it
//	DELETE /api/connections/{id}/domains?pattern=P
//	POST   /api/connections/{id}/cookies             {"name","dangerously_allow_sensitive"}
//	DELETE /api/connections/{id}/cookies/{name}
//	POST   /api/connections/{id}/keys                {"kind":"hmac","id","algorithm"}: the secret, once
//	                                                 {"kind":"public","id","algorithm","public_key"}
//	PATCH  /api/connections/{id}/keys/{kid}          {"not_before","retire_after"} (RFC 3339)
//	DELETE /api/connections/{id}/keys/{kid}
//	GET    /api/connections/{id}/refused-origins     roll-out counts, this hour and the last
//	GET    /api/audit?connection=ID&limit=N          newest first
//
// # Example
//
//	store, err := policy.NewStore(policy.NewMemoryBackend(), policy.StoreOptions{SealingKey: key})
//	if err != nil {
//		log.Fatal(err) // a missing or weak sealing key
//	}
//	console, err := admin.New(admin.Config{
//		Store: store,
//		Authorize: func(r *http.Request) (string, error) {
//			return platformLogin(r) // the principal, or admin.ErrUnauthenticated
//		},
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("/admin/", http.StripPrefix("/admin", console))
package admin
