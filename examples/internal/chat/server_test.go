package chat

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/secretdata"
	"github.com/msgsec/msgsec/secretdata/delivery"
)

const jsonCT = "application/json"

// TestRoutesEnforcePolicy: each route is guarded by the msgsec wrapper it
// should be, and the policy's allowed domain is the only site admitted.
func TestRoutesEnforcePolicy(t *testing.T) {
	f := newFixture(t, Config{})
	sid := f.open(t, `{}`, nil)
	sessionPath := "/connections/retail-bank/sessions/" + sid
	tests := []struct {
		name       string
		req        req
		wantStatus int
		wantACAO   string // Access-Control-Allow-Origin
		wantBody   string // a substring
	}{
		{"config from the bank", req{method: "GET", path: "/connections/retail-bank/config", header: map[string]string{"Origin": bankOrigin}}, 200, bankOrigin, `"allowed_cookies":["page_viewed","cart_contents"]`},
		{"config from another site", req{method: "GET", path: "/connections/retail-bank/config", header: map[string]string{"Origin": evilOrigin}}, 403, "", "origin-denied"},
		{"config from the bank's host over https (scheme differs)", req{method: "GET", path: "/connections/retail-bank/config", header: map[string]string{"Origin": "https://www.uplusbank.localhost:8081"}}, 403, "", "origin-denied"},
		{"config without Origin (cross-site <script> or <img>)", req{method: "GET", path: "/connections/retail-bank/config", header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403, "", "origin-required"},
		{"config for an unknown connection", req{method: "GET", path: "/connections/other/config", header: map[string]string{"Origin": bankOrigin}}, 404, "", "unknown-connection"},
		{"open a session from another site", req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`, header: map[string]string{"Origin": evilOrigin, "Content-Type": jsonCT}}, 403, "", "origin-denied"},
		{"open a session from the chat server's own origin", req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`, header: map[string]string{"Origin": selfOrigin, "Content-Type": jsonCT}}, 201, selfOrigin, `"session"`},
		{"preflight from the bank", req{method: "OPTIONS", path: "/connections/retail-bank/sessions", header: map[string]string{"Origin": bankOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}}, 204, bankOrigin, ""},
		{"preflight from another site", req{method: "OPTIONS", path: "/connections/retail-bank/sessions", header: map[string]string{"Origin": evilOrigin, "Access-Control-Request-Method": "POST"}}, 403, "", ""},
		{"plain OPTIONS", req{method: "OPTIONS", path: "/connections/retail-bank/sessions", header: map[string]string{"Origin": bankOrigin}}, 405, bankOrigin, ""},
		{"message from the widget iframe (same origin)", req{method: "POST", path: sessionPath + "/messages", body: `{"text":"hi"}`, header: map[string]string{"Origin": selfOrigin, "Content-Type": jsonCT}}, 204, selfOrigin, ""},
		{"message from the bank page", req{method: "POST", path: sessionPath + "/messages", body: `{"text":"hi"}`, header: map[string]string{"Origin": bankOrigin, "Content-Type": jsonCT}}, 204, bankOrigin, ""},
		{"message from another site", req{method: "POST", path: sessionPath + "/messages", body: `{"text":"hi"}`, header: map[string]string{"Origin": evilOrigin, "Content-Type": jsonCT}}, 403, "", "origin-denied"},
		{"message to another connection's session ID", req{method: "POST", path: "/connections/other/sessions/" + sid + "/messages", body: `{"text":"hi"}`, header: map[string]string{"Origin": selfOrigin, "Content-Type": jsonCT}}, 404, "", ""},
		{"socket from another site", req{method: "GET", path: sessionPath + "/ws", header: upgrade(evilOrigin)}, 403, "", "origin-denied"},
		{"socket without Origin", req{method: "GET", path: sessionPath + "/ws", header: upgrade("")}, 403, "", "origin-required"},
		{"socket without Origin, marked same-origin", req{method: "GET", path: sessionPath + "/ws", header: map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-Fetch-Site": "same-origin"}}, 403, "", "origin-required"},
		{"socket for an unknown session", req{method: "GET", path: "/connections/retail-bank/sessions/nope/ws", header: upgrade(selfOrigin)}, 404, selfOrigin, ""},
		{"socket for another connection's session ID", req{method: "GET", path: "/connections/other/sessions/" + sid + "/ws", header: upgrade(selfOrigin)}, 404, "", ""},
		{"GET without Origin (no more same-origin exemption)", req{method: "GET", path: "/connections/retail-bank/config", header: map[string]string{"Sec-Fetch-Site": "same-origin"}}, 403, "", "origin-required"},
		{"widget page", req{method: "GET", path: "/connections/retail-bank/widget"}, 200, "", `src="/static/widget-app.js"`},
		{"widget page for an unknown connection", req{method: "GET", path: "/connections/other/widget"}, 404, "", ""},
		{"loader", req{method: "GET", path: "/connections/retail-bank/widget.js"}, 200, "", "msgsecGetToken"},
		{"loader for an unknown connection", req{method: "GET", path: "/connections/other/widget.js"}, 404, "", ""},
		{"static asset", req{method: "GET", path: "/static/widget-app.js"}, 200, "", "new WebSocket("},
		{"static: only listed files", req{method: "GET", path: "/static/default_policy.yaml"}, 404, "", ""},
		{"secret data from a browser on another site", req{method: "POST", path: sessionPath + "/secret-data", body: `{}`, header: map[string]string{"Origin": evilOrigin, "Content-Type": jsonCT}}, 403, "", "origin-denied"},
		{"secret data preflight is never granted", req{method: "OPTIONS", path: sessionPath + "/secret-data", header: map[string]string{"Origin": bankOrigin, "Access-Control-Request-Method": "POST"}}, 403, "", ""},
		{"secret data without a token", req{method: "POST", path: sessionPath + "/secret-data"}, 401, "", "invalid token"},
		{"healthz", req{method: "GET", path: "/healthz"}, 200, "", "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(t, tt.req)
			assert.Equal(t, tt.wantStatus, w.Code, w.Body.String())
			assert.Equal(t, tt.wantACAO, w.Header().Get("Access-Control-Allow-Origin"))
			assert.NotEqual(t, "*", w.Header().Get("Access-Control-Allow-Origin"))
			assert.Contains(t, w.Body.String(), tt.wantBody)
		})
	}
}

// TestWidgetPageFrameAncestors: the iframe page may be framed by the
// allowed domain only, and loads nothing from elsewhere.
func TestWidgetPageFrameAncestors(t *testing.T) {
	f := newFixture(t, Config{})
	w := f.do(t, req{method: "GET", path: "/connections/retail-bank/widget"})
	require.Equal(t, 200, w.Code)
	csp := w.Header().Values("Content-Security-Policy")
	joined := strings.Join(csp, ", ")
	assert.Contains(t, joined, "frame-ancestors http://www.uplusbank.localhost:*")
	assert.NotContains(t, joined, "evil")
	assert.Contains(t, joined, "default-src 'none'; script-src 'self'")
	assert.NotContains(t, w.Body.String(), "<script>", "no inline script")
}

// TestCookiesFiltered: only the allowlisted cookies are recorded, whether
// sent in the body or the Cookie header; the private session cookie never
// reaches the session or the agent view.
func TestCookiesFiltered(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		cookie string
		want   []Cookie
	}{
		{"body: allowed kept, private dropped",
			`{"cookies":{"page_viewed":"3","cart_contents":"card-gold","session_id":"` + privateValue + `"}}`, "",
			[]Cookie{{"cart_contents", "card-gold"}, {"page_viewed", "3"}}},
		{"header: allowed kept, private dropped", `{}`,
			"page_viewed=4; session_id=" + privateValue + "; cart_contents=loan",
			[]Cookie{{"page_viewed", "4"}, {"cart_contents", "loan"}}},
		{"body wins over header for the same name",
			`{"cookies":{"page_viewed":"body"}}`, "page_viewed=header; session_id=" + privateValue,
			[]Cookie{{"page_viewed", "body"}}},
		{"name case matters", `{"cookies":{"Page_Viewed":"1","SESSION_ID":"` + privateValue + `"}}`, "", nil},
		{"value outside the cookie-octet set dropped", `{"cookies":{"page_viewed":"a b","cart_contents":"ok"}}`, "",
			[]Cookie{{"cart_contents", "ok"}}},
		{"tossed duplicate in the header dropped", `{}`, "page_viewed=1; page_viewed=2; cart_contents=x",
			[]Cookie{{"cart_contents", "x"}}},
		{"no cookies", `{}`, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Config{})
			h := map[string]string{}
			if tt.cookie != "" {
				h["Cookie"] = tt.cookie
			}
			sid := f.open(t, tt.body, h)
			list := f.list(t)
			require.Len(t, list, 1)
			assert.Equal(t, sid, list[0].ID)
			assert.Equal(t, tt.want, list[0].Cookies)
			page := f.agentPage(t)
			assert.NotContains(t, page, privateName)
			assert.NotContains(t, page, privateValue)
			for _, c := range tt.want {
				assert.Contains(t, page, "<th>"+c.Name+"</th><td>"+c.Value+"</td>")
			}
			// Logs may name a dropped cookie (the middleware does, at
			// debug level), never show its value.
			assert.NotContains(t, f.logs.String(), privateValue, "logs")
		})
	}
}

