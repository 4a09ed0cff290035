/* Joinup: helpers shared by the pages (DOM, storage, ids, live region, the staff socket).
   Nothing here runs on import, so node:test can import the pure parts
   (tests/browser/common.test.mjs). */
import { staffCloseAction } from "./close-codes.js";

export function $(sel, root) { return (root || document).querySelector(sel); }

/* el("p", {class: "x", text: "hi", onclick: fn, "aria-label": "y"}, child, ...) */
export function el(tag, attrs) {
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
  for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
  return node;
}
export function append(node, kid) {
  if (kid === undefined || kid === null || kid === false) return;
  if (Array.isArray(kid)) kid.forEach(function (k) { append(node, k); });
  else node.appendChild(typeof kid === "string" || typeof kid === "number" ? document.createTextNode(String(kid)) : kid);
}
export function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
export function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

/* Storage that survives private modes where localStorage throws. */
var memory = {};
export const store = {
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
export function uuid() {
  var b = new Uint8Array(16);
  window.crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
}

/* Exponential backoff with jitter: 0.5 s, 1 s, 2 s ... at most 30 s, each 50-100 % of that. */
export function backoff(attempt, random) {
  var base = Math.min(30000, 500 * Math.pow(2, Math.min(attempt, 6)));
  return Math.round(base * (0.5 + (random || Math.random)() * 0.5));
}

export function codeFromPath() {
  var m = /^\/(?:e|host|present)\/([A-Za-z0-9]{1,12})\/?$/.exec(location.pathname);
  return m ? m[1].toUpperCase() : "";
}
export function wsUrl(path) {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
}

/* A polite live region that speaks at most once every few seconds (the latest news wins). */
var liveNode = null, livePending = null, liveTimer = null;
export function announce(text) {
  liveNode = liveNode || document.getElementById("announcer");
  if (!liveNode) return;
  livePending = text;
  if (!liveTimer) flushLive();
}
function flushLive() {
  if (livePending === null) { liveTimer = null; return; }
  liveNode.textContent = livePending;
  livePending = null;
  liveTimer = setTimeout(flushLive, 4000);
}

/* Tables keyed by anything a person typed (a word, an organisation, a sector, a room) have
   no prototype, so a key such as "constructor" or "__proto__" is just a key. */
export function table() { return Object.create(null); }
/* obj[key] if obj has it as its own property (never a built-in such as toString). */
export function own(obj, key) {
  return obj && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

export function plural(n, one, many) { return n + " " + (n === 1 ? one : (many || one + "s")); }

export function kindName(a) {
  switch (a.kind) {
    case "choice": return a.multiple ? "Multiple choice" : "Single choice";
    case "scale": return "Scale " + a.min + " to " + a.max;
    case "words": return "Words";
    case "text": return "Text";
    case "pledge": return "Pledge";
    case "ranking": return "Ranking";
    case "points": return "Points";
    default: return a.kind;
  }
}

/* Every activity of an event, by key, each with its session's title. */
export function indexEvent(event) {
  var byKey = table();
  (event.sessions || []).forEach(function (s) {
    (s.activities || []).forEach(function (a) {
      a.sessionTitle = s.title;
      a.room = a.room === undefined ? s.room || null : a.room;
      byKey[a.key] = a;
    });
  });
  return byKey;
}

/*
 * The host's and presenter's socket: authenticate with the token, take the snapshot,
 * reconnect with backoff and jitter (a restart, too slow, flooding, network loss), stop for
 * good when the token is refused or the event has ended (close-codes.js).
 */
export function staffSocket(path, token, on) {
  var ws = null, attempt = 0, stopped = false;
  function connect() {
    on.status("connecting");
    try { ws = new WebSocket(wsUrl(path)); }
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
      var action = staffCloseAction(ev.code);
      if (action !== "retry") { stopped = true; on.status(action); return; }
      retry();
    };
  }
  function retry() {
    on.status("reconnecting");
    setTimeout(connect, backoff(attempt++));
  }
  connect();
  return {
    send: function (msg) {
      if (ws && ws.readyState === 1) { ws.send(JSON.stringify(msg)); return true; }
      return false;
    }
  };
}

/* Token from the URL fragment (never the query string). */
export function fragmentToken() {
  var t = (location.hash || "").replace(/^#/, "").trim();
  return /^[A-Za-z0-9]{16,128}$/.test(t) ? t : "";
}
