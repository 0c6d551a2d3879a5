package policy

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/msgsec/msgsec/internal/redacttest"
)

// redactSecret is a distinctive JWT secret; the policies below hold it as
// base64url (the default), hex and base64 text, in the environment, in a
// file and inline.
var redactSecret = []byte("S3CR3T-uplus-jwt-0123456789abcdef0123456789")

// yamlEncoder adds yaml.Marshal to the ways a policy value prints.
var yamlEncoder = redacttest.Encoder{Name: "yaml", Marshal: yamlMarshal, Encodes: true}

// yamlMarshal is yaml.Marshal, which panics on some values (funcs).
func yamlMarshal(v any) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return yaml.Marshal(v)
}

// row renders v and &v, also as YAML.
func row[T any](name string, v T, want []string, valueMethods, pointerMethods []string) redacttest.Row {
	return redacttest.NewRow(name, v, want, valueMethods, pointerMethods, yamlEncoder)
}

// TestSecretsNeverPrinted loads policies whose JWT secret comes from the
// environment, a file and the policy itself (in three encodings), and
// formats every type that holds the secret — Secret, SecretRef (also from
// SecretBytes), KeyConfig, ConnectionPolicy, File, Compiled, the compiled
// keys — as a value and as a pointer, alone, in a struct and in a slice,
// with fmt, encoding/json, yaml and both slog handlers. Neither the
// secret's bytes nor its text as stored (hex, base64, base64url) may
// appear; the redacted form still names the connection, the key and where
// the secret comes from. Error messages of refused policies quote no secret
// either.
func TestSecretsNeverPrinted(t *testing.T) {
	b64url := base64.RawURLEncoding.EncodeToString(redactSecret)
	hexText := hex.EncodeToString(redactSecret)
	b64 := base64.StdEncoding.EncodeToString(redactSecret)
	env := map[string]string{"S": b64url, "SHEX": hexText}
	files := map[string]string{"/run/secrets/jwt": b64 + "\n"}
	docs := map[string]string{
		"env":     strings.Replace(validConn, "{env: S}", "{env: S, encoding: base64url}", 1),
		"env hex": strings.Replace(validConn, "{env: S}", "{env: SHEX, encoding: hex}", 1),
		"file":    strings.Replace(validConn, "{env: S}", "{file: /run/secrets/jwt, encoding: base64}", 1),
		"inline":  strings.Replace(validConn, "{env: S}", "{value: "+b64url+", insecure_inline: true, encoding: base64url}", 1),
	}
	methodsSecret := []string{"String", "Format", "MarshalJSON", "MarshalYAML"}
	methodsRef := []string{"String", "Format"}
	methodsCompiled := []string{"Format", "MarshalJSON", "MarshalYAML"}

	var rows []redacttest.Row
	for name, doc := range docs {
		f, err := Parse([]byte(doc), LoadOptions{
			LookupEnv: envWith(env),
			ReadFile: func(p string) ([]byte, error) {
				if s, ok := files[p]; ok {
					return []byte(s), nil
				}
				return nil, os.ErrNotExist
			},
		})
		require.NoError(t, err, name)
		c := f.Connections[0]
		k := c.Keys[0]
		require.Equal(t, redactSecret, k.Secret.secretValue().Bytes(), name)
		compiled, err := c.Compile(context.Background(), CompileOptions{})
		require.NoError(t, err, name)
		source := map[string]string{"env": "env:S", "env hex": "env:SHEX", "file": "file:/run/secrets/jwt", "inline": "inline:" + redacted}[name]
		// A reference prints as where the secret comes from (its JSON and
		// YAML are its fields, with an inline value redacted).
		for _, v := range []any{*k.Secret, k.Secret} {
			for _, out := range []string{fmt.Sprint(v), fmt.Sprintf("%+v", v), fmt.Sprintf("%x", v)} {
				require.Contains(t, out, source)
			}
		}
		rows = append(rows,
			row(name+": secret", k.Secret.secretValue(), []string{redacted}, methodsSecret, methodsSecret),
			row(name+": secret ref", *k.Secret, nil, methodsRef, methodsRef),
			row(name+": key config", k, []string{"k1"}, nil, nil),
			row(name+": connection policy", c, []string{"retail-bank", "k1"}, nil, nil),
			row(name+": file", *f, []string{"retail-bank", "k1"}, nil, nil),
			row(name+": compiled", *compiled, []string{"retail-bank"}, methodsCompiled, append(methodsCompiled, "String")),
			row(name+": compiled config", compiled.cfg, []string{"retail-bank"}, nil, nil),
			row(name+": compiled keys", compiled.keys, []string{"k1", "HS256"}, nil, nil),
		)
	}
	mem := SecretBytes(redactSecret)
	storeKey := append([]byte(nil), redactSecret[:32]...)
	store, err := NewStore(NewMemoryBackend(), StoreOptions{SealingKey: storeKey})
	require.NoError(t, err)
	methodsOpts := []string{"String", "Format", "MarshalJSON"}
	rows = append(rows,
		row("store options", StoreOptions{SealingKey: storeKey}, nil, methodsOpts, methodsOpts),
		row("store", *store, nil, nil, []string{"String"}),
		row("secret bytes", *mem, nil, methodsRef, methodsRef),
		row("new secret", newSecret(redactSecret), []string{redacted}, methodsSecret, methodsSecret),
		row("policy built in code", ConnectionPolicy{ID: "retail-bank", Keys: []KeyConfig{{ID: "k1", Secret: mem}}},
			[]string{"retail-bank", "k1"}, nil, nil),
		// In unexported fields fmt calls no method, but a Secret holds its
		// bytes behind a func.
		row("in unexported fields", struct {
			s   Secret
			ref SecretRef
			mem *SecretRef
		}{newSecret(redactSecret), *mem, mem}, nil, nil, nil),
	)

	// Refused policies: no error message quotes the secret.
	var errs []string
	for _, doc := range []string{
		strings.Replace(validConn, "{env: S}", "{value: "+b64url[:20]+", insecure_inline: true}", 1),                  // too short
		strings.Replace(validConn, "{env: S}", "{value: "+b64url+"}", 1),                                              // inline without the flag
		strings.Replace(validConn, "{env: S}", "{value: "+b64url+"!, insecure_inline: true, encoding: base64url}", 1), // not base64url
		strings.Replace(validConn, "{env: S}", "{env: S, encoding: hex}", 1),                                          // wrong encoding
	} {
		_, err := parseYAML(t, doc, env)
		require.Error(t, err)
		errs = append(errs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
	}

	needles := append(redacttest.Encodings(redactSecret), "S3CR3T", b64url[:20], hexText[:20], b64[:20])
	needles = append(needles, redacttest.Encodings(storeKey)...)
	for _, r := range rows {
		t.Run(r.Name, func(t *testing.T) { r.Check(t, needles, redacttest.WhereFormatted) })
	}
	t.Run("errors", func(t *testing.T) {
		for _, e := range errs {
			redacttest.RequireNoLeak(t, "error", e, needles)
		}
	})
}
