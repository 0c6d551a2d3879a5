package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/policy/redispolicy"
)

// storeEnv is a testEnv with a sealing key, and a prefix of its own on the
// shared test Redis.
type storeEnv struct {
	*testEnv
	url, prefix string
	client      *redis.Client
	key         []byte
}

func newStoreEnv(t *testing.T) *storeEnv {
	t.Helper()
	url := testenv.RedisURL(t)
	opt, err := redis.ParseURL(url)
	require.NoError(t, err)
	opt.ContextTimeoutEnabled = true
	client := redis.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "msgsec-cli-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		iter := client.Scan(context.Background(), 0, prefix+":*", 1000).Iterator()
		for iter.Next(context.Background()) {
			client.Del(context.Background(), iter.Val())
		}
	})
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	e := newTestEnv()
	e.vars[defaultSealingKeyEnv] = base64.RawURLEncoding.EncodeToString(key)
	return &storeEnv{testEnv: e, url: url, prefix: prefix, client: client, key: key}
}

func (e *storeEnv) run(t *testing.T, args ...string) result {
	t.Helper()
	return e.testEnv.run(t, "", append(args, "--redis", e.url, "--prefix", e.prefix)...)
}

// store is a policy.Store on the env's prefix, resolving its variables.
func (e *storeEnv) store(t *testing.T) *policy.Store {
	t.Helper()
	b, err := redispolicy.New(redispolicy.Config{Client: e.client, Prefix: e.prefix})
	require.NoError(t, err)
	s, err := policy.NewStore(b, policy.StoreOptions{SealingKey: e.key, Load: policy.LoadOptions{LookupEnv: e.lookup}})
	require.NoError(t, err)
	return s
}

// rawRedis is every value under the env's prefix.
func (e *storeEnv) rawRedis(t *testing.T) string {
	t.Helper()
	var lines []string
	iter := e.client.Scan(context.Background(), 0, e.prefix+":*", 1000).Iterator()
	for iter.Next(context.Background()) {
		m, err := e.client.HGetAll(context.Background(), iter.Val()).Result()
		require.NoError(t, err)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			lines = append(lines, iter.Val()+" "+k+"="+m[k])
		}
	}
	require.NoError(t, iter.Err())
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

const inlineSecret = "S3CR3T-inline-cli-secret-0123456789-abcdefgh"

// twoConnections: one secret by reference, one inline (sealed when pushed).
const twoConnections = `connections:
  - id: retail-bank
    allowed_domains: [https://www.uplusbank.com]
    keys:
      - id: k1
        secret: {env: UPLUS_JWT_SECRET}
    token: {issuer: uplusbank-backend, secret_data: optional}
  - id: business-bank
    allowed_domains: [https://business.uplusbank.com]
    keys:
      - id: k1
        secret: {value: ` + inlineSecret + `, insecure_inline: true}
    token: {issuer: uplusbank-backend, secret_data: optional}
`

func TestPolicyPushPullCheck(t *testing.T) {
	e := newStoreEnv(t)
	file := writeFile(t, "policies.yaml", twoConnections)

	r := e.run(t, "policy", "push", file)
	require.Equal(t, exitOK, r.code, "stdout=%q stderr=%q", r.stdout, r.stderr)
	require.Contains(t, r.stdout, "retail-bank: created, version 1")
	require.Contains(t, r.stdout, "business-bank: created, version 1")
	raw := e.rawRedis(t)
	require.Contains(t, raw, "env: UPLUS_JWT_SECRET", "a reference stays a reference")
	for _, s := range []string{inlineSecret, base64.StdEncoding.EncodeToString([]byte(inlineSecret)), hex.EncodeToString([]byte(inlineSecret)), e.encoded} {
		require.NotContains(t, raw, s, "no secret in clear in Redis")
	}

	// The instances' view: both connections, the inline secret unsealed.
	f, err := e.store(t).Load(context.Background())
	require.NoError(t, err)
	require.Len(t, f.Connections, 2)

	// pull prints the set, secrets sealed or as references, never in clear.
	r = e.run(t, "policy", "pull")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "versions: business-bank=1, retail-bank=1")
	require.Contains(t, r.stdout, "env: UPLUS_JWT_SECRET")
	require.Contains(t, r.stdout, "sealed: v1.")
	require.NotContains(t, r.stdout, inlineSecret)
	require.NotContains(t, r.stdout, e.encoded)
	_, err = policy.Parse([]byte(r.stdout), policy.LoadOptions{LookupEnv: e.lookup})
	require.ErrorIs(t, err, policy.ErrSecret, "a pulled file's sealed secret opens only through the store")

	// Edit the pulled file and push it back: it round-trips, as an update.
	pulled := writeFile(t, "pulled.yaml", strings.Replace(r.stdout, "https://business.uplusbank.com", "https://biz.uplusbank.com", 1))
	r = e.run(t, "policy", "push", pulled)
	require.Equal(t, exitOK, r.code, "stdout=%q stderr=%q", r.stdout, r.stderr)
	require.Contains(t, r.stdout, "business-bank: updated, version 1 -> 2")
	require.Contains(t, r.stdout, "retail-bank: updated, version 1 -> 2")
	p, _, err := e.store(t).Get(context.Background(), "business-bank")
	require.NoError(t, err)
	require.Equal(t, []string{"https://biz.uplusbank.com"}, p.AllowedDomains)
	c, err := p.Compile(context.Background(), policy.CompileOptions{})
	require.NoError(t, err, "the sealed secret survived the round trip")
	require.NotNil(t, c)

	// check --redis checks the stored set as check does a file.
	r = e.run(t, "policy", "check")
	require.Equal(t, exitOK, r.code, "stdout=%q stderr=%q", r.stdout, r.stderr)
	require.Contains(t, r.stdout, "store("+e.prefix+"): ok: 2 connections (business-bank, retail-bank)")
	require.NotContains(t, r.stdout, inlineSecret)

	// A stale write is a conflict; a connection missing from the file is
	// left alone.
	s := e.store(t)
	rp, v, err := s.Get(context.Background(), "retail-bank")
	require.NoError(t, err)
	one := writeFile(t, "one.yaml", "connections:\n  - id: business-bank\n    allowed_domains: [https://x.uplusbank.com]\n    token: {issuer: b, secret_data: optional}\n")
	r = e.run(t, "policy", "push", one)
	require.Equal(t, exitOK, r.code, r.stdout)
	require.Contains(t, r.stdout, "retail-bank: in the store, not in "+one+": left as it is")
	_, err = s.Put(context.Background(), rp, v)
	require.NoError(t, err)
}

