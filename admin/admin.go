package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/msgsec/msgsec/cfgerr"
	"github.com/msgsec/msgsec/policy"
)

// Errors an Authorize function returns.
var (
	// ErrUnauthenticated: the request carries no valid login (401).
	ErrUnauthenticated = errors.New("admin: not authenticated")
	// ErrForbidden: the principal may not do this (403). Any error other
	// than ErrUnauthenticated is answered 403 too.
	ErrForbidden = errors.New("admin: forbidden")
)

// Config configures a Handler.
type Config struct {
	// Store holds the connections the console edits (required).
	Store *policy.Store
	// Authorize authenticates and authorizes every request, the page
	// included, and returns the principal the audit names (required:
	// there is no default that lets anyone in). Return ErrUnauthenticated
	// for a missing or bad login (401), any other error to refuse (403).
	// An empty principal with a nil error is refused (401).
	Authorize func(r *http.Request) (principal string, err error)
	// AuthorizeConnection, if set, decides per connection after
	// Authorize: nil lets principal see and change connection, an error
	// refuses it (403 on its routes; it is left out of the list and of
	// the audit). Without it, every principal Authorize admits may act
	// on every connection. A platform that hosts several businesses sets
	// it, so one bank's operators never see another's connections.
	AuthorizeConnection func(r *http.Request, principal, connection string) error
	// Journal keeps the audit trail and the roll-out counts; a
	// MemoryJournal when nil (one process only).
	Journal Journal
	// Logger hears every change (the audit entry, never a secret) and
	// every failure; slog.Default when nil.
	Logger *slog.Logger
	// TrustedOrigins are origins allowed to make state-changing requests
	// besides the console's own (http.CrossOriginProtection's
	// AddTrustedOrigin), for a console behind a proxy that rewrites Host.
	TrustedOrigins []string
	// Now is the clock (tests). time.Now when nil.
	Now func() time.Time
}

// Handler is the console: a JSON API under /api/ and the Security-tab
// page at /. Mount it behind the platform's login, under a path prefix
// with http.StripPrefix if needed. Safe for concurrent use.
type Handler struct {
	store     *policy.Store
	authorize func(*http.Request) (string, error)
	perConn   func(*http.Request, string, string) error
	journal   Journal
	log       *slog.Logger
	now       func() time.Time
	h         http.Handler
}

// New validates cfg and returns the console's Handler. It reports every
// problem at once (*cfgerr.Error values).
func New(cfg Config) (*Handler, error) {
	var problems []*cfgerr.Error
	if cfg.Store == nil {
		problems = append(problems, &cfgerr.Error{Field: "Store", Kind: ErrConfig, Reason: "required"})
	}
	if cfg.Authorize == nil {
		problems = append(problems, &cfgerr.Error{Field: "Authorize", Kind: ErrConfig, Reason: "required: the console has no default login"})
	}
	cop := http.NewCrossOriginProtection()
	for i, o := range cfg.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			problems = append(problems, &cfgerr.Error{Field: fmt.Sprintf("TrustedOrigins[%d]", i), Value: o, Kind: ErrConfig, Reason: err.Error()})
		}
	}
	if err := cfgerr.Join("admin: invalid config", problems); err != nil {
		return nil, err
	}
	h := &Handler{store: cfg.Store, authorize: cfg.Authorize, perConn: cfg.AuthorizeConnection, journal: cfg.Journal, log: cfg.Logger, now: cfg.Now}
	if h.journal == nil {
		h.journal = NewMemoryJournal()
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	mux := http.NewServeMux()
	h.routes(mux)
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusForbidden, "admin-cross-site", "cross-site request refused",
			"state-changing requests must come from the console's own origin", nil)
	}))
	h.h = cop.Handler(h.authorized(mux))
	return h, nil
}

// ErrConfig is the Kind of every problem New reports.
var ErrConfig = errors.New("admin: invalid config")

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("X-Frame-Options", "DENY")
	h.h.ServeHTTP(w, r)
}

// pageCSP is sent with every answer: scripts and styles only from the
// console itself, no inline script, never framed.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

type principalKey struct{}

