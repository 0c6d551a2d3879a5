package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// The topologies below (a Redis Cluster, a Sentinel-managed primary with
// replicas) run as processes of the test's own, on free loopback ports,
// in temporary directories, and are stopped when the test ends. Every
// wait polls with a deadline; none sleeps and hopes.

// RedisCLI returns the path of redis-cli (Debian's redis-tools, a
// dependency of redis-server), or skips/fails.
func RedisCLI(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-cli")
	if err != nil {
		SkipOrFail(t, "redis-cli is not installed (make test installs it when run as root)")
	}
	return p
}

// sentinelCommand returns the command that runs a sentinel on conf:
// redis-sentinel (Debian's redis-sentinel package) when installed, else
// redis-server --sentinel (the same program).
func sentinelCommand(t testing.TB, conf string) []string {
	t.Helper()
	if p, err := exec.LookPath("redis-sentinel"); err == nil {
		return []string{p, conf}
	}
	return []string{RedisServer(t), conf, "--sentinel"}
}

// FreePort returns a loopback TCP port nothing listens on at the moment.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// node is one redis-server or redis-sentinel process on a loopback port.
type node struct {
	t    testing.TB
	argv []string
	port int
	log  string

	mu  sync.Mutex
	cmd *exec.Cmd
}

func (n *node) addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

