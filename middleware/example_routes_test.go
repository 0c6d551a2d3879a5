package middleware_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/policy"
)

// inTempDir runs f in a fresh working directory holding policies.yaml.
func inTempDir(policyYAML string, f func()) {
	dir, err := os.MkdirTemp("", "msgsec-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(dir+"/policies.yaml", []byte(policyYAML), 0o600); err != nil {
		panic(err)
	}
	prev, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		panic(err)
	}
	defer func() { _ = os.Chdir(prev) }()
	f()
}

// Mount routes with Routes: each API route gets its CORS preflight too,
// which a ServeMux method pattern would otherwise answer 405 itself. This
// is the routing the README and the package doc show, as written.
func ExampleMiddleware_Routes() {
	inTempDir(`connections:
  - id: retail-bank
    allowed_domains: [https://www.uplusbank.com]
    token: {secret_data: optional}
`, func() {
		ctx := context.Background()
		created := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }
		openSession, widgetPage, secretData := http.HandlerFunc(created), http.HandlerFunc(created), http.HandlerFunc(created)

		reg, err := policy.NewRegistry(ctx, "policies.yaml", policy.RegistryOptions{})
		if err != nil {
			log.Fatal(err)
		}
		m, err := middleware.ForRegistry(reg)
		if err != nil {
			log.Fatal(err)
		}
		mux := http.NewServeMux()
		routes := m.Routes(mux) // each API route with its CORS preflight
		routes.Handle("POST /connections/{connection}/sessions", openSession)
		routes.WidgetPage("GET /connections/{connection}/widget", widgetPage)
		routes.ServerToServer("POST /connections/{connection}/sessions/{session}/secret-data", secretData)

		// The preflight a browser sends before the widget's POST:
		r := httptest.NewRequest(http.MethodOptions, "/connections/retail-bank/sessions", nil)
		r.Header.Set("Origin", "https://www.uplusbank.com")
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "content-type")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("Access-Control-Allow-Origin"))

		// Then the POST itself:
		r = httptest.NewRequest(http.MethodPost, "/connections/retail-bank/sessions", nil)
		r.Header.Set("Origin", "https://www.uplusbank.com")
		w = httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code)
	})
	// Output:
	// 204 https://www.uplusbank.com
	// 201
}
