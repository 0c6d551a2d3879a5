// The chat widget, running in the iframe served by the chat server. Its
// requests are same-origin: POSTs carry the chat server's own Origin
// (admitted with middleware.WithSelfOrigins), and the EventSource GET
// carries "Sec-Fetch-Site: same-origin" (middleware.AllowSameOriginFetches).
// Every text is shown with textContent, never parsed as HTML.
(() => {
  'use strict';
  const log = document.getElementById('log');
  const form = document.getElementById('send');
  const input = document.getElementById('text');

  function show(from, text) {
    const li = document.createElement('li');
    li.className = from;
    li.textContent = text;
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  const session = new URLSearchParams(location.hash.slice(1)).get('session');
  if (!session) {
    show('system', 'No chat session.');
    form.hidden = true;
    return;
  }
  const base = location.pathname.replace(/widget$/, ''); // /connections/{connection}/
  const api = base + 'sessions/' + encodeURIComponent(session);

  const events = new EventSource(api + '/events');
  events.addEventListener('open', () => { document.body.dataset.state = 'connected'; });
  events.addEventListener('message', (e) => {
    const m = JSON.parse(e.data);
    show(m.from, m.text);
  });
  events.addEventListener('end', () => {
    events.close();
    show('system', 'The chat has ended.');
    form.hidden = true;
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    const res = await fetch(api + '/messages', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text }),
    });
    if (!res.ok) show('system', 'Not sent (HTTP ' + res.status + ').');
  });
})();