// TestMessageCookiesReplace: a message may carry fresh cookies, filtered
// the same way.
func TestMessageCookiesReplace(t *testing.T) {
	f := newFixture(t, Config{})
	sid := f.open(t, `{"cookies":{"page_viewed":"1"}}`, nil)
	w := f.do(t, req{method: "POST", path: "/connections/retail-bank/sessions/" + sid + "/messages",
		body:   `{"text":"hi","cookies":{"page_viewed":"2","session_id":"` + privateValue + `"}}`,
		header: map[string]string{"Origin": bankOrigin, "Content-Type": jsonCT}})
	require.Equal(t, 204, w.Code)
	assert.Equal(t, []Cookie{{"page_viewed", "2"}}, f.list(t)[0].Cookies)
	assert.NotContains(t, f.agentPage(t), privateValue)
}

// TestBrowserToken: the pass-through token is verified by the middleware;
// only a valid, fresh one attaches secret data.
func TestBrowserToken(t *testing.T) {
	f := newFixture(t, Config{})
	replayed := f.token(t, "")
	f.open(t, `{}`, map[string]string{"Authorization": "Bearer " + replayed})
	otherAud, err := secretdata.NewSigner(secretdata.SignerConfig{Key: f.signer2Key(t), Issuer: "uplusbank-backend", Audience: "other-connection"})
	require.NoError(t, err)
	wrongAud, err := otherAud.Sign(secretdata.Claims{SecretData: map[string]any{"customer_id": "C-1001"}})
	require.NoError(t, err)
	valid := f.token(t, "")
	tests := []struct {
		name       string
		token      string
		wantStatus int
	}{
		{"tampered signature", tamper(f.token(t, "")), 401},
		{"tampered payload", tamperPayload(t, f.token(t, "")), 401},
		{"replayed", replayed, 401},
		{"wrong audience", wrongAud, 401},
		{"garbage", "not-a-token", 401},
		{"valid", valid, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.srv.sessions.(*memorySessions).len()
			w := f.do(t, req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`,
				header: map[string]string{"Origin": bankOrigin, "Content-Type": jsonCT, "Authorization": "Bearer " + tt.token}})
			require.Equal(t, tt.wantStatus, w.Code, w.Body.String())
			if tt.wantStatus == 401 {
				assert.Equal(t, before, f.srv.sessions.(*memorySessions).len(), "no session opened")
				assert.NotContains(t, w.Body.String(), "C-1001")
				assert.Contains(t, w.Body.String(), "invalid token")
			}
		})
	}
	for _, tt := range tests {
		assert.NotContains(t, f.logs.String(), tt.token, "no token in the logs")
	}
	assert.NotContains(t, f.logs.String(), "C-1001", "no secret data in the logs")
	page := f.agentPage(t)
	assert.Contains(t, page, `data-mode="browser"`)
	assert.Contains(t, page, "<th>customer_id</th><td>C-1001</td>")
	assert.Contains(t, page, "<th>authentication_status</th><td>authenticated</td>")
}

func (f *fixture) signer2Key(t testing.TB) secretdata.Key { return f.signerKey }

// tamper flips one character of the signature.
func tamper(tok string) string {
	b := []byte(tok)
	i := len(b) - 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// tamperPayload changes customer_id in the payload, keeping the signature.
func tamperPayload(t testing.TB, tok string) string {
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	raw, err := base64Raw(parts[1])
	require.NoError(t, err)
	changed := strings.Replace(string(raw), "C-1001", "C-9999", 1)
	require.NotEqual(t, string(raw), changed)
	parts[1] = base64RawEncode([]byte(changed))
	return strings.Join(parts, ".")
}

// TestServerToServerDelivery: the bank backend's Client delivers secret
// data for a live session; the agent view shows it; it is deleted when
// the session ends.
func TestServerToServerDelivery(t *testing.T) {
	f := newFixture(t, Config{SessionLifetime: 10 * time.Minute})
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	client, err := delivery.NewClient(delivery.ClientConfig{BaseURL: ts.URL, Signer: f.signer, MaxRetries: -1})
	require.NoError(t, err)
	sid := f.open(t, `{}`, nil)
	ctx := context.Background()
	data := map[string]any{"authentication_status": "authenticated", "customer_id": "C-2002"}

	tests := []struct {
		name    string
		session string
		wantErr error
	}{
		{"unknown session refused", "no-such-session", delivery.ErrRejected},
		{"live session stored", sid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := client.Send(ctx, conn, tt.session, secretdata.Claims{Subject: "customer-7", SecretData: data})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
		})
	}
	page := f.agentPage(t)
	assert.Contains(t, page, `data-mode="server"`)
	assert.Contains(t, page, "<th>customer_id</th><td>C-2002</td>")
	assert.NotContains(t, page, `data-mode="browser"`, "no browser token was sent")

	f.clock.add(11 * time.Minute)
	f.list(t) // purges
	_, err = f.store.Get(ctx, conn, sid)
	assert.ErrorIs(t, err, delivery.ErrNotFound, "secret data deleted with the session")
	assert.NotContains(t, f.agentPage(t), sid)
}

// TestRequestValidation: malformed bodies and limits fail closed.
func TestRequestValidation(t *testing.T) {
	f := newFixture(t, Config{MaxMessages: 4, MaxSessions: 3})
	sid := f.open(t, `{}`, nil)
	msgs := "/connections/retail-bank/sessions/" + sid + "/messages"
	h := map[string]string{"Origin": selfOrigin, "Content-Type": jsonCT}
	tests := []struct {
		name       string
		req        req
		wantStatus int
	}{
		{"wrong content type", req{method: "POST", path: msgs, body: `{"text":"hi"}`, header: map[string]string{"Origin": selfOrigin, "Content-Type": "text/plain"}}, 415},
		{"unknown field", req{method: "POST", path: msgs, body: `{"text":"hi","admin":true}`, header: h}, 400},
		{"trailing data", req{method: "POST", path: msgs, body: `{"text":"hi"} {}`, header: h}, 400},
		{"empty text", req{method: "POST", path: msgs, body: `{"text":""}`, header: h}, 400},
		{"text too long", req{method: "POST", path: msgs, body: `{"text":"` + strings.Repeat("a", MaxTextBytes+1) + `"}`, header: h}, 400},
		{"body too large", req{method: "POST", path: msgs, body: `{"text":"` + strings.Repeat("a", maxBodyBytes) + `"}`, header: h}, 413},
		{"unknown session", req{method: "POST", path: "/connections/retail-bank/sessions/nope/messages", body: `{"text":"hi"}`, header: h}, 404},
		{"first message", req{method: "POST", path: msgs, body: `{"text":"1"}`, header: h}, 204},
		{"second message", req{method: "POST", path: msgs, body: `{"text":"2"}`, header: h}, 204},
		{"over the message bound", req{method: "POST", path: msgs, body: `{"text":"3"}`, header: h}, 429},
		{"second session", req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`, header: h}, 201},
		{"third session", req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`, header: h}, 201},
		{"over the session bound", req{method: "POST", path: "/connections/retail-bank/sessions", body: `{}`, header: h}, 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(t, tt.req)
			assert.Equal(t, tt.wantStatus, w.Code, w.Body.String())
		})
	}
}

// TestSessionsExpire: an ended session refuses messages, leaves the agent
// view, and frees its slot.
func TestSessionsExpire(t *testing.T) {
	f := newFixture(t, Config{SessionLifetime: time.Minute, MaxSessions: 1})
	sid := f.open(t, `{}`, nil)
	f.clock.add(2 * time.Minute)
	w := f.do(t, req{method: "POST", path: "/connections/retail-bank/sessions/" + sid + "/messages", body: `{"text":"hi"}`,
		header: map[string]string{"Origin": selfOrigin, "Content-Type": jsonCT}})
	assert.Equal(t, 404, w.Code)
	f.open(t, `{}`, nil) // the expired one no longer counts
	assert.NotContains(t, f.agentPage(t), sid)
}

// TestNewRefusesBadConfig: configuration is validated once, at New.
func TestNewRefusesBadConfig(t *testing.T) {
	good := newFixture(t, Config{})
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no policies", Config{Store: good.store, SelfOrigin: selfOrigin}},
		{"no store", Config{Policies: good.reg, SelfOrigin: selfOrigin}},
		{"no self origin", Config{Policies: good.reg, Store: good.store}},
		{"self origin with a path", Config{Policies: good.reg, Store: good.store, SelfOrigin: "http://chat.test/x"}},
		{"self origin not http", Config{Policies: good.reg, Store: good.store, SelfOrigin: "ftp://chat.test"}},
		{"negative lifetime", Config{Policies: good.reg, Store: good.store, SelfOrigin: selfOrigin, SessionLifetime: -1}},
		{"lifetime above the store's maximum", Config{Policies: good.reg, Store: good.store, SelfOrigin: selfOrigin, SessionLifetime: delivery.MaxTTL + 1}},
		{"one message per session", Config{Policies: good.reg, Store: good.store, SelfOrigin: selfOrigin, MaxMessages: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrConfig), "%v", err)
		})
	}
}
