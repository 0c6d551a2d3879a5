package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/msgsec/msgsec/internal/loopback"
	"github.com/msgsec/msgsec/internal/redisurl"
)

// Fixed parts of the load-test policy. The allowlist never changes across
// reloads, so every answer has one right decision; each reload changes the
// connection's name (visible in GET …/config), which proves it applied.
const (
	connectionID = "retail-bank"
	issuer       = "uplusbank-backend"
	keyID        = "load-1"
	secretEnv    = "LOADTEST_JWT_SECRET"
)

func policyYAML(version int) []byte {
	return fmt.Appendf(nil, `connections:
  - id: %s
    name: load test v%d
    allowed_domains:
      - https://www.uplusbank.com
    domain_matching: same-site
    allowed_cookies: [page_viewed, cart_contents]
    keys:
      - id: %s
        algorithm: HS256
        secret: {env: %s}
    token:
      issuer: %s
      max_lifetime: 5m
      leeway: 30s
      secret_data: optional
    mode: enforce
`, connectionID, version, keyID, secretEnv, issuer)
}

// server is a chatserver process this tool started.
type server struct {
	cmd        *exec.Cmd
	base       string // http://127.0.0.1:port
	policyPath string
	version    int
	// stderr is the server's log file: an *os.File is handed to the child
	// as is, so the tool spends no CPU copying the logs (a pipe would).
	stderr *os.File
}

// buildChatServer compiles examples/chatserver into dir.
func buildChatServer(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "chatserver")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/msgsec/msgsec/examples/chatserver")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build chatserver: %w\n%s", err, out)
	}
	return bin, nil
}

// startServer runs bin on a free loopback port with the load-test policy,
// env added to this process's environment, and waits until /healthz
// answers.
func startServer(ctx context.Context, bin, dir string, secret []byte, env []string, extra ...string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{base: "http://127.0.0.1:" + strconv.Itoa(port), policyPath: filepath.Join(dir, "policy.yaml")}
	if err := s.writePolicy(); err != nil {
		return nil, err
	}
	args := append([]string{"-addr", "127.0.0.1:" + strconv.Itoa(port), "-config", s.policyPath}, extra...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = append(append(os.Environ(), env...), secretEnv+"="+string(secret))
	if s.stderr, err = os.CreateTemp(dir, "chatserver-*.log"); err != nil {
		return nil, err
	}
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if s.cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	logs := s.logs()
	s.stop()
	return nil, fmt.Errorf("chatserver did not become healthy: %s", lastLines(logs, 5))
}

// logs returns what the server logged (the last 64 KiB).
func (s *server) logs() string {
	if s.stderr == nil {
		return ""
	}
	st, err := s.stderr.Stat()
	if err != nil {
		return ""
	}
	off := max(0, st.Size()-64<<10)
	b := make([]byte, st.Size()-off)
	n, _ := s.stderr.ReadAt(b, off)
	return string(b[:n])
}

// writePolicy writes the next policy version atomically (rename), so a
// reload never reads a half-written file.
func (s *server) writePolicy() error {
	s.version++
	tmp := s.policyPath + ".tmp"
	if err := os.WriteFile(tmp, policyYAML(s.version), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.policyPath)
}

// reload writes the next version and sends SIGHUP.
func (s *server) reload() error {
	if err := s.writePolicy(); err != nil {
		return err
	}
	return s.cmd.Process.Signal(syscall.SIGHUP)
}

// stop sends SIGTERM and waits (then kills after 10s).
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
	if s.stderr != nil {
		s.stderr.Close()
		s.stderr = nil
	}
}

// memory reads the server's resident set size and its peak, in bytes, from
// /proc (Linux). ok is false elsewhere.
func (s *server) memory() (rss, peak int64, ok bool) {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0, 0, false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return rss, peak, rss > 0
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// newSecret returns a fresh HMAC secret as `msgsec secret new` prints it:
// its text is the key (the policy's default encoding, raw).
func newSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return []byte(base64.RawURLEncoding.EncodeToString(b))
}

// checkLoopback refuses a target that is not on this machine.
func checkLoopback(target string) error {
	i := strings.Index(target, "://")
	if i < 0 {
		return errors.New("-target must be http://127.0.0.1:PORT or similar")
	}
	host := target[i+3:]
	if j := strings.IndexAny(host, "/?#"); j >= 0 {
		host = host[:j]
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if loopback.Host(host) {
		return nil
	}
	return fmt.Errorf("-target %q is not a loopback address: this tool only loads this machine", host)
}

// checkRedisLoopback refuses a -redis URL (any form package
// internal/redisurl reads) that names a host other than this machine. Its
// errors show the URL's hosts, never its password.
func checkRedisLoopback(raw string) error {
	u, err := redisurl.Parse(raw)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	for _, a := range u.Addrs() {
		host, _, err := net.SplitHostPort(a)
		if err != nil || !loopback.Host(host) {
			return fmt.Errorf("-redis %s: %q is not a loopback address: this tool only loads this machine", u, host)
		}
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
