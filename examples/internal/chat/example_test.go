package chat_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/examples/internal/chat"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// A chat server on the built-in U+ Bank policy, with its JWT secret handed
// over in-process (as the demo does) rather than read from the environment.
func ExampleNew() {
	ctx := context.Background()
	secret := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret())
	reg, err := policy.NewRegistryFromBytes(ctx, chat.DefaultPolicy(), policy.RegistryOptions{
		Load: policy.LoadOptions{LookupEnv: func(name string) (string, bool) {
			return secret, name == "UPLUS_JWT_SECRET"
		}},
	})
	if err != nil {
		panic(err)
	}
	storeKey := make([]byte, delivery.KeySize)
	_, _ = rand.Read(storeKey)
	store, err := delivery.NewMemoryStore(storeKey, delivery.MemoryStoreConfig{})
	if err != nil {
		panic(err)
	}
	srv, err := chat.New(chat.Config{Policies: reg, Store: store, SelfOrigin: "http://127.0.0.1:8080"})
	if err != nil {
		panic(err)
	}

	// Another website asks for the widget configuration: refused.
	r := httptest.NewRequest("GET", "http://127.0.0.1:8080/connections/retail-bank/config", nil)
	r.Header.Set("Origin", "http://evil.localhost:8082")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	fmt.Println("evil.localhost:", w.Code)

	// The bank's page asks: allowed.
	r = httptest.NewRequest("GET", "http://127.0.0.1:8080/connections/retail-bank/config", nil)
	r.Header.Set("Origin", "http://www.uplusbank.localhost:8081")
	w = httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	fmt.Println("www.uplusbank.localhost:", w.Code, w.Body.String())
	_ = http.ListenAndServe // in main: http.ListenAndServe("127.0.0.1:8080", srv)
	// Output:
	// evil.localhost: 403
	// www.uplusbank.localhost: 200 {"connection":"retail-bank","name":"U+ Bank (demo)","allowed_cookies":["page_viewed","cart_contents"]}
}

// The package doc's example: a chat server on the built-in U+ Bank policy,
// its secret read from UPLUS_JWT_SECRET.
func Example() {
	ctx := context.Background()
	os.Setenv("UPLUS_JWT_SECRET", base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret()))
	defer os.Unsetenv("UPLUS_JWT_SECRET")
	storeKey := make([]byte, delivery.KeySize)
	_, _ = rand.Read(storeKey)

	reg, err := policy.NewRegistryFromBytes(ctx, chat.DefaultPolicy(), policy.RegistryOptions{})
	if err != nil {
		log.Fatal(err) // UPLUS_JWT_SECRET must hold the connection's secret
	}
	store, err := delivery.NewMemoryStore(storeKey, delivery.MemoryStoreConfig{}) // 32 random bytes
	if err != nil {
		log.Fatal(err)
	}
	srv, err := chat.New(chat.Config{Policies: reg, Store: store, SelfOrigin: "http://127.0.0.1:8080"})
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Addr: "127.0.0.1:8080", Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	hs.RegisterOnShutdown(srv.CloseSockets) // Shutdown leaves hijacked connections open

	// (Here on a random port, instead of hs.ListenAndServe.)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go hs.Serve(ln)
	base := "http://" + ln.Addr().String() + "/connections/retail-bank"
	bank := http.Header{"Origin": {"http://www.uplusbank.localhost:8081"}, "Content-Type": {"application/json"}}

	// The bank's page opens a session, then its socket, and chats.
	req, _ := http.NewRequest("POST", base+"/sessions", strings.NewReader(`{}`))
	req.Header = bank
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	var opened struct{ Session string }
	_ = json.NewDecoder(resp.Body).Decode(&opened)
	resp.Body.Close()
	ws := "ws" + strings.TrimPrefix(base, "http") + "/sessions/" + opened.Session + "/ws"
	c, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPHeader: bank})
	if err != nil {
		log.Fatal(err)
	}
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"text":"hello"}`))
	for range 2 {
		_, frame, _ := c.Read(ctx)
		var m struct{ From, Text string }
		_ = json.Unmarshal(frame, &m)
		fmt.Println(m.From+":", m.Text)
	}

	// Another site that learnt the session ID: refused before any handshake.
	_, resp, _ = websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.localhost:8082"}}})
	fmt.Println("evil.localhost:", resp.StatusCode, resp.Header.Get("Content-Type"))

	// Shutdown closes the socket (1001, going away).
	_ = hs.Shutdown(ctx)
	_, _, err = c.Read(ctx)
	fmt.Println(websocket.CloseStatus(err))
	// Output:
	// customer: hello
	// agent: Echo: hello
	// evil.localhost: 403 application/problem+json
	// StatusGoingAway
}

// DefaultPolicy is a policy document like any other: check it, or start
// from it.
func ExampleDefaultPolicy() {
	env := func(string) (string, bool) {
		return base64.RawURLEncoding.EncodeToString(make([]byte, 32)), true
	}
	f, err := policy.Parse(chat.DefaultPolicy(), policy.LoadOptions{LookupEnv: env})
	if err != nil {
		panic(err)
	}
	c := f.Connections[0]
	fmt.Println(c.ID, c.AllowedDomains, c.AllowedCookies)
	// Output: retail-bank [http://www.uplusbank.localhost:*] [page_viewed cart_contents]
}

// Several instances behind a load balancer share their chats in Redis:
// each one builds its stores on the same Redis and the same 32-byte store
// key (the Redis replay cache and secret-data Store come from package
// secretdata/redisstore; see examples/chatserver's -redis).
func ExampleNewRedisSessions() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // so the store's Timeout bounds every call
	})
	defer client.Close()
	storeKey := make([]byte, delivery.KeySize) // in production: MSGSEC_STORE_KEY, the same on every instance
	_, _ = rand.Read(storeKey)
	sessions, err := chat.NewRedisSessions(client, storeKey, chat.RedisSessionsConfig{})
	if err != nil {
		panic(err)
	}
	var _ chat.SessionStore = sessions // chat.Config{Sessions: sessions, …}
	fmt.Println("ready")
	// Output: ready
}
