package policy

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/secretdata"
)

// Token formats from other JWT libraries, as a policy configures them
// (issue 13): token.type, algorithm Ed25519, secret data in the wrong
// place, and the Registry's report of skipped JWKS keys.

// formatsPolicy is one HMAC connection (the secret is its text, the
// default encoding).
func formatsPolicy(token string) string {
	return `connections:
  - id: retail-bank
    allowed_domains: [https://www.uplusbank.com]
    allowed_cookies: []
    keys:
      - {id: k1, secret: {env: S}}
    token: {issuer: bank` + token + `}
`
}

func formatsCompile(t *testing.T, doc string) (*ConnectionPolicy, *Compiled) {
	t.Helper()
	f, err := parseYAML(t, doc, map[string]string{"S": testSecret})
	require.NoError(t, err)
	c := &f.Connections[0]
	compiled, err := c.Compile(context.Background(), CompileOptions{})
	require.NoError(t, err)
	return c, compiled
}

// rawHS256 signs header and payload with the test secret, as a bank's
// library would.
func rawHS256(header, payload string) string {
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, testSecretBytes)
	m.Write([]byte(in))
	return in + "." + enc.EncodeToString(m.Sum(nil))
}

func payload(extra string) string {
	now := time.Now().Unix()
	return fmt.Sprintf(`{"iss":"bank","aud":"retail-bank","iat":%d,"exp":%d,"jti":"%s"%s}`, now, now+60, randomJTI(), extra)
}

func randomJTI() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestTokenType(t *testing.T) {
	c, compiled := formatsCompile(t, formatsPolicy(", type: secretdata+jwt"))
	cfg, err := c.SignerConfig("", time.Now())
	require.NoError(t, err)
	require.Equal(t, "secretdata+jwt", cfg.Type, "the policy's signer writes the type")
	s, err := secretdata.NewSigner(cfg)
	require.NoError(t, err)
	tok, err := s.Sign(secretdata.Claims{})
	require.NoError(t, err)
	_, err = compiled.Verifier().Verify(context.Background(), tok)
	require.NoError(t, err)

	for _, h := range []string{`{"alg":"HS256","kid":"k1","typ":"JWT"}`, `{"alg":"HS256","kid":"k1"}`} {
		_, err = compiled.Verifier().Verify(context.Background(), rawHS256(h, payload("")))
		require.ErrorIs(t, err, secretdata.ErrMalformed, h)
		require.ErrorContains(t, err, "typ", h)
	}

	// Without token.type, application/jwt is JWT.
	_, plain := formatsCompile(t, formatsPolicy(""))
	_, err = plain.Verifier().Verify(context.Background(), rawHS256(`{"alg":"HS256","kid":"k1","typ":"application/jwt"}`, payload("")))
	require.NoError(t, err)

	_, err = parseYAML(t, formatsPolicy(`, type: "secret data"`), map[string]string{"S": testSecret})
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "connections[0].token.type")
}

func TestKeyAlgorithmEd25519(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	pemText := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	doc := `connections:
  - id: retail-bank
    allowed_domains: [https://www.uplusbank.com]
    allowed_cookies: []
    keys:
      - {id: ed, algorithm: Ed25519, public_key: {file: ed.pub}}
    token: {issuer: bank}
`
	f, err := Parse([]byte(doc), LoadOptions{ReadFile: func(string) ([]byte, error) { return pemText, nil }})
	require.NoError(t, err)
	compiled, err := f.Connections[0].Compile(context.Background(), CompileOptions{})
	require.NoError(t, err)
	// Tokens marked with either name verify with the key.
	for _, alg := range []secretdata.Algorithm{secretdata.Ed25519, secretdata.EdDSA} {
		k, err := secretdata.NewPrivateKey("ed", alg, priv)
		require.NoError(t, err)
		_, err = compiled.Verifier().Verify(context.Background(), signFor(t, k, "retail-bank"))
		require.NoError(t, err, alg)
	}
	_, err = Parse([]byte(strings.Replace(doc, "Ed25519", "Ed448", 1)), LoadOptions{ReadFile: func(string) ([]byte, error) { return pemText, nil }})
	require.ErrorContains(t, err, `unsupported algorithm "Ed448"`)
}

func TestMisplacedSecretDataByRule(t *testing.T) {
	topLevel := rawHS256(`{"alg":"HS256","kid":"k1"}`, payload(`,"customer_id":"C-1001","authentication_status":"authenticated"`))

	_, required := formatsCompile(t, formatsPolicy(""))
	_, err := required.Verifier().Verify(context.Background(), topLevel)
	require.ErrorIs(t, err, secretdata.ErrClaims, "secret data required: refused")
	require.ErrorContains(t, err, "customer_secret_data: missing")

	_, optional := formatsCompile(t, formatsPolicy(", secret_data: optional"))
	c, err := optional.Verifier().Verify(context.Background(), topLevel)
	require.NoError(t, err, "secret data optional: accepted, and reported")
	require.Nil(t, c.SecretData)
	require.Equal(t, []string{"customer_id", "authentication_status"}, c.MisplacedClaims)
}

func TestRegistryLogsSkippedJWKSKeys(t *testing.T) {
	key, doc := edJWKS(t, "k1")
	// The same document with a second key for encryption, which is skipped.
	doc = []byte(strings.Replace(string(doc), `]}`,
		`,{"kty":"OKP","crv":"Ed25519","use":"enc","kid":"enc-1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`, 1))
	srv := newCountingJWKS(t, doc)
	path := filepath.Join(t.TempDir(), "p.yaml")
	testenv.WriteFile(t, path, "connections:\n  - {id: c, jwks_url: "+srv.URL+"/jwks, token: {issuer: bank}}\n")
	var mu sync.Mutex
	var lines []string
	r, err := NewRegistry(context.Background(), path, RegistryOptions{
		Compile: CompileOptions{HTTPClient: &http.Client{Timeout: 5 * time.Second}},
		Logf: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, fmt.Sprintf(format, args...))
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	mu.Lock()
	got := strings.Join(lines, "\n")
	mu.Unlock()
	require.Contains(t, got, `skipped keys[1] (kid "enc-1"): use "enc": not a signature key`)
	require.NotContains(t, got, "11qYAYKx", "never key material")
	p, _ := r.Get("c")
	_, err = p.Verifier().Verify(context.Background(), signFor(t, key, "c"))
	require.NoError(t, err, "the usable key still verifies")
}
