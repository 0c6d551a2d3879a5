package secretdata

import "time"

// Token lifetimes and clock-skew leeway: the one definition of each default
// and bound. Package policy and the Redis replay cache (redisstore) use
// these; none of them keeps a copy.
const (
	// DefaultLifetime is the exp - iat a Signer gives its tokens when
	// SignerConfig.Lifetime is zero.
	DefaultLifetime = 5 * time.Minute
	// DefaultMaxLifetime is the longest exp - iat a Signer issues or a
	// Verifier accepts when their MaxLifetime is zero (and a policy's when
	// token.max_lifetime is empty).
	DefaultMaxLifetime = 15 * time.Minute
	// MaxLifetimeLimit bounds every MaxLifetime: SignerConfig,
	// VerifierConfig and a policy's token.max_lifetime.
	MaxLifetimeLimit = 24 * time.Hour

	// DefaultLeeway is the clock-skew allowance on exp, nbf and iat when
	// VerifierConfig.Leeway is zero (and a policy's when token.leeway is
	// empty). A negative VerifierConfig.Leeway means none.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway bounds VerifierConfig.Leeway (and a policy's token.leeway).
	// A Verifier accepts a token until exp plus its leeway, so a replay
	// cache shared by several Verifiers must keep an entry at least that
	// long: the Redis cache keeps each one MaxLeeway past the expiry it is
	// given, which covers every allowed leeway.
	MaxLeeway = 5 * time.Minute
)
