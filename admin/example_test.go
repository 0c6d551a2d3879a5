package admin_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/msgsec/msgsec/admin"
	"github.com/msgsec/msgsec/middleware"
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

	store, err := policy.NewStore(policy.NewMemoryBackend(), policy.StoreOptions{SealingKey: key})
	if err != nil {
		log.Fatal(err) // a missing or weak sealing key
	}
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

// A chat server counts the origins its report-only connections would have
// refused, for the console's roll-out list: the Recorder hears the
// middleware's events and adds to the shared Journal every few seconds.
func ExampleNewRecorder() {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	store, _ := policy.NewStore(policy.NewMemoryBackend(), policy.StoreOptions{SealingKey: key})
	_, _ = store.Put(context.Background(), &policy.ConnectionPolicy{
		ID: "retail-bank", Mode: policy.ModeReportOnly, AllowedDomains: []string{"https://www.uplusbank.com"},
		Token: policy.TokenRules{SecretData: policy.SecretDataOptional},
	}, 0)
	reg, _ := policy.NewRegistryFromSource(context.Background(), store, policy.RegistryOptions{})
	defer reg.Close()

	journal := admin.NewMemoryJournal() // redisadmin.New for a fleet
	rec := admin.NewRecorder(journal, reg)
	mw, _ := middleware.ForRegistry(reg, middleware.WithEventHandler(rec.Event), middleware.WithLogger(slog.New(slog.DiscardHandler)))
	mux := http.NewServeMux()
	mw.Routes(mux).Handle("POST /connections/{connection}/messages", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	req := httptest.NewRequest("POST", "/connections/retail-bank/messages", nil)
	req.Header.Set("Origin", "https://shop.uplusbank.com")
	mux.ServeHTTP(httptest.NewRecorder(), req) // report-only: let through, counted
	_ = rec.Flush(context.Background())        // Run(ctx, 5*time.Second) does this in the background

	rs, _ := journal.Refusals(context.Background(), "retail-bank", time.Now().UTC().Truncate(time.Hour), 100)
	fmt.Println(rs)
	// Output:
	// [{https://shop.uplusbank.com 1}]
}
