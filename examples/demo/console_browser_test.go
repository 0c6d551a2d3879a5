package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/msgsec/msgsec/examples/internal/chat"
)

// partnerHost is the site the console test adds as an allowed domain
// (issue 16's https://partner.example, on loopback under a .localhost name
// Chromium resolves by itself).
const partnerHost = "partner.localhost"

var partnerTemplate = template.Must(template.New("partner").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>U+ Bank partner</title>
<script src="{{.Chat}}/connections/retail-bank/widget.js" async></script>
</head>
<body>
<h1>U+ Bank partner site</h1>
<p>Embeds U+ Bank's chat widget, as the bank's own site does. It works here only while the console lists this site.</p>
<div id="msgsec-chat"></div>
</body>
</html>
`))

// startPartner serves the partner site on a loopback port and returns its
// origin, http://partner.localhost:<port>.
func startPartner(t *testing.T, chatURL string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = partnerTemplate.Execute(w, struct{ Chat string }{chatURL})
	}))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	return "http://" + partnerHost + ":" + port
}

// msgsecBin builds cmd/msgsec once per test binary, into a temporary
// directory (never the repository).
var msgsecBin = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "msgsec-demo-test-bin-")
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(dir, "msgsec")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/msgsec/msgsec/cmd/msgsec").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build cmd/msgsec: %w\n%s", err, out)
	}
	return bin, nil
})

// cliSign mints a token with `msgsec sign`, as a bank's script would with
// the secret the console showed: a policy file naming key kid, whose
// secret comes from an environment variable.
func cliSign(t *testing.T, kid, secret, customerID string) string {
	t.Helper()
	bin, err := msgsecBin()
	require.NoError(t, err)
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "bank.yaml")
	require.NoError(t, os.WriteFile(policyFile, []byte(`connections:
  - id: retail-bank
    allowed_domains: ["http://www.uplusbank.localhost:*"]
    keys:
      - id: `+kid+`
        algorithm: HS256
        secret: {env: CONSOLE_KEY_SECRET}
    token:
      issuer: uplusbank-backend
      max_lifetime: 5m
`), 0o600))
	cmd := exec.Command(bin, "sign", "--policy", policyFile, "--connection", "retail-bank", "--kid", kid,
		"--subject", "customer-77", "--data", `{"customer_id":"`+customerID+`","authentication_status":"authenticated"}`)
	cmd.Env = append(os.Environ(), "CONSOLE_KEY_SECRET="+secret)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "msgsec sign: %s", stderr.String())
	return strings.TrimSpace(string(out))
}

// openWithToken opens a chat from the bank's origin with a token, as the
// widget does, and returns the status and the session ID (201).
func openWithToken(t *testing.T, e *browserEnv, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.demo.chatURL+"/connections/retail-bank/sessions", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("Origin", e.demo.bankURL)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct{ Session string }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Session
}

// consoleAPI calls the console's API with the login token (as the CLI
// does) and returns the status, the ETag and the body.
func consoleAPI(t *testing.T, e *browserEnv, method, path, etag, body string) (int, string, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.demo.consoleURL+"api/"+path, r)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.demo.console.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if etag != "" {
		req.Header.Set("If-Match", etag)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("ETag"), string(b)
}

// widgetState loads url in tab and returns what the widget loader
// settled on: "ready" (the chat opened, its iframe added) or "failed".
func widgetState(t *testing.T, tab context.Context, url string) string {
	t.Helper()
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(url)))
	return waitValue(t, tab, `document.documentElement.dataset.msgsecWidget || ''`, nonEmpty)
}

// TestBrowserConsole is issue 16's browser test: an admin logs in to the
// demo's console and edits the retail-bank connection's Security tab in
// Chromium, and the chat server follows each change live: a domain added
// there makes the widget work on that site, removed it is refused again; a
// key created there signs tokens (through the CLI) the chat accepts, until
// the key's retirement; in report-only mode the refused origins are listed.
func TestBrowserConsole(t *testing.T) {
	e := newBrowserEnv(t, chat.Limits{SessionBurst: 50})
	partner := startPartner(t, e.demo.chatURL)
	partnerPage := partner + "/"

	// Control: the partner site is not listed yet.
	site := e.tab(t)
	require.Equal(t, "failed", widgetState(t, site, partnerPage), "before the console lists it, the partner site is refused")

	// Log in (the login URL sets the cookie and redirects to the console)
	// and open retail-bank's Security tab from the list.
	con := e.tab(t)
	require.NoError(t, chromedp.Do(con, chromedp.Navigate(e.demo.loginURL())))
	// The page opens the first connection by itself and then redraws the
	// list (marking it current): click the link once the list has settled.
	waitFor(t, con, `document.querySelector('#connections a.current[href="#retail-bank"]')`)
	require.NoError(t, chromedp.Do(con, chromedp.Click(chromedp.CSS(`#connections a[href="#retail-bank"]`))))
	waitFor(t, con, `!document.getElementById('tab').hidden && document.getElementById('conn-id').textContent.startsWith('retail-bank')`)
	assert.Equal(t, "demo-admin", eval[string](t, con, `document.querySelector('.who strong').textContent`))
	assert.Equal(t, e.demo.consoleURL+"#retail-bank", eval[string](t, con, `location.href`), "the token left the address bar")
	fullScreenshot(t, con, "console-security-tab")

	t.Run("a domain added in the console admits the site live; removed, it is refused", func(t *testing.T) {
		require.NoError(t, chromedp.Do(con,
			chromedp.SendKeys(chromedp.CSS(`#add-domain input[name="pattern"]`), partner),
			chromedp.Click(chromedp.CSS(`#add-domain button[type="submit"]`)),
		))
		listed := fmt.Sprintf(`[...document.querySelectorAll('#domains li')].some((li) => li.firstChild.textContent === %s)`, jsString(partner))
		waitFor(t, con, listed+` && document.getElementById('notice').className === 'ok'`)
		explained := waitValue(t, con, `document.getElementById('explanation').textContent`, nonEmpty)
		assert.Contains(t, explained, partner, "the console says what the pattern admits")
		fullScreenshot(t, con, "console-domain-added")

		// Without restarting anything, the widget opens on the partner
		// site and a message round-trips over its socket.
		poll(t, site, "the widget on the partner site", func() (bool, string) {
			state := widgetState(t, site, partnerPage)
			return state == "ready", "widget " + state
		})
		frameURL := eval[string](t, site, `document.getElementById('msgsec-widget').src`)
		f := e.frame(t, site, frameURL, `document.body && document.body.dataset.state === 'connected'`)
		require.NoError(t, chromedp.Do(f,
			chromedp.SendKeys(chromedp.CSS("#text"), "Hello from the partner"),
			chromedp.Click(chromedp.CSS("#send button")),
		))
		waitFor(t, f, `[...document.querySelectorAll('#log li.agent')].some((li) => li.textContent === 'Echo: Hello from the partner')`)
		screenshot(t, site, "partner-widget")

		// Remove it with the row's button: refused there again.
		remove := fmt.Sprintf(`//ul[@id="domains"]/li[starts-with(normalize-space(.), %q)]/button`, partner)
		require.NoError(t, chromedp.Do(con, chromedp.Click(remove)))
		waitFor(t, con, `!(`+listed+`) && document.getElementById('notice').className === 'ok'`)
		fullScreenshot(t, con, "console-domain-removed")
		poll(t, site, "the partner site refused again", func() (bool, string) {
			state := widgetState(t, site, partnerPage)
			return state == "failed", "widget " + state
		})
		assert.False(t, eval[bool](t, site, `!!document.getElementById('msgsec-widget')`), "no widget iframe")
	})

	t.Run("a key created in the console signs tokens until it retires", func(t *testing.T) {
		keyIDs := `[...document.querySelectorAll('#keys tbody tr')].map((tr) => tr.cells[0].textContent)`
		before := eval[[]string](t, con, keyIDs)
		require.NoError(t, chromedp.Do(con, chromedp.Click(chromedp.CSS(`#add-hmac button[type="submit"]`))))
		secret := waitValue(t, con, `document.getElementById('secret').hidden ? '' : document.getElementById('secret-value').textContent`, nonEmpty)
		require.Len(t, secret, 86, "the text `msgsec secret new` prints: 64 random bytes, base64url")
		var kid string
		for _, id := range eval[[]string](t, con, keyIDs) {
			if !contains(before, id) {
				kid = id
			}
		}
		require.NotEmpty(t, kid, "the new key is listed")
		// Dismissed, the secret leaves the page, and nothing shows it again.
		require.NoError(t, chromedp.Do(con, chromedp.Click(chromedp.CSS("#secret-done"))))
		waitFor(t, con, `document.getElementById('secret').hidden`)
		assert.NotContains(t, eval[string](t, con, `document.documentElement.outerHTML`), secret)
		_, _, view := consoleAPI(t, e, "GET", "connections/retail-bank", "", "")
		assert.NotContains(t, view, secret, "the API never shows it again")
		_, _, audit := consoleAPI(t, e, "GET", "audit?connection=retail-bank", "", "")
		assert.Contains(t, audit, "add hmac key "+kid)
		assert.NotContains(t, audit, secret, "nor does the audit")
		fullScreenshot(t, con, "console-key-created")

		// The bank's script signs with it through the CLI; the chat
		// accepts the token and shows the verified data.
		tokens := []string{cliSign(t, kid, secret, "C-7701"), cliSign(t, kid, secret, "C-7702"), cliSign(t, kid, secret, "C-7703")}
		status, session := openWithToken(t, e, tokens[0])
		require.Equal(t, http.StatusCreated, status, "a token signed with the console's key")
		section := e.waitSection(t, site, session, func(s string) bool { return secretTable(s, "browser") != "" })
		assert.Contains(t, secretTable(section, "browser"), "<th>customer_id</th><td>C-7701</td>")
		// Control: the same key ID with another secret is refused.
		other := randomText(64)
		require.NotEqual(t, secret, other)
		status, _ = openWithToken(t, e, cliSign(t, kid, other, "C-0000"))
		assert.Equal(t, http.StatusUnauthorized, status, "a token signed with another secret")

		// The page's Retire button schedules the retirement a day ahead
		// (overlap for the bank's rotation): tokens still work.
		retire := fmt.Sprintf(`//table[@id="keys"]/tbody/tr[td[1][text()=%q]]//button[starts-with(., "Retire")]`, kid)
		require.NoError(t, chromedp.Do(con, chromedp.Click(retire)))
		retireCell := fmt.Sprintf(`[...document.querySelectorAll('#keys tbody tr')].find((tr) => tr.cells[0].textContent === %s).cells[5].textContent`, jsString(kid))
		scheduled := waitValue(t, con, retireCell, nonEmpty)
		at, err := time.Parse(time.RFC3339, scheduled)
		require.NoError(t, err)
		assert.WithinDuration(t, time.Now().Add(24*time.Hour), at, 5*time.Minute)
		fullScreenshot(t, con, "console-key-retiring")
		status, _ = openWithToken(t, e, tokens[1])
		assert.Equal(t, http.StatusCreated, status, "before its retirement the key still verifies")

		// Through the API, bring the retirement forward to a moment from
		// now; after it, a token signed before it is refused.
		_, etag, _ := consoleAPI(t, e, "GET", "connections/retail-bank", "", "")
		retireAt := time.Now().Add(2 * time.Second).UTC().Truncate(time.Millisecond)
		code, _, body := consoleAPI(t, e, "PATCH", "connections/retail-bank/keys/"+kid, etag,
			`{"retire_after":"`+retireAt.Format(time.RFC3339Nano)+`"}`)
		require.Equal(t, http.StatusOK, code, body)
		time.Sleep(time.Until(retireAt) + 200*time.Millisecond)
		status, _ = openWithToken(t, e, tokens[2])
		assert.Equal(t, http.StatusUnauthorized, status, "after the retirement time the key's tokens are refused")

		require.NoError(t, chromedp.Do(con, chromedp.Reload()))
		shown := waitValue(t, con, retireCell, func(s string) bool {
			at, err := time.Parse(time.RFC3339, s)
			return err == nil && at.Before(time.Now())
		})
		at, err = time.Parse(time.RFC3339, shown)
		require.NoError(t, err)
		assert.WithinDuration(t, retireAt, at, time.Second, "the page shows the retirement the API set")
		fullScreenshot(t, con, "console-key-retired")
	})

	t.Run("report-only: the console lists the origins enforce would refuse", func(t *testing.T) {
		require.NoError(t, chromedp.Do(con, chromedp.Reload())) // the page's version may be stale (the API wrote since)
		waitFor(t, con, `document.getElementById('mode').textContent === 'enforce'`)
		require.NoError(t, chromedp.Do(con, chromedp.Click(chromedp.CSS("#mode-toggle"))))
		waitFor(t, con, `document.getElementById('mode').textContent === 'report-only'`)
		// The evil site's requests now reach the chat (its CORS answers
		// still give the page nothing, and its socket is still refused),
		// and each is counted as a would-be refusal.
		refused := fmt.Sprintf(`[...document.querySelectorAll('#refused tbody tr')].some((tr) => tr.cells[0].textContent.startsWith(%s))`, jsString(e.demo.evilURL))
		evil := e.tab(t)
		require.NoError(t, chromedp.Do(evil, chromedp.Navigate(e.demo.evilURL+"/")))
		assert.Equal(t, "failed", waitValue(t, evil, `document.documentElement.dataset.msgsecWidget || ''`, nonEmpty),
			"report-only refuses nothing itself, but the browser still gets no CORS answer for the evil site")
		// The counts reach the journal every couple of seconds; reload
		// the page until it lists them.
		poll(t, con, "the evil site in the roll-out list", func() (bool, string) {
			require.NoError(t, chromedp.Do(con, chromedp.Reload()))
			waitFor(t, con, `document.getElementById('refused-note').textContent !== ''`) // the list has loaded
			ok, err := chromedp.Run(con, chromedp.Evaluate[bool](refused))
			rows, _ := chromedp.Run(con, chromedp.Evaluate[string](`document.querySelector('#refused tbody').textContent`))
			return err == nil && ok, fmt.Sprintf("listed: %q (%v)", rows, err)
		})
		fullScreenshot(t, con, "console-report-only")
		require.NoError(t, chromedp.Do(con, chromedp.Click(chromedp.CSS("#mode-toggle"))))
		waitFor(t, con, `document.getElementById('mode').textContent === 'enforce'`)
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// fullScreenshot saves the whole page (the Security tab is longer than
// the window) to artifacts/browser/ (git-ignored).
func fullScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := filepath.Join("..", "..", "artifacts", "browser")
	if err := os.MkdirAll(dir, 0o755); err == nil {
		_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
}
