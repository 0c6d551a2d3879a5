package chat

import (
	"cmp"
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
	ID   int       `json:"id"` // 1, 2, … within the session (the SSE event id)
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

// errSessionsFull: the server holds MaxSessions live sessions.
var errSessionsFull = errors.New("chat: too many sessions")

// errTooManyMessages: the session holds MaxMessages messages.
var errTooManyMessages = errors.New("chat: too many messages in this session")

// session is one chat. Its fields are guarded by sessions.mu.
type session struct {
	id, connection string
	origin         string // the Origin that opened it (the bank page)
	created        time.Time
	expires        time.Time
	cookies        []Cookie
	// browserClaims is the secret data verified from the browser
	// pass-through token the widget sent when it opened the session.
	// Server-to-server data lives in the delivery Store instead.
	browserClaims *secretdata.Claims
	messages      []Message
	// waiters are woken (never blocked on) when a message is added or
	// the session ends.
	waiters map[chan struct{}]struct{}
}

// sessions holds the chats in memory, bounded in number and size.
type sessions struct {
	mu          sync.Mutex
	byKey       map[string]*session
	lifetime    time.Duration
	maxSessions int
	maxMessages int
	now         func() time.Time
	lastPurge   time.Time
	// ended is called (outside the lock) for each session that expired,
	// so its secret data is deleted with it.
	ended func(connection, id string)
}

func key(connection, id string) string { return connection + "\x00" + id }

// newSessionID returns 128 random bits in base64url: unguessable, and
// made only of characters delivery.ValidID accepts.
func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// open starts a session.
func (s *sessions) open(connection, origin string, cookies []Cookie, claims *secretdata.Claims) (*session, error) {
	expired := s.purge()
	defer s.notifyEnded(expired)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byKey) >= s.maxSessions {
		return nil, errSessionsFull
	}
	now := s.now()
	ss := &session{
		id:            newSessionID(),
		connection:    connection,
		origin:        origin,
		created:       now,
		expires:       now.Add(s.lifetime),
		cookies:       cookies,
		browserClaims: claims,
		waiters:       map[chan struct{}]struct{}{},
	}
	s.byKey[key(connection, ss.id)] = ss
	return ss, nil
}

// get returns a live session, under the lock held by the caller.
func (s *sessions) getLocked(connection, id string) (*session, bool) {
	ss, ok := s.byKey[key(connection, id)]
	if !ok || !s.now().Before(ss.expires) {
		return nil, false
	}
	return ss, true
}

// remaining reports how long a live session has left (for the delivery
// Handler's SessionLifetime).
func (s *sessions) remaining(connection, id string) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.getLocked(connection, id)
	if !ok {
		return 0, false
	}
	return ss.expires.Sub(s.now()), true
}

// add appends a customer message (replacing the session's cookies when
// the message carries some) and the echo agent's answer.
func (s *sessions) add(connection, id, text string, cookies []Cookie) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.getLocked(connection, id)
	if !ok {
		return errNoSession
	}
	if len(ss.messages)+2 > s.maxMessages {
		return errTooManyMessages
	}
	if cookies != nil {
		ss.cookies = cookies
	}
	now := s.now()
	ss.messages = append(ss.messages,
		Message{ID: len(ss.messages) + 1, From: FromCustomer, Text: text, At: now},
		Message{ID: len(ss.messages) + 2, From: FromAgent, Text: echo(text), At: now},
	)
	ss.wake()
	return nil
}

// echo is the demo's agent: it repeats what the customer wrote.
func echo(text string) string { return "Echo: " + text }

var errNoSession = errors.New("chat: no such session")

// since returns the messages after id, a channel woken on the next change,
// and when the session ends. The caller must call unwatch(ch).
func (s *sessions) since(connection, id string, after int) (msgs []Message, ch chan struct{}, expires time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.getLocked(connection, id)
	if !ok {
		return nil, nil, time.Time{}, errNoSession
	}
	if after < 0 || after > len(ss.messages) {
		after = 0 // an unknown Last-Event-ID: send everything again
	}
	ch = make(chan struct{}, 1)
	ss.waiters[ch] = struct{}{}
	return slices.Clone(ss.messages[after:]), ch, ss.expires, nil
}

// unwatch stops waking ch.
func (s *sessions) unwatch(connection, id string, ch chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.byKey[key(connection, id)]; ok {
		delete(ss.waiters, ch)
	}
}

func (ss *session) wake() {
	for ch := range ss.waiters {
		select {
		case ch <- struct{}{}:
		default: // already woken; it will read everything new
		}
	}
}

// snapshot is a session as the agent view shows it: copies only.
type snapshot struct {
	ID, Connection, Origin string
	Created, Expires       time.Time
	Cookies                []Cookie
	BrowserClaims          *secretdata.Claims
	Messages               []Message
}

// list returns the live sessions, newest first.
func (s *sessions) list() []snapshot {
	expired := s.purge()
	defer s.notifyEnded(expired)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]snapshot, 0, len(s.byKey))
	now := s.now()
	for _, ss := range s.byKey {
		if !now.Before(ss.expires) {
			continue
		}
		out = append(out, snapshot{
			ID: ss.id, Connection: ss.connection, Origin: ss.origin,
			Created: ss.created, Expires: ss.expires,
			Cookies:       slices.Clone(ss.cookies),
			BrowserClaims: ss.browserClaims,
			Messages:      slices.Clone(ss.messages),
		})
	}
	slices.SortFunc(out, func(a, b snapshot) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// purge removes expired sessions and returns them (the caller reports
// them after releasing the lock). It scans at most once a second, or when
// the server is full, so opening sessions stays cheap.
func (s *sessions) purge() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.byKey) < s.maxSessions && now.Sub(s.lastPurge) < time.Second && now.Sub(s.lastPurge) >= 0 {
		return nil
	}
	s.lastPurge = now
	var expired []*session
	for k, ss := range s.byKey {
		if !now.Before(ss.expires) {
			delete(s.byKey, k)
			ss.wake() // event streams notice the end
			expired = append(expired, ss)
		}
	}
	return expired
}

func (s *sessions) notifyEnded(expired []*session) {
	for _, ss := range expired {
		s.ended(ss.connection, ss.id)
	}
}

// len returns the number of sessions held (live or not yet purged).
func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey)
}

// statusFor maps a session error to an HTTP status.
func statusFor(err error) int {
	switch {
	case errors.Is(err, errNoSession):
		return http.StatusNotFound
	case errors.Is(err, errTooManyMessages), errors.Is(err, errSessionsFull):
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// newer returns the messages after id, or errNoSession once the session
// has ended.
func (s *sessions) newer(connection, id string, after int) ([]Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.getLocked(connection, id)
	if !ok {
		return nil, errNoSession
	}
	if after < 0 || after > len(ss.messages) {
		after = 0
	}
	return slices.Clone(ss.messages[after:]), nil
}
