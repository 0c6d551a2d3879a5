package otelmetrics_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/otelmetrics"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

const (
	bankOrigin = "https://www.uplusbank.com"
	evilOrigin = "https://evil.example"
	issuer     = "bank"
)

var testSecret = base64.RawURLEncoding.EncodeToString([]byte("otelmetrics-test-secret-32-bytes-long!"))

// policyDoc names the connections given, each allowing bankOrigin.
func policyDoc(ids ...string) string {
	var b strings.Builder
	b.WriteString("connections:\n")
	for _, id := range ids {
		fmt.Fprintf(&b, `  - id: %s
    allowed_domains: [%s]
    allowed_cookies: [page_viewed]
    keys: [{id: k1, secret: {value: %s, insecure_inline: true}}]
    token: {issuer: %s, secret_data: optional}
`, id, bankOrigin, testSecret, issuer)
	}
	return b.String()
}

// flakyReplay is a replay cache that fails while down is set.
type flakyReplay struct {
	down atomic.Bool
	mu   sync.Mutex
	seen map[string]bool
}

func (f *flakyReplay) Record(_ context.Context, iss, jti string, _ time.Time) error {
	if f.down.Load() {
		return errors.New("replay backend down")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen[iss+" "+jti] {
		return secretdata.ErrReplayed
	}
	f.seen[iss+" "+jti] = true
	return nil
}

// setup is a registry, the metrics wired to it, and a reader to collect.
type setup struct {
	m      *otelmetrics.Metrics
	reader *sdkmetric.ManualReader
	reg    *policy.Registry
	replay *flakyReplay
}

func newSetup(t testing.TB, ids ...string) *setup {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	m, err := otelmetrics.New(mp)
	require.NoError(t, err)
	s := &setup{m: m, reader: reader, replay: &flakyReplay{seen: map[string]bool{}}}
	if len(ids) > 0 {
		s.reg = s.registry(t, policyDoc(ids...))
	}
	return s
}

// registry loads doc with the metrics' hooks.
func (s *setup) registry(t testing.TB, doc string) *policy.Registry {
	t.Helper()
	reg, err := policy.NewRegistryFromBytes(context.Background(), []byte(doc), policy.RegistryOptions{
		OnReload: s.m.Reloaded,
		Compile:  policy.CompileOptions{OnVerify: s.m.Verified, Replay: s.replay},
	})
	require.NoError(t, err)
	return reg
}

func (s *setup) middleware(t testing.TB) http.Handler {
	t.Helper()
	mw, err := middleware.ForRegistry(s.reg, middleware.WithEventHandler(s.m.MiddlewareEvent), middleware.WithLogger(nil))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mw.Routes(mux).Handle("POST /connections/{connection}/sessions", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}))
	return mux
}

func (s *setup) delivery(t testing.TB, store delivery.Store, verifier func(string) (*secretdata.Verifier, bool)) http.Handler {
	t.Helper()
	if verifier == nil {
		verifier = func(id string) (*secretdata.Verifier, bool) {
			p, ok := s.reg.Get(id)
			if !ok {
				return nil, false
			}
			return p.Verifier(), true
		}
	}
	h, err := delivery.NewHandler(delivery.HandlerConfig{
		Verifier: verifier,
		Store:    store,
		Logger:   slog.New(slog.DiscardHandler),
		OnEvent:  s.m.DeliveryEvent,
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle(delivery.Pattern, h)
	return mux
}

func (s *setup) token(t testing.TB, conn, sid string) string {
	t.Helper()
	f, err := policy.Parse([]byte(policyDoc(conn)), policy.LoadOptions{})
	require.NoError(t, err)
	sc, err := f.Connections[0].SignerConfig("", time.Now())
	require.NoError(t, err)
	signer, err := secretdata.NewSigner(sc)
	require.NoError(t, err)
	tok, err := signer.Sign(secretdata.Claims{Subject: "customer", SessionID: sid})
	require.NoError(t, err)
	return tok
}

func send(h http.Handler, method, path string, header map[string]string) int {
	r := httptest.NewRequest(method, "http://chat.test"+path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// point is one collected data point: its labels and its value (a
// counter's sum, a histogram's count).
type point struct {
	labels map[string]string
	value  int64
}

func (s *setup) collect(t testing.TB, name string) []point {
	t.Helper()
	out, err := collectFrom(s.reader, name)
	require.NoError(t, err)
	return out
}

// collectFrom reads the data points of instrument name.
func collectFrom(reader *sdkmetric.ManualReader, name string) ([]point, error) {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		return nil, err
	}
	var out []point
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			if md.Name != name {
				continue
			}
			switch d := md.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					out = append(out, point{labelsOf(dp.Attributes.ToSlice()), dp.Value})
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					out = append(out, point{labelsOf(dp.Attributes.ToSlice()), int64(dp.Count)})
				}
			default:
				return nil, fmt.Errorf("%s: unexpected data %T", name, md.Data)
			}
		}
	}
	return out, nil
}

func labelsOf(kvs []attribute.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		out[string(kv.Key)] = kv.Value.Emit()
	}
	return out
}

// value sums the points whose labels include want.
func value(points []point, want map[string]string) int64 {
	var n int64
	for _, p := range points {
		match := true
		for k, v := range want {
			if p.labels[k] != v {
				match = false
			}
		}
		if match {
			n += p.value
		}
	}
	return n
}

// labelValues lists the distinct values of label key.
func labelValues(points []point, key string) []string {
	seen := map[string]bool{}
	for _, p := range points {
		seen[p.labels[key]] = true
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// histogram returns the one data point of histogram name.
func (s *setup) histogram(t testing.TB, name string) metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, s.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			if h, ok := md.Data.(metricdata.Histogram[float64]); ok && md.Name == name {
				require.Len(t, h.DataPoints, 1)
				return h.DataPoints[0]
			}
		}
	}
	t.Fatalf("no histogram %s", name)
	return metricdata.HistogramDataPoint[float64]{}
}

func writeFile(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
