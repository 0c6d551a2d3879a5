// Package msgsec is a Go SDK that secures web-messaging (chat widget) channels.
//
// This package holds documentation only; the code lives in its sub-packages.
//
// A business such as a bank puts a chat widget on its websites, and the widget
// talks to a chat server. Each widget deployment is a connection (for example
// "retail-bank"), and every connection carries a security policy with three
// parts:
//
//   - Allowed domains: the websites where the widget may run. Enforced with
//     CORS on the chat server's HTTP API, an Origin check on WebSocket
//     upgrades, and CSP frame-ancestors on widget pages. See package origin.
//   - Allowed cookies: the names of the bank website's cookies whose public
//     values may reach the chat and be attached to the interaction; every other
//     cookie is stripped. See package cookies.
//   - A JWT secret: the bank's backend signs CustomerSecretData
//     (authentication status, customer ID, ...) and the chat server verifies
//     it and attaches it to the chat, so private data never has to appear on
//     the web page. See package secretdata.
//
// Two kinds of programs import msgsec:
//
//   - the chat server, which enforces: package policy loads and compiles each
//     connection's policy, and package middleware enforces it on every
//     request (CORS, Origin checks, cookie filtering, token verification);
//   - the bank backend, which signs: package secretdata mints
//     CustomerSecretData tokens and delivers them.
//
// Packages:
//
//	origin      parse browser Origin values; compile allowlists; match; explain
//	cookies     cookie-name allowlist; filter Cookie headers and widget cookie maps
//	secretdata  CustomerSecretData claims, keys, Signer, Verifier, replay cache
//	policy      ConnectionPolicy: load, validate, lint, compile; Registry
//	middleware  net/http middleware enforcing a compiled policy
//
// Every package fails closed: an error or an unknown input denies.
package msgsec
