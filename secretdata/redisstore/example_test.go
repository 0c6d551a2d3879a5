package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

// Examples here that would need a running Redis are compiled but not run
// (no Output); ExampleNewReplayCache runs: a malformed token is refused
// before Redis is asked.

func ExampleNewReplayCache() {
	opt, err := redis.ParseURL("redis://127.0.0.1:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	opt.ContextTimeoutEnabled = true // required: Timeout must bound every call
	client := redis.NewClient(opt)
	defer client.Close()

	replay, err := redisstore.NewReplayCache(client, redisstore.Config{
		Prefix:  "chat-prod",
		Timeout: 250 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	key, err := secretdata.NewHMACKey("2025-01", secretdata.HS256, secretdata.GenerateSecret())
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys:     []secretdata.Key{key},
		Issuer:   "https://bank.example",
		Audience: "retail-bank",
		Replay:   replay, // shared by every chat-server instance
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = verifier.Verify(context.Background(), "token from the widget")
	switch {
	case errors.Is(err, secretdata.ErrReplayCheckUnavailable):
		fmt.Println("503: redis did not answer; the token is refused")
	case err != nil:
		fmt.Println("401: invalid token") // never say more to the client
	}
	// Output: 401: invalid token
}

// Copying the bytes of one session to another does not open: the store is
// shared, not trusting.
func ExampleNewStore() {
	opt, err := redis.ParseURL("redis://127.0.0.1:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	opt.ContextTimeoutEnabled = true
	client := redis.NewClient(opt)
	defer client.Close()

	sealingKey := make([]byte, delivery.KeySize) // in production: 32 random bytes from a secret store
	copy(sealingKey, "example only, never a real key!!")
	store, err := redisstore.NewStore(client, sealingKey, redisstore.Config{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	claims := &secretdata.Claims{SecretData: map[string]any{"customer_id": "C-1001"}}
	if err := store.Put(ctx, "retail-bank", "session-1", claims, 30*time.Minute); err != nil {
		log.Fatal(err) // wraps delivery.ErrStoreUnavailable when redis is down
	}
	got, err := store.Get(ctx, "retail-bank", "session-1") // from any instance
	if errors.Is(err, delivery.ErrNotFound) {
		fmt.Println("no secret data for this session")
	}
	_ = got
	// When the chat session ends:
	_ = store.Delete(ctx, "retail-bank", "session-1")
}

// A Config that would let Redis calls outlive the Timeout is refused.
func ExampleConfig() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}) // ContextTimeoutEnabled not set
	defer client.Close()
	_, err := redisstore.NewReplayCache(client, redisstore.Config{})
	fmt.Println(errors.Is(err, redisstore.ErrConfig))
	// Output: true
}
