// Package policy ties msgsec's three policy parts together per connection.
//
// A chat server serves many widget deployments ("connections"); each has a
// [ConnectionPolicy]: its allowed domains (package
// [github.com/msgsec/msgsec/origin]), allowed cookies (package
// [github.com/msgsec/msgsec/cookies]), and the keys and rules that verify
// CustomerSecretData (package [github.com/msgsec/msgsec/secretdata]), plus the domain matching mode, enforce or
// report-only, and whether widget pages carry CSP frame-ancestors.
//
// Operators write policies in YAML or JSON (one schema; unknown fields,
// duplicate keys and nulls are refused, with paths and line numbers).
// Secrets never sit in the file: a key's secret is {env: NAME} or
// {file: PATH} ([SecretRef]), inline only with an explicit insecure_inline:
// true. Secrets are redacted from every printed, encoded and logged form.
// An HMAC secret is the text found there, used as its bytes (encoding raw,
// the default): the string `msgsec secret new` prints, which the bank
// passes to its JWT library as is. encoding: base64url (base64, hex)
// decodes it instead, as files written before this rule meant; when a
// signature does not verify, the verifier's reason says which way the
// policy read the secret, never the secret. A connection's
// [ConnectionPolicy.DecryptionKeys] make it take only JWE (dir + A256GCM).
//
// [Load] validates and reports every problem at once, one [cfgerr.Error]
// each ("policies.yaml:9: connections[0].allowed_domains[2]:
// "https://*.com": ..."; walk them with [cfgerr.All]); [File.Lint]
// lists what is valid but weak (any website, "*", plain http, long token
// lifetimes, optional secret data, sensitive cookies, ...).
// [ConnectionPolicy.Compile] yields an immutable [Compiled] for the
// middleware, and a [Registry] maps connection IDs to compiled policies,
// swapping them atomically on [Registry.Reload] (by hand, on SIGHUP with
// [Registry.WatchSignals], or when the file changes with
// [Registry.WatchFile]); a failed reload keeps what is in force. The bank
// side gets what a Signer needs from [ConnectionPolicy.SignerConfig].
//
// The seed rule: no allowed domain, or "*", means any website.
//
// # Many instances
//
// A [Store] is the policy set as shared, versioned data, for fleets and
// admin consoles: over a [Backend] ([NewMemoryBackend]; Redis in
// policy/redispolicy), it validates every write as a file is validated,
// refuses a stale one ([ConflictError]), keeps secrets sealed under the
// operator's sealing key and authenticates each document with it. A
// [Registry] from [NewRegistryFromSource] reads it connection by
// connection and [Registry.Follow] applies its changes as they happen.
//
// # Example
//
//	reg, err := policy.NewRegistry(ctx, "policies.yaml", policy.RegistryOptions{})
//	if err != nil {
//		log.Fatal(err) // every problem, with its path and line
//	}
//	reg.WatchSignals(ctx, syscall.SIGHUP)
//	p, ok := reg.Get("retail-bank")
package policy
