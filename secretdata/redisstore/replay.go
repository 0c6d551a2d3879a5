package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/secretdata"
)

// ReplayCache is a secretdata.ReplayCache in Redis, shared by every
// chat-server instance that uses the same Redis and Prefix: a token
// accepted by one instance is refused by all the others until it expires.
//
// Each Record is one atomic command, SET key 1 NX PX ttl, so two instances
// racing on the same token cannot both win. The TTL is the time left until
// the expiry Record is given, plus secretdata.MaxLeeway, measured on this
// process's clock (a relative TTL, so Redis's own clock does not matter),
// and at least one second.
//
// The expiry a Verifier gives is already the token's exp plus its own
// leeway. The extra secretdata.MaxLeeway is for the other instances, each of
// which accepts the token until exp plus its own leeway on its own clock:
// the entry outlives that as long as the instance's leeway minus the
// recording one's, plus how far its clock lags the recording one's, is at
// most MaxLeeway. So with synchronised clocks no mix of allowed leeways
// opens a replay window, and instances with one leeway may be up to
// MaxLeeway apart. The margin is not configurable (a shorter one would
// reopen that window); it keeps each small key a few minutes longer.
//
// It is stateless apart from the client: when Redis is down every Record
// fails closed with an error wrapping secretdata.ErrReplayCheckUnavailable,
// and the first Record after Redis returns succeeds again (go-redis redials
// by itself). Entries live in Redis memory: if Redis restarts without
// persistence, tokens accepted before the restart could be replayed until
// they expire — enable AOF or RDB persistence, or accept a window of at
// most the token lifetime.
//
// If go-redis retries a SET whose reply was lost, the retry finds the key
// and the token is refused as replayed: a lost reply can refuse a genuine
// token, never admit a replayed one.
type ReplayCache struct {
	c redis.UniversalClient
	s settings
}

var _ secretdata.ReplayCache = (*ReplayCache)(nil)

// NewReplayCache validates cfg and returns a ReplayCache on c. A go-redis
// *Client, *ClusterClient or *Ring must have ContextTimeoutEnabled set, so
// that cfg.Timeout bounds every call. It does not contact Redis. Every
// problem of c and cfg is reported at once (see ErrConfig).
func NewReplayCache(c redis.UniversalClient, cfg Config) (*ReplayCache, error) {
	s, problems := cfg.validate(c)
	if err := cfgerr.Join("redisstore: invalid replay cache configuration", problems); err != nil {
		return nil, err
	}
	return &ReplayCache{c: c, s: s}, nil
}

// Record implements secretdata.ReplayCache: nil the first time (issuer,
// jti) is seen, secretdata.ErrReplayed after, and an error wrapping
// secretdata.ErrReplayCheckUnavailable (and Redis's error) when Redis does
// not answer within the Timeout.
func (r *ReplayCache) Record(ctx context.Context, issuer, jti string, expires time.Time) error {
	ttl := max(expires.Sub(r.s.now())+secretdata.MaxLeeway, minReplayTTL)
	ctx, cancel := context.WithTimeout(ctx, r.s.timeout)
	defer cancel()
	key := replayKey(r.s.prefix, issuer, jti)
	if r.s.waitReplicas > 0 {
		return r.recordAndWait(ctx, key, ttl)
	}
	set, err := r.c.SetNX(ctx, key, 1, ttl).Result()
	if err != nil {
		return &unavailableError{op: "record", kind: secretdata.ErrReplayCheckUnavailable, err: err}
	}
	if !set {
		return secretdata.ErrReplayed
	}
	return nil
}

// recordAndWait is Record with WaitReplicas: SET NX GET and WAIT in one
// pipeline, so both run on one connection of the key's primary (WAIT
// counts the replicas that have that connection's writes). The value set
// is a fresh nonce: if go-redis retries the pipeline after a lost reply,
// the retry finds this call's own nonce — the entry was written by an
// attempt whose WAIT this call never saw — and the token is refused as
// unavailable, not as replayed (and never accepted).
func (r *ReplayCache) recordAndWait(ctx context.Context, key string, ttl time.Duration) (err error) {
	defer func() {
		if cc, ok := r.c.(*redis.ClusterClient); ok && err != nil && !errors.Is(err, secretdata.ErrReplayed) {
			cc.ReloadState(ctx) // lazy: a failover or a moved slot is seen by the next call
		}
	}()
	var pipe redis.Pipeliner
	switch c := r.c.(type) {
	case *redis.ClusterClient:
		node, err := c.MasterForKey(ctx, key)
		if err != nil {
			return &unavailableError{op: "record", kind: secretdata.ErrReplayCheckUnavailable, err: err}
		}
		pipe = node.Pipeline()
	case *redis.Client:
		pipe = c.Pipeline()
	default:
		// NewReplayCache refuses other client types with WaitReplicas.
		return &unavailableError{op: "record", kind: secretdata.ErrReplayCheckUnavailable, err: fmt.Errorf("WAIT needs a *redis.Client or *redis.ClusterClient, not %T", r.c)}
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	mine := string(nonce[:])
	set := pipe.Do(ctx, "set", key, mine, "nx", "get", "px", ttl.Milliseconds())
	acked := pipe.Do(ctx, "wait", r.s.waitReplicas, r.s.waitTimeout.Milliseconds())
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return &unavailableError{op: "record", kind: secretdata.ErrReplayCheckUnavailable, err: err}
	}
	switch prev, err := set.Text(); {
	case err == nil && prev == mine:
		return &unavailableError{op: "record", kind: secretdata.ErrReplayCheckUnavailable,
			err: errors.New("the reply to this record was lost and retried: its replication is unknown")}
	case err == nil:
		return secretdata.ErrReplayed // another Record set it first
	case !errors.Is(err, redis.Nil):
		return &unavailableError{op: "record", kind: secretdata.ErrReplayCheckUnavailable, err: err}
	}
	if n, err := acked.Int64(); err != nil || n < int64(r.s.waitReplicas) {
		// Recorded on the primary but not (yet) on enough replicas: a
		// failover now could lose it, so the token is not accepted.
		return &unavailableError{op: "record", kind: secretdata.ErrReplayCheckUnavailable,
			err: fmt.Errorf("the entry reached %d of %d replicas within %v", n, r.s.waitReplicas, r.s.waitTimeout)}
	}
	return nil
}
