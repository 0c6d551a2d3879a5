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
var swapScript = redis.NewScript(`
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
`)

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
	res, err := swapScript.Run(ctx, b.s.client, []string{b.key(id)},
		strconv.FormatUint(ifVersion, 10), op, doc, b.channel(), id).Slice()
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
	if doc == nil {
		return 0, nil
	}
	return v, nil
}

// List implements [policy.Backend]: it finds every connection's hash with
// SCAN (on every master of a Cluster) and reads each atomically,
// pipelined. A document larger than MaxDocumentBytes is not fetched: List
// fails with a problem matching policy.ErrInvalid, as a policy file that
// large would. Redis errors match policy.ErrUnavailable.
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
				n, _ := res[2].(int64)
				return nil, cfgerr.Join("policy: invalid", []*cfgerr.Error{{File: "store:" + id, Kind: policy.ErrSyntax,
					Reason: fmt.Sprintf("the stored document is %d bytes, larger than %d", n, MaxDocumentBytes)}})
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
