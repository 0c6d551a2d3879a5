package redisstore

// Hooks for the external tests (package redisstore_test), which look at
// the keys in Redis.

// ReplayKey is the Redis key of (issuer, jti) under prefix.
func ReplayKey(prefix, issuer, jti string) string { return replayKey(prefix, issuer, jti) }

// StoreKey is the Redis key of (connection, session) under prefix.
func StoreKey(prefix, connection, session string) string {
	return storeKey(prefix, connection, session)
}
