package redispolicy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/policy"
)

// Backend is a [policy.Backend] in Redis, with the Watch method a
// [policy.Store] forwards to a Registry's Follow. It is safe for
// concurrent use, and holds nothing but its settings: every instance of a
// fleet sees the same documents.
type Backend struct {
	s settings
}

// New returns a Backend on cfg.Client. Every problem with cfg is reported
// at once (an error matching ErrConfig). New does not contact Redis.
func New(cfg Config) (*Backend, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	return &Backend{s: s}, nil
}

// Key layout: one hash per connection, whose name carries the connection
// ID as its Cluster hash tag (IDs are not secret, and policy allows only
// letters, digits, '.', '_' and '-' in them):
//
//	<prefix>:{<connection id>}  doc      the policy document (YAML)
//	                            version  its version (decimal)
//	                            seq      the highest version ever given
//
// A deleted connection keeps a hash with seq alone (a tombstone), so a
// re-created one gets a version above every earlier one; List skips it.
// Every change is announced on <prefix>:changes with the connection ID.
func (b *Backend) key(id string) string { return b.s.prefix + ":{" + id + "}" }

func (b *Backend) channel() string { return b.s.prefix + ":changes" }

// idOf returns the connection ID in key, or false for a key that is not
// one of ours.
func (b *Backend) idOf(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, b.s.prefix+":{")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "}")
	return id, ok && validID(id)
}

// swapScript is Swap's compare-and-set: one script on one key, so it is
// atomic, also in a Cluster. The stored version is compared as a string
// (no float rounding). ARGV: ifVersion, "put" or "del", doc, channel, id.
// It returns {1, new version} or {0, stored version}.
const swapSource = `
local key = KEYS[1]
local have = '0'
if redis.call('HEXISTS', key, 'doc') == 1 then
  have = redis.call('HGET', key, 'version') or '0'
end
if have ~= ARGV[1] or (ARGV[2] == 'del' and have == '0') then
  return {0, have}
end
local seq = tonumber(redis.call('HGET', key, 'seq')) or 0
local cur = tonumber(have) or 0
if cur > seq then seq = cur end
local v = string.format('%d', seq + 1)
if ARGV[2] == 'del' then
  redis.call('HDEL', key, 'doc', 'version')
  redis.call('HSET', key, 'seq', v)
else
  redis.call('HSET', key, 'doc', ARGV[3], 'version', v, 'seq', v)
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return {1, v}
`

var swapScript = redis.NewScript(swapSource)

// readScript reads one connection's hash atomically: {version, doc} or,
// for a document over the bound, {version, false, its length} without
// sending it; {} for a tombstone.
const readScript = `
local key = KEYS[1]
if redis.call('HEXISTS', key, 'doc') == 0 then return {} end
local n = redis.call('HSTRLEN', key, 'doc')
local v = redis.call('HGET', key, 'version') or '0'
if n > tonumber(ARGV[1]) then return {v, false, n} end
return {v, redis.call('HGET', key, 'doc')}
`

// Swap implements [policy.Backend]: it replaces (or, for a nil doc,
// deletes) connection id's document if its version is ifVersion, with one
// Lua script, and announces the change. It returns a *policy.ConflictError
// when the version differs, and an error matching policy.ErrUnavailable
// when Redis does not answer (then nothing was written — or, after a
// timeout, the write may have landed: re-read).
//
// With Config.WaitReplicas, the script and a WAIT run in one pipeline on
// one connection of the key's primary, and a write is reported as done
// only once that many replicas have it; otherwise the error matches
// policy.ErrUnavailable and the write may have landed on the primary (and
// fewer replicas): re-read before writing again.
func (b *Backend) Swap(ctx context.Context, id string, ifVersion uint64, doc []byte) (uint64, error) {
	if !validID(id) {
		return 0, &cfgerr.Error{Field: "id", Value: id, Kind: policy.ErrValue, Reason: "not a connection id"}
	}
	if len(doc) > MaxDocumentBytes {
		return 0, &cfgerr.Error{File: "store:" + id, Kind: policy.ErrSyntax, Reason: fmt.Sprintf("the document is larger than %d bytes", MaxDocumentBytes)}
	}
	op := "put"
	if doc == nil {
		op = "del"
	}
	ctx, cancel := context.WithTimeout(ctx, b.s.timeout)
	defer cancel()
	key := b.key(id)
	args := []any{strconv.FormatUint(ifVersion, 10), op, doc, b.channel(), id}
	var (
		res   []any
		acked int64
		err   error
	)
	if b.s.waitReplicas > 0 {
		res, acked, err = b.swapAndWait(ctx, key, args)
	} else {
		res, err = swapScript.Run(ctx, b.s.client, []string{key}, args...).Slice()
	}
	if err != nil {
		return 0, unavailable("swap", err)
	}
	if len(res) != 2 {
		return 0, unavailable("swap", errors.New("unexpected script reply"))
	}
	ok, _ := res[0].(int64)
	vs, _ := res[1].(string)
	v, perr := strconv.ParseUint(vs, 10, 64)
	if ok != 1 {
		// A stored version that is not a number (written by hand) cannot
		// be named by any write: Have stays 0.
		if perr != nil {
			v = 0
		}
		return 0, &policy.ConflictError{ID: id, Want: ifVersion, Have: v}
	}
	if perr != nil {
		return 0, unavailable("swap", errors.New("unexpected script reply"))
	}
	if b.s.waitReplicas > 0 && acked < int64(b.s.waitReplicas) {
		// Written on the primary but not (yet) on enough replicas: a
		// failover now could lose it, so it is not reported as done.
		return 0, unavailable("swap", fmt.Errorf("the write reached %d of %d replicas within %v; it may nonetheless have landed: re-read",
			acked, b.s.waitReplicas, b.s.waitTimeout))
	}
	if doc == nil {
		return 0, nil
	}
	return v, nil
}

