package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/examples/internal/chat"
	"github.com/msgsec/msgsec/internal/testenv"
	"github.com/msgsec/msgsec/middleware"
)

// The browser tests run the demo on random loopback ports and drive Debian's
// Chromium through it, as a customer would. Each security claim is checked
// against a positive control in the same run, so a test cannot pass because
// nothing worked at all.

// browserEnv is the running demo and browser.
type browserEnv struct {
	demo    *demo
	browser context.Context // the browser; tabs are its children
	// What the chat server saw: WebSocket handshakes and the answers it
	// gave them, and its msgsec events.
	seen *serverLog
}

// serverLog records, from inside the chat server, each WebSocket
// handshake's answer and each msgsec event: what the browser tried, and
// what the server refused, whatever the page manages to report.
type serverLog struct {
	mu         sync.Mutex
	handshakes []handshake
	events     []middleware.Event
}

// handshake is one WebSocket upgrade request and the status it got.
type handshake struct {
	Path, Origin string
	Status       int
	ContentType  string
}

func (l *serverLog) event(e middleware.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// wrap records the status of every WebSocket handshake (when it is
// written: an accepted socket's handler returns only when it closes).
func (l *serverLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(&statusWriter{ResponseWriter: w, done: func(status int, ctype string) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.handshakes = append(l.handshakes, handshake{Path: r.URL.Path, Origin: r.Header.Get("Origin"), Status: status, ContentType: ctype})
		}}, r)
	})
}

// handshakesTo returns the recorded handshakes to path from origin.
func (l *serverLog) handshakesTo(path, origin string) []handshake {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []handshake
	for _, h := range l.handshakes {
		if h.Path == path && h.Origin == origin {
			out = append(out, h)
		}
	}
	return out
}

// originDenied returns the KindOriginDenied events for origin on a path
// ending in suffix (event paths carry the session ID only hashed).
func (l *serverLog) originDenied(origin, suffix string) []middleware.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []middleware.Event
	for _, e := range l.events {
		if e.Kind == middleware.KindOriginDenied && e.Origin == origin && strings.HasSuffix(e.Path, suffix) {
			out = append(out, e)
		}
	}
	return out
}

// statusWriter reports the status and Content-Type a handler writes, and
// unwraps to the real writer, so the WebSocket upgrade can hijack it.
type statusWriter struct {
	http.ResponseWriter
	once sync.Once
	done func(status int, ctype string)
}

func (w *statusWriter) WriteHeader(status int) {
	w.once.Do(func() { w.done(status, w.Header().Get("Content-Type")) })
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { w.done(http.StatusOK, w.Header().Get("Content-Type")) })
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// newBrowserEnv starts the demo with the chat server's flood limits lim
// (zero fields: the defaults) and a fresh Chromium.
func newBrowserEnv(t *testing.T, lim chat.Limits) *browserEnv {
	t.Helper()
	chromium := testenv.Chromium(t)
	// Everything below ends with this context: nothing can hang the suite.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	seen := &serverLog{}
	d, err := start(ctx, config{
		chatAddr: "127.0.0.1:0", bankAddr: "127.0.0.1:0", otherAddr: "127.0.0.1:0", adminAddr: "127.0.0.1:0",
		logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		onEvent: seen.event, wrapChat: seen.wrap, limits: lim,
	})
	require.NoError(t, err)
	t.Cleanup(func() { cancel(); d.wait() })

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // the tests may run as root (CI containers)
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()), // a fresh profile: no cookies from earlier runs
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 800),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	require.NoError(t, chromedp.Do(bctx), "start chromium")
	return &browserEnv{demo: d, browser: bctx, seen: seen}
}

