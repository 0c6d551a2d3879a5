// Package testenv tells tests whether the real services they need are
// here, and turns "skip" into "fail" when MSGSEC_REQUIRE_INTEGRATION=1 (as
// in CI), so integration tests can never pass by skipping there.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireIntegration reports whether MSGSEC_REQUIRE_INTEGRATION=1.
func RequireIntegration() bool { return os.Getenv("MSGSEC_REQUIRE_INTEGRATION") == "1" }

// SkipOrFail skips the test with the reason, or fails it when integration
// tests are required.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if RequireIntegration() {
		t.Fatalf("integration test cannot run: %s (MSGSEC_REQUIRE_INTEGRATION=1)", reason)
	}
	t.Skip("skipping integration test: " + reason)
}

// RedisURL returns MSGSEC_REDIS_URL, or skips/fails when it is unset.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("MSGSEC_REDIS_URL")
	if u == "" {
		SkipOrFail(t, "MSGSEC_REDIS_URL is not set (run through make test, which starts redis-server)")
	}
	return u
}

// RedisServer returns the path of the redis-server binary, for tests that
// run (and stop, and restart) a server of their own.
func RedisServer(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		SkipOrFail(t, "redis-server is not installed (make test installs it when run as root)")
	}
	return p
}

// Chromium returns the path of a Chromium binary, or skips/fails.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("MSGSEC_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	SkipOrFail(t, "chromium is not installed (make test installs it when run as root)")
	return ""
}
