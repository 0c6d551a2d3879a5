// Package otelmetrics turns msgsec's events into OpenTelemetry metrics, for
// the operator of a chat server. The core packages import no metrics
// library; this one imports the OpenTelemetry metric API
// (go.opentelemetry.io/otel/metric), and the application picks the SDK and
// exporter (Prometheus, OTLP, ...).
//
// One [Metrics] value, from [New], is the hook of each msgsec component:
//
//   - the middleware's events (every denial, would-be denial in report-only
//     mode, and cookie drop): msgsec.middleware.decisions
//     {connection, kind, blocked};
//   - the delivery Handler's outcomes: msgsec.delivery.decisions
//     {connection, kind};
//   - replay-cache and store failures from either:
//     msgsec.backend.errors {connection, backend, kind};
//   - token verification time, measured by the policies' verifiers:
//     msgsec.token.verification.duration {connection, outcome}, seconds;
//   - policy loads and reloads: msgsec.policy.reloads {outcome};
//   - the application's own rate limits ([Metrics.RateLimited]):
//     msgsec.rate_limited {connection, limit}.
//
// # Bounded labels
//
// A label that takes a value from a request lets an attacker mint a time
// series per request and exhaust the metrics backend. Every label here
// comes from a bounded set: connection IDs that the policies in force
// name (any other, including every ID an attacker makes up, is
// "(unknown)", which no policy ID can be), msgsec's own kinds and
// outcomes, and at most 16 rate-limit names. Origins, paths, session IDs,
// reasons and error texts never become labels (they stay in the logs).
//
// The middleware reports denials, not admissions: count all requests with
// your HTTP server's own metrics, or read admitted token requests from the
// verification histogram's outcome="ok" series.
//
// # Example
//
//	m, err := otelmetrics.New(meterProvider)
//	if err != nil {
//		log.Fatal(err)
//	}
//	reg, err := policy.NewRegistry(ctx, "policies.yaml", policy.RegistryOptions{
//		OnReload: m.Reloaded,
//		Compile:  policy.CompileOptions{OnVerify: m.Verified},
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mw, err := middleware.ForRegistry(reg, middleware.WithEventHandler(m.MiddlewareEvent))
//	if err != nil {
//		log.Fatal(err)
//	}
//	secretData, err := delivery.NewHandler(delivery.HandlerConfig{
//		Verifier: verifier,
//		Store:    store,
//		OnEvent:  m.DeliveryEvent,
//	})
package otelmetrics
