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

// Cluster is a Redis Cluster of three primaries on loopback (each with
// ClusterOptions.ReplicasPerPrimary replicas), the 16384 slots split
// between them by redis-cli --cluster create.
type Cluster struct {
	t     testing.TB
	cs    *clients
	o     ClusterOptions
	nodes []*node

	crossSlot crossSlotHook
}

// ClusterOptions tune StartClusterWith. The zero value is StartCluster's
// Cluster: three primaries, no replica.
type ClusterOptions struct {
	// ReplicasPerPrimary is how many replicas each of the three primaries
	// has (redis-cli --cluster create --cluster-replicas).
	ReplicasPerPrimary int
	// NodeTimeout is cluster-node-timeout: how long a primary must be
	// unreachable before its replica may be promoted. Default 1s with
	// replicas (a failover takes about 2 s), 2s without.
	NodeTimeout time.Duration
}

// StartCluster starts three redis-server processes with cluster mode on
// (each on a free port and cluster-bus port, in a directory of its own,
// without persistence), joins them with redis-cli --cluster create, and
// waits until every node reports cluster_state:ok. It skips (or fails,
// under MSGSEC_REQUIRE_INTEGRATION=1) without redis-server or redis-cli.
// The processes stop when the test ends.
func StartCluster(t testing.TB) *Cluster { return StartClusterWith(t, ClusterOptions{}) }

// StartClusterWith is StartCluster with options. With replicas it starts
// 3×(1+ReplicasPerPrimary) nodes and also waits until every replica's link
// is up and has acknowledged a write of its primary (WaitHealthy), so a
// failover can start as soon as a primary dies.
func StartClusterWith(t testing.TB, o ClusterOptions) *Cluster {
	t.Helper()
	bin := RedisServer(t)
	cli := RedisCLI(t)
	if o.ReplicasPerPrimary < 0 {
		o.ReplicasPerPrimary = 0
	}
	if o.NodeTimeout <= 0 {
		o.NodeTimeout = 2 * time.Second
		if o.ReplicasPerPrimary > 0 {
			o.NodeTimeout = time.Second
		}
	}
	cl := &Cluster{t: t, cs: newClients(t), o: o}
	dumpLogsOnFailure(t, func() []*node { return cl.nodes })
	for range 3 * (1 + o.ReplicasPerPrimary) {
		dir := t.TempDir()
		port, bus := FreePort(t), FreePort(t)
		n := &node{t: t, port: port, log: filepath.Join(dir, "redis.log"), argv: []string{bin,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--daemonize", "no",
			"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", strconv.FormatInt(o.NodeTimeout.Milliseconds(), 10),
			// A replica's full sync starts at once (see StartSentinelWith).
			"--repl-diskless-sync-delay", "0",
			"--dir", dir, "--save", "", "--appendonly", "no", "--loglevel", "warning"}}
		n.start()
		t.Cleanup(func() { n.stop(syscall.SIGTERM) })
		cl.nodes = append(cl.nodes, n)
	}
	args := []string{"--cluster", "create"}
	args = append(args, cl.Addrs()...)
	args = append(args, "--cluster-replicas", strconv.Itoa(o.ReplicasPerPrimary), "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
	require.NoError(t, err, "redis-cli --cluster create: %s", out)
	cl.WaitHealthy(t, 30*time.Second)
	return cl
}

// WaitHealthy waits (up to timeout) until every running node reports
// cluster_state:ok and knows every node, every running node maps all 16384
// slots, each slot range to a primary and ReplicasPerPrimary replicas,
// and (with replicas) every primary's replicas are online and have
// acknowledged a write made now (SET and WAIT on one connection).
func (cl *Cluster) WaitHealthy(t testing.TB, timeout time.Duration) {
	t.Helper()
	want := cl.o.ReplicasPerPrimary
	poll(t, timeout, "a healthy cluster", func(ctx context.Context) error {
		primaries := map[string]bool{}
		var short error // a slot range short of replicas
		for _, n := range cl.nodes {
			if !n.running() {
				continue
			}
			c := cl.cs.node(n.addr())
			info, err := c.ClusterInfo(ctx).Result()
			if err != nil {
				return fmt.Errorf("%s: %w", n.addr(), err)
			}
			if s := infoField(info, "cluster_state"); s != "ok" {
				return fmt.Errorf("%s: cluster_state:%s", n.addr(), s)
			}
			if k := infoField(info, "cluster_known_nodes"); k != strconv.Itoa(len(cl.nodes)) {
				return fmt.Errorf("%s: cluster_known_nodes:%s", n.addr(), k)
			}
			slots, err := c.ClusterSlots(ctx).Result()
			if err != nil {
				return fmt.Errorf("%s: %w", n.addr(), err)
			}
			covered := 0
			for _, s := range slots {
				covered += int(s.End-s.Start) + 1
				primaries[s.Nodes[0].Addr] = true
				if len(s.Nodes) != 1+want && short == nil {
					short = fmt.Errorf("%s maps slots %d-%d to %d nodes", n.addr(), s.Start, s.End, len(s.Nodes))
				}
			}
			if covered != 16384 {
				return fmt.Errorf("%s maps %d slots", n.addr(), covered)
			}
		}
		if len(primaries) != 3 {
			return fmt.Errorf("%d primaries named", len(primaries))
		}
		// The probe writes also make the replicas' offsets non-zero, which
		// CLUSTER SLOTS needs before it lists them (Redis 7).
		for p := range primaries {
			if want == 0 {
				break
			}
			if err := cl.replicasSynced(ctx, p, want); err != nil {
				return err
			}
		}
		return short
	})
}

// replicasSynced checks that primary has want online replicas that
// acknowledge a write made now.
func (cl *Cluster) replicasSynced(ctx context.Context, primary string, want int) error {
	c := cl.cs.node(primary)
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if r := infoField(info, "role"); r != "master" {
		return fmt.Errorf("%s is role:%s", primary, r)
	}
	if n := infoField(info, "connected_slaves"); n != strconv.Itoa(want) {
		return fmt.Errorf("%s: connected_slaves:%s", primary, n)
	}
	for i := range want {
		if st := infoField(info, "slave"+strconv.Itoa(i)); !strings.Contains(st, "state=online") {
			return fmt.Errorf("%s: slave%d: %s", primary, i, st)
		}
	}
	key, err := cl.probeKey(ctx, c)
	if err != nil {
		return err
	}
	pipe := c.Pipeline()
	pipe.Set(ctx, key, time.Now().UnixNano(), time.Minute)
	acked := pipe.Do(ctx, "wait", want, 500)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%s: %w", primary, err)
	}
	n, err := acked.Int()
	if err != nil {
		return err
	}
	if n < want {
		return fmt.Errorf("%s: %d of %d replicas acknowledged", primary, n, want)
	}
	return nil
}

