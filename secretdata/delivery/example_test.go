package delivery_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// exampleSecret is for examples only: use secretdata.GenerateSecret.
var exampleSecret = []byte("example-only-secret-use-GenerateSecret-for-real!")

// storeKey returns a fresh 32-byte key. In production, load it from a
// secret manager: data sealed under a lost key cannot be read back.
func storeKey() []byte {
	k := make([]byte, delivery.KeySize)
	_, _ = rand.Read(k)
	return k
}

func exampleKey() secretdata.Key {
	k, err := secretdata.NewHMACKey("2026-01", secretdata.HS256, exampleSecret)
	if err != nil {
		panic(err)
	}
	return k
}

func exampleSigner() *secretdata.Signer {
	s, err := secretdata.NewSigner(secretdata.SignerConfig{
		Key: exampleKey(), Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
	})
	if err != nil {
		panic(err)
	}
	return s
}

func exampleVerifier() *secretdata.Verifier {
	v, err := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{exampleKey()}, Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
	})
	if err != nil {
		panic(err)
	}
	return v
}

// quietLogger keeps example output to what the example prints.
var quietLogger = slog.New(slog.DiscardHandler)

// The whole flow: the chat server mounts the Handler; the bank's backend
// sends a customer's secret data for a chat session with a Client; the
// chat server reads it back for that session, and deletes it when the
// session ends.
func Example() {
	// Chat server.
	store, err := delivery.NewMemoryStore(storeKey(), delivery.MemoryStoreConfig{})
	if err != nil {
		panic(err)
	}
	verifier := exampleVerifier()
	h, err := delivery.NewHandler(delivery.HandlerConfig{
		Verifier: func(conn string) (*secretdata.Verifier, bool) { return verifier, conn == "retail-bank" },
		Store:    store,
		Logger:   quietLogger,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle(delivery.Pattern, h)
	srv := httptest.NewServer(mux) // a real server would be https
	defer srv.Close()

	// Bank backend.
	client, err := delivery.NewClient(delivery.ClientConfig{BaseURL: srv.URL, Signer: exampleSigner()})
	if err != nil {
		panic(err)
	}
	err = client.Send(context.Background(), "retail-bank", "chat-7f3a", secretdata.Claims{
		Subject: "customer-42",
		SecretData: map[string]any{
			secretdata.ClaimAuthenticationStatus: "authenticated",
			secretdata.ClaimCustomerID:           "C-1001",
		},
	})
	fmt.Println("sent:", err)

	// Chat server, handling the session.
	claims, err := store.Get(context.Background(), "retail-bank", "chat-7f3a")
	if err != nil {
		panic(err)
	}
	status, _ := claims.AuthenticationStatus()
	id, _ := claims.CustomerID()
	fmt.Println(status, id, claims.Subject)

	// Session over: one call.
	_ = store.Delete(context.Background(), "retail-bank", "chat-7f3a")
	_, err = store.Get(context.Background(), "retail-bank", "chat-7f3a")
	fmt.Println(errors.Is(err, delivery.ErrNotFound))
	// Output:
	// sent: <nil>
	// authenticated C-1001 customer-42
	// true
}

// The Handler finds a connection's verifier in a policy.Registry through a
// small adapter, so this package does not import policy.
func ExampleNewHandler() {
	const jwtSecret = "u9kIzmnmBaGdcKR2fB2L0jEFdbe7n3y3yWPQ2qJ5Vz0"
	os.Setenv("UPLUS_JWT_SECRET", jwtSecret)
	reg, err := policy.NewRegistry(context.Background(), "../../examples/policies/uplusbank.yaml", policy.RegistryOptions{})
	if err != nil {
		panic(err)
	}
	store, err := delivery.NewMemoryStore(storeKey(), delivery.MemoryStoreConfig{})
	if err != nil {
		panic(err)
	}
	h, err := delivery.NewHandler(delivery.HandlerConfig{
		Verifier: func(id string) (*secretdata.Verifier, bool) {
			p, ok := reg.Get(id)
			if !ok {
				return nil, false
			}
			return p.Verifier(), true
		},
		Store: store,
		// Keep the data as long as the chat session lives (at most TTL).
		TTL: time.Hour,
		SessionLifetime: func(ctx context.Context, conn, session string) (time.Duration, error) {
			if session != "chat-7f3a" { // ask the chat engine
				return 0, delivery.ErrNotFound
			}
			return 20 * time.Minute, nil
		},
		OnEvent: func(e delivery.Event) { fmt.Println(strings.TrimSpace("event: " + string(e.Kind) + " " + e.Reason)) },
		Logger:  quietLogger,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle(delivery.Pattern, h)

	// The bank signs with the connection's key.
	file, _ := policy.Load("../../examples/policies/uplusbank.yaml")
	signerCfg, _ := file.Connections[0].SignerConfig("", time.Now())
	signer, _ := secretdata.NewSigner(signerCfg)
	token, _ := signer.Sign(secretdata.Claims{SessionID: "chat-7f3a", SecretData: map[string]any{"customer_id": "C-1001"}})

	for _, auth := range []string{"Bearer " + token, "Bearer " + token, ""} {
		r := httptest.NewRequest("POST", "/connections/retail-bank/sessions/chat-7f3a/secret-data", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Body.String())))
	}
	// Output:
	// event: stored
	// 204
	// event: invalid-token replayed
	// 401 {"type":"urn:msgsec:problem:invalid-token","title":"invalid token","status":401,"detail":"invalid token"}
	// event: invalid-token missing
	// 401 {"type":"urn:msgsec:problem:invalid-token","title":"invalid token","status":401,"detail":"invalid token"}
}

// The token can also be the whole body, as JSON; never both. Mounted
// without a ServeMux pattern, the Handler reads the IDs from the path
// values the router sets.
func ExampleHandler_ServeHTTP() {
	store, _ := delivery.NewMemoryStore(storeKey(), delivery.MemoryStoreConfig{})
	verifier := exampleVerifier()
	h, _ := delivery.NewHandler(delivery.HandlerConfig{
		Verifier: func(string) (*secretdata.Verifier, bool) { return verifier, true },
		Store:    store,
		Logger:   quietLogger,
	})
	token, _ := exampleSigner().Sign(secretdata.Claims{SessionID: "chat-1"})
	r := httptest.NewRequest("POST", "/deliver", strings.NewReader(`{"token":"`+token+`"}`))
	r.Header.Set("Content-Type", "application/json")
	r.SetPathValue("connection", "retail-bank") // what another router would do
	r.SetPathValue("session", "chat-1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output: 204
}

func ExampleNewClient() {
	_, err := delivery.NewClient(delivery.ClientConfig{
		BaseURL:    "http://chat.example.com", // plain http to a public host
		MaxRetries: 100,
	})
	fmt.Println(errors.Is(err, delivery.ErrConfig))
	for p := range cfgerr.All(err) { // every problem, at once
		fmt.Printf("%s: %s\n", p.Field, p.Reason)
	}

	// One Client per connection: its Signer's audience.
	_, err = delivery.NewClient(delivery.ClientConfig{
		BaseURL:    "https://chat.example.com",
		Signer:     exampleSigner(),
		Timeout:    5 * time.Second,
		MaxRetries: 3,
	})
	fmt.Println(err)
	// Output:
	// true
	// BaseURL: http only to a loopback host (or DangerouslyAllowHTTP)
	// Signer: required
	// MaxRetries: must be -1 (none) to 10 (zero means 2)
	// <nil>
}

// Send retries network errors and 5xx answers with a new token each time;
// a 4xx is final.
func ExampleClient_Send() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	client, _ := delivery.NewClient(delivery.ClientConfig{BaseURL: srv.URL, Signer: exampleSigner()})
	err := client.Send(context.Background(), "retail-bank", "chat-1", secretdata.Claims{
		SecretData: map[string]any{"customer_id": "C-1001"},
	})

	var se *delivery.SendError
	if errors.As(err, &se) {
		fmt.Println(errors.Is(err, delivery.ErrRejected), se.StatusCode)
	}
	// The error names the session by its hash (different in every process),
	// so it can be logged: delivery: rejected by the chat server:
	// connection "retail-bank" session "h:…": status 401 after 1 attempt
	fmt.Println(strings.Contains(err.Error(), "chat-1"), strings.Contains(err.Error(), `session "h:`))
	// Output:
	// true 401
	// false true
}

// Revoke tells the chat server to forget a session's secret data, for
// example when the customer logs out of online banking mid-chat.
func ExampleClient_Revoke() {
	srv, store := exampleServer()
	defer srv.Close()
	client, _ := delivery.NewClient(delivery.ClientConfig{BaseURL: srv.URL, Signer: exampleSigner()})

	ctx := context.Background()
	_ = client.Send(ctx, "retail-bank", "chat-1", secretdata.Claims{
		Subject:    "customer-42",
		SecretData: map[string]any{"authentication_status": "authenticated"},
	})
	claims, err := store.Get(ctx, "retail-bank", "chat-1")
	fmt.Println(err, claims.Subject)
	fmt.Println(client.Revoke(ctx, "retail-bank", "chat-1"))
	_, err = store.Get(ctx, "retail-bank", "chat-1")
	fmt.Println(errors.Is(err, delivery.ErrNotFound))
	// Output:
	// <nil> customer-42
	// <nil>
	// true
}

// exampleServer is a chat server with one connection, retail-bank.
func exampleServer() (*httptest.Server, *delivery.MemoryStore) {
	store, _ := delivery.NewMemoryStore(storeKey(), delivery.MemoryStoreConfig{})
	verifier := exampleVerifier()
	h, _ := delivery.NewHandler(delivery.HandlerConfig{
		Verifier: func(conn string) (*secretdata.Verifier, bool) { return verifier, conn == "retail-bank" },
		Store:    store, Logger: quietLogger,
	})
	mux := http.NewServeMux()
	mux.Handle(delivery.Pattern, h)
	return httptest.NewServer(mux), store
}

func ExampleNewMemoryStore() {
	_, err := delivery.NewMemoryStore([]byte("too short"), delivery.MemoryStoreConfig{MaxBytes: -1})
	fmt.Println(err) // the key itself is never quoted

	store, err := delivery.NewMemoryStore(storeKey(), delivery.MemoryStoreConfig{
		MaxEntries: 1, // fail closed when full; never evict a live session
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	c := &secretdata.Claims{Issuer: "https://api.uplusbank.com", Audience: "retail-bank", ID: "jti-1"}
	fmt.Println(store.Put(ctx, "retail-bank", "chat-1", c, 30*time.Minute))
	err = store.Put(ctx, "retail-bank", "chat-2", c, 30*time.Minute)
	fmt.Println(errors.Is(err, delivery.ErrStoreFull), errors.Is(err, delivery.ErrStoreUnavailable))
	// Output:
	// delivery: invalid memory store configuration: 2 problems
	//	key: "[redacted]": must be 32 bytes, not 9
	//	MaxBytes: "-1": must be positive (zero means 256 MiB)
	// <nil>
	// true true
}

func ExampleMemoryStore_Get() {
	now := time.Unix(1_750_000_000, 0)
	store, _ := delivery.NewMemoryStore(storeKey(), delivery.MemoryStoreConfig{
		Now: func() time.Time { return now },
	})
	ctx := context.Background()
	c := &secretdata.Claims{Issuer: "https://api.uplusbank.com", SecretData: map[string]any{"customer_id": "C-1001"}}
	_ = store.Put(ctx, "retail-bank", "chat-1", c, 10*time.Minute)

	got, err := store.Get(ctx, "retail-bank", "chat-1")
	id, _ := got.CustomerID()
	fmt.Println(id, err)
	fmt.Println(got) // Claims print without their secret data

	now = now.Add(10 * time.Minute) // the TTL has passed
	_, err = store.Get(ctx, "retail-bank", "chat-1")
	fmt.Println(errors.Is(err, delivery.ErrNotFound))
	// Output:
	// C-1001 <nil>
	// secretdata.Claims{iss: "https://api.uplusbank.com", aud: "", exp: 0001-01-01T00:00:00Z, secret_data: [redacted] (1 member)}
	// true
}

func ExampleMemoryStore_Put() {
	store, _ := delivery.NewMemoryStore(storeKey(), delivery.MemoryStoreConfig{})
	err := store.Put(context.Background(), "retail-bank", "../admin", &secretdata.Claims{}, time.Minute)
	fmt.Println(errors.Is(err, delivery.ErrInvalidID))
	// Output: true
}

func ExampleMemoryStore_Delete() {
	store, _ := delivery.NewMemoryStore(storeKey(), delivery.MemoryStoreConfig{})
	ctx := context.Background()
	_ = store.Put(ctx, "retail-bank", "chat-1", &secretdata.Claims{}, time.Hour)
	fmt.Println(store.Delete(ctx, "retail-bank", "chat-1"))
	_, err := store.Get(ctx, "retail-bank", "chat-1")
	fmt.Println(errors.Is(err, delivery.ErrNotFound))
	fmt.Println(store.Delete(ctx, "retail-bank", "chat-1")) // already gone: not an error
	// Output:
	// <nil>
	// true
	// <nil>
}

// A Redis-backed store keeps only what SealClaims returns, under a key
// naming the connection and session, with the same TTL.
func ExampleNewSealer() {
	sealer, err := delivery.NewSealer(storeKey())
	if err != nil {
		panic(err)
	}
	now := time.Now()
	c := &secretdata.Claims{SessionID: "chat-1", SecretData: map[string]any{"customer_id": "C-1001"}}
	sealed, _ := sealer.SealClaims("retail-bank", "chat-1", c, now.Add(30*time.Minute))
	fmt.Println(strings.Contains(string(sealed), "C-1001"))

	got, err := sealer.OpenClaims("retail-bank", "chat-1", sealed, now)
	id, _ := got.CustomerID()
	fmt.Println(id, err)

	// Copied to another session, the bytes do not open.
	_, err = sealer.OpenClaims("retail-bank", "chat-2", sealed, now)
	fmt.Println(err)
	// Output:
	// false
	// C-1001 <nil>
	// delivery: stored secret data cannot be opened
}

func ExampleSealer_SealClaims() {
	sealer, _ := delivery.NewSealer(storeKey())
	c := &secretdata.Claims{SecretData: map[string]any{"customer_id": "C-1001"}}
	a, _ := sealer.SealClaims("retail-bank", "chat-1", c, time.Now().Add(time.Minute))
	b, _ := sealer.SealClaims("retail-bank", "chat-1", c, time.Now().Add(time.Minute))
	fmt.Println(string(a) == string(b)) // a fresh random nonce each time
	// Output: false
}

func ExampleSealer_OpenClaims() {
	sealer, _ := delivery.NewSealer(storeKey())
	now := time.Now()
	sealed, _ := sealer.SealClaims("retail-bank", "chat-1", &secretdata.Claims{}, now.Add(time.Minute))
	// The deadline is sealed too: a backend that kept the bytes past their
	// TTL still cannot hand them back.
	_, err := sealer.OpenClaims("retail-bank", "chat-1", sealed, now.Add(time.Minute))
	fmt.Println(errors.Is(err, delivery.ErrNotFound))
	// Output: true
}

func ExampleValidID() {
	for _, id := range []string{"retail-bank", "9f1c2e7a-2b4d-4c1e-8d3a-0e6f5a4b3c2d", "a/b", "..", "chat 1"} {
		fmt.Println(id, delivery.ValidID(id))
	}
	// Output:
	// retail-bank true
	// 9f1c2e7a-2b4d-4c1e-8d3a-0e6f5a4b3c2d true
	// a/b false
	// .. false
	// chat 1 false
}

func ExampleEvent_LogValue() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	// The Handler fills Session with the session ID's keyed hash, never
	// the ID itself.
	logger.Warn("denied", "event", delivery.Event{
		Kind: delivery.KindTokenInvalid, Status: 401, Method: "POST",
		Connection: "retail-bank", Session: "h:5f0c2a9d41be", Reason: "expired",
		Err: secretdata.ErrExpired,
	})
	// Output:
	// level=WARN msg=denied event.kind=invalid-token event.status=401 event.method=POST event.connection=retail-bank event.session=h:5f0c2a9d41be event.reason=expired
}
