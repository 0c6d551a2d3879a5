package policy_test

import (
	"context"
	"fmt"
	"github.com/msgsec/msgsec/cfgerr"
	"os"
	"strings"
	"time"

	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

func ExampleLoad() {
	// The secret comes from the environment, never from the file.
	os.Setenv("UPLUS_JWT_SECRET", "u9kIzmnmBaGdcKR2fB2L0jEFdbe7n3y3yWPQ2qJ5Vz0")
	f, err := policy.Load("../examples/policies/uplusbank.yaml")
	if err != nil {
		panic(err)
	}
	c := f.Connections[0]
	fmt.Println(c.ID, c.AllowedDomains, c.DomainMatching, c.AllowedCookies)
	fmt.Println(c.Keys[0].Secret) // where the secret comes from, never its value
	// Output:
	// retail-bank [https://www.uplusbank.com] same-site [page_viewed cart_contents]
	// env:UPLUS_JWT_SECRET
}

func ExampleParse_errors() {
	doc := `
connections:
  - id: retail-bank
    allowed_domains: ["https://*.co.uk", "https://www.uplusbank.com/store"]
    alowed_cookies: [page_viewed]
`
	_, err := policy.Parse([]byte(doc), policy.LoadOptions{})
	for p := range cfgerr.All(err) {
		fmt.Println(p)
	}
	// Output:
	// line 5: connections[0].alowed_cookies: unknown field (did you mean "allowed_cookies"?)
	// line 4: connections[0].allowed_domains[0]: "https://*.co.uk": a wildcard directly above a public suffix (co.uk) would admit unrelated sites
	// line 4: connections[0].allowed_domains[1]: "https://www.uplusbank.com/store": an origin has no path, query or fragment
	// line 3: connections[0].token.secret_data: secret data is required (the default) but no keys are configured; add keys or set secret_data: optional
}

func ExampleFile_Lint() {
	doc := `
connections:
  - id: demo
    allowed_domains: ["http://chat.example.com"]
    token: {secret_data: optional}
`
	f, err := policy.Parse([]byte(doc), policy.LoadOptions{})
	if err != nil {
		panic(err)
	}
	for _, w := range f.Lint() {
		fmt.Println(w.Code, w.Path)
	}
	// Output:
	// insecure-origin connections[0].allowed_domains[0]
	// secret-data-optional connections[0].token.secret_data
	// no-keys connections[0].keys
}

func ExampleConnectionPolicy_Compile() {
	c := policy.ConnectionPolicy{
		ID:             "retail-bank",
		AllowedDomains: []string{"https://www.uplusbank.com"},
		DomainMatching: policy.MatchSameSite,
		AllowedCookies: []string{"page_viewed", "cart_contents"},
		Keys:           []policy.KeyConfig{{ID: "k1", Secret: policy.SecretBytes([]byte("an example secret of at least 32 bytes!"))}},
		Token:          policy.TokenRules{Issuer: "uplusbank-backend"},
	}
	compiled, err := c.Compile(context.Background(), policy.CompileOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(compiled.Origins().Allows("https://account.uplusbank.com"))
	fmt.Println(compiled.Origins().CSPSources())
	// Output:
	// true
	// [https://www.uplusbank.com https://uplusbank.com:* https://*.uplusbank.com:*]
}

// The bank side (or a tool) gets what a Signer needs from the same policy.
func ExampleConnectionPolicy_SignerConfig() {
	c := policy.ConnectionPolicy{
		ID:    "retail-bank",
		Keys:  []policy.KeyConfig{{ID: "k1", Secret: policy.SecretBytes([]byte("an example secret of at least 32 bytes!"))}},
		Token: policy.TokenRules{Issuer: "uplusbank-backend"},
	}
	cfg, err := c.SignerConfig("", time.Now())
	if err != nil {
		panic(err)
	}
	cfg.Lifetime = 2 * time.Minute
	signer, err := secretdata.NewSigner(cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.Key.ID(), cfg.Issuer, cfg.Audience, signer != nil)
	_, err = c.SignerConfig("k2", time.Now())
	fmt.Println(err)
	// Output:
	// k1 uplusbank-backend retail-bank true
	// no key "k2"
}

func ExampleNewRegistry() {
	os.Setenv("UPLUS_JWT_SECRET", "u9kIzmnmBaGdcKR2fB2L0jEFdbe7n3y3yWPQ2qJ5Vz0")
	reg, err := policy.NewRegistry(context.Background(), "../examples/policies/uplusbank.yaml", policy.RegistryOptions{})
	if err != nil {
		panic(err)
	}
	p, ok := reg.Get("retail-bank")
	fmt.Println(ok, p.ID(), reg.Snapshot().Version())
	// Output: true retail-bank 1
}

// A reload swaps every connection at once, or keeps what is in force.
func ExampleRegistry_Reload() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "msgsec")
	defer os.RemoveAll(dir)
	path := dir + "/policies.yaml"
	write := func(domain string) {
		_ = os.WriteFile(path, []byte("connections:\n  - {id: retail-bank, allowed_domains: ['"+domain+"'], token: {secret_data: optional}}\n"), 0o600)
	}
	write("https://www.uplusbank.com")
	reg, _ := policy.NewRegistry(ctx, path, policy.RegistryOptions{})

	write("https://www.uplus.com")
	fmt.Println(reg.Reload(ctx), reg.Snapshot().Version())
	write("https://*.com") // invalid: the reload fails, version 2 stays
	fmt.Println(reg.Reload(ctx) != nil, reg.Snapshot().Version())
	p, _ := reg.Get("retail-bank")
	fmt.Println(p.Origins().Patterns())
	// Output:
	// <nil> 2
	// true 2
	// [https://www.uplus.com]
}