// probeKey is a key of a slot the primary c serves now.
func (cl *Cluster) probeKey(ctx context.Context, c *redis.Client) (string, error) {
	id, err := c.ClusterMyID(ctx).Result()
	if err != nil {
		return "", err
	}
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		return "", err
	}
	for i := range 10000 {
		k := "testenv:sync-probe:{" + strconv.Itoa(i) + "}"
		s := Slot(k)
		for _, r := range slots {
			if int(r.Start) <= s && s <= int(r.End) && len(r.Nodes) > 0 && r.Nodes[0].ID == id {
				return k, nil
			}
		}
	}
	return "", errors.New("no probe key for " + id)
}

// Slot is the Cluster hash slot of key (CRC16 of its hash tag, or of the
// whole key, modulo 16384), as Redis computes it.
func Slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

// slotNodes is the primary (first) and the replicas serving slot, as the
// running nodes agree on it.
func (cl *Cluster) slotNodes(ctx context.Context, slot int) ([]string, error) {
	var agreed []string
	for _, n := range cl.nodes {
		if !n.running() {
			continue
		}
		slots, err := cl.cs.node(n.addr()).ClusterSlots(ctx).Result()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.addr(), err)
		}
		var got []string
		for _, r := range slots {
			if int(r.Start) <= slot && slot <= int(r.End) {
				for _, rn := range r.Nodes {
					got = append(got, rn.Addr)
				}
			}
		}
		if len(got) == 0 {
			return nil, fmt.Errorf("%s maps no node to slot %d", n.addr(), slot)
		}
		if agreed == nil {
			agreed = got
		} else if agreed[0] != got[0] {
			return nil, fmt.Errorf("slot %d: %s names %s, another node %s", slot, n.addr(), got[0], agreed[0])
		}
	}
	if agreed == nil {
		return nil, errors.New("no node running")
	}
	return agreed, nil
}

