package chat

import (
	"container/list"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Limits bounds what one client, one session and the whole server may
// use, so that one client cannot crowd out the others: opening a session
// needs only an Origin header a script can forge, so the Origin check
// does not stop a flood. Zero fields take the defaults below.
type Limits struct {
	// SessionsPerMinute and SessionBurst are a client's token bucket for
	// opening sessions. A customer opens one chat, a few with reloads.
	SessionsPerMinute float64
	SessionBurst      int
	// MessagesPerSecond and MessageBurst are a client's token bucket for
	// messages, over all its sessions.
	MessagesPerSecond float64
	MessageBurst      int
	// MaxStreamsPerClient bounds a client's open chat WebSockets,
	// MaxStreams everyone's; an upgrade over either is refused 429.
	MaxStreamsPerClient int
	MaxStreams          int
	// MaxSessionBytes bounds the text one session holds, the customer's
	// and the agent's messages together.
	MaxSessionBytes int
	// MaxTotalBytes bounds the text all sessions hold in this process's
	// memory (the default SessionStore; Redis is bounded by MaxSessions ×
	// MaxSessionBytes and its own maxmemory).
	MaxTotalBytes int64
	// MaxClients bounds the clients whose buckets are remembered; the
	// least recently seen is forgotten first, so memory stays bounded
	// however many addresses a flood comes from.
	MaxClients int
	// ClientIPHeader names a header a trusted reverse proxy sets to the
	// client's address, such as "X-Forwarded-For" (its last entry, the one
	// the proxy appended, is used). Empty (the default): the connection's
	// remote address. Set it only behind a proxy that always sets it:
	// otherwise every client picks its own identity.
	ClientIPHeader string
}

// Default limits.
const (
	DefaultSessionsPerMinute   = 2
	DefaultSessionBurst        = 10
	DefaultMessagesPerSecond   = 2
	DefaultMessageBurst        = 20
	DefaultMaxStreamsPerClient = 8
	DefaultMaxStreams          = 10_000
	DefaultMaxSessionBytes     = 64 << 10
	DefaultMaxTotalBytes       = 64 << 20
	DefaultMaxClients          = 100_000
)

func (l *Limits) defaults() error {
	set := func(p *float64, d float64) {
		if *p == 0 {
			*p = d
		}
	}
	seti := func(p *int, d int) {
		if *p == 0 {
			*p = d
		}
	}
	set(&l.SessionsPerMinute, DefaultSessionsPerMinute)
	set(&l.MessagesPerSecond, DefaultMessagesPerSecond)
	seti(&l.SessionBurst, DefaultSessionBurst)
	seti(&l.MessageBurst, DefaultMessageBurst)
	seti(&l.MaxStreamsPerClient, DefaultMaxStreamsPerClient)
	seti(&l.MaxStreams, DefaultMaxStreams)
	seti(&l.MaxSessionBytes, DefaultMaxSessionBytes)
	seti(&l.MaxClients, DefaultMaxClients)
	if l.MaxTotalBytes == 0 {
		l.MaxTotalBytes = DefaultMaxTotalBytes
	}
	var bad []string
	for name, v := range map[string]float64{"SessionsPerMinute": l.SessionsPerMinute, "MessagesPerSecond": l.MessagesPerSecond} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			bad = append(bad, name+" must be positive")
		}
	}
	for name, v := range map[string]int{"SessionBurst": l.SessionBurst, "MessageBurst": l.MessageBurst,
		"MaxStreamsPerClient": l.MaxStreamsPerClient, "MaxStreams": l.MaxStreams, "MaxClients": l.MaxClients} {
		if v < 0 {
			bad = append(bad, name+" must be positive")
		}
	}
	if l.MaxSessionBytes < 2*MaxTextBytes {
		bad = append(bad, fmt.Sprintf("MaxSessionBytes must be at least %d (one message and its answer)", 2*MaxTextBytes))
	}
	if l.MaxTotalBytes < int64(l.MaxSessionBytes) {
		bad = append(bad, "MaxTotalBytes must be at least MaxSessionBytes")
	}
	if strings.ContainsAny(l.ClientIPHeader, " \t\r\n:") {
		bad = append(bad, "ClientIPHeader is not a header name")
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fmt.Errorf("%w: Limits: %s", ErrConfig, strings.Join(bad, "; "))
	}
	return nil
}

