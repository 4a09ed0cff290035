/* Joinup attendee page: join, answer, ask, share a card, see results.
   The outbox, the record of what the person gave, and the connection (WebSocket, or POST +
   Server-Sent Events where WebSocket fails) live in outbox.js; this file is the page.
   Every answer ends, visibly, as saved (acknowledged) or not saved with the reason, on its
   card while the activity is open and under "You" always, across reloads. */
import { Outbox, AnswerLog, Link, CLOSE, reason, retryable } from "./outbox.js";
import { showSupport } from "./support.js";
import { kindControl, describeKind, ReactionsBar } from "./kinds.js";

(function () {
  var J = window.Joinup, el = J.el, $ = J.$;
  var code = J.codeFromPath();
  var KEY = {
    token: "joinup.attendee." + code,
    outbox: "joinup.outbox." + code,
    profile: "joinup.profile." + code,
    log: "joinup.answers." + code,
    event: "joinup.event." + code
  };

  var facts = null;               // public facts, then the welcome's event
  var acts = J.table();           // activity definitions by key
  var token = J.store.get(KEY.token) || null;
  var outbox = new Outbox(J.store.get(KEY.outbox));
  var log = new AnswerLog(J.store.get(KEY.log));
  var profile = J.store.get(KEY.profile) || null;
  var open = new Map();           // key -> activity card
  var answers = new Map();        // key -> value the server holds
  var resultUI = new Map();       // key -> {node, chart}
  var questions = [], voted = new Set(), directory = [];
  var welcomed = false, editing = false, ended = false;

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
    link.stopped = false;
    show("loading");
    if (facts) link.start(); else init();
  });

  // ------------------------------------------------------------------ status line

  function offline() { return navigator.onLine === false; }
  function setConn() {
    var node = $("#conn"), you = $("#you-conn");
    var n = outbox.size, text, state;
    if (link.stopped) { text = ended ? "Event ended" : "Disconnected"; state = ended ? "ended" : "stopped"; }
    else if (link.ready) {
      state = n ? "waiting" : "live";
      text = n ? "Sending…" : "Connected: answers are getting through";
    } else if (offline()) {
      state = "offline";
      text = n ? "You're offline: " + J.plural(n, "answer") + " will be sent when you're back online"
        : "You're offline: your saved answers are safe";
    } else if (!welcomed && !link.started) { text = ""; state = "waiting"; }
    else if (!welcomed && !link.everReady) { text = "Connecting…"; state = "waiting"; }
    else {
      state = "waiting";
      text = n ? "Reconnecting: " + J.plural(n, "answer") + " will be sent when you're back online"
        : "Reconnecting: your answers are safe";
    }
    J.setText(node, text);
    node.setAttribute("data-state", state);
    J.setText(you, text + (link.mode === "sse" && link.ready ? " (compatibility mode)" : ""));
    J.setText($("#none-open"), welcomed || link.ready ? "Nothing to answer right now. Questions appear here as soon as the host opens them."
      : "Questions appear here once you're connected.");
  }

  // ------------------------------------------------------------------ transport

  function helloMsg() {
    var m = { type: "hello", attendee: token };
    if (!token && profile) {
      if (profile.organisation) m.organisation = profile.organisation;
      if (profile.sector) m.sector = profile.sector;
      if (profile.room) m.room = profile.room;
    }
    return m;
  }

  var link = new Link(code, {
    WebSocket: window.WebSocket,
    EventSource: window.EventSource,
    fetch: window.fetch.bind(window),
    AbortController: window.AbortController,
    setTimeout: window.setTimeout.bind(window),
    clearTimeout: window.clearTimeout.bind(window),
    now: Date.now,
    random: Math.random,
    wsUrl: J.wsUrl,
    store: J.store
  }, {
    hello: helloMsg,
    message: receive,
    closed: onClosed,
    pending: function () { return outbox.values(); },
    changed: function () { setConn(); refreshAll(); renderLog(); }
  });

  function onClosed(c) {
    if (c === CLOSE.EVENT_ENDED) { endEvent(); return; }
    if (c === CLOSE.TOO_LARGE && link.lastSent) {
      var t = outbox.take(link.lastSent);
      if (t && t.current && t.msg.type === "answer") log.refused(t.msg.id, reason("too_large"));
      saveAll();
    }
    if (c === CLOSE.UNAUTHORIZED || c === CLOSE.TOO_LARGE) {
      link.stop();
      showError(c === CLOSE.UNAUTHORIZED ? "The server did not accept this connection. Try again, or ask the organisers for the code."
        : "The last message was too large to send and was dropped. Try again to reconnect.");
    }
  }

  // Reactions go now or not at all: never through the outbox.
  var reactions = new ReactionsBar(J, function (msg) {
    if (!link.ready) return false;
    link.transmit(msg);
    return true;
  });
  $("#view-app").appendChild(reactions.node);

  function saveOutbox() { J.store.set(KEY.outbox, outbox.toJSON()); }
  function saveLog() { J.store.set(KEY.log, log.toJSON()); }
  function saveAll() { saveOutbox(); saveLog(); }

  function send(msg) {
    outbox.add(msg);
    saveOutbox();
    link.transmit(msg);
    setConn();
  }

  window.addEventListener("online", function () { link.kick(); setConn(); });
  window.addEventListener("offline", function () { setConn(); refreshAll(); renderLog(); });

  // ------------------------------------------------------------------ server messages

  function receive(m) {
    switch (m.type) {
      case "welcome": onWelcome(m); break;
      case "ack": onAck(m.id); break;
      case "error": onError(m); break;
      case "opened": addOpen(m.activity); updateOpenCount(); renderLog(); break;
      case "closed": removeOpen(m.activity); updateOpenCount(); renderLog(); break;
      case "results": setResults(m.activity, m.tally, false); break;
      case "questions": questions = m.questions || []; renderQuestions(); break;
      case "directory": directory = m.cards || []; renderCards(); break;
      case "support": showSupport(m.support); break;
      default: break;
    }
  }

  function onWelcome(m) {
    token = m.attendee;
    J.store.set(KEY.token, token);
    if (m.state === "ended") { endEvent(); return; }
    if (m.event) { useEvent(m.event); J.store.set(KEY.event, m.event); }
    if (m.profile) { profile = m.profile; J.store.set(KEY.profile, profile); }
    renderProfile();
    answers = new Map(Object.entries(m.answers || {}));
    outbox.forgetReplaced();
    log.reconcile(m.answers || {}, outbox);
    saveLog();
    var now = new Set((m.open || []).map(function (a) { return a.key; }));
    Array.from(open.keys()).forEach(function (k) { if (!now.has(k)) removeOpen(k); });
    (m.open || []).forEach(addOpen);
    open.forEach(function (ui) { ui.fromServer(); });
    updateOpenCount();
    var res = new Map(Object.entries(m.results || {}));
    Array.from(resultUI.keys()).forEach(function (k) { if (!res.has(k)) setResults(k, null, true); });
    res.forEach(function (tally, k) { setResults(k, tally, true); });
    questions = m.questions || [];
    voted = new Set(m.voted || []);
    renderQuestions();
    directory = m.directory || [];
    renderCards();
    welcomed = true;
    if (!editing) show("app");
    link.welcomed();
    setConn();
    refreshAll();
    renderLog();
  }

  function onAck(id) {
    if (reactions.onAck(id)) return;
    var t = outbox.take(id);
    if (!t) return;
    saveOutbox();
    var msg = t.msg;
    if (msg.type === "answer") {
      answers.set(msg.activity, msg.value);
      if (t.current) { log.saved(id); saveLog(); }
      var ui = open.get(msg.activity);
      if (ui) ui.refresh();
      renderLog();
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
    activity_closed: "This has closed, so it was not saved.",
    unknown_activity: "This isn't open for your room, so it was not saved.",
    not_available: "This is turned off for this event.",
    no_such_event: "This event no longer exists."
  };

  function onError(m) {
    if (m.code === "event_ended") { endEvent(); return; }
    if (m.code === "no_such_event") { link.stop(); showError(FRIENDLY.no_such_event); return; }
    if (m.code === "not_joined") { link.start(); return; }
    if (m.id && reactions.onError(m)) return;
    if (m.id && !outbox.get(m.id)) {
      // A replaced answer's refusal: the newer one is the one that counts.
      outbox.take(m.id);
      if (m.code === "rate_limited") link.retryLater();
      return;
    }
    if (!m.id) { if (m.code === "rate_limited") link.retryLater(); return; }
    if (retryable(m.code)) { link.retryLater(); setConn(); return; }
    var msg = outbox.take(m.id).msg;
    saveOutbox();
    var text = J.own(FRIENDLY, m.code) || m.message || "That could not be saved.";
    if (msg.type === "answer") {
      log.refused(msg.id, reason(m.code, m.message));
      saveLog();
      var ui = open.get(msg.activity);
      if (ui) ui.refresh();
      renderLog();
    } else if (msg.type === "ask") state($("#ask-state"), "error", text);
    else if (msg.type === "card") state($("#card-state"), "error", text);
    else if (msg.type === "profile") state($("#profile-state"), "error", text);
    else if (msg.type === "upvote") renderQuestions();
    setConn();
  }

  function endEvent() {
    ended = true;
    link.stop();
    var lost = 0;
    outbox.values().forEach(function (m) {
      if (m.type !== "answer") return;
      lost++;
      log.refused(m.id, reason("event_ended"));
      outbox.take(m.id);
    });
    saveAll();
    J.setText($("#ended-text"), lost
      ? "This event has ended. " + J.plural(lost, "answer") + " given while offline could not be sent in time; everything else is saved."
      : "This event has ended. Your answers are saved and help shape what happens next.");
    show("ended");
    setConn();
    renderLog();
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
    reactions.setKeys(facts.reactions);
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
      link.start();
      return;
    }
    state($("#profile-state"), link.ready ? "pending" : "waiting", link.ready ? "Saving…" : "Will be saved when you're back online");
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
    refreshAll();
  }

  // ------------------------------------------------------------------ activities

  function eyebrow(a) {
    var s = a.sessionTitle || (J.own(acts, a.key) && acts[a.key].sessionTitle) || "";
    return el("p", { class: "eyebrow", text: s + (a.room ? " · " + a.room : "") });
  }

  function addOpen(a) {
    if (!a || open.has(a.key)) return;
    if (J.own(acts, a.key)) { a.sessionTitle = acts[a.key].sessionTitle; } else acts[a.key] = a;
    var ui = activityCard(a);
    open.set(a.key, ui);
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
    var ui = open.get(key);
    if (!ui) return;
    open.delete(key);
    ui.node.remove();
  }

  function updateOpenCount() {
    var n = open.size;
    var c = $("#open-count");
    c.hidden = !n;
    J.setText(c, String(n));
    c.setAttribute("aria-label", J.plural(n, "open activity", "open activities"));
    $("#none-open").hidden = n > 0;
  }

  function refreshAll() { open.forEach(function (ui) { ui.refresh(); }); }

  function activityCard(a) {
    var id = "act-" + a.key;
    var title = el("h3", { class: "prompt", id: id + "-title", text: a.prompt });
    var status = el("p", { class: "save-state", id: id + "-state", "aria-live": "polite" });
    var submit = el("button", { class: "btn", type: "submit" });
    var form = el("form", { class: "card activity", id: id, "data-key": a.key, "aria-labelledby": id + "-title", novalidate: true });
    var dirty = false;
    var control = makeControl(a, id, function () { dirty = true; refresh(); });
    form.append(eyebrow(a), title, control.node, el("div", { class: "actions" }, submit, status));

    function refused() {
      var rec = log.get(a.key);
      return rec && rec.state === "refused" && !outbox.answerFor(a.key) ? rec : null;
    }

    function refresh() {
      var pending = outbox.answerFor(a.key);
      var has = answers.has(a.key);
      var no = refused();
      var valid = control.get() !== null;
      if (a.kind === "pledge") {
        J.setText(submit, "Sign the pledge");
        submit.hidden = has && !pending && !no;
        control.sync(has || !!pending);
      } else {
        J.setText(submit, no && !dirty ? "Send again" : has || pending ? "Update answer" : "Send answer");
      }
      submit.disabled = !valid || (!!pending && !dirty && link.ready);
      form.setAttribute("data-state", pending ? "pending" : no ? "refused" : has ? "saved" : "");
      if (pending && link.ready) state(status, "pending", "Sending…");
      else if (pending) state(status, "waiting", "Not sent yet: it will be sent when the connection is back");
      else if (no && !dirty) state(status, "error", "Not saved: " + no.reason + " " + kept(a));
      else if (has && !dirty) state(status, "saved", a.kind === "pledge" && profile && profile.organisation
        ? "Saved ✓ Signed for " + profile.organisation : "Saved ✓");
      else if ((has || no) && dirty) state(status, "", "Changed: send to update your answer");
      else state(status, "", "");
    }

    // What the control shows: the answer waiting to go, else the one last given and refused
    // (never an older one in its place), else the one the server holds.
    function showGiven() {
      var pending = outbox.answerFor(a.key), no = refused();
      if (pending) control.set(pending.value);
      else if (no) control.set(no.given);
      else if (answers.has(a.key)) control.set(answers.get(a.key));
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var v = control.get();
      if (v === null) return;
      dirty = false;
      var msg = { type: "answer", id: J.uuid(), activity: a.key, value: v };
      log.gave(msg, a.prompt, describe(a, v));
      saveLog();
      send(msg);
      refresh();
      renderLog();
    });

    showGiven();
    refresh();

    return {
      node: form,
      refresh: refresh,
      fromServer: function () {
        if (!dirty) showGiven();
        refresh();
      }
    };
  }

  /** The answer in words, as the person chose it. */
  function describe(a, v) {
    if (!a) return typeof v === "string" ? v : JSON.stringify(v);
    var given = describeKind(a, v);
    if (given !== null) return given;
    if (a.kind === "choice") return (Array.isArray(v) ? v : []).map(function (i) { return a.options[i]; }).join(", ");
    if (a.kind === "scale") return String(v) + " out of " + a.max;
    if (a.kind === "words") return (Array.isArray(v) ? v : []).join(", ");
    if (a.kind === "pledge") return "Signed";
    return String(v);
  }

  /** What the server kept for an activity whose last answer was refused. */
  function kept(a) {
    return answers.has(a.key) ? "We kept your earlier answer: " + describe(a, answers.get(a.key)) + "."
      : "Nothing was kept for this question.";
  }

  function makeControl(a, id, changed) {
    var more = kindControl(a, id, changed, J);
    if (more) return more;
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
        var seen = new Set(), v = [];
        inputs.forEach(function (x) {
          var w = x.value.trim().replace(/\s+/g, " ").toLowerCase();
          if (w && !seen.has(w)) { seen.add(w); v.push(w); }
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
    var a = J.own(acts, key);
    if (!a) return;
    var r = resultUI.get(key);
    if (tally === null || tally === undefined) {
      if (r) { r.node.remove(); resultUI.delete(key); }
    } else {
      if (!r) {
        var chart = J.chart(a);
        var node = el("article", { class: "card result", id: "res-" + key, "aria-labelledby": "res-" + key + "-title" },
          eyebrow(a), el("h3", { id: "res-" + key + "-title", text: a.prompt }), chart.node);
        $("#results-list").prepend(node);
        r = { node: node, chart: chart };
        resultUI.set(key, r);
      }
      r.chart.update(tally);
      if (!quiet) J.announce("Results. " + J.describeTally(a, tally));
    }
    $("#results-block").hidden = !resultUI.size;
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
    state($("#ask-state"), link.ready ? "pending" : "waiting", link.ready ? "Sending…" : "Will be sent when you're back online");
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
    state($("#card-state"), link.ready ? "pending" : "waiting", link.ready ? "Sharing…" : "Will be shared when you're back online");
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

  // ------------------------------------------------------------------ your answers

  /** Every answer the person gave, with how it ended: under "You", and a notice on the
   * Answer tab for those whose card is gone and that did not end saved. */
  function renderLog() {
    var keys = [];
    log.records().forEach(function (r) { keys.push(r.activity); });
    answers.forEach(function (v, k) { if (!log.get(k)) keys.push(k); });
    var order = Object.keys(acts);
    keys.sort(function (x, y) { return order.indexOf(x) - order.indexOf(y); });
    var list = J.clear($("#you-answers"));
    var waiting = 0, notSaved = 0;
    keys.forEach(function (k) {
      var a = J.own(acts, k), rec = log.get(k), pending = outbox.answerFor(k);
      var st = pending ? "pending" : rec ? rec.state : "saved";
      var given = pending ? describe(a, pending.value) : rec ? rec.text || describe(a, rec.given) : describe(a, answers.get(k));
      var line;
      if (st === "pending") line = link.ready ? "Sending…" : "Not sent yet: it will be sent when you're back online";
      else if (st === "refused") line = "Not saved: " + rec.reason;
      else line = "Saved ✓";
      if (!open.has(k)) { if (st === "pending") waiting++; else if (st === "refused") notSaved++; }
      var givenValue = pending ? pending.value : rec ? rec.given : answers.get(k);
      list.appendChild(el("li", { "data-activity": k, "data-state": st, "data-given": JSON.stringify(givenValue),
        "data-kept": answers.has(k) ? JSON.stringify(answers.get(k)) : null },
        el("p", { class: "prompt", text: (rec && rec.prompt) || (a && a.prompt) || k }),
        el("p", {}, el("span", { class: "muted", text: "You gave: " }), given),
        el("p", { class: "save-state", "data-state": st === "refused" ? "error" : st === "pending" ? "waiting" : "saved", text: line }),
        st === "refused" ? el("p", { class: "hint", text: a ? kept(a) : answers.has(k) ? "We kept your earlier answer." : "Nothing was kept for this question." }) : null));
    });
    $("#no-answers").hidden = keys.length > 0;
    var notice = $("#answer-notice");
    var parts = [];
    if (notSaved) parts.push(J.plural(notSaved, "answer") + " to a closed question " + (notSaved === 1 ? "was" : "were") + " not saved.");
    if (waiting) parts.push(J.plural(waiting, "answer") + " " + (waiting === 1 ? "is" : "are") + " waiting on this phone to be sent.");
    notice.hidden = !parts.length;
    notice.setAttribute("data-state", notSaved ? "error" : "waiting");
    J.setText($("#answer-notice-text"), parts.join(" "));
  }
  $("#answer-notice-go").addEventListener("click", function () {
    selectTab("you");
    $("#you-answers-title").setAttribute("tabindex", "-1");
    $("#you-answers-title").focus();
  });

  // ------------------------------------------------------------------ offline shell

  // A service worker keeps this page and its scripts, so a reload without a network shows
  // the page, its outbox and what was saved (from this phone's storage), not an error page.
  function keepOffline() {
    var sw = navigator.serviceWorker;
    if (!sw || !window.isSecureContext) return;
    sw.register("/sw.js", { scope: "/e/" }).then(function () { return sw.ready; }).then(function (reg) {
      var urls = [location.pathname];
      performance.getEntriesByType("resource").forEach(function (e) {
        var u = new URL(e.name);
        if (u.origin === location.origin && u.pathname.indexOf("/assets/") === 0) urls.push(u.pathname + u.search);
      });
      if (reg.active) reg.active.postMessage({ type: "keep", urls: urls });
    }).catch(function () { /* no offline shell: the page works as before */ });
  }

  /** Without the network: the event as last seen, what waits in the outbox, what was saved. */
  function offlineShell() {
    var ev = J.store.get(KEY.event);
    if (ev) useEvent(ev);
    renderProfile();
    show("app");
    updateOpenCount();
    setConn();
    renderLog();
  }

  // ------------------------------------------------------------------ start

  function init() {
    if (!code) { showError("This address has no event code in it."); return; }
    link.fetchTimed("/api/events/" + code).then(function (r) {
      if (r.status === 404) { showError("No event has the code " + code + ". Check the code on the screen."); return null; }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (f) {
      if (!f) return;
      useEvent(f);
      if (f.state === "ended") { endEvent(); return; }
      if (token) { link.start(); return; }
      J.setText($("#profile-title"), "Join " + (f.title || "the event"));
      show("profile");
      setConn();
    }).catch(function () {
      if (token) { offlineShell(); link.start(); return; }
      showError("We couldn't reach the event. Check your connection and try again.");
    });
  }
  // Outbox items of a previous visit keep the status line honest from the start.
  setConn();
  renderLog();
  init();
  keepOffline();
})();
