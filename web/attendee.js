/* Joinup attendee page: join, answer, ask, share a card, see results.
   Transport: WebSocket, or POST + Server-Sent Events where WebSocket is blocked.
   Every message with an id stays in a local outbox until the server acknowledges it,
   and is sent again with the same id after a reconnect or a reload. */
"use strict";
(function () {
  var J = window.Joinup, el = J.el, $ = J.$;
  var code = J.codeFromPath();
  var KEY = {
    token: "joinup.attendee." + code,
    outbox: "joinup.outbox." + code,
    profile: "joinup.profile." + code
  };

  var facts = null;               // public facts, then the welcome's event
  var acts = {};                  // activity definitions by key
  var token = J.store.get(KEY.token) || null;
  var outbox = new Map();
  (J.store.get(KEY.outbox) || []).forEach(function (m) { if (m && m.id) outbox.set(m.id, m); });
  var profile = J.store.get(KEY.profile) || null;
  var open = {};                  // key -> activity ui
  var answers = {};               // key -> value the server holds
  var resultUI = {};              // key -> {node, chart}
  var questions = [], voted = new Set(), directory = [];
  var stopped = false, welcomed = false, editing = false;

  // ------------------------------------------------------------------ views

  var views = ["loading", "error", "ended", "profile", "app"];
  function show(name) {
    views.forEach(function (v) { $("#view-" + v).hidden = v !== name; });
  }
  function showError(text) {
    J.setText($("#error-text"), text);
    show("error");
  }
  $("#error-retry").addEventListener("click", function () {
    stopped = false;
    show("loading");
    if (facts) connect(); else init();
  });

  // ------------------------------------------------------------------ status line

  function pendingCount() { return outbox.size; }
  function setConn() {
    var node = $("#conn"), you = $("#you-conn");
    var n = pendingCount(), text, state;
    if (stopped) { text = ended ? "Event ended" : "Disconnected"; state = ended ? "ended" : "stopped"; }
    else if (T.ready) {
      state = n ? "waiting" : "live";
      text = n ? "Sending…" : "Connected: answers are getting through";
    } else if (!welcomed && !T.started) { text = ""; state = "waiting"; }
    else if (!welcomed && !T.everReady) { text = "Connecting…"; state = "waiting"; }
    else {
      state = "waiting";
      text = n ? "Reconnecting: " + J.plural(n, "answer") + " will be sent when you're back online"
        : "Reconnecting: your answers are safe";
    }
    J.setText(node, text);
    node.setAttribute("data-state", state);
    J.setText(you, text + (T.mode === "sse" && T.ready ? " (compatibility mode)" : ""));
  }
  var ended = false;

  // ------------------------------------------------------------------ transport

  var T = { mode: "ws", ws: null, es: null, ready: false, everReady: false, attempt: 0,
    timer: null, retry: null, inflight: new Set(), lastSent: null, wsWorked: false };

  function helloMsg() {
    var m = { type: "hello", attendee: token };
    if (!token && profile) {
      if (profile.organisation) m.organisation = profile.organisation;
      if (profile.sector) m.sector = profile.sector;
      if (profile.room) m.room = profile.room;
    }
    return m;
  }

  function connect() {
    clearTimeout(T.timer);
    T.timer = null;
    if (stopped) return;
    T.ready = false;
    T.started = true;
    setConn();
    if (T.mode === "ws") connectWs(); else connectSse();
  }

  function reconnectLater() {
    T.ready = false;
    if (stopped) return;
    clearTimeout(T.timer);
    T.timer = setTimeout(connect, J.backoff(T.attempt++));
    setConn();
    refreshAll();
  }

  function dropTransport() {
    if (T.ws) { var w = T.ws; T.ws = null; w.onclose = null; try { w.close(); } catch (e) { /* gone */ } }
    if (T.es) { T.es.close(); T.es = null; }
    T.ready = false;
  }

  function connectWs() {
    var ws, done = false;
    function failed(hard) {
      if (done) return;
      done = true;
      clearTimeout(guard);
      if (ws) { ws.onclose = null; try { ws.close(); } catch (e) { /* gone */ } }
      if (T.ws === ws) T.ws = null;
      wsFailed(hard);
    }
    var guard = setTimeout(function () { failed(false); }, 6000);
    try {
      if (typeof window.WebSocket !== "function") throw new Error("no WebSocket");
      ws = new window.WebSocket(J.wsUrl("/ws/e/" + code));
    } catch (e) { ws = null; failed(true); return; }
    T.ws = ws;
    ws.onopen = function () { ws.send(JSON.stringify(helloMsg())); };
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (!done && (m.type === "welcome" || m.type === "error")) { done = true; clearTimeout(guard); }
      if (m.type === "welcome") T.wsWorked = true;
      receive(m);
    };
    ws.onclose = function (ev) {
      if (T.ws === ws) T.ws = null;
      if (!done) {
        if (ev.code >= 4000) { done = true; clearTimeout(guard); closed(ev.code); }
        else failed(false);
        return;
      }
      closed(ev.code);
    };
  }

  // WebSocket did not get through. If plain HTTP does and WebSocket never worked here, the
  // network blocks WebSocket: carry on over POST + Server-Sent Events. If nothing does, we
  // are offline: retry.
  function wsFailed(hard) {
    T.ready = false;
    if (hard) { T.mode = "sse"; connect(); return; }
    // WebSocket has worked on this network: a failed reconnect is the server restarting
    // or handing the event to another server, not a blocked network. Keep trying it.
    if (T.wsWorked) { reconnectLater(); return; }
    fetch("/api/events/" + code, { cache: "no-store" }).then(function (r) {
      if (r.ok) { T.mode = "sse"; T.attempt = 0; connect(); }
      else reconnectLater();
    }, reconnectLater);
  }

  function post(msg) {
    return fetch("/api/events/" + code + "/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(msg),
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (r) {
      if (r.status === 404) return { type: "error", code: "no_such_event" };
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function connectSse() {
    post(helloMsg()).then(function (m) {
      if (stopped) return;
      receive(m);
      if (m.type !== "welcome") { if (!stopped) reconnectLater(); return; }
      openStream();
    }, reconnectLater);
  }

  function openStream() {
    if (T.es) T.es.close();
    var es = new window.EventSource("/api/events/" + code + "/stream");
    T.es = es;
    es.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      receive(m);
    };
    es.addEventListener("close", function (ev) {
      var c = 1006;
      try { c = JSON.parse(ev.data).code; } catch (e) { /* keep 1006 */ }
      es.close();
      if (T.es === es) { T.es = null; closed(c); }
    });
    es.onerror = function () {
      es.close();
      if (T.es === es) { T.es = null; closed(1006); }
    };
  }

  function closed(c) {
    T.ready = false;
    if (stopped) return;
    if (c === 4000) { endEvent(); return; }
    if (c === 4009 && T.lastSent) { outbox.delete(T.lastSent); saveOutbox(); }
    if (c === 4001 || c === 4009) {
      stopped = true;
      setConn();
      showError(c === 4001 ? "The server did not accept this connection. Try again, or ask the organisers for the code."
        : "The last message was too large to send and was dropped. Try again to reconnect.");
      return;
    }
    reconnectLater();
  }

  function transmit(msg) {
    if (!T.ready || stopped) return;
    if (T.mode === "ws") {
      if (T.ws && T.ws.readyState === 1) { T.ws.send(JSON.stringify(msg)); T.lastSent = msg.id; }
      return;
    }
    if (T.inflight.has(msg.id)) return;
    T.inflight.add(msg.id);
    post(msg).then(function (reply) {
      T.inflight.delete(msg.id);
      receive(reply);
    }, function () {
      T.inflight.delete(msg.id);
      retryLater();
    });
  }

  function retryLater() {
    if (T.retry) return;
    T.retry = setTimeout(function () { T.retry = null; if (T.ready) flush(); }, 2000 + Math.random() * 3000);
  }

  function flush() { outbox.forEach(function (m) { transmit(m); }); }

  function saveOutbox() { J.store.set(KEY.outbox, Array.from(outbox.values())); }

  function send(msg) {
    var replaces = { answer: "activity", card: null, profile: null };
    if (msg.type in replaces) {
      outbox.forEach(function (o, id) {
        if (o.type === msg.type && (msg.type !== "answer" || o.activity === msg.activity)) outbox.delete(id);
      });
    }
    outbox.set(msg.id, msg);
    saveOutbox();
    transmit(msg);
    setConn();
  }

  function pendingAnswer(key) {
    var found = null;
    outbox.forEach(function (m) { if (m.type === "answer" && m.activity === key) found = m; });
    return found;
  }
  function pendingOf(type) {
    var found = null;
    outbox.forEach(function (m) { if (m.type === type) found = m; });
    return found;
  }

  window.addEventListener("online", function () {
    if (!T.ready && !stopped) { T.attempt = 0; connect(); }
  });

  // ------------------------------------------------------------------ server messages

  function receive(m) {
    switch (m.type) {
      case "welcome": onWelcome(m); break;
      case "ack": onAck(m.id); break;
      case "error": onError(m); break;
      case "opened": addOpen(m.activity); updateOpenCount(); break;
      case "closed": removeOpen(m.activity); updateOpenCount(); break;
      case "results": setResults(m.activity, m.tally, false); break;
      case "questions": questions = m.questions || []; renderQuestions(); break;
      case "directory": directory = m.cards || []; renderCards(); break;
      default: break;
    }
  }

  function onWelcome(m) {
    token = m.attendee;
    J.store.set(KEY.token, token);
    if (m.state === "ended") { endEvent(); return; }
    if (m.event) useEvent(m.event);
    if (m.profile) { profile = m.profile; J.store.set(KEY.profile, profile); }
    renderProfile();
    answers = m.answers || {};
    var now = {};
    (m.open || []).forEach(function (a) { now[a.key] = true; });
    Object.keys(open).forEach(function (k) { if (!now[k]) removeOpen(k); });
    (m.open || []).forEach(addOpen);
    Object.keys(open).forEach(function (k) { open[k].fromServer(); });
    updateOpenCount();
    var res = m.results || {};
    Object.keys(resultUI).forEach(function (k) { if (!(k in res)) setResults(k, null, true); });
    Object.keys(res).forEach(function (k) { setResults(k, res[k], true); });
    questions = m.questions || [];
    voted = new Set(m.voted || []);
    renderQuestions();
    directory = m.directory || [];
    renderCards();
    welcomed = true;
    T.ready = true;
    T.everReady = true;
    T.attempt = 0;
    if (!editing) show("app");
    flush();
    setConn();
    refreshAll();
  }

  function onAck(id) {
    var msg = outbox.get(id);
    if (!msg) return;
    outbox.delete(id);
    saveOutbox();
    if (msg.type === "answer") {
      answers[msg.activity] = msg.value;
      if (open[msg.activity]) open[msg.activity].saved();
    } else if (msg.type === "ask") {
      var ta = $("#ask-text");
      if (ta.value.trim() === msg.text) { ta.value = ""; askInput(); }
      state($("#ask-state"), "saved", moderated() ? "Sent ✓ It appears below once the host approves it." : "Sent ✓");
    } else if (msg.type === "upvote") {
      voted.add(msg.question);
      renderQuestions();
    } else if (msg.type === "card") {
      state($("#card-state"), "saved", moderated() ? "Shared ✓ Your card appears below once the host approves it." : "Shared ✓");
      J.setText($("#card-summary"), "Update your service card");
    } else if (msg.type === "profile") {
      profile = { organisation: msg.organisation || null, sector: msg.sector || null, room: msg.room || null };
      J.store.set(KEY.profile, profile);
      renderProfile();
      state($("#profile-state"), "saved", "Saved ✓");
      if (editing) { editing = false; show("app"); selectTab("you"); }
    }
    setConn();
  }

  var FRIENDLY = {
    activity_closed: "This has closed, so the answer was not saved.",
    unknown_activity: "This isn't open for your room, so the answer was not saved.",
    not_available: "This is turned off for this event.",
    no_such_event: "This event no longer exists."
  };

  function onError(m) {
    if (m.code === "event_ended") { endEvent(); return; }
    if (m.code === "no_such_event") { stopped = true; dropTransport(); showError(FRIENDLY.no_such_event); return; }
    if (m.code === "not_joined") { dropTransport(); connect(); return; }
    var msg = m.id ? outbox.get(m.id) : null;
    if (!msg) { if (m.code === "rate_limited") retryLater(); return; }
    if (m.code === "unavailable" || m.code === "rate_limited") { retryLater(); setConn(); return; }
    outbox.delete(m.id);
    saveOutbox();
    var text = FRIENDLY[m.code] || m.message || "That could not be saved.";
    if (msg.type === "answer" && open[msg.activity]) open[msg.activity].failed(text);
    else if (msg.type === "ask") state($("#ask-state"), "error", text);
    else if (msg.type === "card") state($("#card-state"), "error", text);
    else if (msg.type === "profile") state($("#profile-state"), "error", text);
    else if (msg.type === "upvote") renderQuestions();
    setConn();
  }

  function endEvent() {
    ended = true;
    stopped = true;
    dropTransport();
    clearTimeout(T.timer);
    var lost = outbox.size;
    J.setText($("#ended-text"), lost
      ? "This event has ended. " + J.plural(lost, "answer") + " given while offline could not be sent in time; everything else is saved."
      : "This event has ended. Your answers are saved and help shape what happens next.");
    show("ended");
    setConn();
  }

  function state(node, kind, text) {
    node.setAttribute("data-state", kind);
    J.setText(node, text);
  }

  function moderated() { return !facts || !facts.qa || facts.qa.moderation === "pre"; }

  // ------------------------------------------------------------------ the event

  function useEvent(ev) {
    var fresh = !facts || !facts.sessions || !facts.sessions.length || !facts.sessions[0].activities;
    facts = Object.assign({}, facts || {}, ev);
    if (fresh) acts = J.indexEvent(facts);
    J.setText($("#event-title"), facts.title || "Joinup");
    document.title = (facts.title || "Event") + " · Joinup";
    $("#tab-qa").hidden = !(facts.qa && facts.qa.enabled);
    $("#tab-directory").hidden = !(facts.directory && facts.directory.enabled);
    J.setText($("#ask-hint"), moderated()
      ? "The host checks questions before they appear to everyone." : "Your question appears to everyone straight away.");
    buildProfileForm();
  }

  // ------------------------------------------------------------------ profile form

  var profileBuilt = false;
  function buildProfileForm() {
    if (profileBuilt || !facts) return;
    profileBuilt = true;
    var list = $("#org-list");
    var orgs = facts.organisations || [];
    orgs.forEach(function (o, i) {
      list.appendChild(el("label", { class: "option", "data-search": norm(o.name + " " + (o.sector || "")) },
        el("input", { type: "radio", name: "org", value: o.name, id: "org-" + i }),
        el("span", {}, o.name, o.sector ? el("small", { text: o.sector }) : null)));
    });
    if (facts.allow_other_organisation !== false) {
      list.appendChild(el("label", { class: "option", "data-always": "1" },
        el("input", { type: "radio", name: "org", value: "", id: "org-other-choice" }),
        el("span", { text: "My organisation isn't listed" })));
    }
    var sector = $("#sector");
    sector.appendChild(el("option", { value: "", text: "Choose a sector" }));
    (facts.sectors || []).forEach(function (s) { sector.appendChild(el("option", { value: s, text: s })); });
    var rooms = facts.rooms || [];
    if (rooms.length) {
      $("#room-fieldset").hidden = false;
      var rl = $("#room-list");
      rooms.forEach(function (r, i) {
        rl.appendChild(el("label", { class: "option" }, el("input", { type: "radio", name: "room", value: r, id: "room-" + i }), el("span", { text: r })));
      });
      rl.appendChild(el("label", { class: "option" }, el("input", { type: "radio", name: "room", value: "", id: "room-none" }), el("span", { text: "Not in a break-out room" })));
    }
    list.addEventListener("change", function (e) {
      var t = e.target;
      if (t.name !== "org") return;
      $("#org-other-field").hidden = t.id !== "org-other-choice";
      var match = orgs.filter(function (o) { return o.name === t.value; })[0];
      if (match && match.sector) sector.value = match.sector;
      if (t.id === "org-other-choice") $("#org-other").focus();
    });
    $("#org-search").addEventListener("input", filterOrgs);
    filterOrgs();
    fillProfileForm();
  }

  function norm(s) { return s.toLowerCase().replace(/[^a-z0-9 ]+/g, " ").replace(/\s+/g, " ").trim(); }

  function filterOrgs() {
    var q = norm($("#org-search").value);
    var shown = 0;
    Array.prototype.forEach.call($("#org-list").children, function (label) {
      if (label.getAttribute("data-always")) return;
      var hit = !q || label.getAttribute("data-search").indexOf(q) >= 0;
      label.hidden = !hit;
      if (hit) shown++;
    });
    var total = (facts.organisations || []).length;
    J.setText($("#org-count"), q ? J.plural(shown, "organisation") + " match" + (shown === 1 ? "es" : "")
      : J.plural(total, "organisation") + " to choose from");
  }

  function fillProfileForm() {
    var p = profile || {};
    var radios = document.querySelectorAll("#org-list input");
    var known = false;
    Array.prototype.forEach.call(radios, function (r) {
      r.checked = !!p.organisation && r.value === p.organisation;
      if (r.checked) known = true;
    });
    var other = $("#org-other-choice");
    if (p.organisation && !known && other) {
      other.checked = true;
      $("#org-other").value = p.organisation;
    }
    $("#org-other-field").hidden = !(other && other.checked);
    $("#sector").value = p.sector || "";
    Array.prototype.forEach.call(document.querySelectorAll("#room-list input"), function (r) {
      r.checked = r.value === (p.room || "") && (!!p.room || welcomed);
    });
  }

  function readProfileForm() {
    var chosen = document.querySelector("#org-list input:checked");
    var org = chosen ? (chosen.id === "org-other-choice" ? $("#org-other").value.trim() : chosen.value) : "";
    var room = document.querySelector("#room-list input:checked");
    return { organisation: org, sector: $("#sector").value, room: room ? room.value : "" };
  }

  $("#profile-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var p = readProfileForm();
    var other = $("#org-other-choice");
    if (other && other.checked && !p.organisation) {
      state($("#profile-state"), "error", "Type the name of your organisation, or choose one from the list.");
      $("#org-other").focus();
      return;
    }
    if (!welcomed && !token) {
      profile = { organisation: p.organisation || null, sector: p.sector || null, room: p.room || null };
      J.store.set(KEY.profile, profile);
      state($("#profile-state"), "pending", "Joining…");
      connect();
      return;
    }
    state($("#profile-state"), T.ready ? "pending" : "waiting", T.ready ? "Saving…" : "Will be saved when you're back online");
    send({ type: "profile", id: J.uuid(), organisation: p.organisation, sector: p.sector, room: p.room });
  });

  $("#profile-cancel").addEventListener("click", function () {
    editing = false;
    show("app");
    selectTab("you");
    $("#edit-profile").focus();
  });

  $("#edit-profile").addEventListener("click", function () {
    editing = true;
    fillProfileForm();
    J.setText($("#profile-title"), "Change your details");
    J.setText($("#profile-submit"), "Save");
    $("#profile-cancel").hidden = false;
    state($("#profile-state"), "", "");
    show("profile");
    $("#profile-title").setAttribute("tabindex", "-1");
    $("#profile-title").focus();
  });

  function renderProfile() {
    var p = profile || {};
    var dl = J.clear($("#you-summary"));
    [["Organisation", p.organisation], ["Sector", p.sector], ["Room", (facts && facts.rooms && facts.rooms.length) ? p.room || "Not in a break-out room" : null]]
      .forEach(function (row) {
        if (row[0] === "Room" && row[1] === null) return;
        dl.appendChild(el("dt", { text: row[0] }));
        dl.appendChild(el("dd", { text: row[1] || "Not given" }));
      });
    var org = $("#c-organisation");
    if (!org.value && p.organisation) org.value = p.organisation;
    Object.keys(open).forEach(function (k) { open[k].refresh(); });
  }

  // ------------------------------------------------------------------ activities

  function eyebrow(a) {
    var s = a.sessionTitle || (acts[a.key] && acts[a.key].sessionTitle) || "";
    return el("p", { class: "eyebrow", text: s + (a.room ? " · " + a.room : "") });
  }

  function addOpen(a) {
    if (!a || open[a.key]) return;
    if (acts[a.key]) { a.sessionTitle = acts[a.key].sessionTitle; } else acts[a.key] = a;
    var ui = activityCard(a);
    open[a.key] = ui;
    var list = $("#open-list");
    // Keep the programme's order.
    var order = Object.keys(acts);
    var before = null;
    Array.prototype.some.call(list.children, function (n) {
      if (order.indexOf(n.getAttribute("data-key")) > order.indexOf(a.key)) { before = n; return true; }
      return false;
    });
    list.insertBefore(ui.node, before);
    if (welcomed) J.announce("Now open: " + a.prompt);
  }

  function removeOpen(key) {
    var ui = open[key];
    if (!ui) return;
    delete open[key];
    ui.node.remove();
  }

  function updateOpenCount() {
    var n = Object.keys(open).length;
    var c = $("#open-count");
    c.hidden = !n;
    J.setText(c, String(n));
    c.setAttribute("aria-label", J.plural(n, "open activity", "open activities"));
    $("#none-open").hidden = n > 0;
  }

  function refreshAll() { Object.keys(open).forEach(function (k) { open[k].refresh(); }); }

  function activityCard(a) {
    var id = "act-" + a.key;
    var title = el("h3", { class: "prompt", id: id + "-title", text: a.prompt });
    var status = el("p", { class: "save-state", id: id + "-state", "aria-live": "polite" });
    var submit = el("button", { class: "btn", type: "submit" });
    var form = el("form", { class: "card activity", id: id, "data-key": a.key, "aria-labelledby": id + "-title", novalidate: true });
    var dirty = false, error = "";
    var control = makeControl(a, id, function () { dirty = true; error = ""; refresh(); });
    form.append(eyebrow(a), title, control.node, el("div", { class: "actions" }, submit, status));

    function refresh() {
      var pending = pendingAnswer(a.key);
      var has = answers[a.key] !== undefined;
      var valid = control.get() !== null;
      if (a.kind === "pledge") {
        J.setText(submit, "Sign the pledge");
        submit.hidden = has && !pending;
        control.sync(has || !!pending);
      } else {
        J.setText(submit, has || pending ? "Update answer" : "Send answer");
      }
      submit.disabled = !valid || (!!pending && !dirty && T.ready);
      if (error) state(status, "error", error);
      else if (pending && T.ready) state(status, "pending", "Sending…");
      else if (pending) state(status, "waiting", "Not sent yet: it will be sent when the connection is back");
      else if (has && !dirty) state(status, "saved", a.kind === "pledge" && profile && profile.organisation
        ? "Saved ✓ Signed for " + profile.organisation : "Saved ✓");
      else if (has && dirty) state(status, "", "Changed: send to update your answer");
      else state(status, "", "");
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var v = control.get();
      if (v === null) return;
      dirty = false;
      error = "";
      send({ type: "answer", id: J.uuid(), activity: a.key, value: v });
      refresh();
    });

    var pending = pendingAnswer(a.key);
    if (pending) control.set(pending.value);
    else if (answers[a.key] !== undefined) control.set(answers[a.key]);
    refresh();

    return {
      node: form,
      refresh: refresh,
      fromServer: function () {
        if (!pendingAnswer(a.key) && !dirty && answers[a.key] !== undefined) control.set(answers[a.key]);
        refresh();
      },
      saved: function () { error = ""; refresh(); },
      failed: function (text) { error = text; refresh(); }
    };
  }

  function makeControl(a, id, changed) {
    if (a.kind === "choice") return choiceControl(a, id, changed);
    if (a.kind === "scale") return scaleControl(a, id, changed);
    if (a.kind === "words") return wordsControl(a, id, changed);
    if (a.kind === "text") return textControl(a, id, changed);
    return pledgeControl(a, id, changed);
  }

  function choiceControl(a, id, changed) {
    var multiple = !!a.multiple;
    var max = multiple ? Math.min(a.max_choices || a.options.length, a.options.length) : 1;
    var hint = multiple ? el("p", { class: "hint", id: id + "-hint" }) : null;
    var inputs = [];
    var group = el("div", { class: "options", role: multiple ? "group" : "radiogroup", "aria-labelledby": id + "-title", "aria-describedby": hint ? id + "-hint" : null });
    a.options.forEach(function (o, i) {
      var input = el("input", { type: multiple ? "checkbox" : "radio", name: id, value: String(i), id: id + "-" + i });
      inputs.push(input);
      group.appendChild(el("label", { class: "option", for: id + "-" + i }, input, el("span", { text: o })));
    });
    function limit() {
      if (!multiple) return;
      var n = inputs.filter(function (x) { return x.checked; }).length;
      inputs.forEach(function (x) { x.disabled = !x.checked && n >= max; });
      J.setText(hint, max < a.options.length ? "Choose up to " + max + " (" + n + " chosen)." : "Choose all that apply (" + n + " chosen).");
    }
    group.addEventListener("change", function () { limit(); changed(); });
    limit();
    var node = el("div", {}, hint, group);
    return {
      node: node,
      get: function () {
        var v = [];
        inputs.forEach(function (x, i) { if (x.checked) v.push(i); });
        return v.length && v.length <= max ? v : null;
      },
      set: function (v) {
        inputs.forEach(function (x, i) { x.checked = Array.isArray(v) && v.indexOf(i) >= 0; });
        limit();
      }
    };
  }

  function scaleControl(a, id, changed) {
    var inputs = [];
    var group = el("div", { class: "scale", role: "radiogroup", "aria-labelledby": id + "-title" });
    for (var v = a.min; v <= a.max; v++) {
      var end = v === a.min && a.labels && a.labels.min ? a.labels.min : v === a.max && a.labels && a.labels.max ? a.labels.max : "";
      var input = el("input", { type: "radio", name: id, value: String(v), id: id + "-" + v });
      inputs.push(input);
      group.appendChild(el("label", { class: "option", for: id + "-" + v }, input, el("span", { text: String(v) }),
        end ? el("span", { class: "sr-only", text: " " + end }) : null));
    }
    group.addEventListener("change", changed);
    var ends = a.labels ? el("p", { class: "scale-ends", "aria-hidden": "true" },
      el("span", { text: a.min + " = " + (a.labels.min || "") }), el("span", { text: a.max + " = " + (a.labels.max || "") })) : null;
    return {
      node: el("div", {}, group, ends),
      get: function () {
        var c = inputs.filter(function (x) { return x.checked; })[0];
        return c ? parseInt(c.value, 10) : null;
      },
      set: function (val) { inputs.forEach(function (x) { x.checked = parseInt(x.value, 10) === val; }); }
    };
  }

  function wordsControl(a, id, changed) {
    var max = a.max_words || 1;
    var inputs = [];
    var box = el("div", { class: "words", role: "group", "aria-labelledby": id + "-title", "aria-describedby": id + "-hint" });
    for (var i = 0; i < max; i++) {
      var input = el("input", { type: "text", id: id + "-w" + i, maxlength: "25", autocomplete: "off", autocapitalize: "none", enterkeyhint: i + 1 < max ? "next" : "send" });
      input.addEventListener("input", changed);
      inputs.push(input);
      box.appendChild(el("div", {},
        el("label", { for: input.id, class: max > 1 ? null : "sr-only", text: max > 1 ? "Word or phrase " + (i + 1) + (i ? " (optional)" : "") : "Your word" }), input));
    }
    var hint = el("p", { class: "hint", id: id + "-hint", text: max > 1 ? "Up to " + max + " words or short phrases, 25 characters each." : "One word or short phrase, up to 25 characters." });
    return {
      node: el("div", {}, hint, box),
      get: function () {
        var seen = {}, v = [];
        inputs.forEach(function (x) {
          var w = x.value.trim().replace(/\s+/g, " ").toLowerCase();
          if (w && !seen[w]) { seen[w] = true; v.push(w); }
        });
        return v.length ? v : null;
      },
      set: function (v) { inputs.forEach(function (x, i) { x.value = (v && v[i]) || ""; }); }
    };
  }

  function textControl(a, id, changed) {
    var max = a.max_len || 1000;
    var ta = el("textarea", { id: id + "-text", maxlength: String(max), rows: "4", "aria-labelledby": id + "-title", "aria-describedby": id + "-count" });
    var count = el("p", { class: "counter", id: id + "-count" });
    function len() { return Array.from(ta.value.trim()).length; }
    function update() {
      var n = len();
      J.setText(count, n + " of " + max + " characters");
      count.classList.toggle("over", n > max);
    }
    ta.addEventListener("input", function () { update(); changed(); });
    update();
    return {
      node: el("div", {}, ta, count),
      get: function () { var n = len(); return n >= 1 && n <= max ? ta.value.trim() : null; },
      set: function (v) { ta.value = typeof v === "string" ? v : ""; update(); }
    };
  }

  function pledgeControl(a) {
    var who = el("p", { class: "hint" });
    return {
      node: el("div", {}, el("blockquote", { class: "pledge-text", text: a.text || "" }), who),
      get: function () { return true; },
      set: function () { /* a pledge is only ever signed */ },
      sync: function (signed) {
        var org = profile && profile.organisation;
        J.setText(who, signed ? "" : org ? "You sign on behalf of " + org + "." : "You sign for your organisation: add it under You to have it counted.");
        who.hidden = signed;
      }
    };
  }

  // ------------------------------------------------------------------ results

  function setResults(key, tally, quiet) {
    var a = acts[key];
    if (!a) return;
    var r = resultUI[key];
    if (tally === null || tally === undefined) {
      if (r) { r.node.remove(); delete resultUI[key]; }
    } else {
      if (!r) {
        var chart = J.chart(a);
        var node = el("article", { class: "card result", id: "res-" + key, "aria-labelledby": "res-" + key + "-title" },
          eyebrow(a), el("h3", { id: "res-" + key + "-title", text: a.prompt }), chart.node);
        $("#results-list").prepend(node);
        r = resultUI[key] = { node: node, chart: chart };
      }
      r.chart.update(tally);
      if (!quiet) J.announce("Results. " + J.describeTally(a, tally));
    }
    $("#results-block").hidden = !Object.keys(resultUI).length;
  }

  // ------------------------------------------------------------------ Q&A

  var qItems = {};
  function renderQuestions() {
    var list = $("#qlist");
    $("#no-questions").hidden = questions.length > 0;
    var seen = {};
    questions.forEach(function (q) {
      seen[q.id] = true;
      var item = qItems[q.id];
      if (!item) {
        var btn = el("button", { class: "btn secondary vote", type: "button", id: "vote-" + q.id });
        btn.addEventListener("click", function () {
          if (voted.has(q.id)) return;
          send({ type: "upvote", id: J.uuid(), question: q.id });
          renderQuestions();
        });
        item = qItems[q.id] = {
          li: el("li", { class: "card question" }),
          btn: btn, n: el("span", { class: "n" }), w: el("span", { class: "w" }),
          text: el("p", { class: "qtext" }), badge: el("span", { class: "badge ok", text: "Answered" })
        };
        btn.append(item.n, item.w);
        item.li.append(btn, el("div", { class: "qbody" }, item.text, item.badge));
      }
      var pending = false;
      outbox.forEach(function (m) { if (m.type === "upvote" && m.question === q.id) pending = true; });
      var mine = voted.has(q.id) || pending;
      J.setText(item.n, String(q.votes + (pending && !voted.has(q.id) ? 1 : 0)));
      J.setText(item.w, mine ? "Voted" : "Upvote");
      item.btn.setAttribute("aria-pressed", mine ? "true" : "false");
      item.btn.setAttribute("aria-label", (mine ? "You upvoted this question, " : "Upvote this question, ") + J.plural(q.votes, "vote"));
      J.setText(item.text, q.text);
      item.badge.hidden = !q.answered;
      list.appendChild(item.li);
    });
    Object.keys(qItems).forEach(function (id) {
      if (!seen[id]) { qItems[id].li.remove(); delete qItems[id]; }
    });
  }

  function askInput() {
    var ta = $("#ask-text");
    var n = Array.from(ta.value.trim()).length;
    J.setText($("#ask-count"), n + " of 500 characters");
    $("#ask-submit").disabled = n < 1 || n > 500;
  }
  $("#ask-text").addEventListener("input", askInput);
  $("#ask-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("#ask-text").value.trim();
    if (!text) return;
    send({ type: "ask", id: J.uuid(), text: text });
    state($("#ask-state"), T.ready ? "pending" : "waiting", T.ready ? "Sending…" : "Will be sent when you're back online");
  });

  // ------------------------------------------------------------------ directory

  var CARD_FIELDS = ["organisation", "service", "offer", "referral", "contact", "name", "role"];
  function cardInput() {
    var ok = ["organisation", "service", "offer", "referral", "contact"].every(function (f) { return $("#c-" + f).value.trim(); });
    $("#card-submit").disabled = !(ok && $("#c-consent").checked);
  }
  $("#card-form").addEventListener("input", cardInput);
  $("#card-form").addEventListener("change", cardInput);
  $("#card-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!$("#c-consent").checked) return;
    var card = {};
    CARD_FIELDS.forEach(function (f) {
      var v = $("#c-" + f).value.trim();
      if (v) card[f] = v;
    });
    send({ type: "card", id: J.uuid(), card: card });
    state($("#card-state"), T.ready ? "pending" : "waiting", T.ready ? "Sharing…" : "Will be shared when you're back online");
  });

  function renderCards() {
    var list = J.clear($("#cards"));
    $("#no-cards").hidden = directory.length > 0;
    directory.forEach(function (c) {
      var dl = el("dl");
      [["Offer", c.offer], ["Referral", c.referral], ["Contact", c.contact], ["Person", [c.name, c.role].filter(Boolean).join(", ")]]
        .forEach(function (row) {
          if (!row[1]) return;
          dl.append(el("dt", { text: row[0] }), el("dd", { text: row[1] }));
        });
      list.appendChild(el("li", { class: "card svc" },
        el("h4", { class: "prompt", text: c.service }), el("p", { class: "eyebrow", text: c.organisation }), dl));
    });
  }

  // ------------------------------------------------------------------ tabs

  function selectTab(name) {
    Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (b) {
      var on = b.getAttribute("data-tab") === name;
      if (on) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
      $("#panel-" + b.getAttribute("data-tab")).hidden = !on;
    });
  }
  $(".tabs").addEventListener("click", function (e) {
    var b = e.target.closest("button[data-tab]");
    if (b) selectTab(b.getAttribute("data-tab"));
  });

  // ------------------------------------------------------------------ start

  function init() {
    if (!code) { showError("This address has no event code in it."); return; }
    fetch("/api/events/" + code, { cache: "no-store" }).then(function (r) {
      if (r.status === 404) { showError("No event has the code " + code + ". Check the code on the screen."); return null; }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (f) {
      if (!f) return;
      useEvent(f);
      if (f.state === "ended") { endEvent(); return; }
      if (token) { connect(); return; }
      J.setText($("#profile-title"), "Join " + (f.title || "the event"));
      show("profile");
      setConn();
    }).catch(function () {
      if (token) { connect(); return; }
      showError("We couldn't reach the event. Check your connection and try again.");
    });
  }
  // Outbox items of a previous visit keep the status line honest from the start.
  setConn();
  init();
})();