func TestPolicyPushRefusesAnInvalidFile(t *testing.T) {
	e := newStoreEnv(t)
	r := e.run(t, "policy", "push", writeFile(t, "ok.yaml", twoConnections))
	require.Equal(t, exitOK, r.code, r.stdout)
	before := e.rawRedis(t)
	bad := strings.Replace(twoConnections, "https://www.uplusbank.com", "https://*.co.uk", 1)
	r = e.run(t, "policy", "push", writeFile(t, "bad.yaml", bad))
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stdout, "connections[0].allowed_domains[0]")
	require.Contains(t, r.stdout, "nothing was written")
	require.Equal(t, before, e.rawRedis(t), "nothing was written")

	// A document written into Redis by hand (no MAC under the sealing
	// key) fails check and pull.
	require.NoError(t, e.client.HSet(context.Background(), e.prefix+":{retail-bank}", "doc", "connections: [").Err())
	r = e.run(t, "policy", "check")
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stdout, "store("+e.prefix+"): error: retail-bank: the stored document is not authenticated")
	r = e.run(t, "policy", "pull")
	require.Equal(t, exitFail, r.code)
	require.Contains(t, r.stderr, "connection retail-bank (version 1)")
	require.Contains(t, r.stdout, "id: business-bank")
}

func TestPolicyStoreUsageErrors(t *testing.T) {
	e := newStoreEnv(t)
	file := writeFile(t, "p.yaml", twoConnections)
	noKey := &storeEnv{testEnv: newTestEnv(), url: e.url, prefix: e.prefix}
	r := noKey.run(t, "policy", "push", file)
	requireOneLineError(t, r, "no sealing key: set MSGSEC_POLICY_SEALING_KEY")
	short := &storeEnv{testEnv: newTestEnv(), url: e.url, prefix: e.prefix}
	short.vars[defaultSealingKeyEnv] = "c2hvcnQ"
	r = short.run(t, "policy", "push", file)
	requireOneLineError(t, r, "must be 32 bytes")
	require.NotContains(t, r.stderr, "c2hvcnQ", "the key is never echoed")
	keyFile := writeFile(t, "seal.key", base64.StdEncoding.EncodeToString(e.key)+"\n")
	r = noKey.run(t, "policy", "push", file, "--sealing-key-file", keyFile)
	require.Equal(t, exitOK, r.code, r.stderr)

	r = e.testEnv.run(t, "", "policy", "push", file)
	requireOneLineError(t, r, "--redis URL is required")
	r = e.testEnv.run(t, "", "policy", "pull", "--redis", "redis://:S3CR3T-pw@127.0.0.1:1/0")
	requireOneLineError(t, r, "does not answer")
	require.NotContains(t, r.stderr, "S3CR3T-pw")
}

// Pushing under another sealing key would cut the fleet (which has the
// first key) off from the connections: refused, nothing written, unless
// --rekey says the fleet is rotating to the new key.
func TestPolicyPushRefusesAnotherSealingKey(t *testing.T) {
	e := newStoreEnv(t)
	file := writeFile(t, "ok.yaml", twoConnections)
	r := e.run(t, "policy", "push", file)
	require.Equal(t, exitOK, r.code, r.stdout)
	before := e.rawRedis(t)

	other := make([]byte, 32)
	_, _ = rand.Read(other)
	e.vars[defaultSealingKeyEnv] = base64.RawURLEncoding.EncodeToString(other)
	r = e.run(t, "policy", "push", file)
	require.Equal(t, exitFail, r.code, r.stdout)
	require.Contains(t, r.stdout, "written under another sealing key (or by hand): business-bank, retail-bank")
	require.Contains(t, r.stdout, "nothing was written")
	require.Equal(t, before, e.rawRedis(t), "nothing was written")

	r = e.run(t, "policy", "push", file, "--rekey")
	require.Equal(t, exitOK, r.code, r.stdout)
	r = e.run(t, "policy", "check")
	require.Equal(t, exitOK, r.code, "the store now opens under the new key: %s", r.stdout)
}
