/* Joinup: helpers shared by every page (DOM, storage, ids, live region, reconnects). */
"use strict";
(function () {
  var J = (window.Joinup = {});

  J.$ = function (sel, root) { return (root || document).querySelector(sel); };

  /* el("p", {class: "x", text: "hi", onclick: fn, "aria-label": "y"}, child, ...) */
  J.el = function (tag, attrs) {
    var node = document.createElement(tag);
    var a = attrs || {};
    Object.keys(a).forEach(function (k) {
      var v = a[k];
      if (v === undefined || v === null || v === false) return;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.slice(0, 2) === "on" && typeof v === "function") node.addEventListener(k.slice(2), v);
      else if (k === "value" || k === "checked" || k === "disabled" || k === "hidden") node[k] = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    });
    for (var i = 2; i < arguments.length; i++) J.append(node, arguments[i]);
    return node;
  };
  J.append = function (node, kid) {
    if (kid === undefined || kid === null || kid === false) return;
    if (Array.isArray(kid)) kid.forEach(function (k) { J.append(node, k); });
    else node.appendChild(typeof kid === "string" || typeof kid === "number" ? document.createTextNode(String(kid)) : kid);
  };
  J.clear = function (node) { while (node.firstChild) node.removeChild(node.firstChild); return node; };
  J.setText = function (node, text) { if (node.textContent !== text) node.textContent = text; };

  /* Storage that survives private modes where localStorage throws. */
  var memory = {};
  J.store = {
    get: function (k) {
      try { var v = window.localStorage.getItem(k); return v === null ? memory[k] : JSON.parse(v); }
      catch (e) { return memory[k]; }
    },
    set: function (k, v) {
      memory[k] = v;
      try { window.localStorage.setItem(k, JSON.stringify(v)); } catch (e) { /* memory only */ }
    },
    del: function (k) {
      delete memory[k];
      try { window.localStorage.removeItem(k); } catch (e) { /* memory only */ }
    }
  };

  /* Random message ids (crypto.randomUUID needs a secure context; this does not). */
  J.uuid = function () {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  };

  /* Exponential backoff with jitter: 0.5 s, 1 s, 2 s ... at most 30 s, each 50-100 % of that. */
  J.backoff = function (attempt) {
    var base = Math.min(30000, 500 * Math.pow(2, Math.min(attempt, 6)));
    return Math.round(base * (0.5 + Math.random() * 0.5));
  };

  J.codeFromPath = function () {
    var m = /^\/(?:e|host|present)\/([A-Za-z0-9]{1,12})\/?$/.exec(location.pathname);
    return m ? m[1].toUpperCase() : "";
  };
  J.wsUrl = function (path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  };

  /* A polite live region that speaks at most once every few seconds (the latest news wins). */
  var liveNode = null, livePending = null, liveTimer = null;
  J.announce = function (text) {
    liveNode = liveNode || document.getElementById("announcer");
    if (!liveNode) return;
    livePending = text;
    if (!liveTimer) flushLive();
  };
  function flushLive() {
    if (livePending === null) { liveTimer = null; return; }
    liveNode.textContent = livePending;
    livePending = null;
    liveTimer = setTimeout(flushLive, 4000);
  }

  /* Tables keyed by anything a person typed (a word, an organisation, a sector, a room) have
     no prototype, so a key such as "constructor" or "__proto__" is just a key. */
  J.table = function () { return Object.create(null); };
  /* obj[key] if obj has it as its own property (never a built-in such as toString). */
  J.own = function (obj, key) {
    return obj && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
  };

  J.plural = function (n, one, many) { return n + " " + (n === 1 ? one : (many || one + "s")); };

  J.kindName = function (a) {
    switch (a.kind) {
      case "choice": return a.multiple ? "Multiple choice" : "Single choice";
      case "scale": return "Scale " + a.min + " to " + a.max;
      case "words": return "Words";
      case "text": return "Text";
      case "pledge": return "Pledge";
      default: return a.kind;
    }
  };

  /* Every activity of an event, by key, each with its session's title. */
  J.indexEvent = function (event) {
    var byKey = J.table();
    (event.sessions || []).forEach(function (s) {
      (s.activities || []).forEach(function (a) {
        a.sessionTitle = s.title;
        a.room = a.room === undefined ? s.room || null : a.room;
        byKey[a.key] = a;
      });
    });
    return byKey;
  };

  /*
   * The host's and presenter's socket: authenticate with the token, take the snapshot,
   * reconnect with backoff and jitter (1012, 4008, 4029, network loss), stop on 4001.
   */
  /* Close codes (docs/protocol.md): the event ended; the token was refused. */
  var CLOSE_EVENT_ENDED = 4000, CLOSE_UNAUTHORIZED = 4001;
  J.staffSocket = function (path, token, on) {
    var ws = null, attempt = 0, stopped = false;
    function connect() {
      on.status("connecting");
      try { ws = new WebSocket(J.wsUrl(path)); }
      catch (e) { ws = null; retry(); return; }
      var sock = ws;
      sock.onopen = function () { sock.send(JSON.stringify({ type: "auth", token: token })); };
      sock.onmessage = function (ev) {
        var m;
        try { m = JSON.parse(ev.data); } catch (e) { return; }
        if (m.type === "snapshot") { attempt = 0; on.status("live"); }
        on.message(m);
      };
      sock.onclose = function (ev) {
        if (ws === sock) ws = null;
        if (stopped) return;
        if (ev.code === CLOSE_UNAUTHORIZED) { stopped = true; on.status("unauthorized"); return; }
        if (ev.code === CLOSE_EVENT_ENDED) { stopped = true; on.status("ended"); return; }
        retry();
      };
    }
    function retry() {
      on.status("reconnecting");
      setTimeout(connect, J.backoff(attempt++));
    }
    connect();
    return {
      send: function (msg) {
        if (ws && ws.readyState === 1) { ws.send(JSON.stringify(msg)); return true; }
        return false;
      }
    };
  };

  /* Token from the URL fragment (never the query string). */
  J.fragmentToken = function () {
    var t = (location.hash || "").replace(/^#/, "").trim();
    return /^[A-Za-z0-9]{16,128}$/.test(t) ? t : "";
  };
})();
