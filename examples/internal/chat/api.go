package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// configResponse is the widget's public configuration.
type configResponse struct {
	Connection string `json:"connection"`
	Name       string `json:"name"`
	// AllowedCookies lists the names (and "prefix*" patterns) whose values
	// the widget may read from document.cookie and send. The server
	// filters again whatever arrives: this list only keeps the widget from
	// sending more than it should.
	AllowedCookies []string `json:"allowed_cookies"`
}

// config serves GET /connections/{connection}/config (behind Handler, so
// only allowed sites can read it).
func (s *Server) config(w http.ResponseWriter, r *http.Request) {
	in, ok := s.info(w, r)
	if !ok {
		return
	}
	p := in.policy
	names := append(p.Cookies().Names(), p.Cookies().Patterns()...)
	if names == nil {
		names = []string{}
	}
	writeJSON(w, http.StatusOK, configResponse{Connection: p.ID(), Name: p.Name(), AllowedCookies: names})
}

// openRequest is the body of POST …/sessions and …/messages.
type openRequest struct {
	// Cookies are the bank page's cookies the widget read (name → value).
	Cookies map[string]string `json:"cookies"`
}

type openResponse struct {
	Session string `json:"session"`
}

// openSession serves POST /connections/{connection}/sessions. The
// middleware has already checked the Origin, verified the browser token
// (if any) and filtered the Cookie header; this handler filters the
// cookies in the body with the same allowlist and keeps only what passed.
func (s *Server) openSession(w http.ResponseWriter, r *http.Request) {
	in, ok := s.info(w, r)
	if !ok {
		return
	}
	if ok, retry := s.clients.take(s.client(r).sessions); !ok {
		s.metrics.RateLimited(r.Context(), in.policy.ID(), "session-rate")
		rateLimited(w, "session", retry)
		return
	}
	var req openRequest
	if !s.decode(w, r, &req) {
		return
	}
	p := in.policy
	now := s.now()
	ss := &Session{
		ID:            newSessionID(),
		Connection:    p.ID(),
		Origin:        r.Header.Get("Origin"),
		Created:       now,
		Expires:       now.Add(s.lifetime),
		Cookies:       s.allowedCookies(in, req.Cookies),
		BrowserClaims: in.claims,
	}
	if err := s.sessions.Create(r.Context(), ss, s.maxSessions); err != nil {
		s.log.Warn("chat: session refused", "connection", p.ID(), "err", err)
		s.limited(r, p.ID(), err)
		http.Error(w, http.StatusText(statusFor(err)), statusFor(err))
		return
	}
	writeJSON(w, http.StatusCreated, openResponse{Session: ss.ID})
}

// messageRequest is the body of POST …/messages.
type messageRequest struct {
	Text string `json:"text"`
	// Cookies, when present, replace the session's cookies (the page may
	// have changed them); filtered like those sent at opening.
	Cookies map[string]string `json:"cookies"`
}

