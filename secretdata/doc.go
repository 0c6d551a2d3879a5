// Package secretdata signs and verifies CustomerSecretData: the private
// facts about a bank customer (authentication status, customer ID, …) that
// the bank's backend hands to a chat server without putting them on the web
// page.
//
// Who uses it:
//   - the bank backend mints tokens with a [Signer];
//   - the chat server checks them with a [Verifier].
//
// A token is a compact JWS (optionally wrapped in a JWE, dir + A256GCM, when
// it passes through a browser and must stay unreadable there) carrying
// [Claims]: iss, aud (the connection ID), sub, iat, exp, optional nbf,
// jti (128 random bits), optional sid, and customer_secret_data.
//
// # Strict by default
//
// Every [Key] is bound to one [Algorithm] when it is made; the token header
// may only confirm it, so "none", HS256-with-an-RSA-public-key and algorithm
// downgrades are refused. The Verifier refuses tokens above a size cap
// before looking inside them; splits the compact form itself; accepts only
// canonical unpadded base64url; parses header and claims with its own JSON
// parser, which — unlike encoding/json — rejects duplicate member names,
// matches names case-sensitively ("EXP" is not exp) and rejects invalid
// UTF-8; refuses crit, jku, x5u, jwk, x5c, zip and every other header
// parameter but alg, kid and typ; requires iss, aud, exp, iat and jti; and
// checks expiry, not-before, issued-in-the-future and maximum lifetime with
// a bounded leeway. A token carrying sid is only accepted by
// [Verifier.VerifySession] for that session.
//
// # Lifetimes and leeway
//
// Each default and bound is defined once, here, and package policy and the
// Redis replay cache use the same constants. A [Signer] gives its tokens
// [DefaultLifetime] (5m) unless told otherwise; a Signer and a [Verifier]
// refuse lifetimes above [DefaultMaxLifetime] (15m) unless given another
// MaxLifetime, which may not exceed [MaxLifetimeLimit] (24h).
//
// A Verifier tolerates clock skew between the bank backend and the chat
// server with a leeway on exp, nbf and iat: [VerifierConfig].Leeway zero
// means [DefaultLeeway] (30s, as in a policy), any negative value means no
// leeway at all (a token is refused from the second of its exp), and the
// most allowed is [MaxLeeway] (5m). A Verifier records each token in its
// replay cache until exp plus its leeway, the last moment it would accept
// the token.
//
// # Replay protection
//
// Each accepted token's (iss, jti) is recorded in a [ReplayCache] until it
// expires, so a stolen token works at most once. The default is a bounded
// in-memory cache ([MemoryReplayCache], see [NewMemoryReplayCache]) that
// fails closed when full; several chat-server instances need a shared cache
// (a Redis adapter lives in its own package, secretdata/redisstore, so this
// one pulls in no Redis code). Turning the check off takes
// [VerifierConfig].DangerouslyDisableReplayProtection.
//
// # Keys and rotation
//
// [NewHMACKey] takes a secret at least as long as the hash (32 bytes for
// HS256; [GenerateSecret] makes 64). [NewPublicKey] and [NewPrivateKey]
// take RSA keys of 2048 bits or more, ECDSA P-256 or Ed25519. Keys carry IDs
// (kid) and optional not-before / retire-after times ([Key.WithValidity]),
// so old and new keys overlap during a rotation. Public keys can come from a
// JWKS document ([ParseJWKS]) or a JWKS URL kept fresh by a jwx jwk.Cache
// ([NewRemoteKeySet], for [VerifierConfig].KeySet). A JWE layer
// ([NewEncryptionKey]) keeps a token that crosses a browser unreadable
// there.
//
// # Errors
//
// Every refusal of a token wraps one sentinel ([ErrMalformed],
// [ErrSignature], [ErrExpired], [ErrNotYetValid], [ErrClaims],
// [ErrReplayed], [ErrReplayCheckUnavailable], [ErrUnknownKey]) in a
// [*TokenError] naming the header parameter or claim — never token
// contents. Tell clients only "invalid token" (or 503 for
// ErrReplayCheckUnavailable).
//
// A refused key or configuration is reported once, at construction, with
// every problem at once: the error matches [ErrConfig] and holds one
// [*cfgerr.Error] per problem (walk them with [cfgerr.All]), naming the
// field ("Leeway", "Keys[1]", or a parameter such as "secret"), the
// offending value ([cfgerr.Redacted] for a secret or key material) and why.
//
// # Example
//
//	// Bank backend.
//	key, _ := secretdata.NewHMACKey("2026-01", secretdata.HS256, secret)
//	signer, _ := secretdata.NewSigner(secretdata.SignerConfig{
//		Key: key, Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
//	})
//	token, _ := signer.Sign(secretdata.Claims{
//		Subject:    "customer-42",
//		SecretData: map[string]any{"authentication_status": "authenticated", "customer_id": "C-1001"},
//	})
//
//	// Chat server.
//	verifier, _ := secretdata.NewVerifier(secretdata.VerifierConfig{
//		Keys: []secretdata.Key{key}, Issuer: "https://api.uplusbank.com", Audience: "retail-bank",
//	})
//	claims, err := verifier.Verify(ctx, token)
//	if err != nil {
//		// 401 "invalid token"
//	}
//	status, _ := claims.AuthenticationStatus()
package secretdata
