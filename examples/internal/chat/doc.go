// Package chat is msgsec's example chat server, as a library: the widget
// loader and iframe, the chat API, the server-to-server secret-data route
// and the representative's view, each route guarded by package middleware.
//
// It is built in-process by the chatserver command, the one-command demo,
// and the tests (including the load test), so all of them run the same
// code. It sits under examples/internal so that only those can import it:
// it is example code, not part of msgsec's API. Chats live in a SessionStore: by default this process's memory
// (one instance); with RedisSessions, plus the policy's Redis replay cache
// and the Redis secret-data Store (package secretdata/redisstore), several
// instances behind a load balancer share everything: a session opened on
// one takes messages through any other, every agent view lists it, a
// token used on one is refused by all, and a restart loses nothing. A
// Redis that does not answer fails closed (503) until it is back.
//
// Config.DangerouslyNoMiddleware mounts the same handlers with msgsec
// removed, only for the load test's baseline (chatserver -no-middleware,
// loopback only). Never serve users with it.
//
// # Routes
//
//	GET  /connections/{connection}/widget.js   loader (public code)
//	GET  /connections/{connection}/widget      iframe page (CSP frame-ancestors)
//	GET  /connections/{connection}/config      allowed cookie names (CORS, Origin)
//	POST /connections/{connection}/sessions    open a chat (Origin, cookies, browser token)
//	GET  /connections/{connection}/sessions/{session}/ws          the chat (WebSocket)
//	POST /connections/{connection}/sessions/{session}/messages    (HTTP, for API clients)
//	DELETE /connections/{connection}/sessions/{session}           end the chat (closes its sockets)
//	POST /connections/{connection}/sessions/{session}/secret-data (server to server)
//	GET  /agent                                 sessions, cookies, verified secret data
//	GET  /healthz
//
// # Flow
//
// The bank's page loads widget.js from the chat server. The loader, running
// with the bank page's Origin, fetches the config and opens a session with
// cross-origin requests: msgsec's CORS and Origin checks refuse any site
// outside the policy. It sends the allowed cookies it read (the server
// filters them again with the policy's allowlist and records only what
// passed) and, if the page provides window.msgsecGetToken, a
// CustomerSecretData token, which the middleware verifies (signature,
// issuer, audience, expiry, replay). It then frames the widget page, which
// carries CSP frame-ancestors from the same allowlist, so it renders only
// inside an allowed site; the session ID travels in the URL fragment. The
// iframe chats over a WebSocket to its own server (…/ws): the handshake
// carries the chat server's own Origin, and the middleware refuses every
// other one — a page elsewhere that has learnt a session ID (cross-site
// WebSocket hijacking: CORS does not apply to WebSockets, and the socket
// would carry the chat's cookies) gets 403 before the handler runs, and an
// upgrade without an Origin is refused too. The handler then checks that
// the session is live and belongs to the connection in the path, and
// bounds the socket: frames of at most 16 KiB, writes and pongs within
// Config.SocketWriteTimeout, pings, an idle timeout; the session's end
// closes its sockets, and so does CloseSockets at shutdown. A socket takes
// the client's limits (Config.Limits) as the HTTP routes do: it is one of
// the client's open streams (over MaxStreamsPerClient, 429 before the
// handshake), and each message over it spends a token of the client's
// message bucket and counts against the session's and the store's text
// bounds; a message over a limit is answered with an error frame naming
// the problem type and Retry-After, and the socket stays open. See
// Server.socket for why coder/websocket's own origin check is switched off
// only for origins msgsec admitted. The bank backend may also deliver secret data for the session server to
// server (package delivery), kept sealed in the Store for the session's
// lifetime and deleted when it ends.
//
// # Example
//
// srv is an http.Handler; serve it with an http.Server that closes its
// sockets when it shuts down.
//
//	reg, err := policy.NewRegistryFromBytes(ctx, chat.DefaultPolicy(), policy.RegistryOptions{})
//	if err != nil {
//		log.Fatal(err) // UPLUS_JWT_SECRET must hold the connection's secret
//	}
//	store, err := delivery.NewMemoryStore(storeKey, delivery.MemoryStoreConfig{}) // 32 random bytes
//	if err != nil {
//		log.Fatal(err)
//	}
//	srv, err := chat.New(chat.Config{Policies: reg, Store: store, SelfOrigin: "http://127.0.0.1:8080"})
//	if err != nil {
//		log.Fatal(err)
//	}
//	hs := &http.Server{Addr: "127.0.0.1:8080", Handler: srv, ReadHeaderTimeout: 10 * time.Second}
//	hs.RegisterOnShutdown(srv.CloseSockets) // Shutdown leaves hijacked connections open
package chat
