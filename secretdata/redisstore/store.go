package redisstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// Store is a delivery.Store in Redis: every chat-server instance sharing
// the Redis, the Prefix and the key sees the same sessions, and a restarted
// instance finds what it stored before.
//
// Values are sealed with a delivery.Sealer (AES-256-GCM, the key derived
// with HKDF, (connection, session) as additional data) before they leave
// the process, so Redis — its memory, its persistence files, its replicas,
// anyone with MONITOR — only ever sees opaque bytes under a hashed key
// (see Config for the layout). The storage deadline is sealed too: data
// Redis kept past its TTL still does not open.
//
// Each call is one command (SET … PX, GET, DEL) bounded by the Timeout.
// When Redis does not answer, calls fail closed with an error wrapping
// delivery.ErrStoreUnavailable (and Redis's error); nothing is cached in the process,
// so the store works again as soon as Redis does.
type Store struct {
	c      redis.UniversalClient
	s      settings
	sealer *delivery.Sealer
}

var _ delivery.Store = (*Store)(nil)

// NewStore validates its arguments and returns a Store on c. key is the
// 32-byte sealing key (see delivery.NewSealer): every instance sharing the
// data needs the same key; keep it out of source and logs. A go-redis
// *Client, *ClusterClient or *Ring must have ContextTimeoutEnabled set. It
// does not contact Redis. Every problem of c, key and cfg is reported at
// once (see ErrConfig); the key is never quoted.
func NewStore(c redis.UniversalClient, key []byte, cfg Config) (*Store, error) {
	s, problems := cfg.validate(c)
	if cfg.WaitReplicas != 0 {
		problems = append(problems, cfgProblem("WaitReplicas", strconv.Itoa(cfg.WaitReplicas), "replay cache only: a Store does not wait for replicas"))
	}
	sealer, err := delivery.NewSealer(key)
	for p := range cfgerr.All(err) {
		problems = append(problems, cfgProblem("key", p.Value, p.Reason))
	}
	if err := cfgerr.Join("redisstore: invalid store configuration", problems); err != nil {
		return nil, err
	}
	return &Store{c: c, s: s, sealer: sealer}, nil
}

// Put implements delivery.Store: it seals claims and stores them for ttl,
// replacing what the session had.
func (st *Store) Put(ctx context.Context, connection, session string, claims *secretdata.Claims, ttl time.Duration) error {
	if !delivery.ValidID(connection) || !delivery.ValidID(session) {
		return delivery.ErrInvalidID
	}
	if ttl <= 0 {
		return cfgerr.Join("redisstore: invalid argument",
			[]*cfgerr.Error{{Field: "ttl", Value: ttl.String(), Reason: "must be positive", Kind: delivery.ErrConfig}})
	}
	sealed, err := st.sealer.SealClaims(connection, session, claims, st.s.now().Add(ttl)) // refuses nil claims
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, st.s.timeout)
	defer cancel()
	if err := st.c.Set(ctx, storeKey(st.s.prefix, connection, session), sealed, ttl).Err(); err != nil {
		return st.unavailable("put", err)
	}
	return nil
}

// Get implements delivery.Store.
func (st *Store) Get(ctx context.Context, connection, session string) (*secretdata.Claims, error) {
	if !delivery.ValidID(connection) || !delivery.ValidID(session) {
		return nil, delivery.ErrInvalidID
	}
	ctx, cancel := context.WithTimeout(ctx, st.s.timeout)
	defer cancel()
	sealed, err := st.c.Get(ctx, storeKey(st.s.prefix, connection, session)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, delivery.ErrNotFound
	}
	if err != nil {
		return nil, st.unavailable("get", err)
	}
	defer clear(sealed)
	return st.sealer.OpenClaims(connection, session, sealed, st.s.now())
}

// Delete implements delivery.Store. Deleting what is not there is not an
// error; a Redis that does not answer is.
func (st *Store) Delete(ctx context.Context, connection, session string) error {
	if !delivery.ValidID(connection) || !delivery.ValidID(session) {
		return delivery.ErrInvalidID
	}
	ctx, cancel := context.WithTimeout(ctx, st.s.timeout)
	defer cancel()
	if err := st.c.Del(ctx, storeKey(st.s.prefix, connection, session)).Err(); err != nil {
		return st.unavailable("delete", err)
	}
	return nil
}

func (st *Store) unavailable(op string, err error) error {
	return &unavailableError{op: op, kind: delivery.ErrStoreUnavailable, err: err}
}