// start runs the process and waits until it listens (10 s at most).
func (n *node) start() {
	n.t.Helper()
	f, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(n.t, err)
	cmd := exec.Command(n.argv[0], n.argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Start()
	_ = f.Close()
	require.NoError(n.t, err, "start %s", filepath.Base(n.argv[0]))
	n.mu.Lock()
	n.cmd = cmd
	n.mu.Unlock()
	waitListen(n.t, n.addr(), 10*time.Second)
}

// stop ends the process with sig (SIGKILL after 10 s) and waits for it.
// Stopping a stopped node does nothing.
func (n *node) stop(sig syscall.Signal) {
	n.mu.Lock()
	cmd := n.cmd
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func (n *node) running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil
}

// logTail is the end of the node's log, for a failed test's output.
func (n *node) logTail() string {
	b, _ := os.ReadFile(n.log)
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

func waitListen(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.FailNowf(t, "no listener", "nothing listens on %s after %v", addr, timeout)
}

// poll runs f every 50 ms until it returns nil and fails the test with its
// last error once timeout has passed.
func poll(t testing.TB, timeout time.Duration, what string, f func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := f(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			require.FailNowf(t, "timed out", "%s after %v: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// plainClient is a go-redis client on one node, as msgsec's adapters
// require it (ContextTimeoutEnabled), closed when the test ends.
func plainClient(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(nodeOptions(addr))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func nodeOptions(addr string) *redis.Options {
	return &redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1, DialTimeout: time.Second}
}

// clients keeps one client per address for a topology's own polling, so
// a long wait does not open a connection per attempt.
type clients struct {
	t  testing.TB
	mu sync.Mutex
	m  map[string]*redis.Client
	s  map[string]*redis.SentinelClient
}

func newClients(t testing.TB) *clients {
	cs := &clients{t: t, m: map[string]*redis.Client{}, s: map[string]*redis.SentinelClient{}}
	t.Cleanup(func() {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		for _, c := range cs.m {
			_ = c.Close()
		}
		for _, c := range cs.s {
			_ = c.Close()
		}
	})
	return cs
}

func (cs *clients) node(addr string) *redis.Client {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.m[addr]; ok {
		return c
	}
	c := redis.NewClient(nodeOptions(addr))
	cs.m[addr] = c
	return c
}

func (cs *clients) sentinel(addr string) *redis.SentinelClient {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.s[addr]; ok {
		return c
	}
	c := redis.NewSentinelClient(nodeOptions(addr))
	cs.s[addr] = c
	return c
}

// infoField is one field of an INFO section ("" when absent).
func infoField(info, field string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// dumpLogsOnFailure prints each node's log tail when the test has failed.
func dumpLogsOnFailure(t testing.TB, nodes func() []*node) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, n := range nodes() {
			t.Logf("--- %s on %s:\n%s", filepath.Base(n.argv[0]), n.addr(), n.logTail())
		}
	})
}

// ---------------------------------------------------------------------------
// Cluster

// Cluster is a Redis Cluster of three primaries (no replicas) on loopback,
// the 16384 slots split between them by redis-cli --cluster create.
type Cluster struct {
	t     testing.TB
	cs    *clients
	nodes []*node

	crossSlot crossSlotHook
}

// StartCluster starts three redis-server processes with cluster mode on
// (each on a free port and cluster-bus port, in a directory of its own,
// without persistence), joins them with redis-cli --cluster create, and
// waits until every node reports cluster_state:ok. It skips (or fails,
// under MSGSEC_REQUIRE_INTEGRATION=1) without redis-server or redis-cli.
// The processes stop when the test ends.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bin := RedisServer(t)
	cli := RedisCLI(t)
	cl := &Cluster{t: t, cs: newClients(t)}
	dumpLogsOnFailure(t, func() []*node { return cl.nodes })
	for range 3 {
		dir := t.TempDir()
		port, bus := FreePort(t), FreePort(t)
		n := &node{t: t, port: port, log: filepath.Join(dir, "redis.log"), argv: []string{bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--daemonize", "no",
			"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"), "--cluster-node-timeout", "2000",
			"--dir", dir, "--save", "", "--appendonly", "no", "--loglevel", "warning"}}
		n.start()
		t.Cleanup(func() { n.stop(syscall.SIGTERM) })
		cl.nodes = append(cl.nodes, n)
	}
	args := []string{"--cluster", "create"}
	args = append(args, cl.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
	require.NoError(t, err, "redis-cli --cluster create: %s", out)
	for _, n := range cl.nodes {
		c := cl.cs.node(n.addr())
		poll(t, 30*time.Second, "cluster_state:ok on "+n.addr(), func(ctx context.Context) error {
			info, err := c.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if s := infoField(info, "cluster_state"); s != "ok" {
				return fmt.Errorf("cluster_state:%s", s)
			}
			if k := infoField(info, "cluster_known_nodes"); k != "3" {
				return fmt.Errorf("cluster_known_nodes:%s", k)
			}
			return nil
		})
	}
	// Every node must also agree on who serves every slot before a client
	// relies on CLUSTER SLOTS.
	poll(t, 30*time.Second, "every node maps all 16384 slots", func(ctx context.Context) error {
		for _, n := range cl.nodes {
			slots, err := cl.cs.node(n.addr()).ClusterSlots(ctx).Result()
			if err != nil {
				return err
			}
			covered := 0
			for _, s := range slots {
				covered += int(s.End-s.Start) + 1
			}
			if covered != 16384 {
				return fmt.Errorf("%s maps %d slots", n.addr(), covered)
			}
		}
		return nil
	})
	return cl
}

// Addrs are the primaries' host:port addresses.
func (cl *Cluster) Addrs() []string {
	out := make([]string, len(cl.nodes))
	for i, n := range cl.nodes {
		out[i] = n.addr()
	}
	return out
}

// URL is the Cluster as internal/redisurl names it:
// redis-cluster://host1:port,host2:port,host3:port.
func (cl *Cluster) URL() string { return "redis-cluster://" + strings.Join(cl.Addrs(), ",") }

// NodeURL is a redis:// URL of one node (a single configuration endpoint).
func (cl *Cluster) NodeURL(i int) string { return "redis://" + cl.nodes[i].addr() + "/0" }

// Client returns a ClusterClient on the Cluster, configured as msgsec's
// adapters require (ContextTimeoutEnabled), that counts every CROSSSLOT
// error it sees (CrossSlotErrors). It is closed when the test ends.
func (cl *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), ContextTimeoutEnabled: true})
	c.AddHook(&cl.crossSlot)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// CountCrossSlot makes c count its CROSSSLOT errors in CrossSlotErrors
// too (for a client built elsewhere, e.g. from a URL).
func (cl *Cluster) CountCrossSlot(c redis.UniversalClient) { c.AddHook(&cl.crossSlot) }

