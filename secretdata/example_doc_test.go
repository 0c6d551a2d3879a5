package secretdata_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/msgsec/msgsec/secretdata"
)

// Sign on the bank backend, verify on the chat server (the package doc's
// example).
func Example_signAndVerify() {
	ctx := context.Background()
	secret := secretdata.GenerateSecret()

	// Bank backend.
	key, _ := secretdata.NewHMACKey("2026-01", secretdata.HS256, secret)
	signer, _ := secretdata.NewSigner(secretdata.SignerConfig{
		Key: key, Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
	})
	token, _ := signer.Sign(secretdata.Claims{
		Subject:    "customer-42",
		SecretData: map[string]any{"authentication_status": "authenticated", "customer_id": "C-1001"},
	})

	// Chat server.
	verifier, _ := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{key}, Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
	})
	claims, err := verifier.Verify(ctx, token)
	if err != nil {
		// 401 "invalid token"
	}
	status, _ := claims.AuthenticationStatus()
	fmt.Println(status)
	// Output: authenticated
}

// The README's example: a token verifies once; the same token again is a
// replay.
func Example_readme() {
	ctx := context.Background()
	secret := secretdata.GenerateSecret()

	key, _ := secretdata.NewHMACKey("uplus-2026-11", secretdata.HS256, secret) // ≥ 32 bytes
	signer, _ := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: "uplusbank-backend", Audience: "retail-bank"})
	token, _ := signer.Sign(secretdata.Claims{Subject: "cust-1", SecretData: map[string]any{
		"authentication_status": "authenticated", "customer_id": "C-42"}})

	verifier, _ := secretdata.NewVerifier(secretdata.VerifierConfig{Keys: []secretdata.Key{key},
		Issuer: "uplusbank-backend", Audience: "retail-bank"})
	claims, err := verifier.Verify(ctx, token) // errors.Is(err, secretdata.ErrExpired), ErrReplayed, ...
	id, _ := claims.CustomerID()
	fmt.Println(id, err)
	_, err = verifier.Verify(ctx, token)
	fmt.Println(errors.Is(err, secretdata.ErrReplayed))
	// Output:
	// C-42 <nil>
	// true
}
