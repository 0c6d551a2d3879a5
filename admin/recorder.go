package admin

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/policy"
)

// maxPending bounds the (connection, origin) pairs a Recorder holds
// between two flushes; more are counted under OtherOrigins.
const maxPending = 4096

// Recorder counts the origins that report-only connections would have
// refused, for the console's roll-out list. Give its Event method to the
// chat server's middleware (middleware.WithEventHandler; with metrics, call
// both from one handler) and run Run: counts are kept in memory and added
// to the Journal every flush interval, so a refused request costs a map
// update, never a round trip. Only canonical http(s) origins of
// connections the registry has in report-only mode are counted: an
// attacker's garbage Origin values cannot grow it.
type Recorder struct {
	j   Journal
	reg *policy.Registry
	now func() time.Time

	mu      sync.Mutex
	pending map[string]map[string]int64 // connection → origin → count
	n       int
}

// NewRecorder returns a Recorder adding to j, for the connections of reg.
func NewRecorder(j Journal, reg *policy.Registry) *Recorder {
	return &Recorder{j: j, reg: reg, now: time.Now, pending: map[string]map[string]int64{}}
}

// Event counts e if it is an origin a report-only connection let through
// that enforce mode would refuse.
func (r *Recorder) Event(e middleware.Event) {
	if e.Blocked || (e.Kind != middleware.KindOriginDenied && e.Kind != middleware.KindPreflightDenied) {
		return
	}
	p, ok := r.reg.Get(e.Connection)
	if !ok || !p.ReportOnly() {
		return
	}
	o := e.Origin
	if !canonicalOrigin(o) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.pending[e.Connection]
	if c == nil {
		c = map[string]int64{}
		r.pending[e.Connection] = c
	}
	if _, seen := c[o]; !seen {
		if r.n >= maxPending {
			o = OtherOrigins
		} else {
			r.n++
		}
	}
	c[o]++
}

// Flush adds the pending counts to the journal now.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	pending := r.pending
	r.pending, r.n = map[string]map[string]int64{}, 0
	r.mu.Unlock()
	hour := r.now().UTC().Truncate(time.Hour)
	var first error
	for conn, counts := range pending {
		if err := r.j.AddRefusals(ctx, conn, hour, counts); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Run flushes every interval (5 s when zero or less) until ctx ends, then
// once more.
func (r *Recorder) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = r.Flush(context.WithoutCancel(ctx))
			return
		case <-t.C:
			_ = r.Flush(ctx)
		}
	}
}

// canonicalOrigin reports whether o is an http(s) origin as a browser
// serialises it (lowercase scheme and host, no path, no default port).
func canonicalOrigin(o string) bool {
	if len(o) > 300 || !(strings.HasPrefix(o, "https://") || strings.HasPrefix(o, "http://")) {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	if strings.ToLower(u.Host) != u.Host || (u.Scheme+"://"+u.Host) != o {
		return false
	}
	switch port := u.Port(); {
	case u.Scheme == "https" && port == "443", u.Scheme == "http" && port == "80":
		return false
	case strings.HasSuffix(u.Host, ":"):
		return false
	}
	for _, c := range u.Hostname() {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '[' || c == ']' || c == ':') {
			return false
		}
	}
	return true
}
