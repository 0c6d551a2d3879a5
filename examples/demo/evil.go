package main

import (
	"html/template"
	"net/http"
)

var evilTemplate = template.Must(template.New("evil").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Totally Legit Deals</title>
<style>body { font: 15px system-ui, sans-serif; margin: 24px; max-width: 920px; } iframe { border: 2px dashed #c00; } code { background: #f3f3f3; }</style>
<script src="{{.Chat}}/connections/retail-bank/widget.js" async></script>
<script src="/probe.js" data-chat="{{.Chat}}" defer></script>
</head>
<body>
<h1>Totally Legit Deals</h1>
<p>This site is not in U+ Bank's chat policy, yet it embeds the bank's chat widget. msgsec refuses it four times:</p>
<ol>
<li>The widget loader (same script tag as the bank's) asks the chat API for its configuration: the answer has no CORS
  headers for this Origin and is a 403, so no widget appears below. Result: <code id="loader-result">…</code></li>
<li>This page frames the widget page directly (dashed box): the chat server sends CSP <code>frame-ancestors</code> naming only
  the bank, so the browser shows an error instead of the widget.<br>
  <iframe id="direct-frame" title="framed widget" width="360" height="200" src="{{.Chat}}/connections/retail-bank/widget#session=stolen"></iframe></li>
<li>A script here calls the chat API to open a session: refused (CORS preflight, then 403). Result: <code id="api-result">…</code></li>
<li>A script here opens a chat's WebSocket, as it could if it had learnt a session ID (cross-site WebSocket hijacking: CORS
  does not apply to WebSockets). The chat server checks the handshake's Origin and answers 403. Result: <code id="ws-result">…</code></li>
</ol>
<div id="msgsec-chat"></div>
</body>
</html>
`))

// probeJS shows, on the evil page, what the browser let it do.
const probeJS = `'use strict';
const chat = document.currentScript.dataset.chat;
const show = (id, text) => { document.getElementById(id).textContent = text; };
const timer = setInterval(() => {
  const state = document.documentElement.dataset.msgsecWidget; // set by the loader
  if (!state) return;
  clearInterval(timer);
  show('loader-result', state === 'ready' ? 'widget opened (!)' : 'widget refused');
}, 100);
fetch(chat + '/connections/retail-bank/sessions', {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}',
}).then((res) => show('api-result', 'HTTP ' + res.status + ' (!)'), (err) => show('api-result', 'refused: ' + err.message));
const ws = new WebSocket(chat.replace(/^http/, 'ws') + '/connections/retail-bank/sessions/stolen/ws');
let opened = false;
ws.onopen = () => { opened = true; show('ws-result', 'socket open (!)'); ws.close(); };
ws.onclose = (e) => { if (!opened) show('ws-result', 'refused: handshake failed (close code ' + e.code + ')'); };
`

// evilSite is a website the policy does not list, embedding the widget.
func evilSite(chatURL string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = evilTemplate.Execute(w, struct{ Chat string }{chatURL})
	})
	mux.HandleFunc("GET /probe.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte(probeJS))
	})
	return mux
}
