package admin_test

import (
	"crypto/rand"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/msgsec/msgsec/admin"
	"github.com/msgsec/msgsec/policy"
)

// The package doc's snippet: a console over an in-memory store, behind
// the platform's own login, mounted under /admin/.
func Example() {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // in production: 32 random bytes from a secret file or env
	platformLogin := func(r *http.Request) (string, error) {
		if r.Header.Get("Authorization") != "Bearer demo-admin" {
			return "", admin.ErrUnauthenticated
		}
		return "ops@uplusbank.example", nil
	}
	mux := http.NewServeMux()

	store, _ := policy.NewStore(policy.NewMemoryBackend(), policy.StoreOptions{SealingKey: key})
	console, err := admin.New(admin.Config{
		Store: store,
		Authorize: func(r *http.Request) (string, error) {
			return platformLogin(r) // the principal, or admin.ErrUnauthenticated
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/admin/", http.StripPrefix("/admin", console))

	for _, auth := range []string{"", "Bearer demo-admin"} {
		req := httptest.NewRequest("GET", "/admin/api/connections", nil)
		req.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		fmt.Println(w.Code)
	}
	// Output:
	// 401
	// 200
}

// New refuses a console without an Authorize function: there is no
// default login.
func ExampleNew() {
	store, _ := policy.NewStore(policy.NewMemoryBackend(), policy.StoreOptions{SealingKey: []byte("0123456789abcdef0123456789abcdef")})
	_, err := admin.New(admin.Config{Store: store})
	fmt.Println(err)
	// Output:
	// admin: invalid config: Authorize: required: the console has no default login
}
