package otelmetrics

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/msgsec/msgsec/internal/cowmap"
	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

// scope names the instrumentation scope of every instrument.
const scope = "github.com/msgsec/msgsec/otelmetrics"

// unknown labels every connection the policies in force do not name. No
// connection ID can be it: policy IDs start with a letter or a digit.
const unknown = "(unknown)"

// other labels a rate limit past the first maxLimits names, and a kind
// msgsec does not define.
const other = "(other)"

// maxLimits bounds the distinct limit names RateLimited labels.
const maxLimits = 16

// maxSeries bounds the remembered attribute sets; past it (it cannot be
// reached with bounded labels, but the cache must not be the thing that
// grows) each measurement builds its set anew.
const maxSeries = 4096

// Instrument names, as the OpenTelemetry API spells them (a Prometheus
// exporter turns dots into underscores and adds _total, _seconds).
const (
	nameMiddleware = "msgsec.middleware.decisions"
	nameDelivery   = "msgsec.delivery.decisions"
	nameVerify     = "msgsec.token.verification.duration"
	nameBackend    = "msgsec.backend.errors"
	nameReloads    = "msgsec.policy.reloads"
	nameRateLimit  = "msgsec.rate_limited"
)

// verifyBuckets spans an HMAC check in memory (tens of µs) to an RSA key
// with a replay cache across a network (ms), and timeouts (s).
var verifyBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// Metrics turns msgsec's events into OpenTelemetry metrics. Every label
// value comes from a bounded set: connection IDs of the policies in force
// (any other connection is "(unknown)"), msgsec's own kinds and outcomes,
// and at most 16 rate-limit names. Origins, paths, session IDs, reasons
// and errors never become labels.
//
// Its methods are safe for concurrent use, cost no allocation per event
// once a label combination has been seen, and do nothing on a nil
// *Metrics, so a server can call them whether metrics are on or not.
type Metrics struct {
	middleware metric.Int64Counter
	delivery   metric.Int64Counter
	verify     metric.Float64Histogram
	backend    metric.Int64Counter
	reloads    metric.Int64Counter
	limited    metric.Int64Counter

	policies atomic.Pointer[policy.Snapshot] // the connections in force
	series   *cowmap.Map[seriesKey, []metric.AddOption]
	hseries  *cowmap.Map[seriesKey, []metric.RecordOption]
	limits   *cowmap.Map[string, struct{}]
}

// seriesKey is one label combination of one instrument. Every string in it
// is a label value already bounded.
type seriesKey struct {
	instrument string
	connection string
	a, b       string
}

