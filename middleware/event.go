package middleware

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/msgsec/msgsec/cookies"
)

// Event reports a denial, or in report-only mode a would-be denial, or
// cookies dropped from a request, or a token whose customer data was sent
// in the wrong place. It never carries token, cookie or
// secret-data values.
type Event struct {
	Connection string
	Kind       Kind
	// Reason says why, in words (an origin.Decision, a token error kind).
	// A bad signature on an HMAC key of a loaded policy adds how the
	// policy reads the secret ("invalid signature (HMAC key k1: the
	// secret is used as its text bytes …)"), never the secret.
	Reason string
	// Dropped lists the cookies removed from the request (names and
	// reasons, never values) for KindCookieDropped.
	Dropped []cookies.Drop
	// Origin is the request's Origin header as sent (browser-chosen, not
	// secret; quoted when logged).
	Origin string
	Method string
	// Path is the request's escaped path with per-user IDs replaced by
	// short keyed hashes, stable within the process (a session ID is a
	// chat's credential): on a ServeMux route every wildcard value but
	// {connection}; on other routers each segment after "sessions".
	Path string
	// Blocked is false in report-only mode and for cookie drops.
	Blocked bool
}

// LogValue renders the event for slog.
func (e Event) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("connection", e.Connection),
		slog.String("kind", string(e.Kind)),
		slog.String("reason", e.reason()),
		slog.String("origin", strconv.Quote(e.Origin)),
		slog.String("method", e.Method),
		slog.String("path", e.Path),
		slog.Bool("blocked", e.Blocked),
	)
}

func (e Event) reason() string {
	if e.Kind != KindCookieDropped {
		return e.Reason
	}
	var b strings.Builder
	for i, d := range e.Dropped {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// listening reports whether an event at level would go anywhere.
func (m *Middleware) listening(ctx context.Context, level slog.Level) bool {
	return m.onEvent != nil || m.logger.Enabled(ctx, level)
}

func (m *Middleware) report(ctx context.Context, e Event) {
	if m.onEvent != nil {
		m.onEvent(e) // every event: metrics must count them all
	}
	level := slog.LevelWarn
	msg := "msgsec: request denied"
	switch {
	case e.Kind == KindCookieDropped:
		level, msg = slog.LevelDebug, "msgsec: cookies dropped" // routine: pages carry many cookies
	case e.Kind == KindMisplacedSecretData:
		msg = "msgsec: token verified, but its customer data is not in customer_secret_data"
	case !e.Blocked:
		msg = "msgsec: request would be denied (report-only)"
	}
	if !m.logger.Enabled(ctx, level) {
		return
	}
	suppressed, ok := m.logLimit.allow(time.Now().Unix())
	if !ok {
		return
	}
	if suppressed > 0 {
		m.logger.LogAttrs(ctx, level, msg, slog.Any("event", e), slog.Int64("suppressed", suppressed))
		return
	}
	m.logger.LogAttrs(ctx, level, msg, slog.Any("event", e))
}

// logLimiter caps log lines per second, so a flood of refused requests
// cannot turn into a flood of log writes (each costs far more than the
// refusal). Lines over the cap are counted and the count rides on the next
// line that is written. A zero limit means no cap.
type logLimiter struct {
	perSecond  int64
	second     atomic.Int64
	count      atomic.Int64
	suppressed atomic.Int64
}

// allow reports whether a line may be written now, and how many were
// suppressed since the last one that was.
func (l *logLimiter) allow(now int64) (suppressed int64, ok bool) {
	if l.perSecond <= 0 {
		return 0, true
	}
	if sec := l.second.Load(); sec != now && l.second.CompareAndSwap(sec, now) {
		l.count.Store(0)
	}
	if l.count.Add(1) > l.perSecond {
		l.suppressed.Add(1)
		return 0, false
	}
	return l.suppressed.Swap(0), true
}
