package middleware

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/idhash"
	"github.com/msgsec/msgsec/policy"
)

// varies reports whether the Vary header (every line, comma lists)
// names h.
func varies(hd http.Header, h string) bool {
	for _, v := range hd.Values("Vary") {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), h) {
				return true
			}
		}
	}
	return false
}

// Every mode × kind of allowed domains × credentials setting × kind of
// origin × preflight/actual: credentials only for a listed origin of a
// policy that turns them on; CORS access only for an admitted origin, in
// report-only mode too; report-only lets refused actual requests through,
// without CORS.
func TestCORSModesOriginsAndCredentials(t *testing.T) {
	type originCase struct {
		name, origin string
		listed       bool // named by an allowed-domain entry
		admitted     bool // admitted by the policy
	}
	domains := []struct {
		name    string
		domains []string
		origins []originCase
	}{
		{"listed domain", []string{"https://www.uplusbank.com"}, []originCase{
			{"listed", "https://www.uplusbank.com", true, true},
			{"unlisted", "https://evil.example", false, false},
			{"null", "null", false, false},
		}},
		{"no domain (any website)", nil, []originCase{
			{"any site", "https://evil.example", false, true},
			{"null", "null", false, false},
		}},
		{"star (any website)", []string{"*"}, []originCase{
			{"any site", "https://evil.example", false, true},
			{"null", "null", false, false},
		}},
		{"star and a name", []string{"*", "https://www.uplusbank.com"}, []originCase{
			{"listed", "https://www.uplusbank.com", true, true},
			{"any site", "https://evil.example", false, true},
			{"null", "null", false, false},
		}},
	}
	for _, mode := range []policy.Mode{policy.ModeEnforce, policy.ModeReportOnly} {
		for _, d := range domains {
			for _, creds := range []bool{false, true} {
				for _, oc := range d.origins {
					for _, kind := range []string{"preflight", "actual"} {
						name := strings.Join([]string{string(mode), d.name, map[bool]string{false: "credentials off", true: "credentials on"}[creds], oc.name, kind}, "/")
						t.Run(name, func(t *testing.T) {
							c := uplus()
							c.AllowedDomains = d.domains
							c.AllowCredentials = creds
							c.Mode = mode
							f := newFixture(t, c)
							var r *http.Request
							if kind == "preflight" {
								r = preflight(oc.origin)
							} else {
								r = httptest.NewRequest(http.MethodPost, "/connections/retail-bank/sessions", nil)
								r.Header.Set("Origin", oc.origin)
							}
							// Twice: the second answer comes from the memos.
							for round := 0; round < 2; round++ {
								w, seen := f.serve(t, r)
								h := w.Header()
								if oc.admitted {
									assert.Equal(t, oc.origin, h.Get("Access-Control-Allow-Origin"))
								} else {
									assert.Empty(t, h.Get("Access-Control-Allow-Origin"), "a refused origin never gets CORS access")
									assert.Empty(t, h.Values("Access-Control-Allow-Methods"))
									assert.Empty(t, h.Values("Access-Control-Allow-Headers"))
									assert.Empty(t, h.Values("Access-Control-Max-Age"))
									assert.NotEmpty(t, f.events.kinds(), "every refusal is reported")
								}
								if creds && oc.listed {
									assert.Equal(t, "true", h.Get("Access-Control-Allow-Credentials"))
								} else {
									assert.Empty(t, h.Values("Access-Control-Allow-Credentials"))
								}
								switch {
								case kind == "preflight":
									assert.Nil(t, seen)
									if oc.admitted || mode == policy.ModeReportOnly {
										assert.Equal(t, http.StatusNoContent, w.Code)
									} else {
										assert.Equal(t, http.StatusForbidden, w.Code)
									}
								case oc.admitted || mode == policy.ModeReportOnly:
									assert.Equal(t, http.StatusOK, w.Code)
									assert.NotNil(t, seen, "report-only blocks nothing")
									assert.True(t, varies(h, "Origin"))
								default:
									assert.Equal(t, http.StatusForbidden, w.Code)
									assert.Nil(t, seen)
								}
							}
						})
					}
				}
			}
		}
	}
}

