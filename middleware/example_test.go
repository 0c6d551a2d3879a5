package middleware_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

var exampleSecret = []byte("an example secret of at least 32 bytes!!")

func examplePolicy() *policy.Compiled {
	c := policy.ConnectionPolicy{
		ID:             "retail-bank",
		AllowedDomains: []string{"https://www.uplusbank.com"},
		DomainMatching: policy.MatchSameSite,
		AllowedCookies: []string{"page_viewed", "cart_contents"},
		Keys:           []policy.KeyConfig{{ID: "k1", Secret: policy.SecretBytes(exampleSecret)}},
		Token:          policy.TokenRules{Issuer: "uplusbank-backend", SecretData: policy.SecretDataOptional},
	}
	p, err := c.Compile(context.Background(), policy.CompileOptions{})
	if err != nil {
		panic(err)
	}
	return p
}

func post(h http.Handler, origin, cookie, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/connections/retail-bank/sessions", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func ExampleForPolicy() {
	m, err := middleware.ForPolicy(examplePolicy(), middleware.WithLogger(nil))
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello from", middleware.Connection(r.Context()).ID())
	}))
	fmt.Print(post(h, "https://account.uplusbank.com", "", "").Body) // same site: allowed
	fmt.Println(post(h, "https://evil.example", "", "").Code)        // refused before the handler
	// Output:
	// hello from retail-bank
	// 403
}

// The handler sees only the allowed cookies, and the verified
// CustomerSecretData.
func ExampleMiddleware_Handler() {
	m, _ := middleware.ForPolicy(examplePolicy(), middleware.WithLogger(nil))
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("Cookie:", r.Header.Get("Cookie"))
		for _, c := range middleware.Cookies(r.Context()) {
			fmt.Println("allowed:", c.Name)
		}
		if c := middleware.Claims(r.Context()); c != nil {
			id, _ := c.CustomerID()
			fmt.Println("customer:", id)
		}
	}))
	key, _ := secretdata.NewHMACKey("k1", secretdata.HS256, exampleSecret)
	signer, _ := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: "uplusbank-backend", Audience: "retail-bank"})
	token, _ := signer.Sign(secretdata.Claims{Subject: "cust-1", SecretData: map[string]any{"customer_id": "C-42"}})

	post(h, "https://www.uplusbank.com", "page_viewed=/store; session_id=s3cr3t; cart_contents=2", token)
	fmt.Println(post(h, "https://www.uplusbank.com", "", token).Code) // the same token again: a replay
	// Output:
	// Cookie: page_viewed=/store; cart_contents=2
	// allowed: page_viewed
	// allowed: cart_contents
	// customer: C-42
	// 401
}

func ExampleMiddleware_WidgetPage() {
	m, _ := middleware.ForPolicy(examplePolicy())
	h := m.WidgetPage(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html>...")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/connections/retail-bank/widget", nil))
	fmt.Println(w.Header().Get("Content-Security-Policy"))
	// Output: frame-ancestors https://www.uplusbank.com https://uplusbank.com:* https://*.uplusbank.com:*
}

// Server-to-server routes need no Origin, but a browser (which sends one)
// is still held to the allowed domains.
func ExampleMiddleware_ServerToServer() {
	m, _ := middleware.ForPolicy(examplePolicy(), middleware.WithLogger(nil))
	h := m.ServerToServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	fmt.Println(post(h, "", "", "").Code)
	fmt.Println(post(h, "https://evil.example", "", "").Code)
	// Output:
	// 204
	// 403
}

func ExampleForRegistry() {
	dir, _ := os.MkdirTemp("", "msgsec")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "policies.yaml")
	_ = os.WriteFile(path, []byte(`connections:
  - id: retail-bank
    allowed_domains: [https://www.uplusbank.com]
    token: {secret_data: optional}
`), 0o600)
	reg, err := policy.NewRegistry(context.Background(), path, policy.RegistryOptions{})
	if err != nil {
		panic(err)
	}
	m, _ := middleware.ForRegistry(reg, middleware.WithLogger(nil))
	mux := http.NewServeMux()
	m.Routes(mux).Handle("POST /connections/{connection}/sessions", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}))
	fmt.Println(post(mux, "https://www.uplusbank.com", "", "").Code)

	r := httptest.NewRequest(http.MethodPost, "/connections/mortgages/sessions", nil)
	r.Header.Set("Origin", "https://www.uplusbank.com")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code) // no such connection
	// Output:
	// 201
	// 404
}

// An event hook sees every denial (and cookie drop), for metrics.
func ExampleWithEventHandler() {
	m, _ := middleware.ForPolicy(examplePolicy(), middleware.WithLogger(nil), middleware.WithEventHandler(func(e middleware.Event) {
		fmt.Println(e.Kind, e.Blocked)
	}))
	post(m.Handler(http.NotFoundHandler()), "https://evil.example", "", "")
	// Output: origin-denied true
}
