package delivery_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// connAPolicy loads connection A from a policy file: its HMAC secret is the
// text `msgsec secret new` printed; with jwe, it also has a decryption key.
func connAPolicy(t *testing.T, printed, jwe string) *policy.ConnectionPolicy {
	t.Helper()
	doc := "connections:\n  - id: " + connA + "\n    keys: [{id: a1, secret: {env: S}}]\n"
	if jwe != "" {
		doc += "    decryption_keys: [{id: jwe-1, secret: {env: JWE}}]\n"
	}
	doc += "    token: {issuer: " + issuer + "}\n"
	env := map[string]string{"S": printed, "JWE": jwe}
	f, err := policy.Parse([]byte(doc), policy.LoadOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	require.NoError(t, err)
	return &f.Connections[0]
}

func useConnection(t *testing.T, e *env, c *policy.ConnectionPolicy) {
	t.Helper()
	p, err := c.Compile(context.Background(), policy.CompileOptions{Now: e.clock.Now})
	require.NoError(t, err)
	e.verifiers[connA] = p.Verifier()
}

func signFor(t *testing.T, e *env, cfg secretdata.SignerConfig) string {
	t.Helper()
	cfg.Now = e.clock.Now
	s, err := secretdata.NewSigner(cfg)
	require.NoError(t, err)
	tok, err := s.Sign(secretdata.Claims{Subject: subject, SessionID: sessA, SecretData: secretData()})
	require.NoError(t, err)
	return tok
}

// The delivery handler takes JWE for a connection whose policy has
// decryption keys, and refuses a plain JWS there; elsewhere it refuses JWE.
func TestHandlerJWEFromPolicy(t *testing.T) {
	printed := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret())
	jwe := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret()[:32])
	withJWE := connAPolicy(t, printed, jwe)
	cfg, err := withJWE.SignerConfig("", time.Now())
	require.NoError(t, err)
	plainCfg := cfg
	plainCfg.Encryption = secretdata.EncryptionKey{}

	e := newEnv(t, envOpts{})
	useConnection(t, e, withJWE)
	rec := e.do(t, req{path: path(connA, sessA), auth: bearerHdr(signFor(t, e, cfg))})
	assert.Equal(t, 204, rec.Code, "JWE with the policy's decryption key")
	rec = e.do(t, req{path: path(connA, sessA), auth: bearerHdr(signFor(t, e, plainCfg))})
	assert.Equal(t, 401, rec.Code, "plain JWS where the policy wants JWE")
	assert.Equal(t, delivery.KindTokenInvalid, e.events.last().Kind)

	e = newEnv(t, envOpts{})
	useConnection(t, e, connAPolicy(t, printed, ""))
	rec = e.do(t, req{path: path(connA, sessA), auth: bearerHdr(signFor(t, e, cfg))})
	assert.Equal(t, 401, rec.Code, "JWE where the policy has no decryption key")
	rec = e.do(t, req{path: path(connA, sessA), auth: bearerHdr(signFor(t, e, plainCfg))})
	assert.Equal(t, 204, rec.Code)
}

// A bad signature on a policy's HMAC key: the event reason (and the log)
// say how the policy reads the secret, never the secret.
func TestHandlerBadSignatureHint(t *testing.T) {
	printed := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret())
	decoded, _ := base64.RawURLEncoding.DecodeString(printed)
	e := newEnv(t, envOpts{})
	useConnection(t, e, connAPolicy(t, printed, ""))
	key, err := secretdata.NewHMACKey("a1", secretdata.HS256, decoded)
	require.NoError(t, err)
	tok := signFor(t, e, secretdata.SignerConfig{Key: key, Issuer: issuer, Audience: connA})
	rec := e.do(t, req{path: path(connA, sessA), auth: bearerHdr(tok)})
	assert.Equal(t, 401, rec.Code)
	ev := e.events.last()
	assert.Equal(t, delivery.KindTokenInvalid, ev.Kind)
	assert.Contains(t, ev.Reason, "bad signature (HMAC key a1: the secret is used as its text bytes")
	assert.Contains(t, e.logs.String(), "the secret is used as its text bytes")
	assert.NotContains(t, e.logs.String(), printed[:12])
	assert.NotContains(t, ev.Reason, printed[:12])
}
