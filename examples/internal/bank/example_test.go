package bank_test

import (
	"fmt"
	"log"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/msgsec/msgsec/examples/internal/bank"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// The bank's site, signing with the secret it shares with the chat
// server's policy.
func ExampleNew() {
	key, err := secretdata.NewHMACKey("uplus-demo", secretdata.HS256, secretdata.GenerateSecret())
	if err != nil {
		panic(err)
	}
	newSigner := func(lifetime time.Duration) *secretdata.Signer {
		s, err := secretdata.NewSigner(secretdata.SignerConfig{
			Key: key, Issuer: "uplusbank-backend", Audience: "retail-bank", Lifetime: lifetime,
		})
		if err != nil {
			panic(err)
		}
		return s
	}
	client, err := delivery.NewClient(delivery.ClientConfig{BaseURL: "http://127.0.0.1:8080", Signer: newSigner(0)})
	if err != nil {
		panic(err)
	}
	signer := newSigner(bank.TokenLifetime)
	site, err := bank.New(bank.Config{
		ChatURL:    "http://127.0.0.1:8080",
		Connection: "retail-bank",
		Signer:     signer, // secretdata.NewSigner, Lifetime: bank.TokenLifetime
		Delivery:   client, // delivery.NewClient, BaseURL: the chat server
	})
	if err != nil {
		log.Fatal(err)
	}

	w := httptest.NewRecorder()
	site.ServeHTTP(w, httptest.NewRequest("GET", "http://www.uplusbank.localhost:8081/", nil))
	for _, c := range w.Result().Cookies() {
		fmt.Println("cookie:", c.Name)
	}
	fmt.Println(strings.Contains(w.Body.String(), `src="http://127.0.0.1:8080/connections/retail-bank/widget.js"`))
	// Output:
	// cookie: page_viewed
	// cookie: cart_contents
	// cookie: session_id
	// true
}