// A self origin (the chat server's own pages) is admitted but not listed
// by the policy: no credentials for it.
func TestSelfOriginGetsNoCredentials(t *testing.T) {
	c := uplus()
	c.AllowCredentials = true
	f := newFixture(t, c)
	w, _ := f.serve(t, preflight("http://127.0.0.1:8080"), WithSelfOrigins("http://127.0.0.1:8080"))
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.Equal(t, "http://127.0.0.1:8080", w.Header().Get("Access-Control-Allow-Origin"))
	assert.Empty(t, w.Header().Values("Access-Control-Allow-Credentials"))
}

// With AllowSameOriginFetches the answer to a request without an Origin
// depends on Sec-Fetch-Site, admitted or refused, so Vary says so.
func TestVarySecFetchSite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []Option
		fetch  string
		status int
		vary   bool
	}{
		{"option, same-origin: admitted", []Option{AllowSameOriginFetches()}, "same-origin", 200, true},
		{"option, cross-site: refused", []Option{AllowSameOriginFetches()}, "cross-site", 403, true},
		{"option, none: refused", []Option{AllowSameOriginFetches()}, "", 403, true},
		{"no option: the header plays no part", nil, "same-origin", 403, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, uplus())
			r := httptest.NewRequest(http.MethodGet, "/connections/retail-bank/sessions/s/events", nil)
			if tc.fetch != "" {
				r.Header.Set("Sec-Fetch-Site", tc.fetch)
			}
			w, _ := f.serve(t, r, tc.opts...)
			assert.Equal(t, tc.status, w.Code)
			assert.True(t, varies(w.Header(), "Origin"))
			assert.Equal(t, tc.vary, varies(w.Header(), "Sec-Fetch-Site"))
		})
	}
}

// cookieSeen is what a wrapped handler saw of the cookies.
type cookieSeen struct {
	header  []string
	cookies []string // r.Cookies(), name=value
	ctx     []string // Cookies(ctx), name=value
}

func pairs(cs []*http.Cookie) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name+"="+c.Value)
	}
	return out
}

// Every wrapper leaves only allowed cookies in r.Header, r.Cookies() and
// Cookies(ctx): over HTTP/1.1, over HTTP/2 (whose clients may split the
// Cookie header into several fields), and with several Cookie lines.
func TestCookiesFilteredOnEveryWrapper(t *testing.T) {
	f := newFixture(t, uplus())
	m, err := ForPolicy(f.policy, WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	wrappers := map[string]func(http.Handler) http.Handler{
		"Handler": m.Handler, "WidgetPage": m.WidgetPage, "ServerToServer": m.ServerToServer,
	}
	want := []string{"page_viewed=home", "cart_contents=3"}
	lines := []string{"page_viewed=home; session_id=" + secretCookieValue, "_ga=GA1.1.1; cart_contents=3", "session_id2=" + secretCookieValue}
	for name, wrap := range wrappers {
		var got cookieSeen
		h := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = cookieSeen{header: r.Header.Values("Cookie"), cookies: pairs(r.Cookies()), ctx: pairs(Cookies(r.Context()))}
		}))
		check := func(t *testing.T) {
			t.Helper()
			assert.Equal(t, []string{"page_viewed=home; cart_contents=3"}, got.header)
			assert.Equal(t, want, got.cookies)
			assert.Equal(t, want, got.ctx)
			for _, v := range [][]string{got.header, got.cookies, got.ctx} {
				assert.NotContains(t, strings.Join(v, " "), secretCookieValue)
			}
		}
		newReq := func(t *testing.T, url string) *http.Request {
			r, err := http.NewRequest(http.MethodPost, url, nil)
			require.NoError(t, err)
			r.Header.Set("Origin", "https://www.uplusbank.com")
			return r
		}
		t.Run(name+"/several Cookie lines", func(t *testing.T) {
			got = cookieSeen{}
			r := newReq(t, "/connections/retail-bank/sessions")
			r.Header["Cookie"] = lines
			h.ServeHTTP(httptest.NewRecorder(), r)
			check(t)
		})
		for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
			t.Run(name+"/"+proto, func(t *testing.T) {
				got = cookieSeen{}
				srv := httptest.NewUnstartedServer(h)
				if proto == "HTTP/2" {
					srv.EnableHTTP2 = true
					srv.StartTLS()
				} else {
					srv.Start()
				}
				defer srv.Close()
				r := newReq(t, srv.URL+"/connections/retail-bank/sessions")
				for _, l := range lines {
					r.Header.Add("Cookie", l)
				}
				resp, err := srv.Client().Do(r)
				require.NoError(t, err)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
				if proto == "HTTP/2" {
					require.Equal(t, 2, resp.ProtoMajor)
				} else {
					require.Equal(t, 1, resp.ProtoMajor)
				}
				check(t)
			})
		}
	}
}

