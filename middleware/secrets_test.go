package middleware

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

// loadedPolicy is the U+ connection loaded from a policy file, with its
// HMAC secret (and, when jwe is set, a decryption key) in the environment.
func loadedPolicy(t *testing.T, secret, jwe string) *policy.Compiled {
	t.Helper()
	doc := "connections:\n  - id: retail-bank\n    allowed_domains: [https://www.uplusbank.com]\n    allowed_cookies: []\n" +
		"    keys: [{id: k1, secret: {env: S}}]\n"
	if jwe != "" {
		doc += "    decryption_keys: [{id: jwe-1, secret: {env: JWE}}]\n"
	}
	doc += "    token: {issuer: bank}\n"
	env := map[string]string{"S": secret, "JWE": jwe}
	f, err := policy.Parse([]byte(doc), policy.LoadOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	require.NoError(t, err)
	p, err := f.Connections[0].Compile(context.Background(), policy.CompileOptions{})
	require.NoError(t, err)
	return p
}

func signHS(t *testing.T, secret []byte, enc secretdata.EncryptionKey) string {
	t.Helper()
	key, err := secretdata.NewHMACKey("k1", secretdata.HS256, secret)
	require.NoError(t, err)
	s, err := secretdata.NewSigner(secretdata.SignerConfig{Key: key, Issuer: "bank", Audience: "retail-bank", Encryption: enc})
	require.NoError(t, err)
	tok, err := s.Sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-42"}})
	require.NoError(t, err)
	return tok
}

func serveToken(t *testing.T, p *policy.Compiled, tok string) (int, []Event) {
	t.Helper()
	events := &eventLog{}
	m, err := ForPolicy(p, WithEventHandler(events.add))
	require.NoError(t, err)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	r.Header.Set("Origin", "https://www.uplusbank.com")
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, events.ev
}

// A bank that base64url-decodes the printed secret gets "invalid token";
// the event says how the policy reads the secret, never the secret.
func TestBadHMACSignatureEventCarriesTheHint(t *testing.T) {
	printed := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret())
	decoded, _ := base64.RawURLEncoding.DecodeString(printed)
	p := loadedPolicy(t, printed, "")

	code, _ := serveToken(t, p, signHS(t, []byte(printed), secretdata.EncryptionKey{}))
	assert.Equal(t, http.StatusOK, code, "the secret as printed")

	code, events := serveToken(t, p, signHS(t, decoded, secretdata.EncryptionKey{}))
	assert.Equal(t, http.StatusUnauthorized, code)
	require.Len(t, events, 1)
	assert.Equal(t, KindTokenInvalid, events[0].Kind)
	assert.Contains(t, events[0].Reason, "invalid signature (HMAC key k1: the secret is used as its text bytes")
	assert.NotContains(t, events[0].Reason, printed[:12])
}

// A connection with decryption keys takes JWE and refuses plain JWS; one
// without refuses JWE.
func TestJWEByPolicy(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef-mw"
	jweKey := secretdata.GenerateSecret()[:32]
	enc, err := secretdata.NewEncryptionKey("jwe-1", jweKey)
	require.NoError(t, err)
	withJWE := loadedPolicy(t, secret, base64.RawURLEncoding.EncodeToString(jweKey))
	plain := loadedPolicy(t, secret, "")

	code, _ := serveToken(t, withJWE, signHS(t, []byte(secret), enc))
	assert.Equal(t, http.StatusOK, code, "JWE where decryption keys are configured")
	code, _ = serveToken(t, withJWE, signHS(t, []byte(secret), secretdata.EncryptionKey{}))
	assert.Equal(t, http.StatusUnauthorized, code, "plain JWS where JWE is configured")
	code, _ = serveToken(t, plain, signHS(t, []byte(secret), enc))
	assert.Equal(t, http.StatusUnauthorized, code, "JWE where no decryption key is configured")
	code, _ = serveToken(t, plain, signHS(t, []byte(secret), secretdata.EncryptionKey{}))
	assert.Equal(t, http.StatusOK, code)
}
