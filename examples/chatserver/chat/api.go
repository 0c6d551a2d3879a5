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

	"github.com/msgsec/msgsec/middleware"
	"github.com/msgsec/msgsec/policy"
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
	p := middleware.Connection(r.Context())
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
	var req openRequest
	if !s.decode(w, r, &req) {
		return
	}
	p := middleware.Connection(r.Context())
	ss, err := s.sessions.open(p.ID(), r.Header.Get("Origin"), s.allowedCookies(r, p, req.Cookies), middleware.Claims(r.Context()))
	if err != nil {
		s.log.Warn("chat: session refused", "connection", p.ID(), "err", err)
		http.Error(w, http.StatusText(statusFor(err)), statusFor(err))
		return
	}
	writeJSON(w, http.StatusCreated, openResponse{Session: ss.id})
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
	var req messageRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Text == "" || len(req.Text) > MaxTextBytes || !utf8.ValidString(req.Text) {
		http.Error(w, fmt.Sprintf("text must be 1 to %d bytes of UTF-8", MaxTextBytes), http.StatusBadRequest)
		return
	}
	p := middleware.Connection(r.Context())
	var cookies []Cookie
	if req.Cookies != nil {
		cookies = s.allowedCookies(r, p, req.Cookies)
		if cookies == nil {
			cookies = []Cookie{} // sent, and nothing passed: clear them
		}
	}
	if err := s.sessions.add(p.ID(), r.PathValue("session"), req.Text, cookies); err != nil {
		http.Error(w, http.StatusText(statusFor(err)), statusFor(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// allowedCookies returns the cookies msgsec let through: the body's map
// filtered by the connection's allowlist, then the (already rewritten)
// Cookie header's, skipping names the body gave. Dropped cookies are only
// counted in the log: their names and values stay out of it.
func (s *Server) allowedCookies(r *http.Request, p *policy.Compiled, sent map[string]string) []Cookie {
	kept, dropped := p.Cookies().FilterValuesReport(sent)
	if len(dropped) > 0 {
		s.log.Info("chat: cookies dropped by the allowlist", "connection", p.ID(), "count", len(dropped))
	}
	var out []Cookie
	seen := map[string]bool{}
	for _, c := range kept {
		out = append(out, Cookie{Name: c.Name, Value: c.Value})
		seen[c.Name] = true
	}
	for _, c := range middleware.Cookies(r.Context()) {
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
	p := middleware.Connection(r.Context())
	id := r.PathValue("session")
	after, _ := strconv.Atoi(r.Header.Get("Last-Event-ID"))
	msgs, wake, expires, err := s.sessions.since(p.ID(), id, after)
	if err != nil {
		http.Error(w, http.StatusText(statusFor(err)), statusFor(err))
		return
	}
	defer s.sessions.unwatch(p.ID(), id, wake)

	rc := http.NewResponseController(w)
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
			msgs, err = s.sessions.newer(p.ID(), id, after)
			if err != nil { // the session ended
				_, _ = w.Write([]byte("event: end\ndata: {}\n\n"))
				_ = rc.Flush()
				return
			}
		}
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
