package admin

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"

	"github.com/msgsec/msgsec/cookies"
	"github.com/msgsec/msgsec/policy"
	"github.com/msgsec/msgsec/secretdata"
)

// connectionView is a connection as the API shows it: everything but
// secrets.
type connectionView struct {
	ID                        string    `json:"id"`
	Name                      string    `json:"name,omitempty"`
	Version                   uint64    `json:"version"`
	Mode                      string    `json:"mode"`
	DomainMatching            string    `json:"domain_matching"`
	AllowedDomains            []string  `json:"allowed_domains"`
	AnyWebsite                bool      `json:"any_website"`
	AllowedCookies            []string  `json:"allowed_cookies"`
	DangerouslyAllowSensitive bool      `json:"dangerously_allow_sensitive_cookies,omitempty"`
	Issuer                    string    `json:"issuer,omitempty"`
	SecretData                string    `json:"secret_data"`
	JWKSURL                   string    `json:"jwks_url,omitempty"`
	Keys                      []keyView `json:"keys"`
	Warnings                  []warning `json:"warnings"`
}

// keyView is a signing key's metadata; never its secret.
type keyView struct {
	ID          string     `json:"id"`
	Algorithm   string     `json:"algorithm"`
	Kind        string     `json:"kind"` // "hmac" or "public"
	Created     *time.Time `json:"created,omitempty"`
	NotBefore   *time.Time `json:"not_before,omitempty"`
	RetireAfter *time.Time `json:"retire_after,omitempty"`
}

