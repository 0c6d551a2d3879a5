package redispolicy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/policy/redispolicy"
)

func TestNewReportsEveryProblem(t *testing.T) {
	ok := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = ok.Close() })
	noTimeout := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = noTimeout.Close() })
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = ring.Close() })
	shortRead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, ReadTimeout: 20 * time.Millisecond})
	t.Cleanup(func() { _ = shortRead.Close() })
	for _, tc := range []struct {
		name   string
		cfg    redispolicy.Config
		fields []string
	}{
		{"no client", redispolicy.Config{}, []string{"Client"}},
		{"client without context timeouts", redispolicy.Config{Client: noTimeout}, []string{"Client"}},
		{"a ring shares no pub/sub", redispolicy.Config{Client: ring}, []string{"Client"}},
		{"brace in prefix would form a hash tag", redispolicy.Config{Client: ok, Prefix: "a{b}"}, []string{"Prefix"}},
		{"glob in prefix would widen SCAN", redispolicy.Config{Client: ok, Prefix: "a*"}, []string{"Prefix"}},
		{"space in prefix", redispolicy.Config{Client: ok, Prefix: "a b"}, []string{"Prefix"}},
		{"timeout too long", redispolicy.Config{Client: ok, Timeout: time.Minute}, []string{"Timeout"}},
		{"WaitReplicas out of range", redispolicy.Config{Client: ok, WaitReplicas: -1}, []string{"WaitReplicas"}},
		{"the default wait must fit in the Timeout", redispolicy.Config{Client: ok, WaitReplicas: 1, Timeout: 50 * time.Millisecond}, []string{"WaitTimeout"}},
		{"WaitTimeout below 1ms", redispolicy.Config{Client: ok, WaitReplicas: 1, WaitTimeout: time.Microsecond}, []string{"WaitTimeout"}},
		{"a read timeout shorter than the wait would retry every slow write", redispolicy.Config{Client: shortRead, WaitReplicas: 1}, []string{"WaitTimeout"}},
		{"a ring cannot WAIT", redispolicy.Config{Client: ring, WaitReplicas: 1}, []string{"Client", "WaitReplicas"}},
		{"everything at once", redispolicy.Config{Prefix: "[x]", Timeout: time.Nanosecond}, []string{"Client", "Prefix", "Timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := redispolicy.New(tc.cfg)
			testenv.RequireProblems(t, err, redispolicy.ErrConfig, tc.fields)
		})
	}
	b, err := redispolicy.New(redispolicy.Config{Client: ok})
	require.NoError(t, err)
	require.Equal(t, `redispolicy.Backend{prefix: "msgsec:policy", timeout: 1s}`, b.String())
}

// TestNothingSecretPrints: the Backend holds a client whose options hold a
// password; printing, encoding and errors never show it.
func TestNothingSecretPrints(t *testing.T) {
	const password = "S3CR3T-redis-password"
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", Password: password, ContextTimeoutEnabled: true,
		MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	b, err := redispolicy.New(redispolicy.Config{Client: c, Timeout: 100 * time.Millisecond})
	require.NoError(t, err)
	js, err := json.Marshal(b)
	require.NoError(t, err)
	_, listErr := b.List(context.Background())
	require.ErrorIs(t, listErr, policy.ErrUnavailable)
	_, swapErr := b.Swap(context.Background(), "retail-bank", 0, []byte("doc"))
	require.ErrorIs(t, swapErr, policy.ErrUnavailable)
	for _, out := range []string{fmt.Sprint(b), fmt.Sprintf("%v %+v %#v %s", b, b, b, b), string(js), listErr.Error(), swapErr.Error()} {
		require.NotContains(t, out, password)
		require.NotContains(t, out, "127.0.0.1:1", "nor the address")
	}
}

// TestSwapRefusesWhatCannotBeAKey: an ID outside policy's grammar could
// close the hash tag or widen a SCAN; a document over the bound is refused
// before Redis is asked.
func TestSwapRefusesWhatCannotBeAKey(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	b, err := redispolicy.New(redispolicy.Config{Client: c})
	require.NoError(t, err)
	for _, id := range []string{"", "a}b", "a{b", "a*", "-a", "a b", string(make([]byte, 65))} {
		_, err := b.Swap(context.Background(), id, 0, []byte("x"))
		require.ErrorIs(t, err, policy.ErrInvalid, "%q", id)
		require.NotErrorIs(t, err, policy.ErrUnavailable, "refused before Redis is asked")
	}
	_, err = b.Swap(context.Background(), "a", 0, make([]byte, redispolicy.MaxDocumentBytes+1))
	require.ErrorIs(t, err, policy.ErrInvalid)
	require.NotErrorIs(t, err, policy.ErrUnavailable)
}
