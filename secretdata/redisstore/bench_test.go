package redisstore_test

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/internal/testenv"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

// BenchmarkVerifyReplay compares Verify (HS256) with the Redis replay cache
// against the same Verify with the in-memory one, in the same run:
//
//	./scripts/with-services.sh go test -run '^$' -bench VerifyReplay -benchmem -count 5 ./secretdata/redisstore/
//
// Every timed Verify records a jti never seen before (a real SET NX round
// trip to Redis, over loopback here). Tokens are signed in batches with the
// timer stopped. The "redis" case is skipped without MSGSEC_REDIS_URL; the
// others start their own servers (a primary and a replica; a 3-primary
// Cluster), as the tests do.
func BenchmarkVerifyReplay(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		benchVerify(b, nil)
	})
	b.Run("redis", func(b *testing.B) {
		if os.Getenv("MSGSEC_REDIS_URL") == "" {
			b.Skip("MSGSEC_REDIS_URL is not set")
		}
		c, prefix := sharedRedis(b)
		benchVerify(b, newReplay(b, c, redisstore.Config{Prefix: prefix}))
	})
	// A primary with one replica, without and with WaitReplicas: the
	// difference is what replica acknowledgement costs per token.
	// The servers live as long as the whole benchmark (the outer b): a
	// sub-benchmark's function runs several times.
	outer := b
	var primary *redis.Client
	replicated := func(*testing.B) *redis.Client {
		if primary == nil {
			p := testenv.StartRedis(outer)
			primary = newClient(outer, p.URL())
			testenv.StartReplica(outer, primary, p.URL())
		}
		return primary
	}
	var cluster *testenv.Cluster
	b.Run("redis-with-replica", func(b *testing.B) {
		benchVerify(b, newReplay(b, replicated(b), redisstore.Config{}))
	})
	b.Run("redis-with-replica-wait1", func(b *testing.B) {
		benchVerify(b, newReplay(b, replicated(b), redisstore.Config{WaitReplicas: 1}))
	})
	b.Run("cluster", func(b *testing.B) {
		if cluster == nil {
			cluster = testenv.StartCluster(outer)
		}
		benchVerify(b, newReplay(b, cluster.Client(outer), redisstore.Config{}))
	})
}

func benchVerify(b *testing.B, replay secretdata.ReplayCache) {
	v := newVerifier(b, replay)
	s := newSigner(b)
	tokens := make([]string, 4096)
	next := len(tokens)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if next == len(tokens) {
			b.StopTimer()
			for i := range tokens {
				tokens[i] = sign(b, s)
			}
			next = 0
			b.StartTimer()
		}
		if _, err := v.Verify(ctx, tokens[next]); err != nil {
			b.Fatal(err)
		}
		next++
	}
}
