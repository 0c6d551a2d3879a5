package secretdata_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
)

// FuzzVerify: Verify never panics, and accepts nothing but the genuine
// tokens minted here — no mutation of a valid token verifies. The seed
// corpus in testdata/fuzz/FuzzVerify holds attack shapes (alg none,
// forbidden headers, JSON serialization, duplicate claims, padding, …).
func FuzzVerify(f *testing.F) {
	k := hmacKey(f, "k1")
	// The genuine tokens must be deterministic: fuzz workers are separate
	// processes that each run this setup, so a Signer's random jti would
	// differ between them.
	valid := map[string]bool{}
	for _, c := range []claimSet{
		baseClaims(),
		baseClaims().without("sub").without("customer_secret_data"),
		baseClaims().with(`"aud":["x","` + testAudience + `"]`).plus(`"nbf":1749999000`),
	} {
		tok := hs256(testSecret, stdHeader, c.json())
		valid[tok] = true
		f.Add(tok)
	}
	// Replay protection off so that the same genuine token can be seen
	// again; the property under test is signature and parsing strictness.
	v := newVerifier(f, func(c *secretdata.VerifierConfig) { c.DangerouslyDisableReplayProtection = true }, k)
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(ctx, token)
		if err == nil {
			require.True(t, valid[token], "accepted a token that was never signed: %q", token)
		}
		require.Equal(t, err == nil, c != nil, "claims and error disagree")
	})
}

// FuzzVerifySigned signs fuzzer-chosen header and payload bytes with the
// real key, so the strict parsers and claim checks behind the signature get
// exercised. Whatever is accepted must satisfy every rule, checked here
// independently through encoding/json.
func FuzzVerifySigned(f *testing.F) {
	f.Add([]byte(stdHeader), []byte(baseClaims().json()))
	f.Add([]byte(`{"alg":"HS256"}`), []byte(baseClaims().plus(`"nbf":1749999999`).json()))
	f.Add([]byte(stdHeader), []byte(baseClaims().with(`"aud":["a","`+testAudience+`"]`).json()))
	f.Add([]byte(stdHeader), []byte(baseClaims().plus(`"EXP":1`).json()))
	f.Add([]byte(`{"alg":"HS256","alg":"none"}`), []byte(baseClaims().json()))
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		v := newVerifier(t, func(c *secretdata.VerifierConfig) { c.Leeway = 10 * time.Second }, hmacKey(t, "k1"))
		c, err := v.Verify(ctx, hs256(testSecret, string(header), string(payload)))
		if err != nil {
			return
		}
		var h map[string]any
		require.NoError(t, json.Unmarshal(header, &h), "accepted header is not json")
		require.Equal(t, "HS256", h["alg"])
		for name := range h {
			require.Contains(t, []string{"alg", "kid", "typ"}, name)
		}
		var p map[string]any
		d := json.NewDecoder(bytes.NewReader(payload))
		d.UseNumber()
		require.NoError(t, d.Decode(&p), "accepted payload is not json")
		require.Equal(t, testIssuer, p["iss"])
		require.NotContains(t, p, "sid")
		exp, err := p["exp"].(json.Number).Int64()
		require.NoError(t, err)
		iat, err := p["iat"].(json.Number).Int64()
		require.NoError(t, err)
		require.Greater(t, exp+10, t0.Unix(), "accepted an expired token")
		require.LessOrEqual(t, iat, t0.Unix()+10, "accepted a token from the future")
		require.LessOrEqual(t, exp-iat, int64(secretdata.DefaultMaxLifetime/time.Second))
		require.Equal(t, exp, c.ExpiresAt.Unix())
		jti, _ := p["jti"].(string)
		require.Equal(t, jti, c.ID)
		require.GreaterOrEqual(t, len(jti), 16)
		if nbf, ok := p["nbf"]; ok {
			n, err := nbf.(json.Number).Int64()
			require.NoError(t, err)
			require.LessOrEqual(t, n, t0.Unix()+10)
		}
	})
}
