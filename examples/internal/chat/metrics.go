package chat

import (
	"context"
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/msgsec/msgsec/otelmetrics"
)

// NewPrometheusMetrics returns msgsec's metrics (package otelmetrics)
// exported in the Prometheus text format: m for Config.Metrics and for the
// policy registry's hooks (RegistryOptions.OnReload: m.Reloaded,
// CompileOptions.OnVerify: m.Verified), and h for Config.MetricsHandler.
// It uses a Prometheus registry of its own, not the global one, so two
// servers in one process (tests) never share counters.
func NewPrometheusMetrics() (m *otelmetrics.Metrics, h http.Handler, err error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, nil, err
	}
	m, err = otelmetrics.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter)))
	if err != nil {
		return nil, nil, err
	}
	return m, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}

// limited counts a session-store refusal that is a limit (MaxSessions,
// MaxMessages: both answered 429) in the rate-limit metric.
func (s *Server) limited(ctx context.Context, connection string, err error) {
	switch {
	case errors.Is(err, ErrSessionsFull):
		s.metrics.RateLimited(ctx, connection, "max-sessions")
	case errors.Is(err, ErrTooManyMessages):
		s.metrics.RateLimited(ctx, connection, "max-messages")
	case errors.Is(err, ErrTooMuchText):
		s.metrics.RateLimited(ctx, connection, "max-text")
	}
}
