// msgsec console: drives the admin JSON API. Every value from the store is
// put on the page as text (textContent), never as HTML.
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  let current = null; // { view, etag }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  async function api(method, path, body, etag) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (etag) headers["If-Match"] = etag;
    const res = await fetch("api/" + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
    const text = await res.text();
    const data = text ? JSON.parse(text) : {};
    if (!res.ok) {
      let msg = data.title || res.statusText;
      if (data.detail) msg += ": " + data.detail;
      for (const e of data.errors || []) msg += "\n• " + (e.field ? e.field + ": " : "") + e.reason;
      throw new Error(msg);
    }
    return { data, etag: res.headers.get("ETag") };
  }

  function notice(msg, ok) {
    const n = $("#notice");
    n.textContent = msg;
    n.className = ok ? "ok" : "error";
  }

  async function loadList() {
    const { data } = await api("GET", "connections");
    const ul = $("#connections");
    ul.replaceChildren();
    for (const c of data.connections) {
      const li = el("li");
      const a = el("a", c.name || c.id);
      a.href = "#" + encodeURIComponent(c.id);
      if (current && current.view.id === c.id) a.className = "current";
      li.append(a);
      ul.append(li);
    }
  }

  async function open(id) {
    const { data, etag } = await api("GET", "connections/" + encodeURIComponent(id));
    current = { view: data, etag };
    render();
    await Promise.all([loadRefused(), loadAudit(), loadList()]);
  }

  function render() {
    const v = current.view;
    $("#tab").hidden = false;
    $("#conn-name").textContent = v.name || v.id;
    $("#conn-id").textContent = v.id + " · version " + v.version;
    $("#mode").textContent = v.mode;
    $("#mode-toggle").textContent = v.mode === "enforce" ? "Switch to report-only" : "Switch to enforce";

    const w = $("#warnings");
    w.replaceChildren();
    if (v.any_website) w.append(el("p", "Any website may run this widget: no allowed domain (or \"*\") means every site on the internet.", "warning loud"));
    for (const x of v.warnings) if (x.code !== "any-website") w.append(el("p", x.message, "warning"));

    const d = $("#domains");
    d.replaceChildren();
    for (const p of v.allowed_domains) {
      const li = el("li", p);
      const b = el("button", "Remove", "small");
      b.type = "button";
      b.addEventListener("click", () => edit("DELETE", "domains?pattern=" + encodeURIComponent(p)));
      li.append(b);
      d.append(li);
    }
    const c = $("#cookies");
    c.replaceChildren();
    for (const n of v.allowed_cookies) {
      const li = el("li", n);
      const b = el("button", "Remove", "small");
      b.type = "button";
      b.addEventListener("click", () => edit("DELETE", "cookies/" + encodeURIComponent(n)));
      li.append(b);
      c.append(li);
    }
    const tb = $("#keys tbody");
    tb.replaceChildren();
    for (const k of v.keys) {
      const tr = el("tr");
      for (const x of [k.id, k.algorithm, k.kind, k.created || "", k.not_before || "", k.retire_after || ""]) tr.append(el("td", x));
      const td = el("td");
      const retire = el("button", "Retire in 24 h", "small");
      retire.type = "button";
      retire.addEventListener("click", () => edit("PATCH", "keys/" + encodeURIComponent(k.id), { retire_after: new Date(Date.now() + 864e5).toISOString() }));
      const del = el("button", "Remove", "small");
      del.type = "button";
      del.addEventListener("click", () => edit("DELETE", "keys/" + encodeURIComponent(k.id)));
      td.append(retire, del);
      tr.append(td);
      tb.append(tr);
    }
  }

  async function edit(method, path, body) {
    try {
      const { data, etag } = await api(method, "connections/" + encodeURIComponent(current.view.id) + (path ? "/" + path : ""), body, current.etag);
      current = { view: data.connection, etag };
      render();
      notice("Saved (version " + data.connection.version + ").", true);
      await loadAudit();
      return data;
    } catch (e) {
      notice(e.message, false);
      return null;
    }
  }

  async function loadRefused() {
    const tb = $("#refused tbody");
    tb.replaceChildren();
    const { data } = await api("GET", "connections/" + encodeURIComponent(current.view.id) + "/refused-origins");
    $("#refused-note").textContent = data.note;
    for (const r of data.hours[0].origins) {
      const tr = el("tr");
      tr.append(el("td", r.origin + (r.same_site_as ? " (same site as " + r.same_site_as + ")" : "")), el("td", String(r.count)));
      const td = el("td");
      if (r.origin.startsWith("http")) {
        const b = el("button", "Allow", "small");
        b.type = "button";
        b.addEventListener("click", () => {
          if (!r.same_site_as && !confirm(r.origin + " is not on the site of any allowed domain. Origin values are sent by clients and can be forged: allow it only if this website is yours.")) return;
          edit("POST", "domains", { pattern: r.origin });
        });
        td.append(b);
      }
      tr.append(td);
      tb.append(tr);
    }
  }

  async function loadAudit() {
    const ul = $("#audit");
    ul.replaceChildren();
    const { data } = await api("GET", "audit?connection=" + encodeURIComponent(current.view.id) + "&limit=20");
    for (const e of data.entries) ul.append(el("li", e.time + " — " + e.principal + " — " + e.action + (e.detail ? " — " + e.detail : "")));
  }

  function formData(form) {
    return Object.fromEntries(new FormData(form).entries());
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.addEventListener("hashchange", () => open(decodeURIComponent(location.hash.slice(1))).catch((e) => notice(e.message)));
    $("#create").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const { data } = await api("POST", "connections", formData(ev.target));
        ev.target.reset();
        location.hash = "#" + encodeURIComponent(data.id);
      } catch (e) {
        alert(e.message);
      }
    });
    $("#add-domain").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = await edit("POST", "domains", { pattern: ev.target.pattern.value.trim() });
      const box = $("#explanation");
      box.replaceChildren();
      if (!data) return;
      ev.target.reset();
      if (data.explanation) {
        const x = data.explanation;
        box.className = "explain";
        box.append(el("p", x.pattern + " (" + x.domain_matching + " matching) admits:"));
        for (const a of x.admits) box.append(el("div", a.origin + " — " + a.why, "yes"));
        box.append(el("p", "and refuses, for example:"));
        for (const r of x.refuses) box.append(el("div", r.origin + " — " + r.why, "no"));
      }
    });
    $("#add-cookie").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (await edit("POST", "cookies", { name: ev.target.name.value.trim(), dangerously_allow_sensitive: ev.target.dangerous.checked })) ev.target.reset();
    });
    $("#add-hmac").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = await edit("POST", "keys", { kind: "hmac", algorithm: ev.target.algorithm.value });
      if (data && data.secret) {
        $("#secret-value").textContent = data.secret;
        $("#secret").hidden = false;
      }
    });
    $("#secret-done").addEventListener("click", () => {
      $("#secret-value").textContent = "";
      $("#secret").hidden = true;
    });
    $("#add-public").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = formData(ev.target);
      if (await edit("POST", "keys", { kind: "public", algorithm: f.algorithm, public_key: f.public_key })) ev.target.reset();
    });
    $("#mode-toggle").addEventListener("click", () => edit("PATCH", "", { mode: current.view.mode === "enforce" ? "report-only" : "enforce" }));
    $("#delete").addEventListener("click", async () => {
      if (!confirm("Delete connection " + current.view.id + "? The widget stops working everywhere.")) return;
      try {
        await api("DELETE", "connections/" + encodeURIComponent(current.view.id), undefined, current.etag);
        current = null;
        $("#tab").hidden = true;
        location.hash = "";
        await loadList();
      } catch (e) {
        notice(e.message, false);
      }
    });
    loadList().then(() => {
      if (location.hash.length > 1) return open(decodeURIComponent(location.hash.slice(1)));
      const first = document.querySelector("#connections a");
      if (first) location.hash = first.getAttribute("href");
    }).catch((e) => alert(e.message));
  });
})();