// CrossSlotErrors is how many commands, pipelines or transactions of the
// Cluster's clients failed with CROSSSLOT (from Redis, or refused by
// go-redis before sending a cross-slot transaction), and one such error.
func (cl *Cluster) CrossSlotErrors() (int, error) { return cl.crossSlot.count() }

// Slots maps the Cluster hash slot of each key matching pattern, on every
// primary, to the number of such keys (CLUSTER KEYSLOT as Redis computes
// it).
func (cl *Cluster) Slots(t testing.TB, pattern string) map[int64]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := map[int64]int{}
	for _, n := range cl.nodes {
		c := cl.cs.node(n.addr())
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			slot, err := c.ClusterKeySlot(ctx, iter.Val()).Result()
			require.NoError(t, err)
			out[slot]++
		}
		require.NoError(t, iter.Err())
	}
	return out
}

// Keys lists the keys matching pattern on every primary.
func (cl *Cluster) Keys(t testing.TB, pattern string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []string
	for _, n := range cl.nodes {
		iter := cl.cs.node(n.addr()).Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			out = append(out, iter.Val())
		}
		require.NoError(t, iter.Err())
	}
	return out
}

// crossSlotHook counts CROSSSLOT errors.
type crossSlotHook struct {
	mu    sync.Mutex
	n     int
	first error
}

func (h *crossSlotHook) count() (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n, h.first
}

func (h *crossSlotHook) note(errs ...error) {
	for _, err := range errs {
		if err != nil && (errors.Is(err, redis.ErrCrossSlot) || strings.Contains(err.Error(), "CROSSSLOT")) {
			h.mu.Lock()
			h.n++
			if h.first == nil {
				h.first = err
			}
			h.mu.Unlock()
		}
	}
}

func (h *crossSlotHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *crossSlotHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.note(err)
		return err
	}
}

func (h *crossSlotHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if err != nil && (errors.Is(err, redis.ErrCrossSlot) || strings.Contains(err.Error(), "CROSSSLOT")) {
			h.note(err) // the pipeline's own error, once
			return err
		}
		for _, c := range cmds {
			h.note(c.Err())
		}
		return err
	}
}

// ---------------------------------------------------------------------------
// Sentinel

// DefaultMasterName is the master set StartSentinel's sentinels monitor.
const DefaultMasterName = "msgsec-primary"

// Sentinel is a primary with two replicas and three sentinels monitoring
// them (quorum 2) on loopback, ready for failover tests: KillPrimary takes
// the primary away, WaitForNewPrimary waits until the sentinels have
// promoted a replica, and RestartNode brings a killed node back (the
// sentinels make it a replica of the new primary).
type Sentinel struct {
	t         testing.TB
	cs        *clients
	master    string
	data      []*node // data[0] is the first primary
	sentinels []*node
}

// SentinelOptions tune StartSentinel. The zero value is the default.
type SentinelOptions struct {
	// DownAfter is how long a primary must be silent before a sentinel
	// deems it down (down-after-milliseconds). Default 1s.
	DownAfter time.Duration
	// FailoverTimeout is sentinel's failover-timeout. Default 5s.
	FailoverTimeout time.Duration
	// Persistent runs the data nodes with an append-only file synced at
	// every write, so a killed node restarts with what it had.
	Persistent bool
	// ServerArgs are added to every data node's command line (e.g.
	// "--min-replicas-to-write", "1").
	ServerArgs []string
}

// StartSentinel starts a primary, two replicas of it (replicaof) and three
// sentinels monitoring it with quorum 2, down-after-milliseconds 1000 and
// a short failover-timeout, and waits until the replicas are in sync and
// every sentinel knows both replicas and the two other sentinels, so a
// failover can start as soon as the primary dies. It skips (or fails,
// under MSGSEC_REQUIRE_INTEGRATION=1) without redis-server. Everything
// stops when the test ends.
func StartSentinel(t testing.TB) *Sentinel { return StartSentinelWith(t, SentinelOptions{}) }