// Session IDs reach events (and so logs) only hashed.
func TestEventPathsHashSessionIDs(t *testing.T) {
	f := newFixture(t, uplus())
	const sid = "the-session-id-is-a-credential"
	r := httptest.NewRequest(http.MethodPost, "/connections/retail-bank/sessions/"+sid+"/messages", nil)
	r.Header.Set("Origin", "https://evil.example")
	r.Header.Set("Cookie", "session_id=x")
	f.serve(t, r)
	r = httptest.NewRequest(http.MethodPost, "/connections/retail-bank/sessions/"+sid+"/messages", nil)
	r.Header.Set("Origin", "https://www.uplusbank.com")
	r.Header.Set("Cookie", "session_id=x")
	f.serve(t, r)
	kinds := f.events.kinds()
	require.Contains(t, kinds, KindOriginDenied)
	require.Contains(t, kinds, KindCookieDropped)
	for _, e := range f.events.ev {
		assert.NotContains(t, e.Path, sid)
		assert.Equal(t, "/connections/retail-bank/sessions/"+idhash.Of(sid)+"/messages", e.Path)
	}
}

// On a ServeMux route every wildcard value but the connection is hashed,
// whatever its name, and an ID with an encoded slash is hashed whole.
func TestEventPathsHashEveryIDOnAMuxRoute(t *testing.T) {
	f := newFixture(t, uplus())
	m, err := ForPolicy(f.policy, WithEventHandler(f.events.add), WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	mux := http.NewServeMux()
	rt := m.Routes(mux)
	rt.Handle("POST /connections/{connection}/sessions/{session}/messages", http.NotFoundHandler())
	rt.Handle("POST /connections/{connection}/chats/{chat}", http.NotFoundHandler())
	rt.Handle("POST /connections/{connection}/files/{rest...}", http.NotFoundHandler())
	for _, tc := range []struct{ path, secret, want string }{
		{"/connections/retail-bank/sessions/abc%2FSECRETPART/messages", "SECRETPART", "/connections/retail-bank/sessions/" + idhash.Of("abc%2FSECRETPART") + "/messages"},
		{"/connections/retail-bank/chats/CHATSECRET", "CHATSECRET", "/connections/retail-bank/chats/" + idhash.Of("CHATSECRET")},
		{"/connections/retail-bank/files/a/FILESECRET", "FILESECRET", "/connections/retail-bank/files/" + idhash.Of("a/FILESECRET")},
	} {
		f.events.ev = nil
		r := httptest.NewRequest(http.MethodPost, tc.path, nil)
		r.Header.Set("Origin", "https://evil.example")
		mux.ServeHTTP(httptest.NewRecorder(), r)
		require.Len(t, f.events.ev, 1, tc.path)
		assert.NotContains(t, f.events.ev[0].Path, tc.secret)
		assert.Equal(t, tc.want, f.events.ev[0].Path)
	}
}
