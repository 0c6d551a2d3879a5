// Package delivery carries CustomerSecretData from a bank's backend to a
// chat server, server to server, and keeps it for one chat session only.
//
// Who uses it:
//   - the bank backend sends with a [Client] ([NewClient], [Client.Send],
//     [Client.Revoke]);
//   - the chat server receives with a [Handler] ([NewHandler], mounted at
//     [Pattern]) and keeps the data in a [Store] (in-process:
//     [NewMemoryStore]; several instances: the Redis adapter,
//     secretdata/redisstore, which stores the same sealed bytes).
//
// # The exchange
//
// The bank signs the secret data as a token (see [secretdata.Signer]) whose
// aud is the connection and whose sid is the chat session, and POSTs it to
//
//	POST {chat server}/connections/{connection}/sessions/{session}/secret-data
//	Authorization: Bearer <token>
//
// (or with the body application/json {"token": "<token>"} instead of the
// header; never both, and the body carries nothing but the token). The
// Handler verifies the token with the connection's verifier
// ([secretdata.Verifier.VerifySession]), for exactly that session, records
// its jti against replay, seals the claims and stores them for the
// session's lifetime, and answers 204. Every token problem is a 401 whose
// body says only "invalid token"; the reason goes to log/slog and the
// [HandlerConfig].OnEvent hook (an [Event] of some [Kind]). A DELETE with a
// token for the session makes the chat server forget the data (the
// customer logged out); when the chat session ends, the chat server calls
// [Store.Delete] itself.
//
// The Client retries network errors, timeouts and 5xx answers a bounded
// number of times, signing a new token (fresh jti) for each attempt, so a
// retry after a lost response is never refused as a replay; it never
// retries a 4xx and never follows a redirect with the token. A failed
// delivery is a [*SendError] wrapping [ErrRejected] or [ErrUnavailable].
//
// # At rest
//
// A [Sealer] encrypts each session's claims with AES-256-GCM (a key derived
// from the caller's 32 bytes with HKDF, a random 96-bit nonce per entry)
// and binds them to their (connection, session) as additional data: bytes
// copied to another session's slot do not open. The storage deadline is
// sealed with them. A store holds only these opaque bytes; the map keys
// (connection and session IDs, see [ValidID]) are not secret. [MemoryStore]
// is bounded by entries and bytes, fails closed with [ErrStoreFull] rather
// than evicting a live session, and drops expired entries as it goes, with
// no background goroutine.
//
// # Errors
//
// A refused configuration is reported once, at construction ([NewClient],
// [NewHandler], [NewMemoryStore], [NewSealer]), with every problem at once:
// the error matches [ErrConfig] and holds one [*cfgerr.Error] per problem
// (walk them with [cfgerr.All]), naming the field, the offending value
// ([cfgerr.Redacted] for a key) and why.
//
// # Example
//
//	// Chat server.
//	store, err := delivery.NewMemoryStore(storeKey(), delivery.MemoryStoreConfig{})
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
//	err = client.Send(context.Background(), "retail-bank", "chat-7f3a", secretdata.Claims{
//		Subject: "customer-42",
//		SecretData: map[string]any{
//			secretdata.ClaimAuthenticationStatus: "authenticated",
//			secretdata.ClaimCustomerID:           "C-1001",
//		},
//	})
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
