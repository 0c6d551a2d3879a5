package delivery_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// topLevelToken is a session token whose customer data the bank put next
// to iss instead of inside customer_secret_data.
func topLevelToken(n int) string {
	now := t0.Unix()
	payload := fmt.Sprintf(`{"iss":%q,"aud":%q,"sid":%q,"iat":%d,"exp":%d,"jti":"misplaced-jti-0000000%d","customer_id":%q}`,
		issuer, connA, sessA, now, now+60, n, custID)
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(`{"alg":"HS256","kid":"a1"}`)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, secretA)
	m.Write([]byte(in))
	return in + "." + enc.EncodeToString(m.Sum(nil))
}

func TestHandlerReportsMisplacedSecretData(t *testing.T) {
	e := newEnv(t, envOpts{})
	rec := e.do(t, req{path: path(connA, sessA), auth: bearerHdr(topLevelToken(1))})
	require.Equal(t, 204, rec.Code, "secret data optional: stored")
	ev := e.events.last()
	require.Equal(t, delivery.KindStored, ev.Kind)
	require.Equal(t, "customer data in top-level claims, not in customer_secret_data", ev.Reason)
	got, err := e.store.Get(background(), connA, sessA)
	require.NoError(t, err)
	require.Nil(t, got.SecretData)
	require.Contains(t, e.logs.String(), `"level":"WARN"`)
	for _, needle := range plaintextNeedles {
		require.NotContains(t, e.logs.String(), needle)
	}

	// A verifier that requires the data in place (a policy with
	// secret_data: required) refuses it, and says why.
	v, err := secretdata.NewVerifier(secretdata.VerifierConfig{
		Keys: []secretdata.Key{hmacKey(t, "a1", secretA)}, Issuer: issuer, Audience: connA, Now: e.clock.Now,
		RefuseMisplacedSecretData: true,
	})
	require.NoError(t, err)
	e.verifiers[connA] = v
	rec = e.do(t, req{path: path(connA, sessA), auth: bearerHdr(topLevelToken(2))})
	require.Equal(t, 401, rec.Code)
	ev = e.events.last()
	require.Equal(t, delivery.KindTokenInvalid, ev.Kind)
	require.Equal(t, "invalid claims: customer data in top-level claims, not in customer_secret_data", ev.Reason)
	require.NotContains(t, rec.Body.String(), "customer_secret_data", "the client hears only invalid token")
}
