package chat

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/msgsec/msgsec/secretdata"
)

// Who wrote a message.
const (
	FromCustomer = "customer"
	FromAgent    = "agent"
)

// Message is one line of a chat.
type Message struct {
	ID   int       `json:"id"` // 1, 2, … within the session (a socket resumes with ?after=N)
	From string    `json:"from"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Cookie is an allowed cookie attached to a session: it passed the
// connection's allowlist, so it is public by the bank's own policy.
type Cookie struct {
	Name  string
	Value string
}

// Session is one chat as a SessionStore keeps it. Stores return copies:
// changing one changes nothing stored.
type Session struct {
	ID, Connection string
	Origin         string // the Origin that opened it (the bank page)
	Created        time.Time
	Expires        time.Time
	Cookies        []Cookie
	// BrowserClaims is the secret data verified from the browser
	// pass-through token the widget sent when it opened the session (nil
	// without one). Server-to-server data lives in the delivery Store.
	BrowserClaims *secretdata.Claims
	Messages      []Message
}

// SessionStore keeps the chat sessions. The Server gives every session
// its ID, lifetime and limits; a store keeps them, bounded, until Expires,
// and must be safe for concurrent use. Errors wrap ErrNoSession,
// ErrSessionsFull, ErrTooManyMessages, ErrTooMuchText or
// ErrSessionStoreUnavailable (the Server answers 404, 429, 429, 429 and
// 503). Two implementations: the default,
// in this process's memory (one instance), and RedisSessions (several
// instances behind a load balancer).
type SessionStore interface {
	// Create stores s (Messages ignored) unless max live sessions are
	// already held.
	Create(ctx context.Context, s *Session, max int) error
	// Get returns a live session without its messages.
	Get(ctx context.Context, connection, id string) (*Session, error)
	// Append adds msgs, numbering them after the last one, and replaces
	// the session's cookies when cookies is not nil. It refuses, adding
	// nothing, if the session would then hold more than b.Messages
	// messages (ErrTooManyMessages) or b.Bytes bytes of text
	// (ErrTooMuchText), or a memory store more than its total.
	Append(ctx context.Context, connection, id string, cookies []Cookie, msgs []Message, b Bounds) error
	// Messages returns the messages after the one numbered after (all of
	// them when after is out of range) and when the session ends.
	Messages(ctx context.Context, connection, id string, after int) ([]Message, time.Time, error)
	// List returns a page of the live sessions, newest first, with their
	// last messages, and how many sessions are live in all.
	List(ctx context.Context, p Page) ([]Session, int, error)
	// End removes a live session and its messages (ErrNoSession if there
	// is none); its watchers are signalled, on this instance at once.
	End(ctx context.Context, connection, id string) error
	// Watch returns a channel signalled (never blocked on) when the
	// session may have changed, and a function that stops it. Call Watch
	// before reading, so no change between the two is missed.
	Watch(connection, id string) (<-chan struct{}, func())
}

// Bounds are what one session may hold.
type Bounds struct {
	Messages int // messages, the customer's and the agent's
	Bytes    int // bytes of their text
}

// Page selects part of the session list: newest first, Offset sessions
// skipped, at most Limit of them (0: all), each with at most its last
// LastMessages messages (0: all).
type Page struct {
	Offset, Limit, LastMessages int
}

// window returns the range [lo, hi) of n items a page keeps.
func (p Page) window(n int) (lo, hi int) {
	lo = min(max(p.Offset, 0), n)
	hi = n
	if p.Limit > 0 {
		hi = min(lo+p.Limit, n)
	}
	return lo, hi
}

// last returns the messages a page keeps of msgs.
func (p Page) last(msgs []Message) []Message {
	if p.LastMessages > 0 && len(msgs) > p.LastMessages {
		return msgs[len(msgs)-p.LastMessages:]
	}
	return msgs
}

// textBytes is the text msgs add to a session.
func textBytes(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += len(m.Text)
	}
	return n
}

// Sentinel errors of a SessionStore, for errors.Is.
var (
	// ErrNoSession: no live session has this (connection, ID).
	ErrNoSession = errors.New("chat: no such session")
	// ErrSessionsFull: the store holds MaxSessions live sessions.
	ErrSessionsFull = errors.New("chat: too many sessions")
	// ErrTooManyMessages: the session holds MaxMessages messages.
	ErrTooManyMessages = errors.New("chat: too many messages in this session")
	// ErrTooMuchText: the session, or the whole memory store, holds as
	// much text as it may.
	ErrTooMuchText = errors.New("chat: too much text")
	// ErrSessionStoreUnavailable: the store did not answer (Redis down or
	// slow). Nothing was changed; the request fails closed with 503.
	ErrSessionStoreUnavailable = errors.New("chat: session store unavailable")
)

// newSessionID returns 128 random bits in base64url: unguessable, and
// made only of characters delivery.ValidID accepts.
func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// echo is the demo's agent: it repeats what the customer wrote.
func echo(text string) string { return "Echo: " + text }

// statusFor maps a session error to an HTTP status. Anything unknown is
// a 500: never a success.
func statusFor(err error) int {
	switch {
	case errors.Is(err, ErrNoSession):
		return http.StatusNotFound
	case errors.Is(err, ErrTooManyMessages), errors.Is(err, ErrSessionsFull), errors.Is(err, ErrTooMuchText):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrSessionStoreUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// memorySessions is the default SessionStore: this process's memory.
type memorySessions struct {
	mu        sync.Mutex
	byKey     map[string]*memorySession
	now       func() time.Time
	lastPurge time.Time
	// total is the text all sessions hold, at most maxTotal.
	total, maxTotal int64
	// ended is called (outside the lock) for each session that expired,
	// so its secret data is deleted with it.
	ended func(connection, id string)
}

// memorySession is a stored session; its fields are guarded by
// memorySessions.mu.
type memorySession struct {
	Session
	// waiters are woken (never blocked on) when a message is added or
	// the session ends.
	waiters map[chan struct{}]struct{}
	bytes   int // the text of Messages
}

var _ SessionStore = (*memorySessions)(nil)

func newMemorySessions(now func() time.Time, maxTotal int64, ended func(connection, id string)) *memorySessions {
	return &memorySessions{byKey: map[string]*memorySession{}, now: now, maxTotal: maxTotal, ended: ended}
}

func key(connection, id string) string { return connection + "\x00" + id }

// over reports whether add more bytes would pass the store's total.
func (s *memorySessions) over(add int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total+int64(add) > s.maxTotal
}

// Create implements SessionStore.
func (s *memorySessions) Create(_ context.Context, ss *Session, max int) error {
	expired := s.purge(max, false)
	defer s.notifyEnded(expired)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byKey) >= max {
		return ErrSessionsFull
	}
	k := key(ss.Connection, ss.ID)
	if _, taken := s.byKey[k]; taken {
		return ErrSessionsFull // 128 random bits never collide; refuse anyway
	}
	stored := &memorySession{Session: *ss, waiters: map[chan struct{}]struct{}{}}
	stored.Cookies = slices.Clone(ss.Cookies)
	stored.Messages = nil
	s.byKey[k] = stored
	return nil
}

// getLocked returns a live session, under the lock held by the caller.
func (s *memorySessions) getLocked(connection, id string) (*memorySession, bool) {
	ss, ok := s.byKey[key(connection, id)]
	if !ok || !s.now().Before(ss.Expires) {
		return nil, false
	}
	return ss, true
}

// Get implements SessionStore.
func (s *memorySessions) Get(_ context.Context, connection, id string) (*Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.getLocked(connection, id)
	if !ok {
		return nil, ErrNoSession
	}
	out := ss.Session
	out.Cookies = slices.Clone(ss.Cookies)
	out.Messages = nil
	return &out, nil
}

// Append implements SessionStore.
func (s *memorySessions) Append(_ context.Context, connection, id string, cookies []Cookie, msgs []Message, b Bounds) error {
	add := textBytes(msgs)
	if s.over(add) {
		s.notifyEnded(s.purge(0, true)) // ended sessions free their text
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.getLocked(connection, id)
	if !ok {
		return ErrNoSession
	}
	switch {
	case len(ss.Messages)+len(msgs) > b.Messages:
		return ErrTooManyMessages
	case ss.bytes+add > b.Bytes, s.total+int64(add) > s.maxTotal:
		return ErrTooMuchText
	}
	ss.bytes += add
	s.total += int64(add)
	if cookies != nil {
		ss.Cookies = slices.Clone(cookies)
	}
	for _, m := range msgs {
		m.ID = len(ss.Messages) + 1
		ss.Messages = append(ss.Messages, m)
	}
	ss.wake()
	return nil
}

// Messages implements SessionStore.
func (s *memorySessions) Messages(_ context.Context, connection, id string, after int) ([]Message, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.getLocked(connection, id)
	if !ok {
		return nil, time.Time{}, ErrNoSession
	}
	if after < 0 || after > len(ss.Messages) {
		after = 0 // an unknown Last-Event-ID: send everything again
	}
	return slices.Clone(ss.Messages[after:]), ss.Expires, nil
}

// End implements SessionStore.
func (s *memorySessions) End(_ context.Context, connection, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.getLocked(connection, id)
	if !ok {
		return ErrNoSession
	}
	delete(s.byKey, key(connection, id))
	s.total -= int64(ss.bytes) // its text no longer counts against MaxTotalBytes
	ss.wake()
	return nil
}

// Watch implements SessionStore. A session that does not exist is never
// signalled: the caller's next read finds ErrNoSession.
func (s *memorySessions) Watch(connection, id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.byKey[key(connection, id)]; ok {
		ss.waiters[ch] = struct{}{}
	}
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if ss, ok := s.byKey[key(connection, id)]; ok {
			delete(ss.waiters, ch)
		}
	}
}

func (ss *memorySession) wake() {
	for ch := range ss.waiters {
		select {
		case ch <- struct{}{}:
		default: // already woken; it will read everything new
		}
	}
}

// List implements SessionStore.
func (s *memorySessions) List(_ context.Context, p Page) ([]Session, int, error) {
	expired := s.purge(0, false)
	defer s.notifyEnded(expired)
	s.mu.Lock()
	defer s.mu.Unlock()
	live := make([]*memorySession, 0, len(s.byKey))
	now := s.now()
	for _, ss := range s.byKey {
		if now.Before(ss.Expires) {
			live = append(live, ss)
		}
	}
	slices.SortFunc(live, func(a, b *memorySession) int { return compareSessions(&a.Session, &b.Session) })
	lo, hi := p.window(len(live))
	out := make([]Session, 0, hi-lo)
	for _, ss := range live[lo:hi] {
		c := ss.Session
		c.Cookies = slices.Clone(ss.Cookies)
		c.Messages = slices.Clone(p.last(ss.Messages))
		out = append(out, c)
	}
	return out, len(live), nil
}

// sortSessions orders newest first, then by ID.
func sortSessions(list []Session) {
	slices.SortFunc(list, func(a, b Session) int { return compareSessions(&a, &b) })
}

// compareSessions orders sessions newest first, then by ID.
func compareSessions(a, b *Session) int {
	if c := b.Created.Compare(a.Created); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// purge removes expired sessions and returns them (the caller reports
// them after releasing the lock). It scans at most once a second, or when
// max sessions are held (or force, when the text total is reached), so
// opening sessions and sending messages stay cheap.
func (s *memorySessions) purge(max int, force bool) []*memorySession {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !force && (max == 0 || len(s.byKey) < max) && now.Sub(s.lastPurge) < time.Second && now.Sub(s.lastPurge) >= 0 {
		return nil
	}
	s.lastPurge = now
	var expired []*memorySession
	for k, ss := range s.byKey {
		if !now.Before(ss.Expires) {
			delete(s.byKey, k)
			s.total -= int64(ss.bytes)
			ss.wake() // sockets notice the end
			expired = append(expired, ss)
		}
	}
	return expired
}

func (s *memorySessions) notifyEnded(expired []*memorySession) {
	for _, ss := range expired {
		s.ended(ss.Connection, ss.ID)
	}
}

// len returns the number of sessions held (live or not yet purged).
func (s *memorySessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey)
}
