package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
)

// A verifier the policy could not build names each problem by its policy
// path, not by secretdata's field names.
func TestVerifierErrUsesPolicyPaths(t *testing.T) {
	_, err := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{{}}, Audience: "retail-bank", Leeway: time.Hour,
	})
	require.Error(t, err)
	got := verifierErr("connections[0]", err)
	require.ErrorIs(t, got, ErrValue)
	for _, path := range []string{"connections[0].token.issuer", "connections[0].token.leeway", "connections[0].keys[0]"} {
		assert.Contains(t, got.Error(), path)
	}
	assert.NotContains(t, got.Error(), "Leeway")
}