// clientKey is the identity limits are counted against: the client's IP
// address, an IPv6 one cut to its /64 (what one subscriber is given).
// An address that does not parse counts as one shared client, "?", so a
// malformed header never escapes the limits.
func (l *Limits) clientKey(r *http.Request) string {
	s := ""
	if l.ClientIPHeader != "" {
		vs := r.Header.Values(l.ClientIPHeader)
		if len(vs) > 0 {
			last := vs[len(vs)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			s = strings.TrimSpace(last)
		}
	} else if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "?"
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// clients remembers each client's buckets and open streams, for at most
// max clients (least recently seen forgotten first).
type clients struct {
	lim     *Limits
	now     func() time.Time
	mu      sync.Mutex
	order   *list.List // of *client, most recent first
	byKey   map[string]*list.Element
	streams atomic.Int64 // open streams, all clients
}

type client struct {
	key      string
	sessions *rate.Limiter
	messages *rate.Limiter
	streams  int // guarded by clients.mu
}

func newClients(l *Limits, now func() time.Time) *clients {
	return &clients{lim: l, now: now, order: list.New(), byKey: map[string]*list.Element{}}
}

// get returns the client of key, remembering it as the most recent.
func (c *clients) get(key string) *client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*client)
	}
	for c.order.Len() >= c.lim.MaxClients {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.byKey, old.Value.(*client).key)
	}
	cl := &client{
		key:      key,
		sessions: rate.NewLimiter(rate.Limit(c.lim.SessionsPerMinute/60), c.lim.SessionBurst),
		messages: rate.NewLimiter(rate.Limit(c.lim.MessagesPerSecond), c.lim.MessageBurst),
	}
	c.byKey[key] = c.order.PushFront(cl)
	return cl
}

// take spends one token of b, or says how long until one is there.
func (c *clients) take(b *rate.Limiter) (ok bool, retry time.Duration) {
	now := c.now()
	r := b.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// openStream counts a new stream (a chat WebSocket) of cl, unless cl or everyone is at
// the bound; done must be called when it ends.
func (c *clients) openStream(cl *client) (done func(), ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl.streams >= c.lim.MaxStreamsPerClient || c.streams.Load() >= int64(c.lim.MaxStreams) {
		return nil, false
	}
	cl.streams++
	c.streams.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			cl.streams--
			c.mu.Unlock()
			c.streams.Add(-1)
		})
	}, true
}

// client returns the limits' state of the request's client.
func (s *Server) client(r *http.Request) *client { return s.clients.get(s.limits.clientKey(r)) }

// bounds are what one session may hold.
func (s *Server) bounds() Bounds {
	return Bounds{Messages: s.maxMessages, Bytes: s.limits.MaxSessionBytes}
}

// refusal is why the server did not take a request or a socket message:
// over HTTP its answer (a problem document when kind is set, else plain
// text), over a socket the text of an error frame.
type refusal struct {
	status int
	kind   string // problem type: "rate-limited", "storage-limit"; "" for plain text
	title  string
	detail string
	retry  time.Duration // Retry-After (429s)
}

// rateLimitedRefusal: the client is over its what limit; a token is there
// in retry.
func rateLimitedRefusal(what string, retry time.Duration) *refusal {
	return &refusal{status: http.StatusTooManyRequests, kind: "rate-limited", title: "too many requests",
		detail: "this client is over its " + what + " limit; retry later", retry: retry}
}

// tooLargeRefusal: a session or the server holds as much text as it may;
// retrying later helps once sessions end.
func tooLargeRefusal(what string) *refusal {
	return &refusal{status: http.StatusTooManyRequests, kind: "storage-limit", title: "too much chat text",
		detail: what + " holds as much text as it may", retry: time.Minute}
}

// retryAfter is Retry-After in whole seconds: at least 1 for a problem
// (a limit), none (0) for a plain refusal.
func (f *refusal) retryAfter() int64 {
	if f.kind == "" {
		return 0
	}
	return max(1, int64(math.Ceil(f.retry.Seconds())))
}

// writeHTTP answers the request with f; nothing from the request is echoed.
func (f *refusal) writeHTTP(w http.ResponseWriter) {
	if f.kind == "" {
		http.Error(w, f.detail, f.status)
		return
	}
	writeProblem(w, f.status, f.kind, f.title, f.detail, f.retryAfter())
}

// rateLimited answers 429 with Retry-After (whole seconds, at least 1) and
// a problem document naming what was limited.
func rateLimited(w http.ResponseWriter, what string, retry time.Duration) {
	rateLimitedRefusal(what, retry).writeHTTP(w)
}

// writeProblem writes an RFC 9457 problem document. The type URIs are the
// example server's own ("urn:msgsec:example:…"), not msgsec's.
func writeProblem(w http.ResponseWriter, status int, kind, title, detail string, retryAfter int64) {
	body, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}{"urn:msgsec:example:" + kind, title, status, detail})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(retryAfter, 10))
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
