package testenv

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
)

func TestRequireIntegrationReadsTheEnvironment(t *testing.T) {
	t.Setenv("MSGSEC_REQUIRE_INTEGRATION", "1")
	require.True(t, RequireIntegration(), "want true with MSGSEC_REQUIRE_INTEGRATION=1")
	t.Setenv("MSGSEC_REQUIRE_INTEGRATION", "")
	require.False(t, RequireIntegration(), "want false when unset")
}

func TestRedisURLFromEnvironment(t *testing.T) {
	t.Setenv("MSGSEC_REDIS_URL", "redis://127.0.0.1:1/0")
	require.Equal(t, "redis://127.0.0.1:1/0", RedisURL(t))
}

func TestRequireProblemsReturnsEveryProblemInOrder(t *testing.T) {
	kind := errors.New("config")
	a := &cfgerr.Error{Field: "a", Value: "1", Reason: "bad", Kind: kind}
	b := &cfgerr.Error{Field: "b", Value: cfgerr.Redacted, Reason: "short", Kind: kind}
	got := RequireProblems(t, cfgerr.Join("", []*cfgerr.Error{a, b}), kind, []string{"a", "b"}, "S3CR3T")
	require.Equal(t, []*cfgerr.Error{a, b}, got)
}

func TestEventuallyWaitsForSuccess(t *testing.T) {
	calls := 0
	Eventually(t, 5*time.Second, "third call", func() error {
		if calls++; calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	require.Equal(t, 3, calls)
}