// tab opens a new tab, bounded in time, closed at the end of the test.
func (e *browserEnv) tab(t *testing.T) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(e.browser)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(tab, 60*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// frame attaches to the cross-site iframe whose URL is frameURL (Chromium
// runs it in its own process, as a target of type "iframe") once the
// JavaScript predicate ready holds in it. The target appears some time
// after the page adds the iframe, and may be replaced while the frame
// commits, so it polls: find the target, attach, check ready; else detach
// and look again.
func (e *browserEnv) frame(t *testing.T, tab context.Context, frameURL, ready string) context.Context {
	t.Helper()
	var (
		id     string // the target attached to, if any
		f      context.Context
		detach context.CancelFunc = func() {}
	)
	t.Cleanup(func() { detach() })
	poll(t, tab, "the iframe target "+frameURL, func() (bool, string) {
		infos, err := chromedp.Targets(tab)
		if err != nil {
			return false, "targets: " + err.Error()
		}
		found := -1
		var seen []string
		for i, info := range infos {
			if info.Type == "iframe" && info.URL == frameURL {
				found = i
				break
			}
			seen = append(seen, info.Type+" "+info.URL)
		}
		if found < 0 {
			return false, "no iframe target; targets: " + strings.Join(seen, ", ")
		}
		if tid := infos[found].TargetID; string(tid) != id {
			detach()
			id = string(tid)
			f, detach = chromedp.NewContext(tab, chromedp.WithTargetID(tid), chromedp.WithDetachOnCancel())
		}
		ok, err := chromedp.Run(f, chromedp.Evaluate[bool]("!!("+ready+")"))
		if err != nil {
			detach() // attach again next time: the target may have gone
			id, detach = "", func() {}
			return false, "frame: " + err.Error()
		}
		return ok, "frame found; not yet " + ready
	})
	return f
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// waitTimeout bounds every wait; a loaded machine (a fresh clone building
// with -race beside a busy CPU) is slow, not broken.
const waitTimeout = 30 * time.Second

// poll calls check every 100ms until it reports done, for at most
// waitTimeout and never past ctx, and fails the test with check's last
// explanation. Every wait in these tests polls: none acts on one snapshot.
func poll(t *testing.T, ctx context.Context, what string, check func() (done bool, last string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		done, last := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting for "+what, "%s", last)
		}
		select {
		case <-ctx.Done():
			require.FailNow(t, "timed out waiting for "+what, "%s: %v", last, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitValue polls a JavaScript expression in the page (or frame) until
// settled accepts its value, and returns that value. It polls from Go, so
// it survives the page navigating (a sign-in form's redirect).
func waitValue[T any](t *testing.T, ctx context.Context, js string, settled func(T) bool) T {
	t.Helper()
	var v T
	poll(t, ctx, js, func() (bool, string) {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
		if err != nil {
			return false, "error: " + err.Error()
		}
		v = got
		return settled(got), fmt.Sprintf("last value: %v", got)
	})
	return v
}

// waitFor polls a JavaScript predicate until it is truthy.
func waitFor(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	waitValue(t, ctx, "!!("+js+")", func(ok bool) bool { return ok })
}

func nonEmpty(s string) bool { return s != "" }

// screenshot saves the tab to artifacts/browser/ (git-ignored).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := filepath.Join("..", "..", "artifacts", "browser")
	if err := os.MkdirAll(dir, 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
}

// openBank loads the bank page and waits for the widget; it returns the
// widget iframe's URL and the chat session ID.
func (e *browserEnv) openBank(t *testing.T, tab context.Context) (frameURL, session string) {
	t.Helper()
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(e.demo.bankURL+"/")))
	// The loader sets "ready" (iframe added) or "failed", nothing between.
	state := waitValue(t, tab, `document.documentElement.dataset.msgsecWidget || ''`, nonEmpty)
	require.Equal(t, "ready", state)
	frameURL = eval[string](t, tab, `document.getElementById('msgsec-widget').src`)
	prefix := e.demo.chatURL + "/connections/retail-bank/widget#session="
	require.True(t, strings.HasPrefix(frameURL, prefix), frameURL)
	return frameURL, strings.TrimPrefix(frameURL, prefix)
}

// agentSection returns the agent view's HTML for one session ("" if the
// view does not list it). It reads the page over HTTP: the browser view
// refreshes itself every few seconds.
func (e *browserEnv) agentSection(t *testing.T, session string) string {
	t.Helper()
	page := e.agentPage(t)
	start := strings.Index(page, `data-session="`+session+`"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(page[start:], "</section>")
	require.Positive(t, end)
	return page[start : start+end]
}

// waitSection polls the agent view until the session's section satisfies
// arrived (the data the test then checks has reached the chat server), and
// returns it. arrived should say that something came, not what: the test
// asserts the values, so a wrong one fails at once, with a clear message.
func (e *browserEnv) waitSection(t *testing.T, ctx context.Context, session string, arrived func(section string) bool) string {
	t.Helper()
	var section string
	poll(t, ctx, "the agent view of session "+session, func() (bool, string) {
		section = e.agentSection(t, session)
		return arrived(section), "section: " + section
	})
	return section
}

func (e *browserEnv) agentPage(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(e.demo.chatURL + "/agent")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func (e *browserEnv) sessionCount(t *testing.T) int {
	return strings.Count(e.agentPage(t), `<section class="session"`)
}

// secretTable returns the agent view's secret-data table for a mode
// ("browser" or "server") within a session's section.
func secretTable(section, mode string) string {
	start := strings.Index(section, `data-mode="`+mode+`"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(section[start:], "</table>")
	if end < 0 {
		return ""
	}
	return section[start : start+end]
}

func TestBrowser(t *testing.T) {
	// Every tab is one client (the loopback address), and the subtests open
	// more chats than the default burst (10) lets one client open at once.
	e := newBrowserEnv(t, chat.Limits{SessionBurst: 50})
	var bankSession string // a live session opened by the bank page

	t.Run("bank: widget renders and a message round-trips", func(t *testing.T) {
		tab := e.tab(t)
		frameURL, session := e.openBank(t, tab)
		bankSession = session
		// 'connected' is set by the socket's open event.
		f := e.frame(t, tab, frameURL, `document.body && document.body.dataset.state === 'connected'`)
		wsPath := "/connections/retail-bank/sessions/" + session + "/ws"
		opened := e.seen.handshakesTo(wsPath, e.demo.chatURL)
		require.NotEmpty(t, opened, "the widget opened its WebSocket, from the chat server's own origin")
		assert.Equal(t, http.StatusSwitchingProtocols, opened[0].Status)
		require.NoError(t, chromedp.Do(f,
			chromedp.SendKeys(chromedp.CSS("#text"), "Where is my card?"),
			chromedp.Click(chromedp.CSS("#send button")),
		))
		waitFor(t, f, `[...document.querySelectorAll('#log li.agent')].some((li) => li.textContent === 'Echo: Where is my card?')`)
		assert.Len(t, e.seen.handshakesTo(wsPath, e.demo.chatURL), 1, "the message went over the open socket (no reconnect)")
		screenshot(t, tab, "bank-widget")
		section := e.waitSection(t, tab, session, func(s string) bool { return strings.Contains(s, "<b>agent:</b>") })
		assert.Contains(t, section, "<b>customer:</b> Where is my card?")
		assert.Contains(t, section, "<b>agent:</b> Echo: Where is my card?")
	})

	t.Run("agent view: public cookies attached, never session_id", func(t *testing.T) {
		tab := e.tab(t)
		_, session := e.openBank(t, tab)
		privateValue := eval[string](t, tab, `document.cookie.split('; ').find((c) => c.startsWith('session_id=')).slice('session_id='.length)`)
		require.NotEmpty(t, privateValue, "the bank page set a script-readable session_id")
		views := eval[string](t, tab, `document.cookie.split('; ').find((c) => c.startsWith('page_viewed=')).slice('page_viewed='.length)`)

		// A widget that (wrongly) sends every cookie: the server filters.
		created := eval[struct {
			Status  int    `json:"status"`
			Session string `json:"session"`
		}](t, tab, fmt.Sprintf(`fetch(%q, {method: 'POST', headers: {'Content-Type': 'application/json'},
			body: JSON.stringify({cookies: Object.fromEntries(document.cookie.split('; ').map((c) => c.split('=')))})})
			.then(async (r) => ({status: r.status, session: r.ok ? (await r.json()).session : ''}))`,
			e.demo.chatURL+"/connections/retail-bank/sessions"))
		require.Equal(t, 201, created.Status)

		hasCookies := func(s string) bool { return strings.Contains(s, "<th>page_viewed</th>") }
		for _, id := range []string{session, created.Session} {
			section := e.waitSection(t, tab, id, hasCookies)
			assert.Contains(t, section, "<th>page_viewed</th><td>"+views+"</td>", id)
			assert.Contains(t, section, "<th>cart_contents</th><td>gold-card|travel-insurance</td>", id)
		}
		page := e.agentPage(t) // lists both sessions (waited for above)
		assert.NotContains(t, page, "session_id")
		assert.NotContains(t, page, privateValue)
		require.NoError(t, chromedp.Do(tab, chromedp.Navigate(e.demo.chatURL+"/agent")))
		screenshot(t, tab, "agent-view")
	})

	signedIn := false
	t.Run("after login: verified secret data in both delivery modes", func(t *testing.T) {
		tab := e.tab(t)
		e.openBank(t, tab)
		require.NoError(t, chromedp.Do(tab,
			chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Alice Example"),
			chromedp.Click(chromedp.CSS("#login")),
		))
		waitFor(t, tab, `document.getElementById('who') && document.documentElement.dataset.msgsecWidget === 'ready'`)
		who := eval[string](t, tab, `document.getElementById('who').textContent`)
		customerID := regexp.MustCompile(`C-\d{4}`).FindString(who)
		require.NotEmpty(t, customerID, who)
		// The bank backend's server-to-server delivery has been answered.
		delivery := waitValue(t, tab, `document.documentElement.dataset.secretDataDelivery || ''`, nonEmpty)
		require.Equal(t, "204", delivery)
		frameURL := eval[string](t, tab, `document.getElementById('msgsec-widget').src`)
		session := frameURL[strings.LastIndex(frameURL, "=")+1:]

		section := e.waitSection(t, tab, session, func(s string) bool {
			return secretTable(s, "browser") != "" && secretTable(s, "server") != ""
		})
		for _, mode := range []string{"browser", "server"} {
			table := secretTable(section, mode)
			assert.Contains(t, table, "<th>customer_id</th><td>"+customerID+"</td>", mode)
			assert.Contains(t, table, "<th>authentication_status</th><td>authenticated</td>", mode)
			assert.Contains(t, table, "<th>issuer</th><td>uplusbank-backend</td>", mode)
		}
		// Control: the anonymous session from the first test has none.
		anon := e.agentSection(t, bankSession)
		assert.Empty(t, secretTable(anon, "browser"))
		assert.Empty(t, secretTable(anon, "server"))
		screenshot(t, tab, "bank-signed-in")
		signedIn = true
	})

	t.Run("tampered and replayed tokens are refused", func(t *testing.T) {
		require.True(t, signedIn, "needs the customer signed in (the browser keeps the bank's cookie)")
		tab := e.tab(t)
		e.openBank(t, tab)
		require.True(t, eval[bool](t, tab, `!!document.getElementById('who')`), "signed in")
		statuses := eval[[]int](t, tab, fmt.Sprintf(`(async () => {
			const open = (tok) => fetch(%q, {method: 'POST', body: '{}',
				headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + tok}}).then((r) => r.status);
			const tok = await window.msgsecGetToken();
			const [h, p, s] = tok.split('.');
			const sig = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
			const claims = JSON.parse(atob(p.replace(/-/g, '+').replace(/_/g, '/')));
			claims.customer_secret_data.customer_id = 'C-0000';
			const forged = btoa(JSON.stringify(claims)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
			return [
				await open(h + '.' + p + '.' + sig),    // tampered signature
				await open(h + '.' + forged + '.' + s), // tampered claims
				await open(tok),                        // genuine, first use
				await open(tok),                        // replayed
			];
		})()`, e.demo.chatURL+"/connections/retail-bank/sessions"))
		assert.Equal(t, []int{401, 401, 201, 401}, statuses)
		assert.NotContains(t, e.agentPage(t), "C-0000")
	})

	t.Run("evil site: the widget does not render", func(t *testing.T) {
		before := e.sessionCount(t)
		tab := e.tab(t)
		require.NoError(t, chromedp.Do(tab, chromedp.Navigate(e.demo.evilURL+"/")))
		// The loader's config request is refused (CORS + Origin check).
		state := waitValue(t, tab, `document.documentElement.dataset.msgsecWidget || ''`, nonEmpty)
		assert.Equal(t, "failed", state)
		assert.False(t, eval[bool](t, tab, `!!document.getElementById('msgsec-widget')`), "a failed loader adds no iframe")
		// The page's own reports, once its probes have answered.
		settled := func(s string) bool { return s != "" && s != "…" }
		loader := waitValue(t, tab, `document.getElementById('loader-result').textContent`, settled)
		api := waitValue(t, tab, `document.getElementById('api-result').textContent`, settled)
		assert.Equal(t, "widget refused", loader)
		assert.True(t, strings.HasPrefix(api, "refused"), api)
		// The page frames the widget page directly: frame-ancestors makes
		// Chromium replace it with an error page.
		frameURL := e.demo.chatURL + "/connections/retail-bank/widget#session=stolen"
		f := e.frame(t, tab, frameURL, `document.readyState === 'complete' && location.href !== 'about:blank'`)
		assert.Equal(t, "chrome-error://chromewebdata/", eval[string](t, f, `location.href`))
		assert.False(t, eval[bool](t, f, `!!document.getElementById('log')`), "no widget in the frame")
		screenshot(t, tab, "evil-site")
		assert.Equal(t, before, e.sessionCount(t), "no session opened")
	})

	t.Run("evil site: direct fetch and a hijacked WebSocket refused", func(t *testing.T) {
		require.NotEmpty(t, bankSession)
		api := e.demo.chatURL + "/connections/retail-bank"
		wsPath := "/connections/retail-bank/sessions/" + bankSession + "/ws"
		wsURL := "ws" + strings.TrimPrefix(e.demo.chatURL, "http") + wsPath
		// probe runs the same attacks from a page that knows a live
		// session ID; the bank page is the control that shows they work
		// from an allowed site. The socket probe sends a message and
		// waits for its echo: a round trip, not just an open event.
		probe := fmt.Sprintf(`(async () => {
			const result = (p) => p.then((r) => 'HTTP ' + r.status, (err) => 'refused');
			const socket = () => new Promise((resolve) => {
				const ws = new WebSocket(%[2]q);
				ws.onopen = () => ws.send(JSON.stringify({text: 'over the socket from ' + location.origin}));
				ws.onmessage = (e) => {
					const f = JSON.parse(e.data);
					if (f.from === 'agent' && f.text === 'Echo: over the socket from ' + location.origin) { ws.close(); resolve('round trip'); }
				};
				ws.onclose = (e) => resolve('closed ' + e.code);
				setTimeout(() => { ws.close(); resolve('timeout'); }, 15000);
			});
			return [
				await result(fetch(%[1]q + '/config')),
				await result(fetch(%[1]q + '/sessions', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'})),
				await result(fetch(%[1]q + '/sessions/%[3]s/messages', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"text":"from elsewhere"}'})),
				await socket(),
			];
		})()`, api, wsURL, bankSession)
		before := e.sessionCount(t)

		evil := e.tab(t)
		require.NoError(t, chromedp.Do(evil, chromedp.Navigate(e.demo.evilURL+"/")))
		// 1006: the handshake failed (browsers do not show the page why).
		assert.Equal(t, []string{"refused", "refused", "refused", "closed 1006"}, eval[[]string](t, evil, probe))
		// The page's own probe (a made-up session ID) was refused too.
		settled := func(s string) bool { return s != "" && s != "…" }
		assert.Equal(t, "refused: handshake failed (close code 1006)", waitValue(t, evil, `document.getElementById('ws-result').textContent`, settled))
		// What the chat server answered the evil page's handshake: msgsec's
		// 403 problem document, reported as origin-denied on the ws path.
		var refused []handshake
		poll(t, evil, "the chat server's answer to the evil handshake", func() (bool, string) {
			refused = e.seen.handshakesTo(wsPath, e.demo.evilURL)
			return len(refused) > 0, fmt.Sprintf("handshakes: %+v", e.seen.handshakes)
		})
		assert.Equal(t, handshake{Path: wsPath, Origin: e.demo.evilURL, Status: http.StatusForbidden, ContentType: "application/problem+json"}, refused[0])
		denied := e.seen.originDenied(e.demo.evilURL, "/ws")
		require.NotEmpty(t, denied, "origin-denied event for the ws path")
		assert.Equal(t, http.MethodGet, denied[0].Method)
		assert.True(t, denied[0].Blocked)
		assert.NotContains(t, denied[0].Path, bankSession, "the event names the session only hashed")

		// A no-cors POST needs no preflight; the server still refuses it.
		eval[chromedp.Void](t, evil, fmt.Sprintf(`fetch(%q, {method: 'POST', mode: 'no-cors', body: '{}'}).catch(() => {})`, api+"/sessions"))
		assert.Equal(t, before, e.sessionCount(t), "no session opened from the evil site")
		section := e.agentSection(t, bankSession)
		assert.NotContains(t, section, "from elsewhere")
		assert.NotContains(t, section, "over the socket from "+e.demo.evilURL)

		bank := e.tab(t)
		require.NoError(t, chromedp.Do(bank, chromedp.Navigate(e.demo.bankURL+"/")))
		assert.Equal(t, []string{"HTTP 200", "HTTP 201", "HTTP 204", "round trip"}, eval[[]string](t, bank, probe), "control: the same calls from the bank")
		accepted := e.seen.handshakesTo(wsPath, e.demo.bankURL)
		require.NotEmpty(t, accepted)
		assert.Equal(t, http.StatusSwitchingProtocols, accepted[0].Status)
		// The agent view shows the message the bank page sent over the socket.
		section = e.waitSection(t, bank, bankSession, func(s string) bool { return strings.Contains(s, "over the socket from") })
		assert.Contains(t, section, "<b>customer:</b> over the socket from "+e.demo.bankURL)
		assert.Contains(t, section, "<b>agent:</b> Echo: over the socket from "+e.demo.bankURL)
	})

	t.Run("sandboxed iframe (Origin: null): WebSocket refused", func(t *testing.T) {
		require.NotEmpty(t, bankSession)
		wsPath := "/connections/retail-bank/sessions/" + bankSession + "/ws"
		wsURL := "ws" + strings.TrimPrefix(e.demo.chatURL, "http") + wsPath
		// A sandboxed frame (scripts, no same-origin) has an opaque
		// origin: its handshake says "Origin: null", which no policy admits.
		// Run from the bank's own page, so only the null origin differs.
		sandboxed := fmt.Sprintf(`new Promise((resolve) => {
			const f = document.createElement('iframe');
			f.sandbox = 'allow-scripts';
			window.addEventListener('message', (e) => { if (e.source === f.contentWindow) resolve(e.data); });
			f.srcdoc = '<script>' +
				'const ws = new WebSocket(' + JSON.stringify(%[1]q) + ');' +
				'ws.onopen = () => { ws.close(); parent.postMessage(origin + " open", "*"); };' +
				'ws.onclose = (e) => parent.postMessage(origin + " closed " + e.code, "*");' +
				'<\/script>';
			document.body.appendChild(f);
			setTimeout(() => resolve('timeout'), 15000);
		})`, wsURL)
		tab := e.tab(t)
		require.NoError(t, chromedp.Do(tab, chromedp.Navigate(e.demo.bankURL+"/")))
		assert.Equal(t, "null closed 1006", eval[string](t, tab, sandboxed))
		var refused []handshake
		poll(t, tab, "the chat server's answer to the null-origin handshake", func() (bool, string) {
			refused = e.seen.handshakesTo(wsPath, "null")
			return len(refused) > 0, fmt.Sprintf("handshakes: %+v", e.seen.handshakes)
		})
		assert.Equal(t, http.StatusForbidden, refused[0].Status)
		assert.Equal(t, "application/problem+json", refused[0].ContentType)
		assert.NotEmpty(t, e.seen.originDenied("null", "/ws"), "origin-denied event for Origin: null")
		// Control: the same page's own script connects.
		opens := eval[string](t, tab, fmt.Sprintf(`new Promise((resolve) => {
			const ws = new WebSocket(%q);
			ws.onopen = () => { ws.close(); resolve('open'); };
			ws.onclose = (e) => resolve('closed ' + e.code);
		})`, wsURL))
		assert.Equal(t, "open", opens)
	})

	t.Run("bank: ending the chat closes its socket", func(t *testing.T) {
		tab := e.tab(t)
		frameURL, session := e.openBank(t, tab)
		f := e.frame(t, tab, frameURL, `document.body && document.body.dataset.state === 'connected'`)
		require.NotEmpty(t, e.agentSection(t, session), "listed while it lasts")
		require.NoError(t, chromedp.Do(f, chromedp.Click(chromedp.CSS("#end"))))
		// The server closed the socket ("session ended"), and the widget says so.
		waitFor(t, f, `document.body.dataset.state === 'closed' && [...document.querySelectorAll('#log li.system')].some((li) => li.textContent === 'The chat has ended.')`)
		assert.True(t, eval[bool](t, f, `document.getElementById('send').hidden`), "no more sending")
		assert.Empty(t, e.agentSection(t, session), "the session is gone")
	})
}

// TestBrowserSocketLimits: a message over the client's message limit, sent
// from the widget over its socket, is refused with an error frame the
// widget shows (with when to try again); it is not stored, and the socket
// stays open.
func TestBrowserSocketLimits(t *testing.T) {
	// Two messages at once, then one every 20 s: the third is refused.
	e := newBrowserEnv(t, chat.Limits{MessagesPerSecond: 0.05, MessageBurst: 2})
	tab := e.tab(t)
	frameURL, session := e.openBank(t, tab)
	f := e.frame(t, tab, frameURL, `document.body && document.body.dataset.state === 'connected'`)
	send := func(text string) {
		t.Helper()
		require.NoError(t, chromedp.Do(f,
			chromedp.SendKeys(chromedp.CSS("#text"), text),
			chromedp.Click(chromedp.CSS("#send button")),
		))
	}
	for _, text := range []string{"first", "second"} {
		send(text)
		waitFor(t, f, fmt.Sprintf(`[...document.querySelectorAll('#log li.agent')].some((li) => li.textContent === %q)`, "Echo: "+text))
	}
	send("third")
	shown := waitValue(t, f, `[...document.querySelectorAll('#log li.system')].map((li) => li.textContent).join('\n')`, nonEmpty)
	assert.Regexp(t, `^not sent: this client is over its message limit; retry later \(try again in \d+ s\)$`, shown)
	assert.Equal(t, "connected", eval[string](t, f, `document.body.dataset.state`), "the socket stays open")
	assert.False(t, eval[bool](t, f, `document.getElementById('send').hidden`), "the customer may send again later")
	screenshot(t, tab, "bank-widget-rate-limited")
	section := e.waitSection(t, tab, session, func(s string) bool { return strings.Contains(s, "Echo: second") })
	assert.Contains(t, section, "<b>customer:</b> first")
	assert.NotContains(t, section, "third", "the refused message was not stored")
	assert.Len(t, e.seen.handshakesTo("/connections/retail-bank/sessions/"+session+"/ws", e.demo.chatURL), 1, "one socket throughout")
}
