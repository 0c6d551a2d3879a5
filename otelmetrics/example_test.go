package otelmetrics_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/otelmetrics"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// The package doc's example: one Metrics value as the hook of the
// registry, the middleware and the delivery Handler, exported in the
// Prometheus text format.
func Example() {
	dir, err := os.MkdirTemp("", "msgsec-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	prev, _ := os.Getwd()
	defer func() { _ = os.Chdir(prev) }()
	_ = os.Chdir(dir)
	_ = os.WriteFile("policies.yaml", []byte(`connections:
  - id: retail-bank
    allowed_domains: [https://www.uplusbank.com]
    token: {secret_data: optional}
`), 0o600)
	ctx := context.Background()
	promReg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(promReg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		log.Fatal(err)
	}
	meterProvider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	verifier := func(string) (*secretdata.Verifier, bool) { return nil, false }
	store, _ := delivery.NewMemoryStore([]byte("0123456789abcdef0123456789abcdef"), delivery.MemoryStoreConfig{})

	m, err := otelmetrics.New(meterProvider)
	if err != nil {
		log.Fatal(err)
	}
	reg, err := policy.NewRegistry(ctx, "policies.yaml", policy.RegistryOptions{
		OnReload: m.Reloaded,
		Compile:  policy.CompileOptions{OnVerify: m.Verified},
	})
	if err != nil {
		log.Fatal(err)
	}
	mw, err := middleware.ForRegistry(reg, middleware.WithEventHandler(m.MiddlewareEvent))
	if err != nil {
		log.Fatal(err)
	}
	secretData, err := delivery.NewHandler(delivery.HandlerConfig{
		Verifier: verifier,
		Store:    store,
		OnEvent:  m.DeliveryEvent,
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = secretData // mount at delivery.Pattern behind mw.ServerToServer

	h := mw.Handler(http.NotFoundHandler())
	r := httptest.NewRequest(http.MethodPost, "/connections/retail-bank/sessions", nil)
	r.SetPathValue("connection", "retail-bank")
	r.Header.Set("Origin", "https://evil.example")
	h.ServeHTTP(httptest.NewRecorder(), r)

	w := httptest.NewRecorder()
	promhttp.HandlerFor(promReg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for l := range strings.SplitSeq(w.Body.String(), "\n") {
		if strings.HasPrefix(l, "msgsec_") {
			fmt.Println(l)
		}
	}
	// Output:
	// msgsec_middleware_decisions_total{blocked="true",connection="retail-bank",kind="origin-denied"} 1
	// msgsec_policy_reloads_total{outcome="ok"} 1
}

// RateLimited is for the application's own limits; the limit name is a
// constant of the application.
func ExampleMetrics_RateLimited() {
	reader := sdkmetric.NewManualReader()
	m, _ := otelmetrics.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	tooMany := func(w http.ResponseWriter, r *http.Request) {
		m.RateLimited(r.Context(), r.PathValue("connection"), "session-open")
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
	}
	r := httptest.NewRequest(http.MethodPost, "/connections/made-up/sessions", nil)
	r.SetPathValue("connection", "made-up")
	tooMany(httptest.NewRecorder(), r)
	points, _ := collectFrom(reader, "msgsec.rate_limited")
	for _, p := range points {
		fmt.Println(p.labels["connection"], p.labels["limit"], p.value)
	}
	// Output: (unknown) session-open 1
}