// StartSentinelWith is StartSentinel with options.
func StartSentinelWith(t testing.TB, o SentinelOptions) *Sentinel {
	t.Helper()
	bin := RedisServer(t)
	if o.DownAfter <= 0 {
		o.DownAfter = time.Second
	}
	if o.FailoverTimeout <= 0 {
		o.FailoverTimeout = 5 * time.Second
	}
	s := &Sentinel{t: t, cs: newClients(t), master: DefaultMasterName}
	dumpLogsOnFailure(t, func() []*node { return append(append([]*node(nil), s.data...), s.sentinels...) })
	var primaryPort int
	for i := range 3 {
		dir := t.TempDir()
		port := FreePort(t)
		argv := []string{bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--daemonize", "no",
			"--dir", dir, "--save", "", "--loglevel", "notice",
			// A replica's full sync starts at once (Redis waits 5 s by
			// default for more replicas to share a diskless transfer).
			"--repl-diskless-sync-delay", "0"}
		if o.Persistent {
			argv = append(argv, "--appendonly", "yes", "--appendfsync", "always")
		} else {
			argv = append(argv, "--appendonly", "no")
		}
		if i == 0 {
			primaryPort = port
		} else {
			argv = append(argv, "--replicaof", "127.0.0.1", strconv.Itoa(primaryPort))
		}
		argv = append(argv, o.ServerArgs...)
		n := &node{t: t, port: port, log: filepath.Join(dir, "redis.log"), argv: argv}
		n.start()
		t.Cleanup(func() { n.stop(syscall.SIGTERM) })
		s.data = append(s.data, n)
	}
	for _, n := range s.data[1:] {
		c := s.cs.node(n.addr())
		poll(t, 30*time.Second, "replica "+n.addr()+" in sync", func(ctx context.Context) error {
			info, err := c.Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			if st := infoField(info, "master_link_status"); st != "up" {
				return fmt.Errorf("master_link_status:%s", st)
			}
			return nil
		})
	}
	for range 3 {
		dir := t.TempDir()
		port := FreePort(t)
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\nloglevel notice\n"+
			"sentinel monitor %s 127.0.0.1 %d 2\n"+
			"sentinel down-after-milliseconds %s %d\n"+
			"sentinel failover-timeout %s %d\n"+
			"sentinel parallel-syncs %s 1\n",
			port, dir, s.master, primaryPort, s.master, o.DownAfter.Milliseconds(),
			s.master, o.FailoverTimeout.Milliseconds(), s.master)
		require.NoError(t, os.WriteFile(conf, []byte(text), 0o600)) // sentinel rewrites it
		n := &node{t: t, port: port, log: filepath.Join(dir, "sentinel.log"), argv: sentinelCommand(t, conf)}
		n.start()
		t.Cleanup(func() { n.stop(syscall.SIGTERM) })
		s.sentinels = append(s.sentinels, n)
	}
	for _, n := range s.sentinels {
		sc := s.cs.sentinel(n.addr())
		poll(t, 30*time.Second, "sentinel "+n.addr()+" sees 2 replicas and 2 other sentinels", func(ctx context.Context) error {
			reps, err := sc.Replicas(ctx, s.master).Result()
			if err != nil {
				return err
			}
			up := 0
			for _, r := range reps {
				if !strings.Contains(r["flags"], "down") && !strings.Contains(r["flags"], "disconnected") {
					up++
				}
			}
			if up != 2 {
				return fmt.Errorf("%d replicas up", up)
			}
			others, err := sc.Sentinels(ctx, s.master).Result()
			if err != nil {
				return err
			}
			if len(others) != 2 {
				return fmt.Errorf("%d other sentinels", len(others))
			}
			return nil
		})
	}
	return s
}

// MasterName is the master set the sentinels monitor.
func (s *Sentinel) MasterName() string { return s.master }

// SentinelAddrs are the three sentinels' host:port addresses.
func (s *Sentinel) SentinelAddrs() []string {
	out := make([]string, len(s.sentinels))
	for i, n := range s.sentinels {
		out[i] = n.addr()
	}
	return out
}

// NodeAddrs are the three data nodes' addresses (the first primary
// first), whatever their role now.
func (s *Sentinel) NodeAddrs() []string {
	out := make([]string, len(s.data))
	for i, n := range s.data {
		out[i] = n.addr()
	}
	return out
}

