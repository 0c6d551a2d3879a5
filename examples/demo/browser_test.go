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
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/internal/testenv"
)

// The browser tests run the demo on random loopback ports and drive Debian's
// Chromium through it, as a customer would. Each security claim is checked
// against a positive control in the same run, so a test cannot pass because
// nothing worked at all.

// browserEnv is the running demo and browser.
type browserEnv struct {
	demo    *demo
	browser context.Context // the browser; tabs are its children
}

func newBrowserEnv(t *testing.T) *browserEnv {
	t.Helper()
	chromium := testenv.Chromium(t)
	// Everything below ends with this context: nothing can hang the suite.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	d, err := start(ctx, config{
		chatAddr: "127.0.0.1:0", bankAddr: "127.0.0.1:0", otherAddr: "127.0.0.1:0",
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
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
	return &browserEnv{demo: d, browser: bctx}
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
// runs it in its own process, as a target of type "iframe").
func (e *browserEnv) frame(t *testing.T, tab context.Context, frameURL string) context.Context {
	t.Helper()
	infos, err := chromedp.Targets(tab)
	require.NoError(t, err)
	for _, info := range infos {
		if info.Type == "iframe" && info.URL == frameURL {
			f, cancel := chromedp.NewContext(tab, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
			t.Cleanup(cancel)
			return f
		}
	}
	require.FailNow(t, "no iframe target", "url %s", frameURL)
	return nil
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

// waitFor polls a JavaScript predicate in the page (or frame) until it is
// truthy, for at most 20 seconds. It polls from Go, so it survives the
// page navigating (a sign-in form's redirect).
func waitFor(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting", "%s (last error: %v)", js, err)
		}
		select {
		case <-ctx.Done():
			require.FailNow(t, "timed out waiting", "%s: %v", js, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

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
	waitFor(t, tab, `document.documentElement.dataset.msgsecWidget`)
	require.Equal(t, "ready", eval[string](t, tab, `document.documentElement.dataset.msgsecWidget`))
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
	e := newBrowserEnv(t)
	var bankSession string // a live session opened by the bank page

	t.Run("bank: widget renders and a message round-trips", func(t *testing.T) {
		tab := e.tab(t)
		frameURL, session := e.openBank(t, tab)
		bankSession = session
		f := e.frame(t, tab, frameURL)
		waitFor(t, f, `document.body.dataset.state === 'connected'`)
		require.NoError(t, chromedp.Do(f,
			chromedp.SendKeys(chromedp.CSS("#text"), "Where is my card?"),
			chromedp.Click(chromedp.CSS("#send button")),
		))
		waitFor(t, f, `[...document.querySelectorAll('#log li.agent')].some((li) => li.textContent === 'Echo: Where is my card?')`)
		screenshot(t, tab, "bank-widget")
		section := e.agentSection(t, session)
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
		status := eval[int](t, tab, fmt.Sprintf(`fetch(%q, {method: 'POST', headers: {'Content-Type': 'application/json'},
			body: JSON.stringify({cookies: Object.fromEntries(document.cookie.split('; ').map((c) => c.split('=')))})}).then((r) => r.status)`,
			e.demo.chatURL+"/connections/retail-bank/sessions"))
		require.Equal(t, 201, status)

		section := e.agentSection(t, session)
		assert.Contains(t, section, "<th>page_viewed</th><td>"+views+"</td>")
		assert.Contains(t, section, "<th>cart_contents</th><td>gold-card|travel-insurance</td>")
		page := e.agentPage(t)
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
		waitFor(t, tab, `document.documentElement.dataset.secretDataDelivery`)
		require.Equal(t, "204", eval[string](t, tab, `document.documentElement.dataset.secretDataDelivery`))
		frameURL := eval[string](t, tab, `document.getElementById('msgsec-widget').src`)
		session := frameURL[strings.LastIndex(frameURL, "=")+1:]

		section := e.agentSection(t, session)
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
		waitFor(t, tab, `document.documentElement.dataset.msgsecWidget`)
		assert.Equal(t, "failed", eval[string](t, tab, `document.documentElement.dataset.msgsecWidget`))
		assert.False(t, eval[bool](t, tab, `!!document.getElementById('msgsec-widget')`))
		// The page frames the widget page directly: frame-ancestors makes
		// Chromium replace it with an error page.
		frameURL := e.demo.chatURL + "/connections/retail-bank/widget#session=stolen"
		f := e.frame(t, tab, frameURL)
		waitFor(t, tab, `document.getElementById('api-result').textContent !== '…' && document.getElementById('loader-result').textContent !== '…'`)
		assert.Equal(t, "widget refused", eval[string](t, tab, `document.getElementById('loader-result').textContent`))
		assert.Equal(t, "chrome-error://chromewebdata/", eval[string](t, f, `location.href`))
		assert.False(t, eval[bool](t, f, `!!document.getElementById('log')`), "no widget in the frame")
		screenshot(t, tab, "evil-site")
		assert.Equal(t, before, e.sessionCount(t), "no session opened")
	})

	t.Run("evil site: direct fetch and event stream refused", func(t *testing.T) {
		require.NotEmpty(t, bankSession)
		api := e.demo.chatURL + "/connections/retail-bank"
		// probe runs the same attacks from a page; the bank page is the
		// control that shows they work from an allowed site.
		probe := fmt.Sprintf(`(async () => {
			const result = (p) => p.then((r) => 'HTTP ' + r.status, (err) => 'refused');
			const events = () => new Promise((resolve) => {
				const es = new EventSource(%[2]q);
				let got = 0;
				es.onmessage = () => { got++; es.close(); resolve('messages'); };
				es.onerror = () => { es.close(); resolve(got ? 'messages' : 'refused'); };
				setTimeout(() => { es.close(); resolve('timeout'); }, 10000);
			});
			return [
				await result(fetch(%[1]q + '/config')),
				await result(fetch(%[1]q + '/sessions', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'})),
				await result(fetch(%[1]q + '/sessions/%[3]s/messages', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"text":"from elsewhere"}'})),
				await events(),
			];
		})()`, api, api+"/sessions/"+bankSession+"/events", bankSession)
		before := e.sessionCount(t)

		evil := e.tab(t)
		require.NoError(t, chromedp.Do(evil, chromedp.Navigate(e.demo.evilURL+"/")))
		assert.Equal(t, []string{"refused", "refused", "refused", "refused"}, eval[[]string](t, evil, probe))
		// A no-cors POST needs no preflight; the server still refuses it.
		eval[chromedp.Void](t, evil, fmt.Sprintf(`fetch(%q, {method: 'POST', mode: 'no-cors', body: '{}'}).catch(() => {})`, api+"/sessions"))
		assert.Equal(t, before, e.sessionCount(t), "no session opened from the evil site")
		assert.NotContains(t, e.agentSection(t, bankSession), "from elsewhere")

		bank := e.tab(t)
		require.NoError(t, chromedp.Do(bank, chromedp.Navigate(e.demo.bankURL+"/")))
		assert.Equal(t, []string{"HTTP 200", "HTTP 201", "HTTP 204", "messages"}, eval[[]string](t, bank, probe), "control: the same calls from the bank")
	})
}