func ExampleNewRegistryFromBytes() {
	doc := []byte("connections:\n  - {id: demo, allowed_domains: ['http://localhost:*'], token: {secret_data: optional}}\n")
	reg, err := policy.NewRegistryFromBytes(context.Background(), doc, policy.RegistryOptions{})
	if err != nil {
		panic(err)
	}
	p, _ := reg.Get("demo")
	fmt.Println(p.Origins().Allows("http://localhost:5173"))
	// Output: true
}

// A connection with decryption keys takes CustomerSecretData only as JWE
// (dir + A256GCM), so a token handed through the browser cannot be read
// there. SignerConfig encrypts with the first decryption key.
func ExampleDecryptionKey() {
	doc := `
connections:
  - id: retail-bank
    keys: [{id: uplus-2026-11, secret: {env: UPLUS_JWT_SECRET}}]
    decryption_keys: [{id: jwe-1, secret: {env: UPLUS_JWE_KEY}}]
    token: {issuer: uplusbank-backend}
`
	env := map[string]string{
		"UPLUS_JWT_SECRET": "u9kIzmnmBaGdcKR2fB2L0jEFdbe7n3y3yWPQ2qJ5Vz0", // msgsec secret new
		"UPLUS_JWE_KEY":    "7Cg9eCz2n4W1m0sQWAs3lXbQyq8b0hH9fJ2kPz6aR1U", // msgsec secret new --jwe
	}
	f, err := policy.Parse([]byte(doc), policy.LoadOptions{
		LookupEnv: func(name string) (string, bool) { v, ok := env[name]; return v, ok },
	})
	if err != nil {
		panic(err)
	}
	conn := f.Connections[0]
	fmt.Println(conn.DecryptionKeys[0].ID, conn.DecryptionKeys[0].Secret, conn.DecryptionKeys[0].Secret.Encoding)

	cfg, err := conn.SignerConfig("", time.Now())
	if err != nil {
		panic(err)
	}
	signer, err := secretdata.NewSigner(cfg)
	if err != nil {
		panic(err)
	}
	token, err := signer.Sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-1001"}})
	if err != nil {
		panic(err)
	}
	compiled, err := conn.Compile(context.Background(), policy.CompileOptions{})
	if err != nil {
		panic(err)
	}
	claims, err := compiled.Verifier().Verify(context.Background(), token)
	if err != nil {
		panic(err)
	}
	id, _ := claims.CustomerID()
	fmt.Println(len(strings.Split(token, ".")), "segments:", id)
	// Output:
	// jwe-1 env:UPLUS_JWE_KEY base64url
	// 5 segments: C-1001
}