// URL is the topology as internal/redisurl names it:
// redis-sentinel://s1,s2,s3/<master name>.
func (s *Sentinel) URL() string {
	return "redis-sentinel://" + strings.Join(s.SentinelAddrs(), ",") + "/" + s.master
}

// Client is a failover client (go-redis NewFailoverClient) on the master
// set, as msgsec's adapters require it; closed when the test ends.
func (s *Sentinel) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.master, SentinelAddrs: s.SentinelAddrs(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// NodeClient is a plain client on one data node (by address), e.g. to
// read a replica directly; closed when the test ends.
func (s *Sentinel) NodeClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	return plainClient(t, addr)
}

// Primary is the primary's address as a majority of the running sentinels
// name it now.
func (s *Sentinel) Primary(t testing.TB) string {
	t.Helper()
	var addr string
	poll(t, 10*time.Second, "sentinels agree on a primary", func(ctx context.Context) error {
		a, err := s.agreedPrimary(ctx)
		addr = a
		return err
	})
	return addr
}

func (s *Sentinel) agreedPrimary(ctx context.Context) (string, error) {
	votes := map[string]int{}
	for _, n := range s.sentinels {
		if !n.running() {
			continue
		}
		hp, err := s.cs.sentinel(n.addr()).GetMasterAddrByName(ctx, s.master).Result()
		if err != nil || len(hp) != 2 {
			continue
		}
		votes[net.JoinHostPort(hp[0], hp[1])]++
	}
	for a, v := range votes {
		if v >= 2 {
			return a, nil
		}
	}
	return "", fmt.Errorf("no majority: %v", votes)
}

func (s *Sentinel) nodeAt(addr string) *node {
	for _, n := range s.data {
		if n.addr() == addr {
			return n
		}
	}
	return nil
}

// KillPrimary SIGKILLs the current primary (no shutdown, no last sync to
// its replicas, as a crash) and returns its address.
func (s *Sentinel) KillPrimary(t testing.TB) string {
	t.Helper()
	addr := s.Primary(t)
	n := s.nodeAt(addr)
	require.NotNil(t, n, "primary %s is not one of ours", addr)
	n.stop(syscall.SIGKILL)
	return addr
}

// WaitForNewPrimary waits (up to timeout) until a majority of the
// sentinels name a primary other than old and that node answers as a
// primary (INFO replication role:master), and returns its address.
func (s *Sentinel) WaitForNewPrimary(t testing.TB, old string, timeout time.Duration) string {
	t.Helper()
	var addr string
	poll(t, timeout, "a new primary other than "+old, func(ctx context.Context) error {
		a, err := s.agreedPrimary(ctx)
		if err != nil {
			return err
		}
		if a == old {
			return errors.New("the sentinels still name " + old)
		}
		info, err := s.cs.node(a).Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if r := infoField(info, "role"); r != "master" {
			return fmt.Errorf("%s is role:%s", a, r)
		}
		addr = a
		return nil
	})
	return addr
}

// StopNode SIGKILLs the data node at addr (a replica, say).
func (s *Sentinel) StopNode(t testing.TB, addr string) {
	t.Helper()
	n := s.nodeAt(addr)
	require.NotNil(t, n, "%s is not one of ours", addr)
	n.stop(syscall.SIGKILL)
}

// RestartNode starts the stopped data node at addr again on its port, as
// a replica of the primary the sentinels name now (as the configuration
// file Sentinel rewrites would make it), and waits until it listens. The
// sentinels see it back at their next look (within about 10 s); wait for
// what the test needs (its replication link, a Sentinel's replica list).
func (s *Sentinel) RestartNode(t testing.TB, addr string) {
	t.Helper()
	n := s.nodeAt(addr)
	require.NotNil(t, n, "%s is not one of ours", addr)
	require.False(t, n.running(), "%s is running", addr)
	primary := s.Primary(t)
	argv := n.argv
	if primary != addr {
		host, port, err := net.SplitHostPort(primary)
		require.NoError(t, err)
		argv = append(withoutReplicaOf(argv), "--replicaof", host, port)
	}
	n.mu.Lock()
	n.argv, n.t = argv, t
	n.mu.Unlock()
	n.start()
}

