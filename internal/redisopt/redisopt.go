// Package redisopt holds what msgsec's Redis adapters check alike about a
// go-redis client.
package redisopt

import "github.com/redis/go-redis/v9"

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
