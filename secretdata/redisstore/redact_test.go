package redisstore_test

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
	"github.com/msgsec/msgsec/secretdata/redisstore"
)

var (
	redactKey      = []byte("S3CR3T-redis-sealing-key-0123456") // 32 bytes
	redactPassword = "S3CR3T-redis-password"
	redactSession  = "S3CR3T-session-5150"
)

// nest holds a value in each container fmt, json and slog walk into.
type nest[T any] struct {
	Field T
	Slice []T
	Map   map[string]T
	Any   any
}

// render prints v every way a program might: fmt verbs, json.Marshal and
// both slog handlers, alone, nested in a struct and in a slice. Encoder
// errors are returned as text (they must not leak either).
func render[T any](v T) map[string]string {
	out := map[string]string{}
	for name, x := range map[string]any{
		"plain": v, "nested": nest[T]{Field: v, Slice: []T{v}, Map: map[string]T{"k": v}, Any: v}, "slice": []T{v, v},
	} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out[name+" "+verb] = fmt.Sprintf(verb, x)
		}
		b, err := json.Marshal(x)
		if err != nil {
			b = []byte(err.Error())
		}
		out[name+" json"] = string(b)
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("m", slog.Any("x", x), slog.Group("g", slog.Any("x", x)))
		slog.New(slog.NewJSONHandler(&js, nil)).Info("m", slog.Any("x", x), slog.Group("g", slog.Any("x", x)))
		out[name+" slog text"], out[name+" slog json"] = text.String(), js.String()
	}
	return out
}

func encodings(b []byte) []string {
	return []string{
		string(b), hex.EncodeToString(b), hex.EncodeToString(b[:16]), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
		base64.StdEncoding.EncodeToString(b[:15]), base64.RawURLEncoding.EncodeToString(b[:15]),
		strings.Trim(fmt.Sprint(b[:8]), "[]"),
		strconv.FormatUint(uint64(binary.BigEndian.Uint32(b)), 10),
	}
}

// TestNothingSecretPrints formats the package's types — the Store (which
// holds the sealing key and a Redis client with a password), the
// ReplayCache, Config and UnavailableError — as values and pointers, with
// fmt, encoding/json and both slog handlers, and checks that neither the
// key (nor its hex or base64, nor the derived sealing key), nor the Redis
// password, nor a session ID appears. The Store's redacted form names its
// prefix.
func TestNothingSecretPrints(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", Password: redactPassword, ContextTimeoutEnabled: true,
		MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	cfg := redisstore.Config{Prefix: "msgsec-redact", Timeout: 200 * time.Millisecond}
	st, err := redisstore.NewStore(c, redactKey, cfg)
	require.NoError(t, err)
	rc, err := redisstore.NewReplayCache(c, cfg)
	require.NoError(t, err)
	// Nothing listens on port 1: the error a caller would log.
	putErr := st.Put(context.Background(), testAudience, redactSession,
		&secretdata.Claims{Issuer: testIssuer, SessionID: redactSession}, time.Minute)
	require.ErrorIs(t, putErr, delivery.ErrStoreUnavailable)
	require.ErrorIs(t, putErr, context.DeadlineExceeded, "Redis's own error is wrapped")

	type row struct {
		name                 string
		value, pointer       map[string]string
		valueAny, pointerAny any
		methods              []string
		want                 string
	}
	methods := []string{"String", "GoString", "Format", "MarshalJSON", "LogValue"}
	rows := []row{
		{"store", render(*st), render(st), *st, st, methods, "msgsec-redact"},
		{"replay cache", render(*rc), render(rc), nil, nil, nil, ""},
		{"config", render(cfg), render(&cfg), nil, nil, nil, ""},
		{"unavailable error", render(putErr), render(&putErr), nil, nil, nil, ""},
		{"in unexported fields", render(struct {
			st *redisstore.Store
			sv redisstore.Store
			rc *redisstore.ReplayCache
		}{st, *st, rc}), nil, nil, nil, nil, ""},
	}
	derived, err := hkdf.Key(sha256.New, redactKey, nil, "msgsec secretdata/delivery sealer v1", delivery.KeySize)
	require.NoError(t, err)
	needles := append(encodings(redactKey), encodings(derived)...)
	needles = append(needles, "S3CR3T", redactPassword, redactSession)

	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			for _, m := range r.methods {
				for _, v := range []any{r.valueAny, r.pointerAny} {
					ok := false
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
					}
					assert.True(t, ok, "%T has no %s", v, m)
				}
			}
			for form, renderings := range map[string]map[string]string{"value": r.value, "pointer": r.pointer} {
				for how, out := range renderings {
					for _, n := range needles {
						if i := strings.Index(out, n); i >= 0 {
							require.FailNowf(t, "a secret prints", "%s %s leaks %q: …%s…", form, how, n, out[max(0, i-60):min(len(out), i+len(n)+20)])
						}
					}
					if r.want != "" {
						assert.Contains(t, out, r.want, "%s %s", form, how)
					}
				}
			}
		})
	}
}
