package chat

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/internal/redisopt"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// Defaults and bounds for RedisSessionsConfig.
const (
	DefaultRedisPrefix   = "msgsec"
	DefaultRedisTimeout  = 500 * time.Millisecond
	DefaultPollInterval  = 250 * time.Millisecond
	minPollInterval      = 10 * time.Millisecond
	maxPollInterval      = 5 * time.Second
	maxRedisTimeout      = 30 * time.Second
	maxRedisPrefixLength = 64
)

// RedisSessionsConfig configures NewRedisSessions. The zero value means
// the defaults.
type RedisSessionsConfig struct {
	// Prefix starts every key (as in package secretdata/redisstore):
	// 1 to 64 printable ASCII bytes, no space or braces. Default
	// DefaultRedisPrefix.
	Prefix string
	// Timeout bounds each Redis call. Default DefaultRedisTimeout, at
	// most 30s.
	Timeout time.Duration
	// PollInterval is how often a chat socket on this instance looks
	// for messages another instance added (this instance's own are pushed
	// at once). Default DefaultPollInterval, 10ms to 5s.
	PollInterval time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// RedisSessions is a SessionStore in Redis, so several chat-server
// instances behind a load balancer share the chats: a session opened on
// one gets its messages through any other, every agent view lists it, and
// it survives a restart of any instance.
//
// Layout. No byte of a connection or session ID forms a key: each
// session's keys carry SHA-256 over a label and the length-prefixed
// (connection, ID), in hex, as their Cluster hash tag, so one session's
// keys share a slot (its Lua scripts are atomic on a Redis Cluster too)
// and different sessions spread over all of them:
//
//	<prefix>:chat:index           sorted set: session hash → expiry (ms)
//	<prefix>:chat:{<64 hex>}:s    hash: the session (see below)
//	<prefix>:chat:{<64 hex>}:m    list: its messages, JSON, in order
//
// The index is the one key every session touches (Create, End and List
// read or write it, one command each, never in a script with a session's
// keys). Create reserves the session's index entry (refusing past max
// live sessions), then writes the session; End deletes the session, then
// its index entry. A step that fails after the first leaves at worst an
// index entry whose session is gone: List skips it, and it counts towards
// max until the session's expiry drops it.
//
// Values are data, never keys: connection, ID, origin and times in clear
// (the agent view lists them); the allowed cookies as JSON (public by the
// bank's policy); the browser token's verified CustomerSecretData sealed
// with a delivery.Sealer under a key derived from the store key for this
// purpose alone, bound to (connection, ID) and to the session's expiry.
// Both keys expire with the session.
//
// Every call is bounded by Timeout; when Redis does not answer, calls
// return an error wrapping ErrSessionStoreUnavailable (the Server answers
// 503) and work again as soon as Redis does: nothing is cached here.
type RedisSessions struct {
	c      redis.UniversalClient
	sealer *delivery.Sealer
	prefix string
	index  string
	tmo    time.Duration
	poll   time.Duration
	now    func() time.Time

	mu      sync.Mutex
	waiters map[string]map[chan struct{}]struct{} // this instance's streams
}

var _ SessionStore = (*RedisSessions)(nil)

// sessionSealInfo separates the session-claims sealing key from every
// other use of the store key (the secret-data Store seals with the key
// itself): a ciphertext copied between the two never opens.
const sessionSealInfo = "msgsec examples/chat redis sessions v1"

// NewRedisSessions validates cfg and returns a store on c. key is the
// 32-byte store key (MSGSEC_STORE_KEY): every instance sharing the
// sessions needs the same one. A go-redis *Client, *ClusterClient or *Ring
// must have ContextTimeoutEnabled set. It does not contact Redis.
func NewRedisSessions(c redis.UniversalClient, key []byte, cfg RedisSessionsConfig) (*RedisSessions, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: redis client is nil", ErrConfig)
	}
	if !redisopt.ContextTimeoutEnabled(c) {
		return nil, fmt.Errorf("%w: redis client needs ContextTimeoutEnabled so Timeout bounds every call", ErrConfig)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultRedisPrefix
	}
	if !validPrefix(cfg.Prefix) {
		return nil, fmt.Errorf("%w: Prefix: 1 to 64 printable ascii bytes, no space or braces", ErrConfig)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultRedisTimeout
	}
	if cfg.Timeout < time.Millisecond || cfg.Timeout > maxRedisTimeout {
		return nil, fmt.Errorf("%w: Timeout must be between 1ms and 30s", ErrConfig)
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.PollInterval < minPollInterval || cfg.PollInterval > maxPollInterval {
		return nil, fmt.Errorf("%w: PollInterval must be between 10ms and 5s", ErrConfig)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// The store key's own checks (length, not all zeros) come first.
	if _, err := delivery.NewSealer(key); err != nil {
		return nil, fmt.Errorf("%w: key: %w", ErrConfig, err)
	}
	derived, err := hkdf.Key(sha256.New, key, nil, sessionSealInfo, delivery.KeySize)
	if err != nil {
		return nil, fmt.Errorf("%w: key derivation failed", ErrConfig)
	}
	sealer, err := delivery.NewSealer(derived)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &RedisSessions{
		c: c, sealer: sealer, prefix: cfg.Prefix, index: cfg.Prefix + ":chat:index",
		tmo: cfg.Timeout, poll: cfg.PollInterval, now: cfg.Now,
		waiters: map[string]map[chan struct{}]struct{}{},
	}, nil
}

func validPrefix(p string) bool {
	if len(p) == 0 || len(p) > maxRedisPrefixLength {
		return false
	}
	for i := 0; i < len(p); i++ {
		if b := p[i]; b <= ' ' || b >= 0x7f || b == '{' || b == '}' {
			return false
		}
	}
	return true
}

const sessionKeyLabel = "msgsec/examples/chat/session/v1"

// member is the session's hash: SHA-256 over the label and the
// length-prefixed connection and ID, in hex.
func member(connection, id string) string {
	h := sha256.New()
	var n [8]byte
	h.Write([]byte(sessionKeyLabel))
	h.Write(binary.BigEndian.AppendUint64(n[:0], uint64(len(connection))))
	h.Write([]byte(connection))
	h.Write(binary.BigEndian.AppendUint64(n[:0], uint64(len(id))))
	h.Write([]byte(id))
	return hex.EncodeToString(h.Sum(nil))
}

func (r *RedisSessions) metaKey(m string) string { return r.prefix + ":chat:{" + m + "}:s" }
func (r *RedisSessions) msgsKey(m string) string { return r.prefix + ":chat:{" + m + "}:m" }

// storedMessage is a message as the list holds it; its ID is its place.
type storedMessage struct {
	From string    `json:"from"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// reserveScript drops expired index entries and adds the session's,
// unless max live sessions are held or it is there already. KEYS: index.
// ARGV: now ms, max, member, expiry ms. Returns 1 when added.
var reserveScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 0 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
return 1`)

// createScript writes the session unless it exists. KEYS: meta. ARGV: ttl
// ms, field/value pairs. Returns 1 when written.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`)

// appendScript adds messages if the session lives and stays within its
// bounds, replacing its cookies when given. KEYS: meta, msgs. ARGV: max
// messages, cookies JSON or "", max text bytes, the text bytes added,
// messages. Returns -1 no session, -2 too many, -3 too much text, else the
// count before. The text held is the meta hash's "bytes".
var appendScript = redis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then return -1 end
local n = redis.call('LLEN', KEYS[2])
if n + #ARGV - 4 > tonumber(ARGV[1]) then return -2 end
local held = tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0')
if held + tonumber(ARGV[4]) > tonumber(ARGV[3]) then return -3 end
redis.call('HINCRBY', KEYS[1], 'bytes', ARGV[4])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'cookies', ARGV[2]) end
redis.call('RPUSH', KEYS[2], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[2], ttl)
return n`)

// sinceScript returns the expiry, the first index sent and the messages
// after ARGV[1] (all when out of range), or nil without a session.
var sinceScript = redis.NewScript(`
local exp = redis.call('HGET', KEYS[1], 'expires')
if not exp then return false end
local n = redis.call('LLEN', KEYS[2])
local after = tonumber(ARGV[1])
if after < 0 or after > n then after = 0 end
local out = {exp, tostring(after)}
for _, m in ipairs(redis.call('LRANGE', KEYS[2], after, -1)) do out[#out + 1] = m end
return out`)

// Create implements SessionStore.
func (r *RedisSessions) Create(ctx context.Context, s *Session, max int) error {
	now := r.now()
	ttl := s.Expires.Sub(now)
	if ttl <= 0 {
		return ErrNoSession
	}
	fields := []any{"connection", s.Connection, "id", s.ID, "origin", s.Origin,
		"created", strconv.FormatInt(s.Created.UnixNano(), 10), "expires", strconv.FormatInt(s.Expires.UnixNano(), 10)}
	if s.Cookies != nil {
		b, err := json.Marshal(s.Cookies)
		if err != nil {
			return err
		}
		fields = append(fields, "cookies", b)
	}
	if s.BrowserClaims != nil {
		sealed, err := r.sealer.SealClaims(s.Connection, s.ID, s.BrowserClaims, s.Expires)
		if err != nil {
			return err
		}
		fields = append(fields, "claims", sealed)
	}
	m := member(s.Connection, s.ID)
	ctx, cancel := context.WithTimeout(ctx, r.tmo)
	defer cancel()
	ok, err := reserveScript.Run(ctx, r.c, []string{r.index}, now.UnixMilli(), max, m, s.Expires.UnixMilli()).Int()
	if err != nil {
		return unavailable("create", err)
	}
	if ok != 1 {
		return ErrSessionsFull
	}
	args := append([]any{ttl.Milliseconds() + 1}, fields...)
	ok, err = createScript.Run(ctx, r.c, []string{r.metaKey(m)}, args...).Int()
	if err != nil {
		// The reservation stays (the session may have been written): List
		// skips it if not, and it expires with the session.
		return unavailable("create", err)
	}
	if ok != 1 {
		// The session's keys exist without their index entry (a Create
		// that failed half-way, with the same ID): give the entry back.
		r.c.ZRem(ctx, r.index, m)
		return ErrSessionsFull
	}
	return nil
}

// Get implements SessionStore.
func (r *RedisSessions) Get(ctx context.Context, connection, id string) (*Session, error) {
	ctx, cancel := context.WithTimeout(ctx, r.tmo)
	defer cancel()
	h, err := r.c.HGetAll(ctx, r.metaKey(member(connection, id))).Result()
	if err != nil {
		return nil, unavailable("get", err)
	}
	return r.decode(connection, id, h)
}

// decode turns a stored hash into a Session, checking that it is the one
// asked for and still live. Stored bytes that do not decode fail closed.
func (r *RedisSessions) decode(connection, id string, h map[string]string) (*Session, error) {
	if len(h) == 0 {
		return nil, ErrNoSession
	}
	created, err1 := strconv.ParseInt(h["created"], 10, 64)
	expires, err2 := strconv.ParseInt(h["expires"], 10, 64)
	if err1 != nil || err2 != nil || h["connection"] != connection || h["id"] != id {
		return nil, errCorruptSession
	}
	now := r.now()
	s := &Session{ID: id, Connection: connection, Origin: h["origin"],
		Created: time.Unix(0, created), Expires: time.Unix(0, expires)}
	if !now.Before(s.Expires) {
		return nil, ErrNoSession
	}
	if c, ok := h["cookies"]; ok {
		if err := json.Unmarshal([]byte(c), &s.Cookies); err != nil {
			return nil, errCorruptSession
		}
	}
	if sealed, ok := h["claims"]; ok {
		claims, err := r.sealer.OpenClaims(connection, id, []byte(sealed), now)
		if err != nil {
			// Tampered, another key, or past the sealed expiry: never
			// shown, and the session is not trusted either.
			return nil, errCorruptSession
		}
		s.BrowserClaims = claims
	}
	return s, nil
}

// errCorruptSession: stored bytes that do not decode (or open) for the
// session asked for. It answers 500, never shows them.
var errCorruptSession = errors.New("chat: stored session cannot be read")

// Append implements SessionStore.
func (r *RedisSessions) Append(ctx context.Context, connection, id string, cookies []Cookie, msgs []Message, b Bounds) error {
	args := make([]any, 0, 4+len(msgs))
	args = append(args, b.Messages, "", b.Bytes, textBytes(msgs))
	if cookies != nil {
		b, err := json.Marshal(cookies)
		if err != nil {
			return err
		}
		args[1] = b
	}
	for _, m := range msgs {
		b, err := json.Marshal(storedMessage{From: m.From, Text: m.Text, At: m.At})
		if err != nil {
			return err
		}
		args = append(args, b)
	}
	m := member(connection, id)
	ctx, cancel := context.WithTimeout(ctx, r.tmo)
	defer cancel()
	n, err := appendScript.Run(ctx, r.c, []string{r.metaKey(m), r.msgsKey(m)}, args...).Int()
	switch {
	case err != nil:
		return unavailable("append", err)
	case n == -1:
		return ErrNoSession
	case n == -2:
		return ErrTooManyMessages
	case n == -3:
		return ErrTooMuchText
	}
	r.wake(m)
	return nil
}

// endScript deletes a live session and its messages. KEYS: meta, msgs.
// Returns 0 without a session.
var endScript = redis.NewScript(`
if redis.call('PTTL', KEYS[1]) <= 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1`)

// End implements SessionStore, then drops the session's index entry (if
// that fails, List skips the entry and the session's expiry drops it).
// Sockets on other instances notice within PollInterval.
func (r *RedisSessions) End(ctx context.Context, connection, id string) error {
	m := member(connection, id)
	ctx, cancel := context.WithTimeout(ctx, r.tmo)
	defer cancel()
	n, err := endScript.Run(ctx, r.c, []string{r.metaKey(m), r.msgsKey(m)}).Int()
	switch {
	case err != nil:
		return unavailable("end", err)
	case n == 0:
		return ErrNoSession
	}
	r.c.ZRem(ctx, r.index, m)
	r.wake(m)
	return nil
}

// Messages implements SessionStore.
func (r *RedisSessions) Messages(ctx context.Context, connection, id string, after int) ([]Message, time.Time, error) {
	m := member(connection, id)
	ctx, cancel := context.WithTimeout(ctx, r.tmo)
	defer cancel()
	res, err := sinceScript.Run(ctx, r.c, []string{r.metaKey(m), r.msgsKey(m)}, after).StringSlice()
	if errors.Is(err, redis.Nil) {
		return nil, time.Time{}, ErrNoSession
	}
	if err != nil {
		return nil, time.Time{}, unavailable("messages", err)
	}
	if len(res) < 2 {
		return nil, time.Time{}, errCorruptSession
	}
	exp, err1 := strconv.ParseInt(res[0], 10, 64)
	first, err2 := strconv.Atoi(res[1])
	if err1 != nil || err2 != nil {
		return nil, time.Time{}, errCorruptSession
	}
	expires := time.Unix(0, exp)
	if !r.now().Before(expires) {
		return nil, time.Time{}, ErrNoSession
	}
	msgs, err := decodeMessages(res[2:], first)
	return msgs, expires, err
}

// decodeMessages numbers stored messages from first+1.
func decodeMessages(raw []string, first int) ([]Message, error) {
	out := make([]Message, 0, len(raw))
	for i, s := range raw {
		var sm storedMessage
		if err := json.Unmarshal([]byte(s), &sm); err != nil {
			return nil, errCorruptSession
		}
		out = append(out, Message{ID: first + i + 1, From: sm.From, Text: sm.Text, At: sm.At})
	}
	return out, nil
}

// List implements SessionStore: the page's entries of the index (newest
// first: every session lives as long, so the latest expiry is the newest),
// each read in one pipeline. Entries whose keys expired since are skipped.
func (r *RedisSessions) List(ctx context.Context, p Page) ([]Session, int, error) {
	ctx, cancel := context.WithTimeout(ctx, r.tmo)
	defer cancel()
	now := strconv.FormatInt(r.now().UnixMilli(), 10)
	total, err := r.c.ZCount(ctx, r.index, now, "+inf").Result()
	if err != nil {
		return nil, 0, unavailable("list", err)
	}
	rng := &redis.ZRangeBy{Min: now, Max: "+inf", Offset: int64(max(p.Offset, 0))}
	if p.Limit > 0 {
		rng.Count = int64(p.Limit)
	} else if p.Offset > 0 {
		rng.Count = -1 // Redis needs a count with an offset: -1 is all
	}
	members, err := r.c.ZRevRangeByScore(ctx, r.index, rng).Result()
	if err != nil {
		return nil, 0, unavailable("list", err)
	}
	first := int64(0)
	if p.LastMessages > 0 {
		first = -int64(p.LastMessages)
	}
	// One script per session (its keys share a slot, so each session is
	// read atomically), pipelined: a Cluster client sends each node its
	// sessions' scripts.
	cmds := make([]*redis.Cmd, len(members))
	_, err = r.c.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for i, m := range members {
			cmds[i] = pl.Eval(ctx, readSessionScript, []string{r.metaKey(m), r.msgsKey(m)}, first)
		}
		return nil
	})
	if err != nil {
		return nil, 0, unavailable("list", err)
	}
	out := make([]Session, 0, len(members))
	for i, m := range members {
		h, n, raw, ok := sessionReply(cmds[i].Val())
		if !ok {
			return nil, 0, errCorruptSession
		}
		if len(h) == 0 || member(h["connection"], h["id"]) != m {
			continue // expired since the index was read, or not ours
		}
		s, err := r.decode(h["connection"], h["id"], h)
		if errors.Is(err, ErrNoSession) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		if s.Messages, err = decodeMessages(raw, max(int(n)-len(raw), 0)); err != nil {
			return nil, 0, err
		}
		out = append(out, *s)
	}
	sortSessions(out)
	return out, int(total), nil
}

// readSessionScript reads one session: its hash (flat), its message count
// and its messages from ARGV[1] (a negative index counts from the end).
// KEYS: meta, msgs.
const readSessionScript = `
return {redis.call('HGETALL', KEYS[1]), redis.call('LLEN', KEYS[2]),
  redis.call('LRANGE', KEYS[2], tonumber(ARGV[1]), -1)}`

// sessionReply decodes readSessionScript's reply.
func sessionReply(v any) (h map[string]string, n int64, msgs []string, ok bool) {
	parts, _ := v.([]any)
	if len(parts) != 3 {
		return nil, 0, nil, false
	}
	flat, ok1 := parts[0].([]any)
	n, ok2 := parts[1].(int64)
	list, ok3 := parts[2].([]any)
	if !ok1 || !ok2 || !ok3 || len(flat)%2 != 0 {
		return nil, 0, nil, false
	}
	h = make(map[string]string, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		k, okk := flat[i].(string)
		val, okv := flat[i+1].(string)
		if !okk || !okv {
			return nil, 0, nil, false
		}
		h[k] = val
	}
	msgs = make([]string, len(list))
	for i, x := range list {
		s, oks := x.(string)
		if !oks {
			return nil, 0, nil, false
		}
		msgs[i] = s
	}
	return h, n, msgs, true
}

// Watch implements SessionStore: messages appended through this instance
// signal at once; those appended through another are found by polling
// every PollInterval.
func (r *RedisSessions) Watch(connection, id string) (<-chan struct{}, func()) {
	m := member(connection, id)
	ch := make(chan struct{}, 1)
	r.mu.Lock()
	if r.waiters[m] == nil {
		r.waiters[m] = map[chan struct{}]struct{}{}
	}
	r.waiters[m][ch] = struct{}{}
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(r.poll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				signal(ch)
			}
		}
	}()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			close(done)
			r.mu.Lock()
			defer r.mu.Unlock()
			delete(r.waiters[m], ch)
			if len(r.waiters[m]) == 0 {
				delete(r.waiters, m)
			}
		})
	}
}

func (r *RedisSessions) wake(m string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ch := range r.waiters[m] {
		signal(ch)
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default: // already signalled
	}
}

// RedisError reports a Redis call that did not answer. It wraps
// ErrSessionStoreUnavailable and the cause; it never names a key or an
// ID. Op is "create", "get", "append", "messages" or "list".
type RedisError struct {
	Op  string
	Err error
}

func (e *RedisError) Error() string {
	return "chat: redis sessions: " + e.Op + ": " + ErrSessionStoreUnavailable.Error() + ": " + e.Err.Error()
}

// Unwrap returns ErrSessionStoreUnavailable and the cause.
func (e *RedisError) Unwrap() []error { return []error{ErrSessionStoreUnavailable, e.Err} }

func unavailable(op string, err error) error { return &RedisError{Op: op, Err: err} }
