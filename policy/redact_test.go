package policy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// redactSecret is a distinctive JWT secret; the policies below hold it as
// base64url (the default), hex and base64 text, in the environment, in a
// file and inline.
var redactSecret = []byte("S3CR3T-uplus-jwt-0123456789abcdef0123456789")

// nest holds a value in each container fmt, json, yaml and slog walk into.
type nest[T any] struct {
	Field T
	Slice []T
	Map   map[string]T
	Any   any
}

type rendering struct {
	how, out string
	failed   bool // the encoder refused the value
	nested   bool
	encodes  bool // a verb that encodes strings (%x, %X, %q, %d)
}

// render prints v every way a program might: fmt verbs, json.Marshal,
// yaml.Marshal and both slog handlers (as an attribute and in a group), for
// v alone, nested in a struct and in a slice.
func render[T any](v T) []rendering {
	var out []rendering
	for _, form := range []struct {
		name string
		v    any
	}{
		{"plain", v},
		{"nested", nest[T]{Field: v, Slice: []T{v}, Map: map[string]T{"k": v}, Any: v}},
		{"slice", []T{v, v}},
	} {
		nested := form.name != "plain"
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out = append(out, rendering{how: form.name + " " + verb, out: fmt.Sprintf(verb, form.v), nested: nested,
				encodes: strings.ContainsAny(verb, "xXqd")})
		}
		if b, err := json.Marshal(form.v); err != nil {
			out = append(out, rendering{how: form.name + " json", out: err.Error(), failed: true, nested: nested})
		} else {
			out = append(out, rendering{how: form.name + " json", out: string(b), nested: nested})
		}
		if b, err := yamlMarshal(form.v); err != nil {
			out = append(out, rendering{how: form.name + " yaml", out: err.Error(), failed: true, nested: nested})
		} else {
			out = append(out, rendering{how: form.name + " yaml", out: string(b), nested: nested, encodes: true})
		}
		for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
			"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			l := slog.New(h(&buf))
			l.Info("m", slog.Any("x", form.v))
			l.Info("m", slog.Group("g", slog.Any("x", form.v)))
			s := buf.String()
			out = append(out, rendering{how: form.name + " " + name, out: s, failed: strings.Contains(s, "!ERROR"), nested: nested})
		}
	}
	return out
}

// yamlMarshal is yaml.Marshal, which panics on some values (funcs).
func yamlMarshal(v any) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return yaml.Marshal(v)
}

func encodings(b []byte) []string {
	return []string{
		string(b), hex.EncodeToString(b), hex.EncodeToString(b[:16]), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
		base64.StdEncoding.EncodeToString(b[:15]), base64.RawURLEncoding.EncodeToString(b[:15]),
		strings.Trim(fmt.Sprint(b[:8]), "[]"), // %v of a []byte
		strconv.FormatUint(uint64(binary.BigEndian.Uint32(b)), 10),
	}
}

type redactRow struct {
	name           string
	value, pointer []rendering
	// want must appear in every rendering that did not fail (for a type
	// without Format of its own, only where fmt prints strings as they are
	// and follows the pointer).
	want                         []string
	valueMethods, pointerMethods []string
	valueAny, pointerAny         any
}

func row[T any](name string, v T, want []string, valueMethods, pointerMethods []string) redactRow {
	p := &v
	return redactRow{name: name, value: render(v), pointer: render(p), want: want,
		valueMethods: valueMethods, pointerMethods: pointerMethods, valueAny: v, pointerAny: p}
}

func hasMethod(v any, m string) bool {
	var ok bool
	switch m {
	case "String":
		_, ok = v.(fmt.Stringer)
	case "GoString":
		_, ok = v.(fmt.GoStringer)
	case "Format":
		_, ok = v.(fmt.Formatter)
	case "MarshalJSON":
		_, ok = v.(json.Marshaler)
	case "MarshalYAML":
		_, ok = v.(yaml.Marshaler)
	case "LogValue":
		_, ok = v.(slog.LogValuer)
	}
	return ok
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
	methodsSecret := []string{"String", "GoString", "Format", "MarshalJSON", "MarshalYAML", "LogValue"}
	methodsRef := []string{"String", "GoString", "Format", "LogValue"}
	methodsCompiled := []string{"GoString", "Format", "MarshalJSON", "MarshalYAML", "LogValue"}

	var rows []redactRow
	for name, doc := range docs {
		f, err := Parse([]byte(doc), FormatYAML, LoadOptions{
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
	rows = append(rows,
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

	needles := append(encodings(redactSecret), "S3CR3T", b64url[:20], hexText[:20], b64[:20])
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			for _, m := range r.valueMethods {
				if !hasMethod(r.valueAny, m) {
					t.Errorf("%T has no %s", r.valueAny, m)
				}
			}
			for _, m := range r.pointerMethods {
				if !hasMethod(r.pointerAny, m) {
					t.Errorf("%T has no %s", r.pointerAny, m)
				}
			}
			formats := false
			for _, m := range r.pointerMethods {
				formats = formats || m == "Format"
			}
			for _, f := range []struct {
				form       string
				renderings []rendering
			}{{"value", r.value}, {"pointer", r.pointer}} {
				for _, rd := range f.renderings {
					assertNoSecret(t, f.form+" "+rd.how, rd.out, needles)
					if rd.failed || (!formats && (rd.encodes || (f.form == "pointer" && rd.nested))) {
						continue
					}
					for _, w := range r.want {
						if !strings.Contains(rd.out, w) {
							t.Errorf("%s %s lacks %q: %s", f.form, rd.how, w, rd.out)
						}
					}
				}
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		for _, e := range errs {
			assertNoSecret(t, "error", e, needles)
		}
	})
}

func assertNoSecret(t *testing.T, how, out string, needles []string) {
	t.Helper()
	for _, n := range needles {
		if i := strings.Index(out, n); i >= 0 {
			t.Fatalf("%s leaks %q: …%s…", how, n, out[max(0, i-60):min(len(out), i+len(n)+20)])
		}
	}
}
