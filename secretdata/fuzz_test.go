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
