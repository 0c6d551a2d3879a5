// Package redispolicy keeps msgsec's connection policies in Redis, so that
// every chat-server instance of a fleet enforces the same set and applies
// a change within a second: a [policy.Backend] (with the Watch method a
// [policy.Store] forwards) behind a policy.Store, through
// github.com/redis/go-redis/v9. Importing package policy pulls in no Redis
// code; this package is the one that does.
//
// The Store does the policy work — validation exactly as for a policy
// file, compare-and-set versions, secrets sealed with AES-256-GCM under the
// operator's sealing key, a MAC on every document so that what someone
// writes into Redis without that key is refused — and the Backend moves
// bytes:
//
//   - [Backend.Swap] is one Lua script on one key: it compares the stored
//     version with the one the write read (0: none), stores the document
//     with a new, higher version, and PUBLISHes the connection ID on the
//     change channel, atomically. A stale write changes nothing and gets a
//     *policy.ConflictError naming the stored version.
//   - [Backend.List] finds the connections with SCAN (on every master of a
//     Cluster) and reads each one's document and version atomically, in
//     pipelined batches. A document over [MaxDocumentBytes] (1 MiB, the
//     bound of a policy file) is not read: that connection is refused,
//     the others load.
//   - [Backend.Watch] subscribes to the change channel and calls back after
//     every (re)subscription and every notice; a broken subscription
//     returns an error, and [policy.Registry.Follow] subscribes again and
//     catches up. Follow's periodic resync covers a notice lost in between.
//
// Redis errors and timeouts match [policy.ErrUnavailable]: writes fail,
// and instances keep serving the last policy they loaded. Nothing is
// cached here, so when Redis comes back the next call works.
//
// # Keys
//
// One hash per connection, named by the connection ID inside a hash tag,
// so that all of a connection's state sits in one Cluster slot:
//
//	<prefix>:{<connection id>}   fields doc, version, seq
//	<prefix>:changes             the pub/sub channel (messages: connection IDs)
//
// Connection IDs are not secret (policy restricts them to letters, digits,
// '.', '_' and '-'); no secret and no customer data is in a key, a field
// name or a message. Documents hold secrets only sealed (`sealed: v1.…`)
// or as env and file references each instance resolves. A deleted
// connection leaves a hash holding only seq, so a connection created again
// gets versions above every earlier one.
//
// # Persistence
//
// Run Redis with appendonly yes (appendfsync always or everysec): a
// restarted Redis then has every policy written before. Without
// persistence a Redis restart empties the store, and instances keep the
// policies they had until the next successful load — which then finds an
// empty set and removes every connection. Push the policies again before
// that, or run with persistence.
//
// # Replicas and failover
//
// Redis replicates asynchronously: a write the primary has acknowledged
// but not yet sent to a replica is lost when that replica is promoted
// (Sentinel, Cluster failover) — the store then holds the version before
// it, and the next write that names the lost version is refused as a
// conflict. [Config].WaitReplicas closes that window for what it covers:
// Swap sends its script and WAIT n timeout in one pipeline to the key's
// primary and reports success only when n replicas have the write. Not
// acknowledged within WaitTimeout, the write fails with an error matching
// [policy.ErrUnavailable] — and may nonetheless have landed, on the primary
// and on fewer than n replicas, and be kept or lost by a failover. The
// caller must re-read before writing again: a retry that names the version
// it read before fails as a conflict if the write landed, which tells.
// Either way a write is whole or absent — one script on one hash, so a
// failover never leaves a document without its version or the other way
// round.
//
// What it guarantees: a write reported as done was on the primary and on
// n replicas, so a failover that promotes one of those keeps it. With one
// primary and two replicas, n=1 keeps every acknowledged write as long as
// the replica that acknowledged it is among those Sentinel can reach when
// it elects (replicas of one primary hold prefixes of one stream, and with
// equal replica-priority Sentinel promotes the most advanced), and n=2
// keeps it whichever replica is promoted, at the price of refusing every
// write while one replica is down. What it does not: WAIT does not make
// Redis strongly consistent (Redis's own documentation says so), a replica
// that restarts without persistence forgets what it acknowledged, and WAIT
// fsyncs nothing. Its cost is one replication round trip per write
// (writes are rare), and refused writes while too few replicas answer.
// BENCHMARKS.md ("Failover and replay protection") has the measured
// failover.
//
// # Example
//
//	ctx := context.Background()
//	opt, err := redis.ParseURL("redis://127.0.0.1:6379/0")
//	if err != nil {
//		log.Fatal(err)
//	}
//	opt.ContextTimeoutEnabled = true // required: Timeout must bound every call
//	client := redis.NewClient(opt)
//	defer client.Close()
//
//	backend, err := redispolicy.New(redispolicy.Config{Client: client})
//	if err != nil {
//		log.Fatal(err)
//	}
//	// 32 random bytes, the same on every instance (msgsec secret new --jwe).
//	key, err := base64.RawURLEncoding.DecodeString(os.Getenv("MSGSEC_POLICY_SEALING_KEY"))
//	if err != nil {
//		log.Fatal("MSGSEC_POLICY_SEALING_KEY: not base64url")
//	}
//	store, err := policy.NewStore(backend, policy.StoreOptions{SealingKey: key})
//	if err != nil {
//		log.Fatal(err) // a missing or short key: refuse to start
//	}
//	reg, err := policy.NewRegistryFromSource(ctx, store, policy.RegistryOptions{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer reg.Close()
//	reg.Follow(ctx, 30*time.Second)
package redispolicy
