// Package redisstore keeps msgsec's shared chat-server state in Redis: a
// [secretdata.ReplayCache] and a [delivery.Store] that every instance of a
// chat server behind a load balancer sees alike, through
// github.com/redis/go-redis/v9.
//
// It is for chat servers that run more than one instance, or that must not
// lose stored secret data when an instance restarts. A single instance can
// keep the in-memory defaults ([secretdata.MemoryReplayCache],
// [delivery.MemoryStore]); importing secretdata pulls in no Redis code.
//
// Both take a [redis.UniversalClient] — a single node, Sentinel (failover)
// or Cluster client — which must have ContextTimeoutEnabled set, so that
// [Config].Timeout bounds every call. Nothing else is kept in the process.
//
//   - [ReplayCache] ([NewReplayCache]) records each accepted token's
//     (issuer, jti) with one atomic SET NX until the token's expiry plus the
//     Verifier's leeway plus [secretdata.MaxLeeway]: a token accepted by one
//     instance is refused by every other, whatever leeway each one allows.
//   - [Store] ([NewStore]) keeps each chat session's verified secret data
//     sealed with AES-256-GCM (a [delivery.Sealer]; the (connection,
//     session) pair is the additional data), for a TTL, until the session
//     ends.
//
// A refused client, key or [Config] is reported at construction, every
// problem at once: the error matches [ErrConfig] and holds one
// [*cfgerr.Error] per problem (walk them with [cfgerr.All]).
//
// # Keys
//
// Keys are built from hashes only, so no jti, issuer, connection or session
// ID — all of which come from outside — ever forms or appears in a key:
//
//	<prefix>:replay:<issuer tag>:<sha256 of issuer and jti>
//	<prefix>:sd:<connection tag>:<sha256 of connection and session>
//
// There are no hash tags: in a Redis Cluster the keys spread over every
// slot, and each command touches a single key.
//
// # Failures
//
// Redis errors and timeouts fail closed: [ReplayCache.Record] returns an
// error wrapping [secretdata.ErrReplayCheckUnavailable] (the Verifier
// refuses the token, and the middleware and delivery Handler answer 503,
// not 401); Store calls return an error wrapping
// [delivery.ErrStoreUnavailable]. Both also wrap Redis's own error (for
// errors.Is and errors.As) and never name a key, an ID or a value. When
// Redis comes back the next call succeeds: go-redis redials by itself, and
// there is no cached state to go stale.
//
// # Persistence
//
// A chat-server restart loses nothing: a new ReplayCache or Store on the
// same Redis, Prefix and key sees everything stored before. A restart of
// Redis itself keeps data only if Redis persists it (AOF or RDB); without
// persistence, stored secret data is gone (reads report
// [delivery.ErrNotFound]) and tokens accepted before the restart could be
// replayed until they expire. Production deployments should run Redis with
// appendonly yes, or accept that window.
//
// # Replicas and failover
//
// Redis replicates asynchronously: an entry the primary has acknowledged
// but not yet sent to a replica is lost when that replica is promoted
// (Sentinel, Cluster failover), and the token it recorded is then
// accepted a second time. [Config].WaitReplicas closes that window for
// what it covers: each Record sends SET NX and WAIT n timeout in one
// pipeline to the key's primary and accepts the token only when n
// replicas have the entry; not acknowledged within WaitTimeout, the token
// is refused with ErrReplayCheckUnavailable (the middleware's 503) — and
// while the entry survives on the primary, a second try is refused as
// replayed. A reply lost and retried by go-redis is detected (the entry
// holds a nonce per Record) and refused as unavailable too, never as a
// replay and never accepted.
//
// What it guarantees: an accepted token's entry was on the primary and on
// n replicas when it was accepted, so a failover that promotes one of
// those replicas keeps it. What it does not: WAIT does not make Redis
// strongly consistent (Redis's own documentation says so) — a failover
// may promote a replica that was not among the n (set n to the number of
// replicas to leave none out, at the price of refusing every token while
// one replica is down), a replica can lose the entry if it restarts
// without persistence, and the entry is not fsynced anywhere by WAIT.
// Sentinel orders candidates by replica-priority first and then by how
// much they have replicated, so with equal priorities it usually promotes
// one that acknowledged; keep the priorities equal. Its cost is one
// replication round trip per token (BENCHMARKS.md has the figure), and
// 503s instead of accepted tokens while too few replicas answer.
//
// With one primary and two replicas (the usual Sentinel set-up):
// WaitReplicas=1 keeps every accepted token's entry across a failover as
// long as the replica that acknowledged it is among those Sentinel can
// reach when it elects — the replicas of one primary hold prefixes of one
// replication stream, so the most advanced one, which Sentinel promotes
// with equal priorities, has every entry either has — and tokens keep
// being accepted while one replica is down. WaitReplicas=2 keeps the entry
// whichever replica is promoted, and answers 503 to every token from the
// moment one replica is gone until it (or a replacement) is back in sync,
// e.g. after a failover, until the old primary has rejoined as a replica.
// The failover test (failover_test.go: the replicas cut off 300 ms, then
// the primary killed, under load) measures it: with WaitReplicas=0 every
// token accepted in those 300 ms is accepted a second time after the
// promotion (about 600 per run on loopback); with 1 or 2, none, and those
// tokens got a 503 instead. Figures and commands: BENCHMARKS.md,
// "Failover and replay protection".
//
// # Example
//
// The same client serves [NewStore] (sealed secret data for
// delivery.Handler).
//
//	opt, err := redis.ParseURL("redis://127.0.0.1:6379/0")
//	if err != nil {
//		log.Fatal(err)
//	}
//	opt.ContextTimeoutEnabled = true // required: Timeout must bound every call
//	client := redis.NewClient(opt)
//	defer client.Close()
//
//	replay, err := redisstore.NewReplayCache(client, redisstore.Config{
//		Prefix:  "chat-prod",
//		Timeout: 250 * time.Millisecond,
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	key, err := secretdata.NewHMACKey("2025-01", secretdata.HS256, secretdata.GenerateSecret())
//	if err != nil {
//		log.Fatal(err)
//	}
//	verifier, err := secretdata.NewVerifier(secretdata.VerifierConfig{
//		Keys:     []secretdata.Key{key},
//		Issuer:   "https://bank.example",
//		Audience: "retail-bank",
//		Replay:   replay, // shared by every chat-server instance
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
package redisstore
