package redispolicy_test

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/policy"
)

// BenchmarkPropagation: three instances (Registries, each with its own
// Redis client) follow one real Redis; each op is 200 writes that
// alternately add and remove an origin, and for every write the time from
// Put's return to the moment each instance's Get shows the new policy
// (polled tightly). p50, p99 and max over every (write, instance) pair are
// reported in milliseconds. Goal: p99 ≤ 1s (pub/sub, not the resync: it is
// an hour here).
//
//	./scripts/with-services.sh go test -run '^$' -bench Propagation -benchtime 1x ./policy/redispolicy
func BenchmarkPropagation(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, prefix := sharedRedis(b)
	s := newStore(b, newBackend(b, c, prefix))
	v, err := s.Put(ctx, connPolicy(conn, bankSite), 0)
	require.NoError(b, err)
	var regs []*policy.Registry
	for range 3 {
		in := newInstance(b, ctx, newStore(b, newBackend(b, newClient(b, testenv.RedisURL(b)), prefix)), time.Hour)
		regs = append(regs, in.reg)
	}
	time.Sleep(100 * time.Millisecond) // every instance subscribed
	p, v, err := s.Get(ctx, conn)
	require.NoError(b, err)
	const writes = 200
	var lat []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range writes {
			want := i%2 == 0
			p.AllowedDomains = []string{bankSite}
			if want {
				p.AllowedDomains = append(p.AllowedDomains, newSite)
			}
			v, err = s.Put(ctx, p, v)
			if err != nil {
				b.Fatal(err)
			}
			done := time.Now()
			seen := make([]bool, len(regs))
			left := len(regs)
			for left > 0 {
				for j, r := range regs {
					if seen[j] {
						continue
					}
					if c, ok := r.Get(conn); ok && c.Origins().Allows(newSite) == want {
						seen[j] = true
						left--
						lat = append(lat, time.Since(done))
					}
				}
				if time.Since(done) > 10*time.Second {
					b.Fatalf("write %d did not reach every instance in 10s", i)
				}
				runtime.Gosched()
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(0, "ns/op") // one op is 200 writes: the latencies above are the figures
}
