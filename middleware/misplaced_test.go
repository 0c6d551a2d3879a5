package middleware

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/policy"
)

// misplacedToken carries the customer data as top-level claims instead of
// inside customer_secret_data, as a bank following a generic JWT tutorial
// might send it.
func misplacedToken(n int) string {
	now := time.Now().Unix()
	payload := fmt.Sprintf(`{"iss":"bank","aud":"retail-bank","iat":%d,"exp":%d,"jti":"misplaced-jti-00000%d","customer_id":"C-SECRET-42"}`, now, now+60, n)
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(`{"alg":"HS256","kid":"k1"}`)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, testSecret)
	m.Write([]byte(in))
	return in + "." + enc.EncodeToString(m.Sum(nil))
}

func TestMisplacedSecretData(t *testing.T) {
	run := func(t *testing.T, rule policy.SecretDataRule, tok string) (*eventLog, *httptest.ResponseRecorder, *http.Request) {
		c := uplus()
		c.Token.SecretData = rule
		f := newFixture(t, c)
		r := httptest.NewRequest(http.MethodPost, "/x", nil)
		r.Header.Set("Origin", "https://www.uplusbank.com")
		r.Header.Set("Authorization", "Bearer "+tok)
		w, seen := f.serve(t, r)
		return f.events, w, seen
	}

	t.Run("optional: admitted with no secret data, and reported", func(t *testing.T) {
		events, w, seen := run(t, policy.SecretDataOptional, misplacedToken(1))
		require.Equal(t, 200, w.Code)
		require.NotNil(t, seen)
		assert.Nil(t, Claims(seen.Context()).SecretData)
		require.Equal(t, []Kind{KindMisplacedSecretData}, events.kinds())
		ev := events.ev[0]
		assert.False(t, ev.Blocked)
		assert.Equal(t, "customer data in top-level claims, not in customer_secret_data", ev.Reason)
		assert.NotContains(t, fmt.Sprint(slog.AnyValue(ev)), "C-SECRET-42")
	})
	t.Run("required: refused, and the event says why", func(t *testing.T) {
		events, w, seen := run(t, policy.SecretDataRequired, misplacedToken(2))
		require.Equal(t, 401, w.Code)
		require.Nil(t, seen)
		require.Equal(t, []Kind{KindTokenInvalid}, events.kinds())
		assert.Equal(t, "invalid claims: customer data in top-level claims, not in customer_secret_data", events.ev[0].Reason)
		assert.NotContains(t, w.Body.String(), "customer_secret_data", "the client hears only invalid token")
	})
	t.Run("a token with its data in place: no event", func(t *testing.T) {
		c := uplus()
		f := newFixture(t, c)
		r := httptest.NewRequest(http.MethodPost, "/x", nil)
		r.Header.Set("Origin", "https://www.uplusbank.com")
		r.Header.Set("Authorization", "Bearer "+f.token(t))
		w, _ := f.serve(t, r)
		require.Equal(t, 200, w.Code)
		assert.Empty(t, f.events.kinds())
	})
}
