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
// # Packages
//
//   - [github.com/msgsec/msgsec/origin]: parse browser Origin values;
//     compile allowlists; match; explain.
//   - [github.com/msgsec/msgsec/cookies]: cookie-name allowlist; filter
//     Cookie headers and widget cookie maps.
//   - [github.com/msgsec/msgsec/secretdata]: CustomerSecretData claims,
//     keys, Signer, Verifier, replay cache; with sub-packages delivery
//     (server-to-server) and redisstore (many instances).
//   - [github.com/msgsec/msgsec/policy]: ConnectionPolicy: load, validate,
//     lint, compile; Registry.
//   - [github.com/msgsec/msgsec/middleware]: net/http middleware enforcing
//     a compiled policy.
//   - [github.com/msgsec/msgsec/policy/redispolicy]: the shared policy
//     store in Redis, for fleets of chat servers.
//   - [github.com/msgsec/msgsec/admin]: the Security tab, an admin console
//     over the store; [github.com/msgsec/msgsec/admin/redisadmin] keeps its
//     audit and roll-out counts in Redis.
//   - [github.com/msgsec/msgsec/otelmetrics]: msgsec's decisions as
//     OpenTelemetry metrics.
//   - [github.com/msgsec/msgsec/cfgerr]: the configuration errors every
//     constructor reports, all at once.
//
// Every package fails closed: an error or an unknown input denies.
//
// # Compatibility
//
// msgsec is before v1: exported names and signatures may still change
// between minor versions, and each change is listed in the release notes.
// What will not change without a major version once v1 is tagged: the
// policy file format (unknown fields stay errors), the problem type URIs
// ("urn:msgsec:problem:..."), the token claims, and that every decision
// fails closed. Behaviour only ever gets stricter by default; anything
// looser needs an option named Dangerously... or a policy field that says
// so.
package msgsec