// PrimaryFor is the address of the primary serving key's slot, as every
// running node names it.
func (cl *Cluster) PrimaryFor(t testing.TB, key string) string {
	t.Helper()
	var addr string
	poll(t, 10*time.Second, "the nodes agree on the primary of "+key, func(ctx context.Context) error {
		ns, err := cl.slotNodes(ctx, Slot(key))
		if err == nil {
			addr = ns[0]
		}
		return err
	})
	return addr
}

// NodesFor are the addresses of the nodes serving key's slot: its primary
// first, then its replicas (those CLUSTER SLOTS lists, not failed).
func (cl *Cluster) NodesFor(t testing.TB, key string) []string {
	t.Helper()
	var out []string
	poll(t, 10*time.Second, "the nodes agree on the nodes of "+key, func(ctx context.Context) error {
		ns, err := cl.slotNodes(ctx, Slot(key))
		out = ns
		return err
	})
	return out
}

// ReplicasOf are the addresses of primary's replicas (INFO replication on
// it), connected or not.
func (cl *Cluster) ReplicasOf(t testing.TB, primary string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := cl.cs.node(primary).Info(ctx, "replication").Result()
	require.NoError(t, err)
	require.Equal(t, "master", infoField(info, "role"), primary)
	var out []string
	for i := range len(cl.nodes) {
		st := infoField(info, "slave"+strconv.Itoa(i))
		if st == "" {
			break
		}
		var ip, port string
		for f := range strings.SplitSeq(st, ",") {
			if v, ok := strings.CutPrefix(f, "ip="); ok {
				ip = v
			}
			if v, ok := strings.CutPrefix(f, "port="); ok {
				port = v
			}
		}
		out = append(out, net.JoinHostPort(ip, port))
	}
	return out
}

func (cl *Cluster) nodeAt(t testing.TB, addr string) *node {
	t.Helper()
	for _, n := range cl.nodes {
		if n.addr() == addr {
			return n
		}
	}
	require.FailNowf(t, "unknown node", "%s is not one of ours", addr)
	return nil
}

// KillNode SIGKILLs the node at addr (as a crash: no last sync).
func (cl *Cluster) KillNode(t testing.TB, addr string) {
	t.Helper()
	cl.nodeAt(t, addr).stop(syscall.SIGKILL)
}

// RestartNode starts the stopped node at addr again, on its ports and
// with its nodes.conf (and no data: nothing persists), and waits until it
// listens. A former primary whose replica was promoted meanwhile rejoins
// as the new primary's replica; WaitHealthy waits until it is in sync.
func (cl *Cluster) RestartNode(t testing.TB, addr string) {
	t.Helper()
	n := cl.nodeAt(t, addr)
	require.False(t, n.running(), "%s is running", addr)
	n.mu.Lock()
	n.t = t
	n.mu.Unlock()
	n.start()
}

// PauseNode SIGSTOPs the node at addr until ResumeNode (see
// Sentinel.PauseNode, and cut its replication link too with
// DropReplicaLinks). A node still paused when the test ends is resumed
// first, so it can stop.
func (cl *Cluster) PauseNode(t testing.TB, addr string) {
	t.Helper()
	n := cl.nodeAt(t, addr)
	n.mu.Lock()
	cmd := n.cmd
	n.mu.Unlock()
	require.NotNil(t, cmd, "%s is not running", addr)
	require.NoError(t, cmd.Process.Signal(syscall.SIGSTOP))
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGCONT) })
}

// ResumeNode continues a node PauseNode stopped (SIGCONT).
func (cl *Cluster) ResumeNode(t testing.TB, addr string) {
	t.Helper()
	n := cl.nodeAt(t, addr)
	n.mu.Lock()
	cmd := n.cmd
	n.mu.Unlock()
	require.NotNil(t, cmd, "%s is not running", addr)
	require.NoError(t, cmd.Process.Signal(syscall.SIGCONT))
}

