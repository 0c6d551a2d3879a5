package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
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
		s.limited(r.Context(), p.ID(), err)
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

// postMessage serves POST …/sessions/{session}/messages: the bank page
// (an allowed origin) or a client of the API sends a customer message; the
// echo agent answers. The widget itself sends over its WebSocket.
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
	if no := s.take(r.Context(), in, r.PathValue("session"), req); no != nil {
		no.writeHTTP(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// take stores a customer message and the echo agent's answer in the
// session id of the request's connection, within the session's bounds
// (MaxMessages, Limits.MaxSessionBytes) and the store's
// (Limits.MaxTotalBytes). It returns nil, or why not: text must be 1 to
// MaxTextBytes bytes of UTF-8; cookies, when sent, are filtered like those
// sent at opening and replace the session's.
func (s *Server) take(ctx context.Context, in requestInfo, id string, req messageRequest) *refusal {
	if req.Text == "" || len(req.Text) > MaxTextBytes || !utf8.ValidString(req.Text) {
		return &refusal{status: http.StatusBadRequest, detail: fmt.Sprintf("text must be 1 to %d bytes of UTF-8", MaxTextBytes)}
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
	if err := s.sessions.Append(ctx, in.policy.ID(), id, cookies, msgs, s.bounds()); err != nil {
		s.logStoreError("append", in.policy.ID(), err)
		s.limited(ctx, in.policy.ID(), err)
		if errors.Is(err, ErrTooMuchText) {
			return tooLargeRefusal("this chat")
		}
		return &refusal{status: statusFor(err), detail: http.StatusText(statusFor(err))}
	}
	return nil
}

// endSession serves DELETE …/sessions/{session}: the customer closes the
// chat (the widget's "End chat"). The session, its messages and its
// server-to-server secret data are deleted, and its sockets close with
// 1000 "session ended".
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	in, ok := s.info(w, r)
	if !ok {
		return
	}
	conn, id := in.policy.ID(), r.PathValue("session")
	if err := s.sessions.End(r.Context(), conn, id); err != nil {
		s.logStoreError("end", conn, err)
		http.Error(w, http.StatusText(statusFor(err)), statusFor(err))
		return
	}
	s.sessionEnded(conn, id)
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

// logStoreError logs a session-store failure; a session that does not
// exist or is full is the client's business, not an error.
func (s *Server) logStoreError(op, connection string, err error) {
	if statusFor(err) >= http.StatusInternalServerError {
		s.log.Error("chat: session store", "op", op, "connection", connection, "err", err)
	}
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
