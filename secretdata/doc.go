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
// downgrades are refused. (One algorithm has two names: [EdDSA] and
// [Ed25519], RFC 9864's fully-specified name, are accepted for each other
// over an Ed25519 key, and nothing else is.) The Verifier refuses tokens above a size cap
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
// # Tokens from other JWT libraries
//
// Banks sign with whatever library their language has, and those write
// tokens a little differently. The Verifier accepts what the RFCs allow
// and stays strict about everything else:
//
//   - NumericDates with a fraction (RFC 7519 §2), as PyJWT writes
//     time.time() and jsonwebtoken Date.now()/1000, are rounded the safe
//     way, to the second: exp down, nbf and iat up. A token is thus never
//     accepted at a moment its claims exclude: exp 1750000000.4 is
//     expired from 1750000000 on (with no leeway), nbf 1750000000.2 is
//     valid from 1750000001. The lifetime bound uses the exact values.
//     Claims carries the rounded times. Still refused: exponents ("1.75e9"),
//     signs, and more than 15 integer digits.
//   - typ is optional; "JWT" and "application/jwt" are the same type
//     (media types compare case-insensitively, and RFC 7515 §4.1.9 makes
//     "application/" optional). [VerifierConfig].Type requires an explicit
//     type instead, such as "secretdata+jwt" (RFC 8725 §3.11): a token
//     without typ, or with another (JWT included), is then refused; a
//     [SignerConfig].Type writes it.
//   - A token without kid is checked with the one key there is, when the
//     Verifier has exactly one (its Keys and KeySet together); with
//     several it is refused, as "kid required when several keys are
//     configured".
//   - JWKS keys without alg, without kid, and the keys a JWKS has that
//     msgsec cannot use are described at [ParseJWKS]: every skipped key is
//     reported, by index and kid, with the reason.
//   - Customer data sent as top-level claims (customer_id next to iss)
//     instead of inside customer_secret_data verifies with no SecretData,
//     and [Claims].MisplacedClaims names those claims (never their
//     values) so the caller can say so; [VerifierConfig].RefuseMisplacedSecretData
//     refuses such tokens (package policy sets it when secret data is
//     required).
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
