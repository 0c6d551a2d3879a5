package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/examples/internal/chat"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/policy/redispolicy"
)

// Without the sealing key, an instance on a policy store refuses to start
// (before it dials Redis) and says which variable to set.
func TestPolicyStoreNeedsTheSealingKey(t *testing.T) {
	t.Setenv("MSGSEC_POLICY_SEALING_KEY", "")
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-policy-store", "redis://127.0.0.1:1/0"})
	require.ErrorContains(t, err, "-policy-store needs MSGSEC_POLICY_SEALING_KEY")

	t.Setenv("MSGSEC_POLICY_SEALING_KEY", "c2hvcnQ")
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-policy-store", "redis://127.0.0.1:1/0"})
	require.ErrorContains(t, err, "MSGSEC_POLICY_SEALING_KEY: the sealing key must be 32 bytes")
	require.NotContains(t, err.Error(), "c2hvcnQ")

	err = run(context.Background(), []string{"-config", "x.yaml", "-policy-store", "redis://127.0.0.1:1/0"})
	require.ErrorContains(t, err, "give one")
}

// An instance on a policy store serves what was pushed and follows changes.
func TestPolicyStoreInstanceFollowsTheStore(t *testing.T) {
	url := testenv.RedisURL(t)
	opt, err := redis.ParseURL(url)
	require.NoError(t, err)
	opt.ContextTimeoutEnabled = true
	client := redis.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The instance uses the default prefix: clear what the test writes.
	b, err := redispolicy.New(redispolicy.Config{Client: client})
	require.NoError(t, err)
	id := "chatserver-test-" + randHex()
	key := bytes.Repeat([]byte{3}, 32)
	secret := []byte("S3CR3T-chatserver-store-test-0123456789-abc")
	env := map[string]string{"MSGSEC_POLICY_SEALING_KEY": base64.RawURLEncoding.EncodeToString(key)}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	store, err := policy.NewStore(b, policy.StoreOptions{SealingKey: key})
	require.NoError(t, err)
	c := &policy.ConnectionPolicy{ID: id, AllowedDomains: []string{"https://www.uplusbank.com"},
		Keys:  []policy.KeyConfig{{ID: "k1", Secret: policy.SecretBytes(secret)}},
		Token: policy.TokenRules{Issuer: "uplusbank-backend", SecretData: policy.SecretDataOptional}}
	v, err := store.Put(ctx, c, 0)
	require.NoError(t, err)
	t.Cleanup(func() { client.Del(context.Background(), "msgsec:policy:{"+id+"}") })

	metrics, _, err := chat.NewPrometheusMetrics()
	require.NoError(t, err)
	reg, err := storePolicies(ctx, url, lookup, nil, metrics, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer reg.Close()
	p, ok := reg.Get(id)
	require.True(t, ok)
	require.True(t, p.Origins().Allows("https://www.uplusbank.com"))

	c.AllowedDomains = append(c.AllowedDomains, "https://account.uplusbank.com")
	_, err = store.Put(ctx, c, v)
	require.NoError(t, err)
	testenv.Eventually(t, 5*time.Second, "the instance follows the store", func() error {
		if p, ok := reg.Get(id); !ok || !p.Origins().Allows("https://account.uplusbank.com") {
			return errors.New("not yet")
		}
		return nil
	})

	delete(env, "MSGSEC_POLICY_SEALING_KEY")
	_, err = storePolicies(ctx, url, lookup, nil, metrics, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "MSGSEC_POLICY_SEALING_KEY")
}

func randHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
