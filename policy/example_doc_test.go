package policy_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"syscall"

	"github.com/msgsec/msgsec/policy"
)

// A Registry over a policy file, reloaded on SIGHUP (the package doc's
// example).
func Example() {
	dir, err := os.MkdirTemp("", "msgsec-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	prev, _ := os.Getwd()
	defer func() { _ = os.Chdir(prev) }()
	_ = os.Chdir(dir)
	_ = os.WriteFile("policies.yaml", []byte(`connections:
  - id: retail-bank
    allowed_domains: [https://www.uplusbank.com]
    token: {secret_data: optional}
`), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	reg, err := policy.NewRegistry(ctx, "policies.yaml", policy.RegistryOptions{})
	if err != nil {
		log.Fatal(err) // every problem, with its path and line
	}
	reg.WatchSignals(ctx, syscall.SIGHUP)
	p, ok := reg.Get("retail-bank")
	fmt.Println(ok, p.ID(), p.Origins().Allows("https://www.uplusbank.com"))
	// Output: true retail-bank true
}
