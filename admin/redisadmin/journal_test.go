package redisadmin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/admin"
	"github.com/msgsec/msgsec/admin/redisadmin"
	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/policy"
)

func redisClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	require.NoError(t, err)
	opt.ContextTimeoutEnabled = true
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// TestJournalsAgree runs the same sequence on the Redis journal (one
// server, and a 3-primary Cluster without a CROSSSLOT error) and the
// in-memory one: the console reads the same answers from each.
func TestJournalsAgree(t *testing.T) {
	c := redisClient(t, testenv.StartRedis(t).URL())
	rj, err := redisadmin.New(c, redisadmin.Config{Prefix: "t:" + t.Name()})
	require.NoError(t, err)
	cl := testenv.StartCluster(t)
	cj, err := redisadmin.New(cl.Client(t), redisadmin.Config{Prefix: "t:" + t.Name()})
	require.NoError(t, err)
	t.Cleanup(func() {
		n, first := cl.CrossSlotErrors()
		require.Zero(t, n, "CROSSSLOT errors on the Cluster (first: %v)", first)
	})
	ctx := context.Background()
	hour := time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)
	for name, j := range map[string]admin.Journal{"redis": rj, "redis cluster": cj, "memory": admin.NewMemoryJournal()} {
		t.Run(name, func(t *testing.T) {
			for i := range 5 {
				require.NoError(t, j.Record(ctx, admin.Entry{Time: hour.Add(time.Duration(i) * time.Second), Principal: "alice", Connection: []string{"a", "b"}[i%2], Action: fmt.Sprint("change ", i)}))
			}
			es, err := j.Entries(ctx, "", 3)
			require.NoError(t, err)
			require.Equal(t, []string{"change 4", "change 3", "change 2"}, actions(es), "newest first, limited")
			es, err = j.Entries(ctx, "b", 10)
			require.NoError(t, err)
			require.Equal(t, []string{"change 3", "change 1"}, actions(es))

			require.NoError(t, j.AddRefusals(ctx, "a", hour, map[string]int64{"https://p.example": 3, "https://q.example": 1}))
			require.NoError(t, j.AddRefusals(ctx, "a", hour, map[string]int64{"https://q.example": 5}))
			rs, err := j.Refusals(ctx, "a", hour, 10)
			require.NoError(t, err)
			require.Equal(t, []admin.Refusal{{Origin: "https://q.example", Count: 6}, {Origin: "https://p.example", Count: 3}}, rs)
			require.NoError(t, j.AddRefusals(ctx, "t", hour, map[string]int64{"https://b.example": 2, "https://a.example": 2, "https://c.example": 2}))
			rs, err = j.Refusals(ctx, "t", hour, 10)
			require.NoError(t, err)
			require.Equal(t, []string{"https://a.example", "https://b.example", "https://c.example"}, []string{rs[0].Origin, rs[1].Origin, rs[2].Origin}, "ties in origin order")
			rs, err = j.Refusals(ctx, "a", hour.Add(-time.Hour), 10)
			require.NoError(t, err)
			require.Empty(t, rs, "another hour")
			rs, err = j.Refusals(ctx, "b", hour, 10)
			require.NoError(t, err)
			require.Empty(t, rs, "another connection")

			// Bounded: past MaxOriginsPerHour distinct origins, the rest are
			// counted together.
			many := map[string]int64{}
			for i := range admin.MaxOriginsPerHour + 50 {
				many[fmt.Sprintf("https://s%d.example", i)] = 1
			}
			require.NoError(t, j.AddRefusals(ctx, "c", hour, many))
			rs, err = j.Refusals(ctx, "c", hour, 100000)
			require.NoError(t, err)
			require.Len(t, rs, admin.MaxOriginsPerHour+1)
			require.Equal(t, admin.Refusal{Origin: admin.OtherOrigins, Count: 50}, rs[0])
		})
	}
	keys, err := c.Keys(ctx, "*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		if strings.Contains(k, "refused") {
			require.Regexp(t, `^t:TestJournalsAgree:\{[a-ct]\}:refused:\d+$`, k, "one hash tag per connection")
			ttl, err := c.TTL(ctx, k).Result()
			require.NoError(t, err)
			require.Greater(t, ttl, 2*time.Hour, "counts expire")
		}
	}
}

func actions(es []admin.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

func TestJournalUnavailable(t *testing.T) {
	r := testenv.StartRedis(t)
	j, err := redisadmin.New(redisClient(t, r.URL()), redisadmin.Config{Timeout: 200 * time.Millisecond})
	require.NoError(t, err)
	r.Stop()
	ctx := context.Background()
	require.ErrorIs(t, j.Record(ctx, admin.Entry{Action: "x"}), policy.ErrUnavailable)
	_, err = j.Entries(ctx, "", 1)
	require.ErrorIs(t, err, policy.ErrUnavailable)
	require.ErrorIs(t, j.AddRefusals(ctx, "a", time.Now(), map[string]int64{"https://a.example": 1}), policy.ErrUnavailable)
	_, err = j.Refusals(ctx, "a", time.Now(), 1)
	require.ErrorIs(t, err, policy.ErrUnavailable)
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := redisadmin.New(nil, redisadmin.Config{Prefix: "a {b}", Timeout: time.Hour})
	var fields []string
	for e := range cfgerr.All(err) {
		fields = append(fields, e.Field)
		require.ErrorIs(t, e, redisadmin.ErrConfig)
	}
	require.Equal(t, []string{"client", "Prefix", "Timeout"}, fields)

	unbounded := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer unbounded.Close()
	_, err = redisadmin.New(unbounded, redisadmin.Config{})
	require.ErrorContains(t, err, "ContextTimeoutEnabled")
}
