// Package middleware enforces msgsec connection policies in net/http
// servers: what a chat server imports.
//
// CORS alone is not enough for a chat API: it stops a browser from reading a
// reply, not the request from acting; it does not apply to WebSocket
// upgrades (cross-site WebSocket hijacking); and it does not stop another
// site from framing the widget. A [Middleware] (from [ForPolicy] or
// [ForRegistry]) therefore does, per request:
//
//  1. resolve the connection (one [policy.Compiled], or a [policy.Registry]
//     by the ServeMux path value "connection", see [WithConnectionFunc]);
//     unknown → 404;
//  2. answer CORS preflights — refused ones itself, with no CORS headers,
//     allowed ones through rs/cors configured with msgsec's origin decision
//     (the origin reflected, never "*"; Access-Control-Allow-Credentials
//     only when the policy sets AllowCredentials, and only to an origin its
//     allowed domains name);
//  3. refuse actual cross-origin requests and WebSocket upgrades from
//     origins the policy does not allow (403), before the handler runs;
//     requests without an Origin only on server-to-server routes or by
//     explicit option ([AllowSameOriginFetches],
//     [DangerouslyAllowMissingOrigin]);
//  4. rewrite the Cookie header to the allowed cookies (on every wrapper:
//     [Middleware.Handler], [Middleware.WidgetPage] and
//     [Middleware.ServerToServer]);
//  5. verify CustomerSecretData (Authorization: Bearer, or the policy's
//     header): none → anonymous unless required (401); invalid → 401 that
//     says only "invalid token"; replay check unavailable → 503;
//  6. put the connection, the allowed cookies and the verified claims in
//     the request context ([Connection], [Cookies], [Claims]).
//
// Widget pages get Content-Security-Policy frame-ancestors from the same
// allowlist ([Middleware.WidgetPage]).
//
// # Report-only mode
//
// In report-only mode nothing is blocked on the server and every would-be
// denial is reported, but a refused origin gets no more than it would
// without msgsec: no CORS headers at all (a refused preflight is answered
// 204 without them, so the browser goes no further), no credentials, no
// claims from a bad token. CORS answers are the same in both modes.
//
// # Events and logs
//
// Every denial is logged with log/slog ([WithLogger]; connection, rule,
// reason; never token or cookie values; at most 100 lines a second, the
// number suppressed carried on the next line, so a flood of refused
// requests is not a flood of log writes), passed to an optional callback ([WithEventHandler],
// every [Event]), and answered with an RFC 9457 problem document whose type
// is stable: "urn:msgsec:problem:" and the [Kind] ("urn:msgsec:problem:origin-denied", ...).
// Session IDs and other path IDs in events are replaced by short keyed
// hashes.
//
// # Speed
//
// A refused preflight is answered before rs/cors runs; an allowed one is
// answered by rs/cors once per (origin, method, headers) and replayed from
// a bounded per-policy memo after that (the answer is a pure function of
// those three values and the policy).
//
// # Routing
//
// Mount routes with [Middleware.Routes] ([Routes.Handle],
// [Routes.WidgetPage], [Routes.ServerToServer]). A ServeMux pattern with a method,
// such as "POST /connections/{connection}/sessions", does not send the
// browser's OPTIONS preflight to the wrapped handler: the mux answers it
// 405 itself, and the widget's POST is never sent. Routes mounts each API
// route's OPTIONS with the same middleware (see Example_incorrectMethodPattern
// for what goes wrong without it).
//
// # Example
//
//	reg, err := policy.NewRegistry(ctx, "policies.yaml", policy.RegistryOptions{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	m, err := middleware.ForRegistry(reg)
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux := http.NewServeMux()
//	routes := m.Routes(mux) // each API route with its CORS preflight
//	routes.Handle("POST /connections/{connection}/sessions", openSession)
//	routes.WidgetPage("GET /connections/{connection}/widget", widgetPage)
//	routes.ServerToServer("POST /connections/{connection}/sessions/{session}/secret-data", secretData)
package middleware
