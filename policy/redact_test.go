package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestSecretsNeverPrinted formats a loaded policy, and every part of it
// that holds a secret, every way a program might, and checks that neither
// the secret's text (as in the environment) nor its bytes appear.
func TestSecretsNeverPrinted(t *testing.T) {
	inline := strings.Replace(validConn, "{env: S}", "{value: "+testSecret+", insecure_inline: true}", 1)
	for name, doc := range map[string]string{"env": validConn, "inline": inline} {
		t.Run(name, func(t *testing.T) {
			f, err := parseYAML(t, doc, map[string]string{"S": testSecret})
			require.NoError(t, err)
			c := &f.Connections[0]
			k := c.Keys[0]
			compiled, err := c.Compile(context.Background(), CompileOptions{})
			require.NoError(t, err)
			values := []any{f, *f, c, *c, k, &k, k.Secret, *k.Secret, k.Secret.Resolved(), compiled, *compiled, compiled.Config(), compiled.Keys()}

			var out bytes.Buffer
			for _, v := range values {
				for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
					fmt.Fprintf(&out, verb+"\n", v)
				}
				if b, err := json.Marshal(v); err == nil {
					out.Write(b)
				}
				if b, err := yaml.Marshal(v); err == nil {
					out.Write(b)
				}
			}
			for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
				l := slog.New(h)
				for i, v := range values {
					l.Info("policy", "v", v, "i", i)
				}
				l.Info("group", slog.Any("secret", k.Secret.Resolved()), slog.Any("ref", k.Secret), slog.Any("key", compiled.Keys()[0]))
			}
			// Error messages of refused policies quote no secret either.
			short := strings.Replace(doc, testSecret, testSecret[:20], 1)
			if _, err := parseYAML(t, short, map[string]string{"S": testSecret[:20]}); err != nil {
				out.WriteString(err.Error())
			}
			s := out.String()
			require.NotEmpty(t, s)
			assertNoSecret(t, s, testSecret)
			assertNoSecret(t, s, testSecret[:20])
			assertNoSecret(t, s, string(testSecretBytes))
			assertNoSecret(t, s, fmt.Sprintf("%x", testSecretBytes[:16]))
			assertNoSecret(t, s, strings.Trim(fmt.Sprint(testSecretBytes[:8]), "[]"))
			assert.Contains(t, s, "[REDACTED]")
		})
	}
}

func assertNoSecret(t *testing.T, out, secret string) {
	t.Helper()
	if i := strings.Index(out, secret); i >= 0 {
		lo := max(0, i-80)
		t.Fatalf("secret leaked near: %q", out[lo:min(len(out), i+len(secret)+20)])
	}
}