// postMessage serves POST …/sessions/{session}/messages: the widget iframe
// (same origin) or the bank page (an allowed origin) sends a customer
// message; the echo agent answers.
func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	in, ok := s.info(w, r)
	if !ok {
		return
	}
	if ok, retry := s.clients.take(s.client(r).messages); !ok {
		s.metrics.RateLimited(r.Context(), in.policy.ID(), "message-rate")
		rateLimited(w, "message", retry)
		return
	}
	var req messageRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Text == "" || len(req.Text) > MaxTextBytes || !utf8.ValidString(req.Text) {
		http.Error(w, fmt.Sprintf("text must be 1 to %d bytes of UTF-8", MaxTextBytes), http.StatusBadRequest)
		return
	}
	var cookies []Cookie
	if req.Cookies != nil {
		cookies = s.allowedCookies(in, req.Cookies)
		if cookies == nil {
			cookies = []Cookie{} // sent, and nothing passed: clear them
		}
	}
	now := s.now()
	msgs := []Message{
		{From: FromCustomer, Text: req.Text, At: now},
		{From: FromAgent, Text: echo(req.Text), At: now},
	}
	if err := s.sessions.Append(r.Context(), in.policy.ID(), r.PathValue("session"), cookies, msgs, s.bounds()); err != nil {
		s.logStoreError("append", in.policy.ID(), err)
		s.limited(r, in.policy.ID(), err)
		if errors.Is(err, ErrTooMuchText) {
			tooLarge(w, "this chat")
			return
		}
		http.Error(w, http.StatusText(statusFor(err)), statusFor(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// allowedCookies returns the cookies msgsec let through: the body's map
// filtered by the connection's allowlist, then the (already rewritten)
// Cookie header's, skipping names the body gave. Dropped cookies are only
// counted in the log: their names and values stay out of it.
func (s *Server) allowedCookies(in requestInfo, sent map[string]string) []Cookie {
	p := in.policy
	kept := p.Cookies().FilterValues(sent)
	if dropped := len(sent) - len(kept); dropped > 0 {
		s.log.Info("chat: cookies dropped by the allowlist", "connection", p.ID(), "count", dropped)
	}
	var out []Cookie
	seen := map[string]bool{}
	for _, c := range kept {
		out = append(out, Cookie{Name: c.Name, Value: c.Value})
		seen[c.Name] = true
	}
	for _, c := range in.cookies {
		if !seen[c.Name] {
			out = append(out, Cookie{Name: c.Name, Value: c.Value})
			seen[c.Name] = true
		}
	}
	return out
}

// events serves GET …/sessions/{session}/events as Server-Sent Events:
// every message since Last-Event-ID, then each new one, until the session
// ends or the client leaves.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	in, ok := s.info(w, r)
	if !ok {
		return
	}
	done, ok := s.clients.openStream(s.client(r))
	if !ok {
		s.metrics.RateLimited(r.Context(), in.policy.ID(), "streams")
		rateLimited(w, "open stream", 10*time.Second)
		return
	}
	defer done()
	conn, id := in.policy.ID(), r.PathValue("session")
	after, _ := strconv.Atoi(r.Header.Get("Last-Event-ID"))
	// Watch first, then read: a message added in between still wakes us.
	wake, stop := s.sessions.Watch(conn, id)
	defer stop()
	msgs, expires, err := s.sessions.Messages(r.Context(), conn, id, after)
	if err != nil {
		s.logStoreError("messages", conn, err)
		http.Error(w, http.StatusText(statusFor(err)), statusFor(err))
		return
	}

	rc := http.NewResponseController(w)
	// The stream outlives the server's ReadTimeout, whose expiry would
	// cancel the request; the request itself (a GET) has been read.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	end := time.NewTimer(time.Until(expires))
	defer end.Stop()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		for _, m := range msgs {
			after = m.ID
			if !writeEvent(w, m) {
				return
			}
		}
		if rc.Flush() != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			_, _ = w.Write([]byte("event: end\ndata: {}\n\n"))
			_ = rc.Flush()
			return
		case <-keepAlive.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
			msgs = nil
		case <-wake:
			msgs, _, err = s.sessions.Messages(r.Context(), conn, id, after)
			switch {
			case errors.Is(err, ErrNoSession): // the session ended
				_, _ = w.Write([]byte("event: end\ndata: {}\n\n"))
				_ = rc.Flush()
				return
			case err != nil:
				// The store is down: close; the browser reconnects with
				// Last-Event-ID and resumes when it is back.
				s.logStoreError("messages", conn, err)
				return
			}
		}
	}
}

// logStoreError logs a session-store failure; a session that does not
// exist or is full is the client's business, not an error.
func (s *Server) logStoreError(op, connection string, err error) {
	if statusFor(err) >= http.StatusInternalServerError {
		s.log.Error("chat: session store", "op", op, "connection", connection, "err", err)
	}
}

// writeEvent writes one message as an SSE event. JSON never contains a
// raw newline, so one data line holds it.
func writeEvent(w http.ResponseWriter, m Message) bool {
	data, err := json.Marshal(m)
	if err != nil {
		return false
	}
	_, err = fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", m.ID, data)
	return err == nil
}

// decode reads a bounded application/json body into v, refusing unknown
// fields and trailing data.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		http.Error(w, "want application/json", http.StatusUnsupportedMediaType)
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, "malformed request body", status)
		return false
	}
	if dec.More() {
		http.Error(w, "malformed request body", http.StatusBadRequest)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
