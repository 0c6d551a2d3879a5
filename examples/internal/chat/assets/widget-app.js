// The chat widget, running in the iframe served by the chat server. It
// chats over one WebSocket to its own server: the handshake carries the
// chat server's own Origin (admitted with middleware.WithSelfOrigins; a
// page elsewhere that learnt the session ID gets 403). Messages arrive as
// {"type":"message",id,from,text,at} frames, refusals as
// {"type":"error",error} (with problem and retry_after for a limit: the
// client's message rate, the chat's text); it sends {"text":…}. Every text is shown with
// textContent, never parsed as HTML.
(() => {
  'use strict';
  const log = document.getElementById('log');
  const form = document.getElementById('send');
  const input = document.getElementById('text');
  const endButton = document.getElementById('end');

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
    endButton.hidden = true;
    return;
  }
  const base = location.pathname.replace(/widget$/, ''); // /connections/{connection}/
  const api = base + 'sessions/' + encodeURIComponent(session);

  const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + api + '/ws';
  let socket = null;
  let last = 0; // the last message shown: a reconnect resumes after it
  let retries = 0;

  function connect() {
    socket = new WebSocket(url + '?after=' + last);
    socket.addEventListener('open', () => {
      retries = 0;
      document.body.dataset.state = 'connected';
    });
    socket.addEventListener('message', (e) => {
      const f = JSON.parse(e.data);
      if (f.type === 'message' && f.id > last) {
        last = f.id;
        show(f.from, f.text);
      } else if (f.type === 'error') {
        // A limit (f.problem) says when to try again.
        show('system', f.error + (f.retry_after ? ' (try again in ' + f.retry_after + ' s)' : ''));
      }
    });
    socket.addEventListener('close', (e) => {
      document.body.dataset.state = 'closed';
      // 1000: ended (or idle); 1008/1009: refused; 1006 (the handshake
      // failed, or the network dropped), 1001 (server restart), 1013
      // (store unavailable): try again, a few times.
      if ([1001, 1006, 1013].includes(e.code) && retries < 3) {
        retries++;
        setTimeout(connect, 1000 * retries);
        return;
      }
      show('system', e.reason === 'session ended' ? 'The chat has ended.' : 'Disconnected' + (e.reason ? ' (' + e.reason + ').' : '.'));
      form.hidden = true;
      endButton.hidden = true;
    });
  }
  connect();

  // Ending the chat deletes the session on the server, which closes the
  // socket ("session ended").
  endButton.addEventListener('click', async () => {
    const res = await fetch(api, { method: 'DELETE' });
    if (!res.ok) show('system', 'Not ended (HTTP ' + res.status + ').');
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      show('system', 'Not sent (not connected).');
      return;
    }
    input.value = '';
    socket.send(JSON.stringify({ text }));
  });
})();