// swapAndWait runs the swap script and WAIT in one pipeline, so both run
// on one connection of the key's primary (WAIT counts the replicas that
// have that connection's writes), and returns the script's reply and the
// number of replicas that acknowledged. A primary that does not have the
// script cached (a replica just promoted) answers NOSCRIPT without running
// it; the script is then sent whole.
func (b *Backend) swapAndWait(ctx context.Context, key string, args []any) (res []any, acked int64, err error) {
	var c *redis.Client
	switch cl := b.s.client.(type) {
	case *redis.ClusterClient:
		defer func() {
			if err != nil {
				cl.ReloadState(ctx) // lazy: a failover or a moved slot is seen by the next write
			}
		}()
		if c, err = cl.MasterForKey(ctx, key); err != nil {
			return nil, 0, err
		}
	case *redis.Client:
		c = cl
	default:
		// New refuses other client types with WaitReplicas.
		return nil, 0, fmt.Errorf("WAIT needs a *redis.Client or *redis.ClusterClient, not %T", b.s.client)
	}
	run := func(script func(redis.Pipeliner) *redis.Cmd) (*redis.Cmd, *redis.Cmd, error) {
		pipe := c.Pipeline()
		swap := script(pipe)
		wait := pipe.Do(ctx, "wait", b.s.waitReplicas, b.s.waitTimeout.Milliseconds())
		_, err := pipe.Exec(ctx)
		return swap, wait, err
	}
	swap, wait, err := run(func(p redis.Pipeliner) *redis.Cmd {
		return p.EvalSha(ctx, swapScript.Hash(), []string{key}, args...)
	})
	if err != nil && redis.HasErrorPrefix(swap.Err(), "NOSCRIPT") {
		swap, wait, err = run(func(p redis.Pipeliner) *redis.Cmd {
			return p.Eval(ctx, swapSource, []string{key}, args...)
		})
	}
	if err != nil {
		return nil, 0, err
	}
	if res, err = swap.Slice(); err != nil {
		return nil, 0, err
	}
	if acked, err = wait.Int64(); err != nil {
		return nil, 0, err // the script ran: its replication is unknown
	}
	return res, acked, nil
}

// List implements [policy.Backend]: it finds every connection's hash with
// SCAN (on every master of a Cluster) and reads each atomically,
// pipelined. A document larger than MaxDocumentBytes is not fetched: its
// Record has a nil Doc, which the Store refuses as a policy file that
// large would be, for that connection only. Redis errors match
// policy.ErrUnavailable.
func (b *Backend) List(ctx context.Context) (map[string]policy.Record, error) {
	ctx, cancel := context.WithTimeout(ctx, b.s.timeout)
	defer cancel()
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, c redis.Cmdable) error {
		var found []string
		iter := c.ScanType(ctx, 0, b.s.prefix+":{*}", 1000, "hash").Iterator()
		for iter.Next(ctx) {
			found = append(found, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return err
		}
		mu.Lock()
		keys = append(keys, found...)
		mu.Unlock()
		return nil
	}
	var err error
	if cc, ok := b.s.client.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, b.s.client)
	}
	if err != nil {
		return nil, unavailable("list", err)
	}
	ids := make([]string, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if id, ok := b.idOf(k); ok && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	out := make(map[string]policy.Record, len(ids))
	const batch = 256
	limit := strconv.Itoa(MaxDocumentBytes)
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		cmds := make([]*redis.Cmd, len(part))
		_, err := b.s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range part {
				cmds[i] = p.Eval(ctx, readScript, []string{b.key(id)}, limit)
			}
			return nil
		})
		if err != nil {
			return nil, unavailable("list", err)
		}
		for i, id := range part {
			res, err := cmds[i].Slice()
			if err != nil {
				return nil, unavailable("list", err)
			}
			if len(res) == 0 {
				continue // a tombstone
			}
			vs, _ := res[0].(string)
			v, _ := strconv.ParseUint(vs, 10, 64) // not a number (by hand): 0
			if len(res) == 3 {
				// Too large to read: the Record says so with a nil Doc, and
				// the Store refuses this connection alone.
				out[id] = policy.Record{Version: v}
				continue
			}
			doc, _ := res[1].(string)
			out[id] = policy.Record{Doc: []byte(doc), Version: v}
		}
	}
	return out, nil
}

// Watch calls changed once Redis confirms the subscription to the change
// channel, and again at every change notice, until ctx ends (then it
// returns nil). When the subscription breaks — Redis stops, the network
// drops, a health-check ping gets no answer — it returns an error matching
// policy.ErrUnavailable; a Registry's Follow calls it again, and the new
// subscription's changed() catches up on what the gap missed.
func (b *Backend) Watch(ctx context.Context, changed func()) error {
	ps := b.s.client.Subscribe(ctx) // subscribes below, so the first confirmation is read here
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() }) // unblocks Receive
	defer stop()
	if err := ps.Subscribe(ctx, b.channel()); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return unavailable("watch", err)
	}
	// A quiet channel is checked with a PING every healthEvery; a second
	// silent interval in a row means the connection is gone.
	const healthEvery = 5 * time.Second
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, healthEvery)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged {
				pinged = true
				if err := ps.Ping(ctx); err == nil {
					continue
				}
			}
			return unavailable("watch", err)
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				changed() // (re)subscribed: catch up on what came before
			}
		case *redis.Message:
			changed()
		}
	}
}
