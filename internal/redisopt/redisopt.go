// Package redisopt holds what msgsec's Redis adapters check alike about a
// go-redis client.
package redisopt

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// ContextTimeoutEnabled reports whether c honours context deadlines on
// every call (dial, pool wait, read, write): without it, an adapter's
// Timeout would bound nothing. Clients of other types are trusted.
func ContextTimeoutEnabled(c redis.UniversalClient) bool {
	switch c := c.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Waitable reports whether WAIT can run on the connection of a key's
// write with client c: a *redis.Client (one server, or Sentinel's
// failover client) or a *redis.ClusterClient (through the key's primary).
func Waitable(c redis.UniversalClient) bool {
	switch c.(type) {
	case *redis.Client, *redis.ClusterClient:
		return true
	}
	return false
}

// ReadTimeout is c's read timeout, 0 when unknown.
func ReadTimeout(c redis.UniversalClient) time.Duration {
	switch c := c.(type) {
	case *redis.Client:
		return c.Options().ReadTimeout
	case *redis.ClusterClient:
		return c.Options().ReadTimeout
	}
	return 0
}
