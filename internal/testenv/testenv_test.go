package testenv

import (
	"testing"
)

func TestRequireIntegrationReadsTheEnvironment(t *testing.T) {
	t.Setenv("MSGSEC_REQUIRE_INTEGRATION", "1")
	if !RequireIntegration() {
		t.Fatal("want true with MSGSEC_REQUIRE_INTEGRATION=1")
	}
	t.Setenv("MSGSEC_REQUIRE_INTEGRATION", "")
	if RequireIntegration() {
		t.Fatal("want false when unset")
	}
}

func TestRedisURLFromEnvironment(t *testing.T) {
	t.Setenv("MSGSEC_REDIS_URL", "redis://127.0.0.1:1/0")
	if got := RedisURL(t); got != "redis://127.0.0.1:1/0" {
		t.Fatalf("got %q", got)
	}
}
