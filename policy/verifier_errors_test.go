package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/secretdata"
)

// A verifier the policy could not build names each problem by its policy
// path, not by secretdata's field names, and keeps the offending value.
func TestVerifierErrUsesPolicyPaths(t *testing.T) {
	_, err := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{{}}, Audience: "retail-bank", Leeway: time.Hour,
	})
	require.Error(t, err)
	got := verifierErr("connections[0]", err)
	require.ErrorIs(t, got, ErrValue)
	var fields, values []string
	for p := range cfgerr.All(got) {
		fields = append(fields, p.Field)
		values = append(values, p.Value)
	}
	require.Equal(t, []string{"connections[0].token.issuer", "connections[0].token.leeway", "connections[0].keys[0]"}, fields)
	require.Equal(t, []string{"", "1h0m0s", ""}, values)
}
