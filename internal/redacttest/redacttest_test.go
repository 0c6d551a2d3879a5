package redacttest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/redacttest"
)

const secret = "S3CR3T-0123456789abcdef"

// leaky prints its secret wherever fmt, json and slog look.
type leaky struct{ Secret string }

// sealed prints only its name, and panics if anything calls its String,
// which the renderings must reach through fmt alone.
type sealed struct{ name, secret string }

func (s sealed) Format(f fmt.State, _ rune)   { fmt.Fprintf(f, "sealed(%s, [redacted])", s.name) }
func (s sealed) MarshalJSON() ([]byte, error) { return []byte(`"sealed"`), nil }
func (s sealed) String() string               { panic("String called directly") }

func contains(out string, needles []string) bool {
	for _, n := range needles {
		if strings.Contains(out, n) {
			return true
		}
	}
	return false
}

func TestRenderReachesTheSecretEveryWay(t *testing.T) {
	needles := redacttest.Encodings([]byte(secret))
	rs := redacttest.Render(leaky{secret})
	hows := map[string]bool{}
	for _, r := range rs {
		hows[r.How] = true
		assert.Truef(t, contains(r.Out, needles), "%s does not show the secret: %s", r.How, r.Out)
		assert.Equal(t, !strings.HasPrefix(r.How, "plain "), r.Nested, r.How)
	}
	for _, how := range []string{"plain %v", "plain %#v", "plain %x", "nested %d", "slice %q", "plain json",
		"nested slog text", "slice slog json", "plain log.Printf", "nested fmt.Errorf"} {
		assert.True(t, hows[how], how)
	}
}

func TestRenderWrapsErrors(t *testing.T) {
	rs := redacttest.Render(errors.New(secret))
	var wrapped int
	for _, r := range rs {
		if strings.HasSuffix(r.How, "wrapped error") || strings.HasSuffix(r.How, "joined error") {
			wrapped++
			assert.Contains(t, r.Out, secret, r.How)
		}
	}
	assert.Equal(t, 2, wrapped, "wrapped and joined (only the plain form is an error)")
}

func TestRenderMarksFailuresAndExtraEncoders(t *testing.T) {
	refuse := redacttest.Encoder{Name: "refuse", Marshal: func(any) ([]byte, error) { return nil, errors.New("no") }, Encodes: true}
	var failed []string
	for _, r := range redacttest.Render(func() {}, refuse) {
		if r.Failed {
			failed = append(failed, r.How)
		}
		if strings.HasSuffix(r.How, " refuse") {
			assert.True(t, r.Encodes)
		}
	}
	for _, how := range []string{"plain json", "plain refuse", "nested json", "slice refuse"} {
		assert.Contains(t, failed, how)
	}
}

func TestRenderNeverCallsMethodsDirectly(t *testing.T) {
	for _, r := range redacttest.Render(sealed{"k1", secret}) {
		require.NotContains(t, r.Out, secret, r.How)
		require.NotContains(t, r.Out, "String called directly", r.How)
	}
}

func TestImplements(t *testing.T) {
	assert.True(t, redacttest.Implements(sealed{}, "Format"))
	assert.True(t, redacttest.Implements(sealed{}, "MarshalJSON"))
	assert.True(t, redacttest.Implements(sealed{}, "String"))
	assert.False(t, redacttest.Implements(sealed{}, "GoString"))
	assert.False(t, redacttest.Implements(leaky{}, "Format"))
	assert.Panics(t, func() { redacttest.Implements(leaky{}, "Formatt") }, "a misspelt method cannot pass")
}

func TestWhereFormatted(t *testing.T) {
	plain := redacttest.Row{}
	formatted := redacttest.Row{PointerMethods: []string{"Format"}}
	enc := redacttest.Rendering{Encodes: true}
	nested := redacttest.Rendering{Nested: true}
	assert.True(t, redacttest.WhereFormatted(plain, "value", enc))
	assert.True(t, redacttest.WhereFormatted(plain, "pointer", nested))
	assert.False(t, redacttest.WhereFormatted(plain, "value", nested))
	assert.False(t, redacttest.WhereFormatted(formatted, "pointer", enc))
	assert.True(t, redacttest.WhereFormatted(formatted, "value", redacttest.Rendering{Failed: true}))
}