// DropReplicaLinks closes primary's connections to its replicas (CLIENT
// KILL TYPE replica) and returns how many it closed (see
// Sentinel.DropReplicaLinks: writes it takes until a replica reconnects
// reach none, and are lost if it dies first).
func (cl *Cluster) DropReplicaLinks(t testing.TB, primary string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := cl.cs.node(primary).Do(ctx, "client", "kill", "type", "replica").Int()
	require.NoError(t, err, "CLIENT KILL TYPE replica on %s", primary)
	return n
}

// KillPrimaryFor SIGKILLs the primary serving key's slot and waits (up to
// timeout) until a replica of it has been promoted (WaitForPromotion). It
// returns the old primary's address and the new one's.
func (cl *Cluster) KillPrimaryFor(t testing.TB, key string, timeout time.Duration) (old, promoted string) {
	t.Helper()
	old = cl.PrimaryFor(t, key)
	cl.KillNode(t, old)
	return old, cl.WaitForPromotion(t, key, old, timeout)
}

// WaitForPromotion waits (up to timeout) until every running node reports
// cluster_state:ok and names, for key's slot, a primary other than old,
// which answers as a primary (INFO replication role:master), and returns
// its address.
func (cl *Cluster) WaitForPromotion(t testing.TB, key, old string, timeout time.Duration) string {
	t.Helper()
	var addr string
	poll(t, timeout, "a primary other than "+old+" for "+key, func(ctx context.Context) error {
		for _, n := range cl.nodes {
			if !n.running() {
				continue
			}
			info, err := cl.cs.node(n.addr()).ClusterInfo(ctx).Result()
			if err != nil {
				return fmt.Errorf("%s: %w", n.addr(), err)
			}
			if s := infoField(info, "cluster_state"); s != "ok" {
				return fmt.Errorf("%s: cluster_state:%s", n.addr(), s)
			}
		}
		ns, err := cl.slotNodes(ctx, Slot(key))
		if err != nil {
			return err
		}
		if ns[0] == old {
			return errors.New("the nodes still name " + old)
		}
		info, err := cl.cs.node(ns[0]).Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if r := infoField(info, "role"); r != "master" {
			return fmt.Errorf("%s is role:%s", ns[0], r)
		}
		addr = ns[0]
		return nil
	})
	return addr
}

// NodeClient is a plain client on one node (by address) that may read a
// replica (READONLY on every connection); closed when the test ends.
func (cl *Cluster) NodeClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	o := nodeOptions(addr)
	o.OnConnect = func(ctx context.Context, cn *redis.Conn) error { return cn.ReadOnly(ctx).Err() }
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// primaries are the running nodes answering role:master now.
func (cl *Cluster) primaries(t testing.TB, ctx context.Context) []*redis.Client {
	t.Helper()
	var out []*redis.Client
	for _, n := range cl.nodes {
		if !n.running() {
			continue
		}
		c := cl.cs.node(n.addr())
		info, err := c.Info(ctx, "replication").Result()
		require.NoError(t, err, n.addr())
		if infoField(info, "role") == "master" {
			out = append(out, c)
		}
	}
	return out
}

// Addrs are every node's host:port address (the primaries and replicas
// redis-cli --cluster create was given, whatever their role now).
func (cl *Cluster) Addrs() []string {
	out := make([]string, len(cl.nodes))
	for i, n := range cl.nodes {
		out[i] = n.addr()
	}
	return out
}

// URL is the Cluster as internal/redisurl names it:
// redis-cluster://host1:port,host2:port,… (every node).
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
// it). Only the primaries are scanned.
func (cl *Cluster) Slots(t testing.TB, pattern string) map[int64]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := map[int64]int{}
	for _, c := range cl.primaries(t, ctx) {
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

// Keys lists the keys matching pattern on every primary (the nodes
// answering role:master now).
func (cl *Cluster) Keys(t testing.TB, pattern string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []string
	for _, c := range cl.primaries(t, ctx) {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
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
