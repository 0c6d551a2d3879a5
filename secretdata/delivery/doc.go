// Package delivery carries CustomerSecretData from a bank's backend to a
// chat server, server to server, and keeps it for one chat session only.
//
// Who uses it:
//   - the bank backend sends with a [Client];
//   - the chat server receives with a [Handler] and keeps the data in a
//     [Store] (in-process: [MemoryStore]; several instances: the Redis
//     adapter, which stores the same sealed bytes).
//
// # The exchange
//
// The bank signs the secret data as a token (see package secretdata) whose
// aud is the connection and whose sid is the chat session, and POSTs it to
//
//	POST {chat server}/connections/{connection}/sessions/{session}/secret-data
//	Authorization: Bearer <token>
//
// (or with the body application/json {"token": "<token>"} instead of the
// header; never both, and the body carries nothing but the token). The
// Handler verifies the token with the connection's verifier, for exactly
// that session, records its jti against replay, seals the claims and stores
// them for the session's lifetime, and answers 204. Every token problem is a
// 401 whose body says only "invalid token"; the reason goes to log/slog and
// the event hook. A DELETE with a token for the session makes the chat
// server forget the data (the customer logged out); when the chat session
// ends, the chat server calls [Store.Delete] itself.
//
// The Client retries network errors, timeouts and 5xx answers a bounded
// number of times, signing a new token (fresh jti) for each attempt, so a
// retry after a lost response is never refused as a replay; it never
// retries a 4xx and never follows a redirect with the token.
//
// # At rest
//
// A [Sealer] encrypts each session's claims with AES-256-GCM (a key derived
// from the caller's 32 bytes with HKDF, a random 96-bit nonce per entry)
// and binds them to their (connection, session) as additional data: bytes
// copied to another session's slot do not open. The storage deadline is
// sealed with them. A store holds only these opaque bytes; the map keys
// (connection and session IDs) are not secret. MemoryStore is bounded by
// entries and bytes, fails closed with [ErrStoreFull] rather than evicting
// a live session, and drops expired entries as it goes, with no background
// goroutine.
//
// # Example
//
//	// Chat server.
//	store, err := delivery.NewMemoryStore(delivery.MemoryStoreConfig{Key: storeKey()})
//	if err != nil {
//		panic(err)
//	}
//	verifier := exampleVerifier()
//	h, err := delivery.NewHandler(delivery.HandlerConfig{
//		Verifier: func(conn string) (*secretdata.Verifier, bool) { return verifier, conn == "retail-bank" },
//		Store:    store,
//		Logger:   quietLogger,
//	})
//	if err != nil {
//		panic(err)
//	}
//	mux := http.NewServeMux()
//	mux.Handle(delivery.Pattern, h)
//	srv := httptest.NewServer(mux) // a real server would be https
//	defer srv.Close()
//
//	// Bank backend.
//	client, err := delivery.NewClient(delivery.ClientConfig{BaseURL: srv.URL, Signer: exampleSigner()})
//	if err != nil {
//		panic(err)
//	}
//	err = client.Send(context.Background(), "retail-bank", "chat-7f3a", map[string]any{
//		secretdata.ClaimAuthenticationStatus: "authenticated",
//		secretdata.ClaimCustomerID:           "C-1001",
//	}, delivery.WithSubject("customer-42"))
//	fmt.Println("sent:", err)
//
//	// Chat server, handling the session.
//	claims, err := store.Get(context.Background(), "retail-bank", "chat-7f3a")
//	if err != nil {
//		panic(err)
//	}
//	status, _ := claims.AuthenticationStatus()
//	id, _ := claims.CustomerID()
//	fmt.Println(status, id, claims.Subject)
//
//	// Session over: one call.
//	_ = store.Delete(context.Background(), "retail-bank", "chat-7f3a")
package delivery
