/* Joinup host dashboard: run the programme, watch live results and attendance, moderate,
   download reports, end the event. The host token comes from the URL fragment. */
"use strict";
(function () {
  var J = window.Joinup, el = J.el, $ = J.$;
  var code = J.codeFromPath();
  var token = J.fragmentToken();

  var acts = J.table(), order = [], rows = J.table(), ui = J.table();
  var focus = null, attendance = { present: 0, joined: 0, peak: 0, by_organisation: {}, by_sector: {} };
  var items = J.table();   // "question:ID" -> item
  var arrival = 0;
  var pending = J.table(); // command id -> button
  var nextId = 1;
  var eventState = "live";
  var filter = "pending";
  var sock = null;

  J.setText($("#event-code"), code);

  function fail(text) {
    var n = $("#host-error");
    J.setText(n, text);
    n.hidden = !text;
  }

  if (!token) {
    fail("This link has no access key. Open the host link exactly as it was given to you (the part after # is the key).");
    $("#conn").setAttribute("data-state", "stopped");
    J.setText($("#conn"), "Not connected");
    J.clear($("#programme"));
    return;
  }

  // ------------------------------------------------------------------ socket

  sock = J.staffSocket("/ws/host/" + code, token, {
    status: function (s) {
      var c = $("#conn");
      var text = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", unauthorized: "Access key refused", ended: "Event ended" }[s] || s;
      J.setText(c, text);
      c.setAttribute("data-state", s === "live" ? "live" : s === "unauthorized" ? "stopped" : "waiting");
      if (s === "unauthorized") fail("The server refused this access key. Use the host link you were given when the event was created.");
      if (s !== "live") Object.keys(pending).forEach(done);
    },
    message: onMessage
  });

  function command(msg, btn) {
    msg.id = nextId++;
    if (!sock.send(msg)) { fail("Not connected right now: try again in a moment."); return; }
    fail("");
    pending[msg.id] = btn || null;
    if (btn) { btn.disabled = true; btn.setAttribute("aria-busy", "true"); }
  }
  function done(id) {
    var btn = pending[id];
    delete pending[id];
    if (btn) { btn.removeAttribute("aria-busy"); btn.disabled = eventState === "ended" && !btn.hasAttribute("data-always"); }
  }

  function onMessage(m) {
    switch (m.type) {
      case "snapshot": onSnapshot(m); break;
      case "tally":
        if (!rows[m.activity]) return;
        rows[m.activity].tally = m.tally;
        rows[m.activity].total = m.tally ? m.tally.total : 0;
        updateActivity(m.activity, true);
        break;
      case "activity":
        if (!rows[m.activity]) return;
        rows[m.activity].state = m.state;
        rows[m.activity].revealed = m.revealed;
        rows[m.activity].total = m.total;
        updateActivity(m.activity, false);
        break;
      case "focus":
        focus = m.activity ? m.activity.key : null;
        Object.keys(ui).forEach(function (k) { updateActivity(k, false); });
        break;
      case "attendance": attendance = m; renderAttendance(); break;
      case "question": upsert("question", m.question); renderModeration(); break;
      case "text":
        if (m.replaces) delete items["text:" + m.replaces];
        upsert("text", m);
        renderModeration();
        renderFeed(m.activity);
        break;
      case "card": upsert("card", m.card); renderModeration(); break;
      case "reactions": J.hostReactions(m, function (on, btn) { command({ type: "show_reactions", show: on }, btn); }); break;
      case "ok":
        done(m.id);
        if (m["for"] === "end") { eventState = "ended"; applyEnded(); }
        break;
      case "error":
        if (m.id !== undefined) done(m.id);
        fail(m.message || "That did not work (" + m.code + ").");
        break;
      default: break;
    }
  }

  function onSnapshot(m) {
    eventState = m.state || "live";
    acts = J.indexEvent(m.event);
    order = Object.keys(acts);
    J.setText($("#event-title"), m.event.title);
    document.title = m.event.title + " · Host · Joinup";
    rows = J.table();
    (m.activities || []).forEach(function (r) { rows[r.key] = r; });
    focus = m.focus || null;
    attendance = m.attendance || attendance;
    items = J.table();
    (m.questions || []).forEach(function (q) { upsert("question", q); });
    (m.texts || []).forEach(function (t) { upsert("text", t); });
    (m.cards || []).forEach(function (c) { upsert("card", c); });
    buildProgramme(m.event);
    Object.keys(ui).forEach(renderFeed);
    renderAttendance();
    renderModeration();
    applyEnded();
    fail("");
  }

  function applyEnded() {
    var isEnded = eventState === "ended";
    $("#ended-banner").hidden = !isEnded;
    $("#end-open").disabled = isEnded;
    Array.prototype.forEach.call(document.querySelectorAll("#programme button, #modlist button"), function (b) {
      b.disabled = isEnded;
    });
  }

  // ------------------------------------------------------------------ programme

  function buildProgramme(ev) {
    var box = J.clear($("#programme"));
    ui = J.table();
    var count = 0;
    (ev.sessions || []).forEach(function (s, si) {
      var sec = el("section", { class: "session", "aria-labelledby": "s-" + si });
      sec.appendChild(el("h3", { id: "s-" + si }, el("span", { class: "snum", text: String(si + 1) }), s.title,
        s.room ? el("span", { class: "badge accent", text: s.room }) : null));
      if (!(s.activities || []).length) {
        sec.appendChild(el("p", { class: "muted nothing", text: "A talk: nothing to answer in this session." }));
      }
      (s.activities || []).forEach(function (a) {
        count++;
        var u = activityUI(acts[a.key]);
        ui[a.key] = u;
        sec.appendChild(u.node);
        updateActivity(a.key, true);
      });
      box.appendChild(sec);
    });
    J.setText($("#prog-summary"), J.plural(ev.sessions.length, "session") + " · " + J.plural(count, "activity", "activities"));
  }

  function activityUI(a) {
    var id = "h-" + a.key;
    var stateBadge = el("span", { class: "badge" });
    var revealBadge = el("span", { class: "badge accent", text: "Results shown" });
    var focusBadge = el("span", { class: "badge ok", text: "On screen" });
    var rate = el("p", { class: "rate" });
    var meterFill = el("span", { class: "bar-fill" });
    var openBtn = el("button", { class: "btn small", type: "button", "aria-describedby": id + "-title" });
    var revealBtn = el("button", { class: "btn small secondary", type: "button", "aria-describedby": id + "-title" });
    var focusBtn = el("button", { class: "btn small quiet", type: "button", "aria-describedby": id + "-title", text: "Show on screen" });
    var chart = J.chart(a);
    var feed = a.kind === "text" ? el("ul", { class: "feed", "aria-label": "Latest answers" }) : null;
    var node = el("article", { class: "act", id: id, "aria-labelledby": id + "-title" },
      el("div", { class: "act-head" },
        el("div", { class: "row" }, el("span", { class: "badge", text: J.kindName(a) }), stateBadge, revealBadge, focusBadge),
        el("h4", { id: id + "-title", text: a.prompt })),
      el("div", { class: "act-rate" }, rate, el("span", { class: "bar-track", "aria-hidden": "true" }, meterFill)),
      el("div", { class: "row act-buttons" }, openBtn, revealBtn, focusBtn),
      chart.node, feed);

    openBtn.addEventListener("click", function () {
      var r = rows[a.key];
      command({ type: r.state === "open" ? "close" : "open", activity: a.key }, openBtn);
    });
    revealBtn.addEventListener("click", function () {
      command({ type: "reveal", activity: a.key, show: !rows[a.key].revealed }, revealBtn);
    });
    focusBtn.addEventListener("click", function () {
      command({ type: "focus", activity: focus === a.key ? null : a.key }, focusBtn);
    });

    return {
      node: node, chart: chart, feed: feed,
      update: function (withTally) {
        var r = rows[a.key] || { state: "ready", revealed: false, total: 0 };
        var st = r.state;
        J.setText(stateBadge, st === "open" ? "Open" : st === "closed" ? "Closed" : "Not opened yet");
        stateBadge.className = "badge " + (st === "open" ? "ok" : st === "closed" ? "" : "warn");
        revealBadge.hidden = !r.revealed;
        focusBadge.hidden = focus !== a.key;
        node.classList.toggle("is-open", st === "open");
        node.classList.toggle("is-focus", focus === a.key);
        J.setText(openBtn, st === "open" ? "Close" : st === "closed" ? "Reopen" : "Open");
        openBtn.className = "btn small" + (st === "open" ? " danger-outline" : "");
        J.setText(revealBtn, r.revealed ? "Hide results" : "Show results");
        focusBtn.setAttribute("aria-pressed", focus === a.key ? "true" : "false");
        var present = attendance.present || 0;
        var total = r.total || 0;
        var share = present ? Math.min(100, Math.round((total * 100) / present)) : 0;
        J.setText(rate, J.plural(total, a.kind === "pledge" ? "signature" : "response") + " · " +
          (present ? share + "% of " + present + " here now" : "nobody connected right now"));
        meterFill.style.width = share + "%";
        if (withTally) chart.update(r.tally || { total: total });
      }
    };
  }

  var lastSpoken = null;
  function updateActivity(key, withTally) {
    var u = ui[key];
    if (!u) return;
    u.update(withTally);
    if (withTally && rows[key] && rows[key].tally && (focus === key || !focus) && rows[key].state === "open") {
      var text = J.describeTally(acts[key], rows[key].tally);
      if (text !== lastSpoken) { lastSpoken = text; J.announce(text); }
    }
  }

  // ------------------------------------------------------------------ attendance

  var breakdowns = J.table();
  function breakdown(box, map, caption) {
    var b = breakdowns[box];
    if (!b) {
      b = breakdowns[box] = { list: el("ul", { class: "bars" }), rows: new Map(), body: el("tbody") };
      $(box).append(b.list, el("details", { class: "table-alt" }, el("summary", { text: "Show as a table" }),
        el("table", {}, el("caption", { text: caption }),
          el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Name" }), el("th", { scope: "col", class: "n", text: "People" }))), b.body)));
    }
    var count = new Map(Object.entries(map));
    var names = Array.from(count.keys()).sort(function (x, y) { return count.get(y) - count.get(x) || x.localeCompare(y); });
    var max = 1;
    names.forEach(function (n) { max = Math.max(max, count.get(n)); });
    names.forEach(function (n) {
      var r = b.rows.get(n);
      if (!r) {
        r = { value: el("span", { class: "bar-value" }), fill: el("span", { class: "bar-fill" }) };
        b.rows.set(n, r);
        r.li = el("li", { class: "bar-row" }, el("span", { class: "bar-label", text: n }), r.value,
          el("span", { class: "bar-track", "aria-hidden": "true" }, r.fill));
      }
      J.setText(r.value, String(count.get(n)));
      r.fill.style.width = Math.round((count.get(n) * 100) / max) + "%";
      if (b.list.lastChild !== r.li) b.list.appendChild(r.li);
    });
    Array.from(b.rows.keys()).forEach(function (n) { if (!count.has(n)) { b.rows.get(n).li.remove(); b.rows.delete(n); } });
    J.clear(b.body);
    names.forEach(function (n) {
      b.body.appendChild(el("tr", {}, el("th", { scope: "row", text: n }), el("td", { class: "n", text: String(count.get(n)) })));
    });
    if (!names.length && !b.none) { b.none = el("p", { class: "muted", text: "Nobody yet." }); $(box).prepend(b.none); }
    if (b.none) b.none.hidden = names.length > 0;
  }

  function renderAttendance() {
    J.setText($("#att-present"), String(attendance.present || 0));
    J.setText($("#att-joined"), String(attendance.joined || 0));
    J.setText($("#att-peak"), String(attendance.peak || attendance.present || 0));
    breakdown("#att-sector", attendance.by_sector || {}, "Joined by sector");
    breakdown("#att-org", attendance.by_organisation || {}, "Joined by organisation");
    Object.keys(ui).forEach(function (k) { ui[k].update(false); });
  }

  // ------------------------------------------------------------------ moderation

  function upsert(kind, item) {
    var key = kind + ":" + item.id;
    var old = items[key];
    items[key] = { kind: kind, data: item, seq: old ? old.seq : arrival++ };
  }

  var modNodes = J.table();
  function renderModeration() {
    var all = Object.keys(items).map(function (k) { return items[k]; });
    var waiting = all.filter(function (i) { return i.data.state === "pending"; }).length;
    var flagged = all.filter(function (i) { return i.data.flagged; }).length;
    var shown = all.filter(function (i) {
      return filter === "pending" ? i.data.state === "pending" || (i.data.flagged && i.data.state !== "hidden") : i.kind === filter;
    });
    shown.sort(function (x, y) {
      var px = x.data.state === "pending" ? 0 : 1, py = y.data.state === "pending" ? 0 : 1;
      return px - py || (y.data.flagged ? 1 : 0) - (x.data.flagged ? 1 : 0) || y.seq - x.seq;
    });
    J.setText($("#mod-summary"), J.plural(waiting, "item") + " waiting" + (flagged ? " · " + flagged + " flagged for a closer look" : "") +
      (shown.length ? "" : filter === "pending" ? ". Nothing needs you right now." : ". Nothing here yet."));
    var list = $("#modlist");
    var active = document.activeElement && list.contains(document.activeElement) ? document.activeElement : null;
    var activeId = active && active.id;
    var activeItem = active && active.closest("li") ? active.closest("li").id : null;
    var keep = J.table();
    shown.forEach(function (i, idx) {
      var key = i.kind + ":" + i.data.id;
      keep[key] = true;
      var node = modNodes[key] = modItem(i, modNodes[key]);
      if (list.children[idx] !== node) list.insertBefore(node, list.children[idx] || null);
    });
    Object.keys(modNodes).forEach(function (k) { if (!keep[k]) { modNodes[k].remove(); delete modNodes[k]; } });
    if (active && !list.contains(document.activeElement)) {
      var again = activeId && document.getElementById(activeId);
      var host = activeItem && document.getElementById(activeItem);
      var target = again && !again.hidden ? again : host ? host.querySelector("button:not([hidden])") || host : list;
      if (target === list) { list.setAttribute("tabindex", "-1"); }
      target.focus();
    }
    if (eventState === "ended") applyEnded();
  }

  var STATE_TEXT = { pending: "Waiting", approved: "Visible", hidden: "Hidden", answered: "Answered" };
  var KIND_TEXT = { question: "Question", text: "Text answer", card: "Service card" };

  function modItem(i, node) {
    var d = i.data;
    var nid = "m-" + i.kind + "-" + d.id;
    if (!node) {
      node = el("li", { class: "mod", id: nid, tabindex: "-1" });
    }
    J.clear(node);
    node.classList.toggle("flagged", !!d.flagged);
    var head = el("div", { class: "row" },
      el("span", { class: "badge", text: KIND_TEXT[i.kind] }),
      el("span", { class: "badge " + (d.state === "pending" ? "warn" : d.state === "hidden" ? "" : "ok"), text: STATE_TEXT[d.state] || d.state }),
      d.flagged ? el("span", { class: "badge danger", text: "⚑ Flagged: check before approving" }) : null,
      i.kind === "question" ? el("span", { class: "muted small", text: J.plural(d.votes || 0, "vote") }) : null);
    var body;
    if (i.kind === "card") {
      body = el("div", { class: "mod-body" },
        el("p", { class: "strong", text: d.service + " · " + d.organisation }),
        el("p", { text: d.offer }),
        el("p", { class: "muted small", text: ["Referral: " + d.referral, "Contact: " + d.contact, [d.name, d.role].filter(Boolean).join(", ")].filter(Boolean).join(" · ") }));
    } else {
      body = el("div", { class: "mod-body" },
        i.kind === "text" && acts[d.activity] ? el("p", { class: "eyebrow", text: acts[d.activity].prompt }) : null,
        el("p", { class: "mod-text", text: d.text }));
    }
    var actions = el("div", { class: "row" });
    function act(action, label, cls) {
      var b = el("button", { type: "button", class: "btn small " + cls, id: nid + "-" + action, text: label, "aria-describedby": nid + "-desc" });
      b.addEventListener("click", function () {
        command({ type: "moderate", item: i.kind, target: d.id, action: action }, b);
      });
      actions.appendChild(b);
    }
    if (d.state !== "approved" && d.state !== "answered") act("approve", d.state === "hidden" ? "Show again" : "Approve", "");
    if (d.state !== "hidden") act("hide", "Hide", "quiet");
    if (i.kind === "question" && d.state !== "answered") act("answered", "Mark answered", "secondary");
    node.append(head, body, el("span", { class: "sr-only", id: nid + "-desc", text: KIND_TEXT[i.kind] + ": " + (d.text || d.service || "") }), actions);
    return node;
  }

  function renderFeed(activity) {
    var u = ui[activity];
    if (!u || !u.feed) return;
    var list = J.clear(u.feed);
    var texts = Object.keys(items).map(function (k) { return items[k]; })
      .filter(function (i) { return i.kind === "text" && i.data.activity === activity; })
      .sort(function (x, y) { return y.seq - x.seq; });
    texts.slice(0, 6).forEach(function (i) {
      list.appendChild(el("li", { class: i.data.flagged ? "flagged" : null },
        i.data.flagged ? el("span", { class: "badge danger", text: "⚑ Flagged" }) : null,
        i.data.state === "hidden" ? el("span", { class: "badge", text: "Hidden" }) : null,
        " ", el("span", { text: i.data.text })));
    });
    if (texts.length > 6) list.appendChild(el("li", { class: "muted", text: "and " + (texts.length - 6) + " more in Moderation" }));
  }

  document.querySelector(".filters").addEventListener("click", function (e) {
    var b = e.target.closest("button[data-filter]");
    if (!b) return;
    filter = b.getAttribute("data-filter");
    Array.prototype.forEach.call(document.querySelectorAll(".filters button"), function (x) {
      x.setAttribute("aria-pressed", x === b ? "true" : "false");
    });
    renderModeration();
  });

  // ------------------------------------------------------------------ reports

  var MIME_NAME = { "report.html": "report.html", "report.pdf": "report.pdf", "answers.csv": "answers.csv", "summary.json": "summary.json" };
  Array.prototype.forEach.call(document.querySelectorAll("[data-report]"), function (b) {
    b.setAttribute("data-always", "1");
    b.addEventListener("click", function () {
      var file = b.getAttribute("data-report");
      var st = $("#rep-state");
      st.setAttribute("data-state", "pending");
      J.setText(st, "Preparing " + file + "…");
      b.disabled = true;
      fetch("/api/events/" + code + "/" + file, { headers: { Authorization: "Bearer " + token }, cache: "no-store" })
        .then(function (r) {
          if (!r.ok) throw new Error(r.status === 401 ? "the access key was refused" : r.status === 404 ? "it is not available on this server yet" : "the server answered " + r.status);
          return r.blob();
        })
        .then(function (blob) {
          var url = URL.createObjectURL(blob);
          var a = el("a", { href: url, download: "joinup-" + code + "-" + MIME_NAME[file] });
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
          st.setAttribute("data-state", "saved");
          J.setText(st, "Downloaded " + file + " ✓");
        })
        .catch(function (e) {
          st.setAttribute("data-state", "error");
          J.setText(st, "Could not download " + file + ": " + (e && e.message ? e.message : "network error") + ".");
        })
        .then(function () { b.disabled = false; });
    });
  });

  // ------------------------------------------------------------------ end

  var dialog = $("#end-dialog");
  $("#end-open").addEventListener("click", function () {
    if (typeof dialog.showModal === "function") dialog.showModal();
    else if (window.confirm("End the event now? This cannot be undone.")) command({ type: "end" }, $("#end-open"));
  });
  $("#end-cancel").addEventListener("click", function () { dialog.close(); $("#end-open").focus(); });
  $("#end-confirm").addEventListener("click", function () {
    dialog.close();
    command({ type: "end" }, $("#end-open"));
  });
})();
