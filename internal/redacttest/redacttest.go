// Package redacttest prints a value every way a program might — fmt verbs,
// encoding/json, both slog handlers, log.Printf, errors that wrap it — for
// the tests that check no secret ever prints. It only goes through those
// real paths: it never calls a String, GoString or LogValue method itself,
// so a type is only as redacted as fmt, json and slog make it.
package redacttest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Verbs are the fmt verbs every value is printed with.
var Verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}

// Rendering is one way a value was printed.
type Rendering struct {
	How, Out string
	Failed   bool // the encoder refused the value (Out is its error text)
	Nested   bool // inside a struct, a slice or a map
	Encodes  bool // a verb or encoder that encodes strings (%x, %X, %q, %d, yaml)
}

// Encoder is an encoder beyond fmt, json, slog and log that a package's
// values may meet (policy: YAML).
type Encoder struct {
	Name    string
	Marshal func(any) ([]byte, error)
	Encodes bool
}

// nest holds a value in each container fmt, json and slog walk into.
type nest[T any] struct {
	Field T
	Slice []T
	Map   map[string]T
	Any   any
}

// Render prints v every way a program might — fmt verbs, json.Marshal,
// the extra encoders, slog text and JSON handlers (as an attribute and
// inside a group), log.Printf, fmt.Errorf (wrapping v with %w when it is an
// error, and errors.Join) — each for v itself, nested in a struct and in a
// slice.
func Render[T any](v T, extra ...Encoder) []Rendering {
	var out []Rendering
	for _, form := range []struct {
		name string
		v    any
	}{
		{"plain", v},
		{"nested", nest[T]{Field: v, Slice: []T{v}, Map: map[string]T{"k": v}, Any: v}},
		{"slice", []T{v, v}},
	} {
		nested := form.name != "plain"
		add := func(how, s string, failed, encodes bool) {
			out = append(out, Rendering{How: form.name + " " + how, Out: s, Failed: failed, Nested: nested, Encodes: encodes})
		}
		for _, verb := range Verbs {
			add(verb, fmt.Sprintf(verb, form.v), false, strings.ContainsAny(verb, "xXqd"))
		}
		encoders := append([]Encoder{{Name: "json", Marshal: json.Marshal}}, extra...)
		for _, e := range encoders {
			if b, err := e.Marshal(form.v); err != nil {
				add(e.Name, err.Error(), true, e.Encodes)
			} else {
				add(e.Name, string(b), false, e.Encodes)
			}
		}
		for name, mk := range map[string]func(io.Writer) slog.Handler{
			"slog text": func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
			"slog json": func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
		} {
			var buf bytes.Buffer
			l := slog.New(mk(&buf))
			l.Info("m", slog.Any("x", form.v))
			l.Info("m", slog.Group("g", slog.Any("x", form.v)))
			s := buf.String()
			add(name, s, strings.Contains(s, "!ERROR"), false)
		}
		var buf bytes.Buffer
		log.New(&buf, "", 0).Printf("%v %+v", form.v, form.v)
		add("log.Printf", buf.String(), false, false)
		if err, ok := form.v.(error); ok {
			add("wrapped error", fmt.Sprint(fmt.Errorf("op: %w", err)), false, false)
			add("joined error", fmt.Sprintf("%+v", errors.Join(errors.New("op"), err)), false, false)
		} else {
			add("fmt.Errorf", fmt.Sprint(fmt.Errorf("op: %v", form.v)), false, false)
		}
	}
	return out
}

// Encodings returns b and the ways it is commonly printed: hex, base64,
// prefixes of both, %v of a []byte, and its first word in either byte
// order (a key schedule printed as words).
func Encodings(b []byte) []string {
	out := []string{
		string(b), hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
		strings.Trim(fmt.Sprint(b[:min(8, len(b))]), "[]"), // %v of a []byte
	}
	if len(b) >= 16 {
		out = append(out, hex.EncodeToString(b[:16]), base64.RawURLEncoding.EncodeToString(b[:15]),
			base64.StdEncoding.EncodeToString(b[:15]))
	}
	if len(b) >= 4 {
		out = append(out, strconv.FormatUint(uint64(binary.BigEndian.Uint32(b)), 10),
			strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b)), 10))
	}
	return out
}

