package redispolicy_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/policy/redispolicy"
)

// Examples that need a running Redis are compiled, not run (no Output).

// A chat-server instance on the shared store: a Registry that follows it.
func ExampleNew() {
	ctx := context.Background()
	opt, err := redis.ParseURL("redis://127.0.0.1:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	opt.ContextTimeoutEnabled = true // required: Timeout must bound every call
	client := redis.NewClient(opt)
	defer client.Close()

	backend, err := redispolicy.New(redispolicy.Config{Client: client})
	if err != nil {
		log.Fatal(err)
	}
	// 32 random bytes, the same on every instance (msgsec secret new --jwe).
	key, err := base64.RawURLEncoding.DecodeString(os.Getenv("MSGSEC_POLICY_SEALING_KEY"))
	if err != nil {
		log.Fatal("MSGSEC_POLICY_SEALING_KEY: not base64url")
	}
	store, err := policy.NewStore(backend, policy.StoreOptions{SealingKey: key})
	if err != nil {
		log.Fatal(err) // a missing or short key: refuse to start
	}
	reg, err := policy.NewRegistryFromSource(ctx, store, policy.RegistryOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer reg.Close()
	reg.Follow(ctx, 30*time.Second)
}

// An administrator's change: read, modify, write with the version read.
// A write that lost the race is re-read and re-applied, never merged.
func ExampleBackend_Swap() {
	ctx := context.Background()
	var store *policy.Store // policy.NewStore over a redispolicy.Backend, as in ExampleNew
	for {
		c, version, err := store.Get(ctx, "retail-bank")
		if err != nil {
			log.Fatal(err)
		}
		c.AllowedDomains = append(c.AllowedDomains, "https://account.uplusbank.com")
		_, err = store.Put(ctx, c, version)
		if errors.Is(err, policy.ErrConflict) {
			continue // someone else wrote first: apply the change to theirs
		}
		if errors.Is(err, policy.ErrUnavailable) {
			log.Fatal("redis is down; nothing was written")
		}
		if err != nil {
			log.Fatal(err) // invalid: field paths in cfgerr.All(err)
		}
		break
	}
}

// The wrong way: a client without ContextTimeoutEnabled, a Ring, a prefix
// with a brace. New reports every problem at once.
func ExampleNew_incorrect() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}) // ContextTimeoutEnabled missing
	defer client.Close()
	_, err := redispolicy.New(redispolicy.Config{Client: client, Prefix: "chat{prod}", Timeout: time.Hour})
	for p := range cfgerr.All(err) {
		fmt.Println(p.Field+":", p.Reason)
	}
	// Output:
	// Client: ContextTimeoutEnabled must be true so Timeout bounds every call
	// Prefix: 1 to 64 printable ascii bytes, no space, braces or glob characters (* ? [ ] \)
	// Timeout: must be between 1ms and 30s (zero means 1s)
}