// authorized runs the embedding application's Authorize before anything.
func (h *Handler) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.authorize(r)
		switch {
		case errors.Is(err, ErrUnauthenticated) || (err == nil && p == ""):
			writeProblem(w, http.StatusUnauthorized, "admin-unauthenticated", "login required", "the console needs a login", nil)
			return
		case err != nil:
			writeProblem(w, http.StatusForbidden, "admin-forbidden", "forbidden", "this login may not use the console", nil)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// mayUse reports whether the request's principal may act on connection.
func (h *Handler) mayUse(r *http.Request, connection string) bool {
	return h.perConn == nil || h.perConn(r, principal(r), connection) == nil
}

// forConnection refuses a {id} route the principal may not use.
func (h *Handler) forConnection(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.mayUse(r, r.PathValue("id")) {
			writeProblem(w, http.StatusForbidden, "admin-forbidden", "forbidden", "this login may not use this connection", nil)
			return
		}
		next(w, r)
	}
}

func principal(r *http.Request) string {
	p, _ := r.Context().Value(principalKey{}).(string)
	return p
}

// problemDoc is an RFC 9457 problem document; Errors holds one entry per
// offending field.
type problemDoc struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []fieldError `json:"errors,omitempty"`
}

type fieldError struct {
	Field  string `json:"field"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
}

// ProblemType is the type URI of the console's problem documents of kind.
func ProblemType(kind string) string { return "urn:msgsec:problem:" + kind }

func writeProblem(w http.ResponseWriter, status int, kind, title, detail string, errs []fieldError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problemDoc{Type: ProblemType(kind), Title: title, Status: status, Detail: detail, Errors: errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeStoreError answers a failed store operation.
func (h *Handler) writeStoreError(w http.ResponseWriter, r *http.Request, err error) {
	var ce *policy.ConflictError
	switch {
	case errors.As(err, &ce):
		writeProblem(w, http.StatusPreconditionFailed, "admin-version-conflict", "the connection changed",
			fmt.Sprintf("you edited version %d; the store holds version %d: reload and try again", ce.Want, ce.Have), nil)
	case errors.Is(err, policy.ErrUnknownConnection):
		writeProblem(w, http.StatusNotFound, "admin-unknown-connection", "no such connection", "", nil)
	case errors.Is(err, policy.ErrUnavailable):
		h.log.Error("admin: policy store unavailable", "err", err)
		w.Header().Set("Retry-After", "1")
		writeProblem(w, http.StatusServiceUnavailable, "admin-store-unavailable", "the policy store is unavailable", "nothing was changed; try again", nil)
	case errors.Is(err, policy.ErrInvalid):
		var fe []fieldError
		for p := range cfgerr.All(err) {
			fe = append(fe, fieldError{Field: strings.TrimPrefix(p.Field, "connections[0]."), Value: p.Value, Reason: p.Reason})
		}
		writeProblem(w, http.StatusUnprocessableEntity, "admin-invalid", "the change is not a valid policy", "nothing was changed", fe)
	default:
		h.log.Error("admin: store operation failed", "err", err)
		writeProblem(w, http.StatusInternalServerError, "admin-internal", "internal error", "", nil)
	}
}

// ifMatch reads the version a write names: exactly one strong ETag of
// this API, "<version>" (RFC 9110: a weak tag never matches for a write).
func ifMatch(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	v := r.Header.Get("If-Match")
	if v == "" {
		writeProblem(w, http.StatusPreconditionRequired, "admin-version-required", "If-Match required",
			`a write names the version it read: send If-Match with the ETag of the connection`, nil)
		return 0, false
	}
	digits, ok := strings.CutPrefix(v, `"`)
	if ok {
		digits, ok = strings.CutSuffix(digits, `"`)
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if !ok || err != nil || n == 0 || strconv.FormatUint(n, 10) != digits || len(r.Header.Values("If-Match")) != 1 {
		writeProblem(w, http.StatusPreconditionFailed, "admin-version-conflict", "bad If-Match",
			`If-Match must be one ETag this API gave, such as "12"`, nil)
		return 0, false
	}
	return n, true
}

func etag(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }

// maxBody bounds a request body (a public key PEM fits many times).
const maxBody = 64 << 10

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeProblem(w, http.StatusUnsupportedMediaType, "admin-bad-request", "JSON required", "send Content-Type: application/json", nil)
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err != nil {
		// Fixed words: a decoder's message can quote the input.
		detail := "the body is not one JSON object of this request's fields"
		var te *json.UnmarshalTypeError
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &te) && te.Field != "":
			detail = "field " + strconv.Quote(te.Field) + " has the wrong type"
		case errors.As(err, &mbe):
			detail = fmt.Sprintf("the body is larger than %d bytes", maxBody)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			detail = "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
		}
		writeProblem(w, http.StatusBadRequest, "admin-bad-request", "bad request body", detail, nil)
		return false
	}
	return true
}
