// Package middleware enforces msgsec connection policies in net/http
// servers: what a chat server imports.
//
// CORS alone is not enough for a chat API: it stops a browser from reading a
// reply, not the request from acting; it does not apply to WebSocket
// upgrades (cross-site WebSocket hijacking); and it does not stop another
// site from framing the widget. A Middleware therefore does, per request:
//
//  1. resolve the connection (one compiled policy, or a policy.Registry by
//     the ServeMux path value "connection"); unknown → 404;
//  2. answer CORS preflights — refused ones itself, with no CORS headers,
//     allowed ones through rs/cors configured with msgsec's origin decision
//     (credentials allowed, the origin reflected, never "*");
//  3. refuse actual cross-origin requests and WebSocket upgrades from
//     origins the policy does not allow (403), before the handler runs;
//     requests without an Origin only on server-to-server routes or by
//     explicit option;
//  4. rewrite the Cookie header to the allowed cookies;
//  5. verify CustomerSecretData (Authorization: Bearer, or the policy's
//     header): none → anonymous unless required (401); invalid → 401 that
//     says only "invalid token"; replay check unavailable → 503;
//  6. put the connection, the allowed cookies and the verified claims in
//     the request context (Connection, Cookies, Claims).
//
// Widget pages get Content-Security-Policy frame-ancestors from the same
// allowlist (WidgetPage). In report-only mode nothing is blocked and every
// would-be denial is reported. Every denial is logged with log/slog
// (connection, rule, reason; never token or cookie values; at most
// DefaultDenialLogLimit lines a second, so a flood of refused requests is
// not a flood of log writes) and passed to an optional event callback (every
// one), and answered with an RFC 9457 problem document whose type is stable
// ("urn:msgsec:problem:origin-denied", ...).
//
// Speed: a refused preflight is answered before rs/cors runs; an allowed one
// is answered by rs/cors once per (origin, method, headers) and replayed from
// a bounded per-policy memo after that (the answer is a pure function of
// those three values and the policy).
//
// Example:
//
//	reg, _ := policy.NewRegistry(ctx, "policies.yaml", policy.RegistryOptions{})
//	m, _ := middleware.ForRegistry(reg)
//	mux := http.NewServeMux()
//	mux.Handle("POST /connections/{connection}/sessions", m.Handler(openSession))
//	mux.Handle("GET /connections/{connection}/widget", m.WidgetPage(widgetPage))
//	mux.Handle("POST /connections/{connection}/sessions/{session}/secret-data", m.ServerToServer(secretData))
package middleware