// New creates the instruments on mp's meter. Wire the returned value as
// the hooks of middleware ([middleware.WithEventHandler] with
// [Metrics.MiddlewareEvent]), of a delivery Handler
// (delivery.HandlerConfig.OnEvent with [Metrics.DeliveryEvent]), and of a
// policy.Registry (policy.RegistryOptions.OnReload with [Metrics.Reloaded],
// and its Compile.OnVerify with [Metrics.Verified]). Connection labels come
// from the snapshots Reloaded hears: until one is heard, and without a
// Registry, every connection is "(unknown)".
func New(mp metric.MeterProvider) (*Metrics, error) {
	if mp == nil {
		return nil, errors.New("otelmetrics: nil MeterProvider")
	}
	meter := mp.Meter(scope)
	m := &Metrics{
		series:  cowmap.New[seriesKey, []metric.AddOption](maxSeries),
		hseries: cowmap.New[seriesKey, []metric.RecordOption](maxSeries),
		limits:  cowmap.New[string, struct{}](maxLimits),
	}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	m.middleware = counter(nameMiddleware, "{request}",
		"Requests the msgsec middleware refused (blocked=true), would have refused in report-only mode (blocked=false), or whose Cookie header it filtered (kind=cookie-dropped), by connection and kind.")
	m.delivery = counter(nameDelivery, "{request}",
		"Outcomes of the server-to-server secret-data Handler (stored, deleted and each refusal), by connection and kind.")
	m.backend = counter(nameBackend, "{error}",
		"Requests refused because the replay cache (backend=replay-cache) or the secret-data or session store (backend=store) could not answer or failed, by connection and kind.")
	m.reloads = counter(nameReloads, "{reload}",
		"Policy loads and reloads by outcome (ok: swapped in; failed: the policies in force were kept).")
	m.limited = counter(nameRateLimit, "{request}",
		"Requests refused by a rate or size limit of the application, by connection and limit.")
	var err error
	m.verify, err = meter.Float64Histogram(nameVerify, metric.WithUnit("s"),
		metric.WithDescription("CustomerSecretData token verification time (signature, claims and replay check), by connection and outcome (ok, invalid, replayed, unavailable)."),
		metric.WithExplicitBucketBoundaries(verifyBuckets...))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// MiddlewareEvent counts a middleware event: pass it to
// middleware.WithEventHandler. Replay checks that could not be made
// (KindTokenUnverifiable) also count as backend errors.
func (m *Metrics) MiddlewareEvent(e middleware.Event) {
	if m == nil {
		return
	}
	ctx := context.Background()
	conn, kind := m.connection(e.Connection), middlewareKind(e.Kind)
	blocked := "false"
	if e.Blocked {
		blocked = "true"
	}
	m.middleware.Add(ctx, 1, m.addOptions(seriesKey{nameMiddleware, conn, kind, blocked})...)
	if e.Kind == middleware.KindTokenUnverifiable {
		m.backend.Add(ctx, 1, m.addOptions(seriesKey{nameBackend, conn, "replay-cache", kind})...)
	}
}

// DeliveryEvent counts a delivery Handler outcome: pass it to
// delivery.HandlerConfig.OnEvent. Replay-cache and store failures
// (KindTokenUnverifiable, KindStoreUnavailable, KindStoreError) also count
// as backend errors. The event's connection comes from the request's path,
// so only one the policies in force name becomes a label.
func (m *Metrics) DeliveryEvent(e delivery.Event) {
	if m == nil {
		return
	}
	ctx := context.Background()
	conn, kind := m.connection(e.Connection), deliveryKind(e.Kind)
	m.delivery.Add(ctx, 1, m.addOptions(seriesKey{nameDelivery, conn, kind, ""})...)
	backend := ""
	switch e.Kind {
	case delivery.KindTokenUnverifiable:
		backend = "replay-cache"
	case delivery.KindStoreUnavailable, delivery.KindStoreError:
		backend = "store"
	}
	if backend != "" {
		m.backend.Add(ctx, 1, m.addOptions(seriesKey{nameBackend, conn, backend, kind})...)
	}
}

// Verified records how long a token verification took: pass it as
// policy.CompileOptions.OnVerify (in RegistryOptions.Compile). The error
// only picks the outcome label (nil ok; replayed; unavailable when the
// replay cache could not answer; invalid otherwise).
func (m *Metrics) Verified(connection string, took time.Duration, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	switch {
	case err == nil:
	case errors.Is(err, secretdata.ErrReplayCheckUnavailable):
		outcome = "unavailable"
	case errors.Is(err, secretdata.ErrReplayed):
		outcome = "replayed"
	default:
		outcome = "invalid"
	}
	m.verify.Record(context.Background(), took.Seconds(), m.recordOptions(seriesKey{nameVerify, m.connection(connection), outcome, ""})...)
}

// Reloaded counts a policy load's outcome and learns the connections in
// force: pass it as policy.RegistryOptions.OnReload. Only the connection
// IDs of the last snapshot heard become labels.
func (m *Metrics) Reloaded(s *policy.Snapshot, err error) {
	if m == nil {
		return
	}
	if s != nil {
		m.policies.Store(s)
	}
	outcome := "ok"
	if err != nil {
		outcome = "failed"
	}
	m.reloads.Add(context.Background(), 1, m.addOptions(seriesKey{nameReloads, "", outcome, ""})...)
}

// RateLimited counts a request the application refused by one of its rate
// or size limits (e.g. a 429). limit names the limit: a constant of the
// application ("session-open", "message"), never request data; the first
// 16 distinct names become labels, later ones count as "(other)".
func (m *Metrics) RateLimited(ctx context.Context, connection, limit string) {
	if m == nil {
		return
	}
	if _, ok := m.limits.Get(limit); !ok {
		m.limits.Add(limit, struct{}{})
		if _, ok := m.limits.Get(limit); !ok {
			limit = other
		}
	}
	m.limited.Add(ctx, 1, m.addOptions(seriesKey{nameRateLimit, m.connection(connection), limit, ""})...)
}

// connection is the label of a connection ID: itself when the policies in
// force have it, else "(unknown)".
func (m *Metrics) connection(id string) string {
	if s := m.policies.Load(); s != nil && id != "" {
		if _, ok := s.Get(id); ok {
			return id
		}
	}
	return unknown
}

// attrs is the attribute set of a series.
func (k seriesKey) attrs() attribute.Set {
	switch k.instrument {
	case nameMiddleware:
		return attribute.NewSet(attribute.String("connection", k.connection), attribute.String("kind", k.a), attribute.String("blocked", k.b))
	case nameDelivery:
		return attribute.NewSet(attribute.String("connection", k.connection), attribute.String("kind", k.a))
	case nameBackend:
		return attribute.NewSet(attribute.String("connection", k.connection), attribute.String("backend", k.a), attribute.String("kind", k.b))
	case nameVerify:
		return attribute.NewSet(attribute.String("connection", k.connection), attribute.String("outcome", k.a))
	case nameReloads:
		return attribute.NewSet(attribute.String("outcome", k.a))
	default: // nameRateLimit
		return attribute.NewSet(attribute.String("connection", k.connection), attribute.String("limit", k.a))
	}
}

func (m *Metrics) addOptions(k seriesKey) []metric.AddOption {
	if o, ok := m.series.Get(k); ok {
		return o
	}
	o := []metric.AddOption{metric.WithAttributeSet(k.attrs())}
	m.series.Add(k, o)
	return o
}

func (m *Metrics) recordOptions(k seriesKey) []metric.RecordOption {
	if o, ok := m.hseries.Get(k); ok {
		return o
	}
	o := []metric.RecordOption{metric.WithAttributeSet(k.attrs())}
	m.hseries.Add(k, o)
	return o
}

// middlewareKind is the label of a middleware kind: one msgsec defines.
func middlewareKind(k middleware.Kind) string {
	switch k {
	case middleware.KindUnknownConnection, middleware.KindOriginDenied, middleware.KindOriginRequired,
		middleware.KindPreflightDenied, middleware.KindTokenRequired, middleware.KindTokenInvalid,
		middleware.KindTokenUnverifiable, middleware.KindCookieDropped:
		return string(k)
	}
	return other
}

// deliveryKind is the label of a delivery kind: one msgsec defines.
func deliveryKind(k delivery.Kind) string {
	switch k {
	case delivery.KindStored, delivery.KindDeleted, delivery.KindMethodNotAllowed, delivery.KindBadRequest,
		delivery.KindBodyTooLarge, delivery.KindUnknownConnection, delivery.KindUnknownSession,
		delivery.KindTokenInvalid, delivery.KindTokenUnverifiable, delivery.KindStoreUnavailable,
		delivery.KindStoreError:
		return string(k)
	}
	return other
}
