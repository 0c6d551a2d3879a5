package redisadmin

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/admin"
	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/redisopt"
	"github.com/msgsec/msgsec/policy"
)

// ErrConfig is the Kind of every problem New reports.
var ErrConfig = errors.New("redisadmin: invalid config")

// Config configures New. The zero value means the defaults.
type Config struct {
	// Prefix starts every key: 1 to 64 printable ASCII bytes, no space or
	// braces. Zero means "msgsec:admin".
	Prefix string
	// Timeout bounds each call. Zero means 500ms; at most 30s.
	Timeout time.Duration
}

// Journal is an admin.Journal in Redis. Safe for concurrent use.
type Journal struct {
	c       redis.UniversalClient
	prefix  string
	timeout time.Duration
}

// New returns a Journal on c, reporting every problem of cfg at once.
func New(c redis.UniversalClient, cfg Config) (*Journal, error) {
	var problems []*cfgerr.Error
	switch {
	case c == nil:
		problems = append(problems, &cfgerr.Error{Field: "client", Kind: ErrConfig, Reason: "required"})
	case !redisopt.ContextTimeoutEnabled(c):
		problems = append(problems, &cfgerr.Error{Field: "client", Kind: ErrConfig, Reason: "ContextTimeoutEnabled must be true so Timeout bounds every call"})
	}
	j := &Journal{c: c, prefix: cmp.Or(cfg.Prefix, "msgsec:admin"), timeout: cmp.Or(cfg.Timeout, 500*time.Millisecond)}
	if len(j.prefix) > 64 || strings.ContainsAny(j.prefix, " {}") || strings.IndexFunc(j.prefix, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		problems = append(problems, &cfgerr.Error{Field: "Prefix", Value: cfg.Prefix, Kind: ErrConfig, Reason: "1 to 64 printable ascii bytes, no space or braces"})
	}
	if j.timeout < time.Millisecond || j.timeout > 30*time.Second {
		problems = append(problems, &cfgerr.Error{Field: "Timeout", Value: cfg.Timeout.String(), Kind: ErrConfig, Reason: "must be between 1ms and 30s (zero means 500ms)"})
	}
	if err := cfgerr.Join("redisadmin: invalid config", problems); err != nil {
		return nil, err
	}
	return j, nil
}

// String describes the journal without its client.
func (j *Journal) String() string { return "redisadmin.Journal(" + j.prefix + ")" }

func (j *Journal) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, j.timeout)
}

func unavailable(err error) error {
	return fmt.Errorf("%w: %w", policy.ErrUnavailable, err)
}

func (j *Journal) auditKey(connection string) string {
	if connection == "" {
		return j.prefix + ":audit"
	}
	return j.prefix + ":{" + connection + "}:audit"
}

// Record implements admin.Journal: the entry goes to the trail of all
// connections and to its connection's own (both trimmed to
// admin.MaxEntries), so reading one connection's newest entries reads no
// more than those.
func (j *Journal) Record(ctx context.Context, e admin.Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	ctx, cancel := j.ctx(ctx)
	defer cancel()
	_, err = j.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, key := range []string{j.auditKey(""), j.auditKey(e.Connection)} {
			p.LPush(ctx, key, b)
			p.LTrim(ctx, key, 0, admin.MaxEntries-1)
		}
		return nil
	})
	if err != nil {
		return unavailable(err)
	}
	return nil
}

// Entries implements admin.Journal.
func (j *Journal) Entries(ctx context.Context, connection string, limit int) ([]admin.Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	ctx, cancel := j.ctx(ctx)
	defer cancel()
	raw, err := j.c.LRange(ctx, j.auditKey(connection), 0, int64(min(limit, admin.MaxEntries))-1).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	var out []admin.Entry
	for _, s := range raw {
		var e admin.Entry
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			continue // not ours: skip rather than fail the whole trail
		}
		if connection == "" || e.Connection == connection {
			out = append(out, e)
		}
	}
	return out, nil
}

func (j *Journal) refusedKey(connection string, hour time.Time) string {
	return j.prefix + ":{" + connection + "}:refused:" + strconv.FormatInt(hour.Unix(), 10)
}

// addScript adds counts to one hour's sorted set, keeping at most ARGV[1]
// origins; the others' counts go to ARGV[2].
var addScript = redis.NewScript(`
local cap = tonumber(ARGV[1])
for i = 3, #ARGV, 2 do
  local o = ARGV[i]
  if o ~= ARGV[2] and not redis.call('ZSCORE', KEYS[1], o) then
    local n = redis.call('ZCARD', KEYS[1])
    if redis.call('ZSCORE', KEYS[1], ARGV[2]) then n = n - 1 end
    if n >= cap then o = ARGV[2] end
  end
  redis.call('ZINCRBY', KEYS[1], ARGV[i+1], o)
end
redis.call('EXPIRE', KEYS[1], 10800)
return 1`)

// AddRefusals implements admin.Journal.
func (j *Journal) AddRefusals(ctx context.Context, connection string, hour time.Time, counts map[string]int64) error {
	if len(counts) == 0 {
		return nil
	}
	args := []any{admin.MaxOriginsPerHour, admin.OtherOrigins}
	for o, n := range counts {
		args = append(args, o, n)
	}
	ctx, cancel := j.ctx(ctx)
	defer cancel()
	if err := addScript.Run(ctx, j.c, []string{j.refusedKey(connection, hour)}, args...).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Refusals implements admin.Journal.
func (j *Journal) Refusals(ctx context.Context, connection string, hour time.Time, limit int) ([]admin.Refusal, error) {
	ctx, cancel := j.ctx(ctx)
	defer cancel()
	zs, err := j.c.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: j.refusedKey(connection, hour), Start: 0, Stop: int64(limit - 1), Rev: true}).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]admin.Refusal, 0, len(zs))
	for _, z := range zs {
		o, _ := z.Member.(string)
		out = append(out, admin.Refusal{Origin: o, Count: int64(z.Score)})
	}
	// Redis orders equal counts by origin, descending; the console (and
	// MemoryJournal) list them ascending.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Origin < out[j].Origin
	})
	return out, nil
}
