package testenv

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
)

// RequireProblems checks that err reports exactly the given fields, in
// order, as *cfgerr.Error values of kind, and that neither its message
// nor any problem's value repeats one of secrets. It returns the problems.
func RequireProblems(t testing.TB, err error, kind error, fields []string, secrets ...string) []*cfgerr.Error {
	t.Helper()
	require.ErrorIs(t, err, kind)
	var got []string
	var out []*cfgerr.Error
	for p := range cfgerr.All(err) {
		require.ErrorIs(t, p, kind, p.Field)
		got = append(got, p.Field)
		out = append(out, p)
		for _, s := range secrets {
			require.NotContains(t, p.Value, s, p.Field)
		}
	}
	require.Equal(t, fields, got, "every problem, at once")
	for _, s := range secrets {
		require.NotContains(t, err.Error(), s)
	}
	return out
}

// Eventually polls f every 20 ms until it returns nil, and fails the test
// with f's last error once timeout has passed.
func Eventually(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.FailNowf(t, what, "still failing after %v: %v", timeout, err)
}

// WriteFile replaces path with content atomically (a temporary file, then
// a rename), as a deployment swaps a watched file, so a reader never sees
// it half written.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
	require.NoError(t, os.Rename(tmp, path))
}
