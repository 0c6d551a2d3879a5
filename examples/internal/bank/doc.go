// Package bank is msgsec's example bank website (U+ Bank): the customer's
// side of the story, and what a bank backend imports (package secretdata to
// sign, package delivery to send).
//
// The home page embeds the chat widget and sets three cookies:
// page_viewed and cart_contents, public facts the chat policy lets the
// widget pass on, and session_id, the bank's private login session, which
// the chat server's msgsec middleware strips. Signing in (any name; a fake
// login) makes the backend hand the customer's CustomerSecretData
// (authentication_status, customer_id) to the chat in both delivery modes:
//
//   - browser pass-through: the page defines window.msgsecGetToken, which
//     the widget loader calls; it fetches a short-lived signed token from
//     POST /token and the widget sends it when it opens the chat;
//   - server to server: the page defines window.msgsecOnSession, which the
//     loader calls with the chat session ID; it posts the ID to
//     POST /chat-session and the backend sends the signed data for that
//     session with a delivery.Client.
//
// State-changing routes are guarded by net/http's CrossOriginProtection.
//
// It is built in-process by the bankbackend command and the one-command
// demo, and sits under examples/internal so that only those can import it:
// it is example code, not part of msgsec's API.
//
// # Example
//
// site is an http.Handler: serve it with http.ListenAndServe.
//
//	site, err := bank.New(bank.Config{
//		ChatURL:    "http://127.0.0.1:8080",
//		Connection: "retail-bank",
//		Signer:     signer, // secretdata.NewSigner, Lifetime: bank.TokenLifetime
//		Delivery:   client, // delivery.NewClient, BaseURL: the chat server
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
package bank