// withoutReplicaOf is argv without a --replicaof host port.
func withoutReplicaOf(argv []string) []string {
	out := make([]string, 0, len(argv))
	for i := 0; i < len(argv); i++ {
		if argv[i] == "--replicaof" && i+2 < len(argv) {
			i += 2
			continue
		}
		out = append(out, argv[i])
	}
	return out
}

// PauseNode stops the data node at addr with SIGSTOP: it neither answers
// nor reads its replication link until ResumeNode (a stalled replica, or
// one cut off by a partition). A node still paused when the test ends is
// resumed first, so it can stop. Note that on loopback the kernel keeps
// accepting what its primary sends into the socket's buffer while it is
// paused, and the node applies all of it once resumed: to keep writes
// from reaching a paused replica, cut its link too (DropReplicaLinks).
func (s *Sentinel) PauseNode(t testing.TB, addr string) {
	t.Helper()
	n := s.nodeAt(addr)
	require.NotNil(t, n, "%s is not one of ours", addr)
	n.mu.Lock()
	cmd := n.cmd
	n.mu.Unlock()
	require.NotNil(t, cmd, "%s is not running", addr)
	require.NoError(t, cmd.Process.Signal(syscall.SIGSTOP))
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGCONT) }) // runs before the node's own stop
}

// ResumeNode continues a node PauseNode stopped (SIGCONT).
func (s *Sentinel) ResumeNode(t testing.TB, addr string) {
	t.Helper()
	n := s.nodeAt(addr)
	require.NotNil(t, n, "%s is not one of ours", addr)
	n.mu.Lock()
	cmd := n.cmd
	n.mu.Unlock()
	require.NotNil(t, cmd, "%s is not running", addr)
	require.NoError(t, cmd.Process.Signal(syscall.SIGCONT))
}

// Replicas are the addresses of the running data nodes other than the
// primary the sentinels name now.
func (s *Sentinel) Replicas(t testing.TB) []string {
	t.Helper()
	primary := s.Primary(t)
	var out []string
	for _, n := range s.data {
		if n.addr() != primary && n.running() {
			out = append(out, n.addr())
		}
	}
	return out
}

// DropReplicaLinks closes the primary's connections to its replicas
// (CLIENT KILL TYPE replica) and returns how many it closed. A running
// replica reconnects at its next replication tick (within about a
// second); a paused one only once resumed. Writes the primary takes in
// between are acknowledged to their clients and kept in its backlog, but
// reach no replica: if the primary dies first, they are lost.
func (s *Sentinel) DropReplicaLinks(t testing.TB) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := s.cs.node(s.Primary(t)).Do(ctx, "client", "kill", "type", "replica").Int()
	require.NoError(t, err, "CLIENT KILL TYPE replica")
	return n
}

// WaitReplicasSynced waits (up to timeout) until the primary the
// sentinels name has want replicas whose link is up and which have
// acknowledged a write made now (SET and WAIT on one connection).
func (s *Sentinel) WaitReplicasSynced(t testing.TB, want int, timeout time.Duration) {
	t.Helper()
	poll(t, timeout, fmt.Sprintf("%d replicas in sync", want), func(ctx context.Context) error {
		primary, err := s.agreedPrimary(ctx)
		if err != nil {
			return err
		}
		c := s.cs.node(primary)
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if r := infoField(info, "role"); r != "master" {
			return fmt.Errorf("%s is role:%s", primary, r)
		}
		if n := infoField(info, "connected_slaves"); n != strconv.Itoa(want) {
			return fmt.Errorf("connected_slaves:%s", n)
		}
		for i := range want {
			if st := infoField(info, "slave"+strconv.Itoa(i)); !strings.Contains(st, "state=online") {
				return fmt.Errorf("slave%d: %s", i, st)
			}
		}
		// A write, then WAIT for it, on one connection (a pipeline).
		pipe := c.Pipeline()
		pipe.Set(ctx, "testenv:sync-probe", time.Now().UnixNano(), time.Minute)
		acked := pipe.Do(ctx, "wait", want, 500)
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		n, err := acked.Int()
		if err != nil {
			return err
		}
		if n < want {
			return fmt.Errorf("%d of %d replicas acknowledged", n, want)
		}
		return nil
	})
}
