package testenv

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// RedisProcess is a redis-server a test runs itself on a free loopback
// port, without persistence, so it can stop and restart it (outage tests)
// without disturbing the shared instance of MSGSEC_REDIS_URL.
type RedisProcess struct {
	t    testing.TB
	bin  string
	port int
	dir  string // with persistence: where the append-only file lives
	cmd  *exec.Cmd
}

// StartRedis starts a redis-server (or skips/fails as RedisServer does);
// it is stopped when the test ends.
func StartRedis(t testing.TB) *RedisProcess {
	t.Helper()
	bin := RedisServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	r := &RedisProcess{t: t, bin: bin, port: port}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// StartPersistentRedis is StartRedis with persistence on, as production
// should run it: an append-only file synced at every write
// (--appendonly yes --appendfsync always) in a directory of the test's, so
// a Stop and Start keeps everything written before.
func StartPersistentRedis(t testing.TB) *RedisProcess {
	t.Helper()
	bin := RedisServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	r := &RedisProcess{t: t, bin: bin, port: port, dir: t.TempDir()}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// URL is the server's redis:// address.
func (r *RedisProcess) URL() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

// Start (re)starts the server on its port and waits until it listens.
func (r *RedisProcess) Start() {
	r.t.Helper()
	args := []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "",
		"--daemonize", "no", "--loglevel", "warning"}
	if r.dir != "" {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always", "--dir", r.dir)
	} else {
		args = append(args, "--appendonly", "no")
	}
	cmd := exec.Command(r.bin, args...)
	require.NoError(r.t, cmd.Start(), "start redis-server")
	r.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.port), 100*time.Millisecond); err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.FailNowf(r.t, "redis-server did not listen", "port %d", r.port)
}

// Stop sends SIGTERM and waits for the server to exit (SIGKILL after 10 s).
func (r *RedisProcess) Stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

// StartReplica runs a redis-server replicating the primary at primaryURL
// (whose client is primary) and waits until the primary counts it in a
// WAIT. The primary is switched to diskless syncs without delay, so no
// snapshot lands in the package directory and the sync takes milliseconds.
// The replica is killed when the test ends.
func StartReplica(t testing.TB, primary *redis.Client, primaryURL string) {
	t.Helper()
	u, err := url.Parse(primaryURL)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, primary.ConfigSet(ctx, "repl-diskless-sync-delay", "0").Err())
	require.NoError(t, primary.ConfigSet(ctx, "repl-diskless-sync", "yes").Err())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(RedisServer(t), "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--replicaof", u.Hostname(), u.Port(), "--loglevel", "warning", "--dir", t.TempDir())
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	Eventually(t, 10*time.Second, "the replica is in sync", func() error {
		n, err := primary.Do(ctx, "wait", 1, 100).Int64()
		if err != nil {
			return err
		}
		if n < 1 {
			return errors.New("not yet")
		}
		return nil
	})
}