// warning is a policy lint warning (policy.File.Lint), path relative to
// the connection.
type warning struct {
	Code    string `json:"code"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

func view(c *policy.ConnectionPolicy, v uint64) *connectionView {
	out := &connectionView{
		ID: c.ID, Name: c.Name, Version: v, Mode: string(c.Mode), DomainMatching: string(c.DomainMatching),
		AllowedDomains: append([]string{}, c.AllowedDomains...), AllowedCookies: append([]string{}, c.AllowedCookies...),
		DangerouslyAllowSensitive: c.DangerouslyAllowSensitiveCookies,
		Issuer:                    c.Token.Issuer, JWKSURL: c.JWKSURL, Keys: []keyView{}, Warnings: []warning{},
		SecretData: string(c.Token.SecretData),
	}
	if out.SecretData == "" {
		out.SecretData = string(policy.SecretDataRequired)
	}
	if out.Mode == "" {
		out.Mode = string(policy.ModeEnforce)
	}
	if out.DomainMatching == "" {
		out.DomainMatching = string(policy.MatchExact)
	}
	out.AnyWebsite = len(c.AllowedDomains) == 0 || slices.Contains(c.AllowedDomains, "*")
	for _, k := range c.Keys {
		kv := keyView{ID: k.ID, Algorithm: k.Algorithm, Kind: "public", Created: k.Created, NotBefore: k.NotBefore, RetireAfter: k.RetireAfter}
		if kv.Algorithm == "" {
			kv.Algorithm = string(secretdata.HS256)
		}
		if strings.HasPrefix(kv.Algorithm, "HS") {
			kv.Kind = "hmac"
		}
		out.Keys = append(out.Keys, kv)
	}
	f := policy.File{Connections: []policy.ConnectionPolicy{*c}}
	for _, w := range f.Lint() {
		out.Warnings = append(out.Warnings, warning{Code: w.Code, Path: strings.TrimPrefix(strings.TrimPrefix(w.Path, "connections[0]"), "."), Message: w.Msg})
	}
	return out
}

func (h *Handler) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/connections", h.list)
	mux.HandleFunc("POST /api/connections", h.create)
	for _, r := range []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"GET /api/connections/{id}", h.get},
		{"PATCH /api/connections/{id}", h.edit(h.patch)},
		{"DELETE /api/connections/{id}", h.remove},
		{"POST /api/connections/{id}/domains", h.edit(h.addDomain)},
		{"DELETE /api/connections/{id}/domains", h.edit(h.removeDomain)},
		{"POST /api/connections/{id}/cookies", h.edit(h.addCookie)},
		{"DELETE /api/connections/{id}/cookies/{name}", h.edit(h.removeCookie)},
		{"POST /api/connections/{id}/keys", h.edit(h.addKey)},
		{"PATCH /api/connections/{id}/keys/{kid}", h.edit(h.patchKey)},
		{"DELETE /api/connections/{id}/keys/{kid}", h.edit(h.removeKey)},
		{"GET /api/connections/{id}/refused-origins", h.refusals},
	} {
		mux.HandleFunc(r.pattern, h.forConnection(r.h))
	}
	mux.HandleFunc("GET /api/audit", h.audit)
	h.pageRoutes(mux)
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	f, err := h.store.Load(r.Context())
	if err != nil {
		h.writeStoreError(w, r, err)
		return
	}
	type item struct {
		ID         string `json:"id"`
		Name       string `json:"name,omitempty"`
		Mode       string `json:"mode"`
		AnyWebsite bool   `json:"any_website"`
	}
	out := []item{}
	for i := range f.Connections {
		if !h.mayUse(r, f.Connections[i].ID) {
			continue
		}
		v := view(&f.Connections[i], 0)
		out = append(out, item{ID: v.ID, Name: v.Name, Mode: v.Mode, AnyWebsite: v.AnyWebsite})
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": out})
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	c, v, err := h.store.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.writeStoreError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(v))
	writeJSON(w, http.StatusOK, view(c, v))
}

type createRequest struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Issuer string `json:"issuer"`
	Mode   string `json:"mode"`
}

// create makes a connection. A new one starts in report-only mode unless
// the request says otherwise, so adding domains comes before enforcing,
// and with secret data optional, as it has no key yet: requiring it is
// the switch to turn on once the bank's backend signs (PATCH secret_data).
func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if !h.mayUse(r, req.ID) {
		writeProblem(w, http.StatusForbidden, "admin-forbidden", "forbidden", "this login may not create this connection", nil)
		return
	}
	if len(req.Name) > maxName {
		writeProblem(w, http.StatusUnprocessableEntity, "admin-invalid", "the change is not a valid policy", "nothing was changed",
			[]fieldError{{Field: "name", Reason: fmt.Sprintf("at most %d bytes", maxName)}})
		return
	}
	c := &policy.ConnectionPolicy{ID: req.ID, Name: req.Name, Mode: policy.Mode(req.Mode), AllowedDomains: []string{}, AllowedCookies: []string{}}
	c.Token.Issuer = req.Issuer
	c.Token.SecretData = policy.SecretDataOptional
	if c.Mode == "" {
		c.Mode = policy.ModeReportOnly
	}
	v, err := h.store.Put(r.Context(), c, 0)
	if errors.Is(err, policy.ErrConflict) {
		writeProblem(w, http.StatusConflict, "admin-duplicate", "the connection exists", "pick another ID, or edit the existing connection", nil)
		return
	}
	if err != nil {
		h.writeStoreError(w, r, err)
		return
	}
	after := view(c, v)
	h.audit1(r, Entry{Connection: c.ID, Action: "create connection", Version: v, Changes: changes(nil, after)})
	w.Header().Set("ETag", etag(v))
	writeJSON(w, http.StatusCreated, after)
}

func (h *Handler) remove(w http.ResponseWriter, r *http.Request) {
	ifv, ok := ifMatch(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	before, bv, err := h.store.Get(r.Context(), id)
	if err != nil {
		h.writeStoreError(w, r, err)
		return
	}
	if bv != ifv {
		h.writeStoreError(w, r, &policy.ConflictError{ID: id, Want: ifv, Have: bv})
		return
	}
	if err := h.store.Delete(r.Context(), id, bv); err != nil {
		h.writeStoreError(w, r, err)
		return
	}
	h.audit1(r, Entry{Connection: id, Action: "delete connection", Version: bv, Changes: changes(view(before, bv), nil)})
	w.WriteHeader(http.StatusNoContent)
}

// change is one edit of a connection: it changes c in place and returns
// what the audit says and extra fields for the answer; an error answer is
// written by the change itself (ok false).
type change func(w http.ResponseWriter, r *http.Request, c *policy.ConnectionPolicy) (detail string, extra map[string]any, ok bool)

// edit runs a read-modify-write of one connection under If-Match.
func (h *Handler) edit(f change) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ifv, ok := ifMatch(w, r)
		if !ok {
			return
		}
		c, v, err := h.store.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			h.writeStoreError(w, r, err)
			return
		}
		if v != ifv {
			h.writeStoreError(w, r, &policy.ConflictError{ID: c.ID, Want: ifv, Have: v})
			return
		}
		before := view(c, v)
		detail, extra, ok := f(w, r, c)
		if !ok {
			return
		}
		nv, err := h.store.Put(r.Context(), c, v)
		if err != nil {
			h.writeStoreError(w, r, err)
			return
		}
		after := view(c, nv)
		h.audit1(r, Entry{Connection: c.ID, Action: r.Method + " " + routeName(r), Detail: detail, Version: nv, Changes: changes(before, after)})
		w.Header().Set("ETag", etag(nv))
		out := map[string]any{"connection": after}
		for k, x := range extra {
			out[k] = x
		}
		status := http.StatusOK
		if _, created := extra["secret"]; created {
			status = http.StatusCreated
		}
		writeJSON(w, status, out)
	}
}

// routeName is the route pattern without the method, for the audit.
func routeName(r *http.Request) string {
	_, p, _ := strings.Cut(r.Pattern, " ")
	return p
}

type patchRequest struct {
	Name           *string `json:"name"`
	Mode           *string `json:"mode"`
	Issuer         *string `json:"issuer"`
	DomainMatching *string `json:"domain_matching"`
	JWKSURL        *string `json:"jwks_url"`
	SecretData     *string `json:"secret_data"`
}

func (h *Handler) patch(w http.ResponseWriter, r *http.Request, c *policy.ConnectionPolicy) (string, map[string]any, bool) {
	var req patchRequest
	if !decodeBody(w, r, &req) {
		return "", nil, false
	}
	var parts []string
	if req.Name != nil {
		if len(*req.Name) > maxName {
			writeProblem(w, http.StatusUnprocessableEntity, "admin-invalid", "the change is not a valid policy", "nothing was changed",
				[]fieldError{{Field: "name", Reason: fmt.Sprintf("at most %d bytes", maxName)}})
			return "", nil, false
		}
		c.Name = *req.Name
		parts = append(parts, "name")
	}
	if req.Mode != nil {
		if m := policy.Mode(*req.Mode); m != policy.ModeEnforce && m != policy.ModeReportOnly {
			writeProblem(w, http.StatusUnprocessableEntity, "admin-invalid", "the change is not a valid policy", "nothing was changed",
				[]fieldError{{Field: "mode", Value: *req.Mode, Reason: `must be "enforce" or "report-only"`}})
			return "", nil, false
		}
		c.Mode = policy.Mode(*req.Mode)
		parts = append(parts, "mode "+*req.Mode)
	}
	if req.Issuer != nil {
		c.Token.Issuer = *req.Issuer
		parts = append(parts, "issuer")
	}
	if req.DomainMatching != nil {
		c.DomainMatching = policy.DomainMatching(*req.DomainMatching)
		parts = append(parts, "domain_matching "+*req.DomainMatching)
	}
	if req.JWKSURL != nil {
		c.JWKSURL = *req.JWKSURL
		parts = append(parts, "jwks_url")
	}
	if req.SecretData != nil {
		c.Token.SecretData = policy.SecretDataRule(*req.SecretData)
		parts = append(parts, "secret_data "+*req.SecretData)
	}
	return "set " + strings.Join(parts, ", "), nil, true
}

type domainRequest struct {
	Pattern string `json:"pattern"`
}

func (h *Handler) addDomain(w http.ResponseWriter, r *http.Request, c *policy.ConnectionPolicy) (string, map[string]any, bool) {
	var req domainRequest
	if !decodeBody(w, r, &req) {
		return "", nil, false
	}
	if slices.Contains(c.AllowedDomains, req.Pattern) {
		writeProblem(w, http.StatusConflict, "admin-duplicate", "already allowed", "the pattern is in the list", nil)
		return "", nil, false
	}
	c.AllowedDomains = append(c.AllowedDomains, req.Pattern)
	extra := map[string]any{}
	if ex, err := explain(req.Pattern, c.DomainMatching); err == nil {
		extra["explanation"] = ex
	} // a refused pattern: Put reports it with the policy's reasons
	return "add domain " + req.Pattern, extra, true
}

func (h *Handler) removeDomain(w http.ResponseWriter, r *http.Request, c *policy.ConnectionPolicy) (string, map[string]any, bool) {
	p := r.URL.Query().Get("pattern")
	i := slices.Index(c.AllowedDomains, p)
	if i < 0 {
		writeProblem(w, http.StatusNotFound, "admin-not-found", "no such domain", "the pattern is not in the list", nil)
		return "", nil, false
	}
	c.AllowedDomains = slices.Delete(c.AllowedDomains, i, i+1)
	return "remove domain " + p, nil, true
}

type cookieRequest struct {
	Name string `json:"name"`
	// DangerouslyAllowSensitive is the explicit opt-in a sensitive name
	// (session_id, auth...) needs; the audit records it.
	DangerouslyAllowSensitive bool `json:"dangerously_allow_sensitive"`
}

func (h *Handler) addCookie(w http.ResponseWriter, r *http.Request, c *policy.ConnectionPolicy) (string, map[string]any, bool) {
	var req cookieRequest
	if !decodeBody(w, r, &req) {
		return "", nil, false
	}
	if slices.Contains(c.AllowedCookies, req.Name) {
		writeProblem(w, http.StatusConflict, "admin-duplicate", "already allowed", "the cookie is in the list", nil)
		return "", nil, false
	}
	detail := "add cookie " + req.Name
	if needsOptIn(req.Name) {
		if !req.DangerouslyAllowSensitive {
			writeProblem(w, http.StatusUnprocessableEntity, "admin-sensitive-cookie", "sensitive cookie name",
				"this name usually holds a session or credential (or, as a prefix, could admit one), which must never reach a chat; "+
					"send dangerously_allow_sensitive: true only if you know it holds a public value", []fieldError{{Field: "name", Value: req.Name, Reason: "sensitive cookie name"}})
			return "", nil, false
		}
		c.DangerouslyAllowSensitiveCookies = true
		detail += " (DANGEROUS opt-in: sensitive cookie name allowed)"
	}
	c.AllowedCookies = append(c.AllowedCookies, req.Name)
	return detail, nil, true
}

func (h *Handler) removeCookie(w http.ResponseWriter, r *http.Request, c *policy.ConnectionPolicy) (string, map[string]any, bool) {
	name := r.PathValue("name")
	i := slices.Index(c.AllowedCookies, name)
	if i < 0 {
		writeProblem(w, http.StatusNotFound, "admin-not-found", "no such cookie", "the name is not in the list", nil)
		return "", nil, false
	}
	c.AllowedCookies = slices.Delete(c.AllowedCookies, i, i+1)
	if !slices.ContainsFunc(c.AllowedCookies, needsOptIn) {
		c.DangerouslyAllowSensitiveCookies = false // the opt-in goes with the last name that needed it
	}
	return "remove cookie " + name, nil, true
}

// needsOptIn reports whether an allowlist entry names a sensitive cookie,
// or as a prefix (PHP*, s*) could admit one: the cookies package's own
// rule, whatever the connection's opt-in says already, so every such
// entry is asked for and audited on its own.
func needsOptIn(entry string) bool {
	_, err := cookies.NewAllowlist([]string{entry})
	return errors.Is(err, cookies.ErrSensitiveName)
}

type keyRequest struct {
	// Kind is "hmac" (the console makes the secret) or "public" (register
	// the bank's public key, PEM).
	Kind        string     `json:"kind"`
	ID          string     `json:"id"`
	Algorithm   string     `json:"algorithm"`
	PublicKey   string     `json:"public_key"`
	NotBefore   *time.Time `json:"not_before"`
	RetireAfter *time.Time `json:"retire_after"`
}

// maxName bounds a connection's display name.
const maxName = 200

// maxKeys bounds a connection's keys (Zendesk allows 10).
const maxKeys = 10

func (h *Handler) addKey(w http.ResponseWriter, r *http.Request, c *policy.ConnectionPolicy) (string, map[string]any, bool) {
	var req keyRequest
	if !decodeBody(w, r, &req) {
		return "", nil, false
	}
	if len(c.Keys) >= maxKeys {
		writeProblem(w, http.StatusUnprocessableEntity, "admin-invalid", "too many keys", fmt.Sprintf("a connection has at most %d keys: retire one first", maxKeys), nil)
		return "", nil, false
	}
	now := h.now().UTC().Truncate(time.Second)
	if req.ID == "" {
		req.ID = "k-" + strconv.FormatInt(now.Unix(), 36) + "-" + base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret()[:3])
	}
	if !validKid(req.ID) {
		writeProblem(w, http.StatusUnprocessableEntity, "admin-invalid", "the change is not a valid policy", "nothing was changed",
			[]fieldError{{Field: "id", Reason: "a key ID is 1 to 64 letters, digits, '.', '_' or '-'"}})
		return "", nil, false
	}
	k := policy.KeyConfig{ID: req.ID, Algorithm: req.Algorithm, Created: &now, NotBefore: req.NotBefore, RetireAfter: req.RetireAfter}
	extra := map[string]any{}
	switch req.Kind {
	case "hmac":
		if k.Algorithm == "" {
			k.Algorithm = string(secretdata.HS256)
		}
		if !strings.HasPrefix(k.Algorithm, "HS") {
			writeProblem(w, http.StatusUnprocessableEntity, "admin-invalid", "the change is not a valid policy", "nothing was changed",
				[]fieldError{{Field: "algorithm", Value: k.Algorithm, Reason: "an HMAC key is HS256, HS384 or HS512"}})
			return "", nil, false
		}
		// The secret is the text `msgsec secret new` prints: 86 characters
		// whose bytes are the HMAC key, as every JWT library reads a
		// string secret.
		text := base64.RawURLEncoding.EncodeToString(secretdata.GenerateSecret())
		k.Secret = policy.SecretBytes([]byte(text))
		extra["secret"] = text
		extra["secret_note"] = "shown once: give it to the bank's backend now; the console keeps it sealed and never shows it again"
	case "public":
		if req.PublicKey == "" {
			writeProblem(w, http.StatusUnprocessableEntity, "admin-invalid", "the change is not a valid policy", "nothing was changed",
				[]fieldError{{Field: "public_key", Reason: "required: the PEM public key"}})
			return "", nil, false
		}
		k.PublicKey = policy.SecretBytes([]byte(req.PublicKey))
	default:
		writeProblem(w, http.StatusUnprocessableEntity, "admin-invalid", "the change is not a valid policy", "nothing was changed",
			[]fieldError{{Field: "kind", Value: req.Kind, Reason: `must be "hmac" or "public"`}})
		return "", nil, false
	}
	c.Keys = append(c.Keys, k)
	return "add " + req.Kind + " key " + k.ID + " (" + k.Algorithm + ")", extra, true
}

type keyPatch struct {
	NotBefore   *time.Time `json:"not_before"`
	RetireAfter *time.Time `json:"retire_after"`
}

func (h *Handler) patchKey(w http.ResponseWriter, r *http.Request, c *policy.ConnectionPolicy) (string, map[string]any, bool) {
	var req keyPatch
	if !decodeBody(w, r, &req) {
		return "", nil, false
	}
	i := slices.IndexFunc(c.Keys, func(k policy.KeyConfig) bool { return k.ID == r.PathValue("kid") })
	if i < 0 {
		writeProblem(w, http.StatusNotFound, "admin-not-found", "no such key", "", nil)
		return "", nil, false
	}
	k := &c.Keys[i]
	var parts []string
	if req.NotBefore != nil {
		k.NotBefore = req.NotBefore
		parts = append(parts, "not_before "+req.NotBefore.UTC().Format(time.RFC3339))
	}
	if req.RetireAfter != nil {
		k.RetireAfter = req.RetireAfter
		parts = append(parts, "retire_after "+req.RetireAfter.UTC().Format(time.RFC3339))
	}
	return "key " + k.ID + ": " + strings.Join(parts, ", "), nil, true
}

func (h *Handler) removeKey(w http.ResponseWriter, r *http.Request, c *policy.ConnectionPolicy) (string, map[string]any, bool) {
	kid := r.PathValue("kid")
	i := slices.IndexFunc(c.Keys, func(k policy.KeyConfig) bool { return k.ID == kid })
	if i < 0 {
		writeProblem(w, http.StatusNotFound, "admin-not-found", "no such key", "", nil)
		return "", nil, false
	}
	c.Keys = slices.Delete(c.Keys, i, i+1)
	return "remove key " + kid, nil, true
}

// refusals lists the origins a report-only connection would have refused
// this hour and the last, top 100 each.
func (h *Handler) refusals(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, _, err := h.store.Get(r.Context(), id)
	if err != nil {
		h.writeStoreError(w, r, err)
		return
	}
	hour := h.now().UTC().Truncate(time.Hour)
	cur, err := h.journal.Refusals(r.Context(), id, hour, 100)
	if err != nil {
		h.writeStoreError(w, r, err)
		return
	}
	prev, err := h.journal.Refusals(r.Context(), id, hour.Add(-time.Hour), 100)
	if err != nil {
		h.writeStoreError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"connection": id,
		"note":       "origins are what clients sent: anyone can send any Origin value, so allow only sites you know are yours",
		"hours": []map[string]any{
			{"start": hour, "origins": annotate(cur, c.AllowedDomains)},
			{"start": hour.Add(-time.Hour), "origins": annotate(prev, c.AllowedDomains)},
		},
	})
}

// refusalView is a refused origin as the console lists it: with the
// allowed domain it shares a site with, if any — the likely "forgot a
// subdomain" case; the others are more likely someone else's site, or
// forged.
type refusalView struct {
	Refusal
	SameSiteAs string `json:"same_site_as,omitempty"`
}

func annotate(rs []Refusal, allowed []string) []refusalView {
	out := make([]refusalView, 0, len(rs))
	for _, r := range rs {
		v := refusalView{Refusal: r}
		if site := siteOfOrigin(r.Origin); site != "" {
			for _, p := range allowed {
				if siteOfOrigin(strings.Replace(p, "*.", "", 1)) == site {
					v.SameSiteAs = p
					break
				}
			}
		}
		out = append(out, v)
	}
	return out
}

// siteOfOrigin is scheme://registrable-domain of an origin or pattern,
// "" when it has none.
func siteOfOrigin(o string) string {
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok {
		return ""
	}
	host := rest
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	site, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return ""
	}
	return scheme + "://" + site
}

func (h *Handler) audit(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeProblem(w, http.StatusBadRequest, "admin-bad-request", "bad limit", "limit is 1 to 1000", nil)
			return
		}
		limit = n
	}
	conn := r.URL.Query().Get("connection")
	if conn != "" && !h.mayUse(r, conn) {
		writeProblem(w, http.StatusForbidden, "admin-forbidden", "forbidden", "this login may not use this connection", nil)
		return
	}
	es, err := h.journal.Entries(r.Context(), conn, limit)
	if err != nil {
		h.writeStoreError(w, r, err)
		return
	}
	if conn == "" && h.perConn != nil {
		kept := es[:0]
		for _, e := range es {
			if h.mayUse(r, e.Connection) {
				kept = append(kept, e)
			}
		}
		es = kept // of the newest limit entries, those this login may see
	}
	if es == nil {
		es = []Entry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es})
}

// audit1 records a change in the journal and the log. The journal failing
// does not undo the change (it is made): the log line is the record then.
func (h *Handler) audit1(r *http.Request, e Entry) {
	e.Time = h.now().UTC()
	e.Principal = principal(r)
	err := h.journal.Record(r.Context(), e)
	args := []any{"principal", e.Principal, "connection", e.Connection, "action", e.Action, "detail", e.Detail, "version", e.Version}
	if err != nil {
		h.log.Error("admin: change made but not kept in the audit journal", append(args, "err", err)...)
		return
	}
	h.log.Info("admin: change", args...)
}

// changes lists what differs between two views of a connection (nil for
// none: a create or a delete), bounded by MaxChanges and MaxChangeValue.
func changes(before, after *connectionView) []Change {
	var out []Change
	add := func(field, b, a string) {
		if b == a {
			return
		}
		if len(out) == MaxChanges {
			out[len(out)-1] = Change{Field: "…", After: "more changes not listed"}
			return
		}
		out = append(out, Change{Field: field, Before: clip(b), After: clip(a)})
	}
	list := func(field string, b, a []string) {
		for _, x := range b {
			if !slices.Contains(a, x) {
				add(field, x, "")
			}
		}
		for _, x := range a {
			if !slices.Contains(b, x) {
				add(field, "", x)
			}
		}
	}
	var b, a connectionView
	if before != nil {
		b = *before
	}
	if after != nil {
		a = *after
	}
	add("name", b.Name, a.Name)
	add("mode", b.Mode, a.Mode)
	add("domain_matching", b.DomainMatching, a.DomainMatching)
	add("issuer", b.Issuer, a.Issuer)
	add("secret_data", b.SecretData, a.SecretData)
	add("jwks_url", b.JWKSURL, a.JWKSURL)
	add("dangerously_allow_sensitive_cookies", strconv.FormatBool(b.DangerouslyAllowSensitive), strconv.FormatBool(a.DangerouslyAllowSensitive))
	list("allowed_domains", b.AllowedDomains, a.AllowedDomains)
	list("allowed_cookies", b.AllowedCookies, a.AllowedCookies)
	keyText := func(k keyView) string {
		t := k.ID + " " + k.Algorithm + " " + k.Kind
		if k.NotBefore != nil {
			t += " not_before=" + k.NotBefore.UTC().Format(time.RFC3339)
		}
		if k.RetireAfter != nil {
			t += " retire_after=" + k.RetireAfter.UTC().Format(time.RFC3339)
		}
		return t
	}
	var bk, ak []string
	for _, k := range b.Keys {
		bk = append(bk, keyText(k))
	}
	for _, k := range a.Keys {
		ak = append(ak, keyText(k))
	}
	list("keys", bk, ak)
	return out
}

func clip(s string) string {
	if len(s) <= MaxChangeValue {
		return s
	}
	cut := MaxChangeValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// validKid bounds the key IDs the console accepts: they appear in tokens'
// headers, logs and audit entries.
func validKid(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