// Implements reports whether v has method m (String, GoString, Format,
// MarshalJSON, LogValue, MarshalYAML) by the interface fmt, json, slog or
// yaml looks for; it
// panics on another name, so a typo cannot pass.
func Implements(v any, m string) bool {
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
	case "LogValue":
		_, ok = v.(slog.LogValuer)
	case "MarshalYAML": // yaml.Marshaler
		_, ok = v.(interface{ MarshalYAML() (any, error) })
	default:
		panic("redacttest: unknown method " + m)
	}
	return ok
}

// RequireNoLeak stops the test at the first needle out contains, quoting
// it in context.
func RequireNoLeak(t testing.TB, how, out string, needles []string) {
	t.Helper()
	for _, n := range needles {
		if i := strings.Index(out, n); i >= 0 {
			require.FailNowf(t, "a secret prints", "%s leaks %q: …%s…", how, n, out[max(0, i-60):min(len(out), i+len(n)+20)])
		}
	}
}

// Row is one type under test: its renderings as a value and as a pointer,
// what they must show, and the methods each form must have.
type Row struct {
	Name           string
	Value, Pointer []Rendering
	// Want must appear in every rendering the Check's skip function keeps
	// (the redacted form still identifies the thing: kid, issuer, hash).
	Want []string
	// SkipValueWant: only the pointer renderings are checked for Want
	// (types used by pointer only, whose copies print by reflection).
	SkipValueWant                bool
	ValueMethods, PointerMethods []string
	ValueAny, PointerAny         any
}

// NewRow renders v and &v.
func NewRow[T any](name string, v T, want, valueMethods, pointerMethods []string, extra ...Encoder) Row {
	p := &v
	return Row{Name: name, Value: Render(v, extra...), Pointer: Render(p, extra...), Want: want,
		ValueMethods: valueMethods, PointerMethods: pointerMethods, ValueAny: v, PointerAny: p}
}

// Formats reports whether the row's pointer form has a Format method.
func (r Row) Formats() bool {
	for _, m := range r.PointerMethods {
		if m == "Format" {
			return true
		}
	}
	return false
}

// WhereFormatted is a skip function for Check: a type without Format of
// its own shows Want only where fmt prints its strings as they are (not
// %x, %q, %d, yaml) and follows the pointer (not nested, where it prints an
// address); failed encoders show nothing.
func WhereFormatted(r Row, form string, rd Rendering) bool {
	return rd.Failed || (!r.Formats() && (rd.Encodes || (form == "pointer" && rd.Nested)))
}

// Check runs the row's checks: each form has its methods; no rendering
// contains a needle (the test stops at the first) or a recovered panic;
// every rendering skip does not skip contains every Want.
func (r Row) Check(t *testing.T, needles []string, skip func(r Row, form string, rd Rendering) bool) {
	t.Helper()
	for _, m := range r.ValueMethods {
		assert.Truef(t, Implements(r.ValueAny, m), "%T has no %s", r.ValueAny, m)
	}
	for _, m := range r.PointerMethods {
		assert.Truef(t, Implements(r.PointerAny, m), "%T has no %s", r.PointerAny, m)
	}
	for _, f := range []struct {
		form       string
		renderings []Rendering
	}{{"value", r.Value}, {"pointer", r.Pointer}} {
		for _, rd := range f.renderings {
			RequireNoLeak(t, f.form+" "+rd.How, rd.Out, needles)
			assert.NotContainsf(t, rd.Out, "PANIC", "%s %s panicked", f.form, rd.How)
			assert.NotContainsf(t, rd.Out, "panicked", "%s %s panicked", f.form, rd.How)
			if (f.form == "value" && r.SkipValueWant) || skip(r, f.form, rd) {
				continue
			}
			for _, w := range r.Want {
				assert.Containsf(t, rd.Out, w, "%s %s", f.form, rd.How)
			}
		}
	}
}
