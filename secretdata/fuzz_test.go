package secretdata

import (
	"testing"
)

// FuzzVerify: Verify never panics, and accepts nothing but the genuine
// tokens minted here — no mutation of a valid token verifies. The seed
// corpus in testdata/fuzz/FuzzVerify holds attack shapes (alg none,
// forbidden headers, JSON serialization, duplicate claims, padding, …).
func FuzzVerify(f *testing.F) {
	k := hmacKey(f, "k1")
	s := newSigner(f, k, nil)
	valid := map[string]bool{}
	for _, c := range []Claims{{}, sampleClaims(), {SecretData: map[string]any{"a": []any{1, "b"}}}} {
		tok, err := s.Sign(c)
		if err != nil {
			f.Fatal(err)
		}
		valid[tok] = true
		f.Add(tok)
	}
	f.Add(hs256(testSecret, stdHeader, baseClaims().json()))
	valid[hs256(testSecret, stdHeader, baseClaims().json())] = true
	// Replay protection off so that the same genuine token can be seen
	// again; the property under test is signature and parsing strictness.
	v := newVerifier(f, func(c *VerifierConfig) { c.DangerouslyDisableReplayProtection = true }, k)
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(ctx, token)
		if err == nil && !valid[token] {
			t.Fatalf("accepted a token that was never signed: %q", token)
		}
		if (err == nil) != (c != nil) {
			t.Fatalf("claims and error disagree")
		}
	})
}
