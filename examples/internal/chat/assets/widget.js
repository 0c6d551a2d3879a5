// msgsec example chat widget loader. The bank's page includes it with
//   <script src="https://chat.example/connections/retail-bank/widget.js" async></script>
// and may define two optional callbacks:
//   window.msgsecGetToken = async () => "<CustomerSecretData token>" (or "")
//   window.msgsecOnSession = (sessionId) => { /* tell the bank backend */ }
//
// This script checks nothing itself: the chat server decides. It asks for
// the widget configuration and opens the session with cross-origin
// requests, so the browser sends this page's Origin and msgsec's CORS and
// Origin check refuse any site the policy does not list; it sends only the
// cookies the configuration names (the server filters them again); and the
// iframe it adds is served with CSP frame-ancestors, so the widget page
// renders only inside an allowed site.
(() => {
  'use strict';
  const script = document.currentScript;
  if (!script) return;
  const base = new URL('./', script.src); // …/connections/{connection}/
  const root = document.documentElement;

  // readCookies returns the page's cookies whose names the configuration
  // allows ("name" or "prefix*"). A name seen twice is left out (cookie
  // tossing), as the server expects.
  function readCookies(allowed) {
    const wanted = (name) => allowed.some((p) =>
      p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p);
    const found = new Map();
    const twice = new Set();
    for (const part of document.cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const name = part.slice(0, eq).trim();
      if (!wanted(name)) continue;
      if (found.has(name)) twice.add(name);
      found.set(name, part.slice(eq + 1).trim());
    }
    for (const name of twice) found.delete(name);
    return Object.fromEntries(found);
  }

  async function token() {
    if (typeof window.msgsecGetToken !== 'function') return '';
    try {
      return (await window.msgsecGetToken()) || '';
    } catch {
      return ''; // no token: the chat opens anonymously (if the policy allows)
    }
  }

  async function start() {
    const cfgRes = await fetch(new URL('config', base), { credentials: 'omit' });
    if (!cfgRes.ok) throw new Error('config: HTTP ' + cfgRes.status);
    const cfg = await cfgRes.json();

    const headers = { 'Content-Type': 'application/json' };
    const tok = await token();
    if (tok) headers.Authorization = 'Bearer ' + tok;
    const res = await fetch(new URL('sessions', base), {
      method: 'POST',
      credentials: 'omit',
      headers,
      body: JSON.stringify({ cookies: readCookies(cfg.allowed_cookies) }),
    });
    if (!res.ok) throw new Error('session: HTTP ' + res.status);
    const { session } = await res.json();

    const frame = document.createElement('iframe');
    // The session ID travels in the fragment: never sent to a server,
    // never in a Referer.
    frame.src = new URL('widget', base).href + '#session=' + encodeURIComponent(session);
    frame.id = 'msgsec-widget';
    frame.title = 'Chat with ' + cfg.name;
    frame.width = '360';
    frame.height = '420';
    (document.getElementById('msgsec-chat') || document.body).appendChild(frame);
    root.dataset.msgsecWidget = 'ready';
    if (typeof window.msgsecOnSession === 'function') window.msgsecOnSession(session);
  }

  start().catch((err) => {
    root.dataset.msgsecWidget = 'failed';
    console.warn('msgsec widget not started:', err.message);
  });
})();
