/* Joinup presenter screen: the join code and QR, the activity the host focuses with its
   response count, results once revealed, and the visible questions. Read-only. */
"use strict";
(function () {
  var J = window.Joinup, el = J.el, $ = J.$;
  var code = J.codeFromPath();
  var token = J.fragmentToken();
  var acts = J.table(), rows = J.table(), focus = null, questions = [], title = "";
  var shown = { key: undefined, chart: null, count: null, body: null, hasChart: false };

  J.setText($("#join-code"), code);
  J.setText($("#join-url"), location.host);
  $("#qr").src = "/api/events/" + code + "/qr.svg";
  // The address inside the QR is the server's public URL, which may differ from the one
  // this screen was opened at: show the same one in words.
  fetch("/api/events/" + code).then(function (r) { return r.ok ? r.json() : null; }).then(function (facts) {
    if (facts && facts.attend_url) {
      J.setText($("#join-url"), facts.attend_url.replace(/^https?:\/\//, "").replace(/\/e\/[A-Za-z0-9]+$/, ""));
    }
  }).catch(function () {});

  if (!token) {
    J.setText($("#stage-waiting"), "This link has no access key. Open the presenter link exactly as it was given to you.");
    J.setText($("#conn"), "Not connected");
    $("#conn").setAttribute("data-state", "stopped");
    return;
  }

  J.staffSocket("/ws/present/" + code, token, {
    status: function (s) {
      var text = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", unauthorized: "Access key refused", ended: "Event ended" }[s] || s;
      J.setText($("#conn"), text);
      $("#conn").setAttribute("data-state", s === "live" ? "live" : s === "unauthorized" ? "stopped" : "waiting");
      if (s === "unauthorized") J.setText($("#stage-waiting"), "The server refused this access key.");
    },
    message: function (m) {
      switch (m.type) {
        case "snapshot":
          acts = J.indexEvent(m.event);
          title = m.event.title;
          J.setText($("#event-title"), title);
          document.title = title + " · Presenter · Joinup";
          rows = J.table();
          (m.activities || []).forEach(function (r) { rows[r.key] = r; });
          focus = m.focus || null;
          questions = m.questions || [];
          count(m.attendance);
          shown.key = undefined;
          render();
          renderQuestions();
          break;
        case "focus":
          focus = m.activity ? m.activity.key : null;
          if (m.activity) rows[focus] = Object.assign(rows[focus] || {}, m.activity);
          render();
          break;
        case "count":
          if (rows[m.activity]) rows[m.activity].total = m.total;
          render();
          break;
        case "results":
          if (rows[m.activity]) { rows[m.activity].tally = m.tally; rows[m.activity].revealed = !!m.tally; }
          render();
          if (m.tally && m.activity === focus) J.announce("Results. " + J.describeTally(acts[focus], m.tally));
          break;
        case "activity":
          if (rows[m.activity]) {
            rows[m.activity].state = m.state;
            rows[m.activity].revealed = m.revealed;
            rows[m.activity].total = m.total;
            if (!m.revealed) rows[m.activity].tally = null;
          }
          render();
          break;
        case "questions": questions = m.questions || []; renderQuestions(); break;
        case "attendance": count(m); break;
        default: break;
      }
    }
  });

  function count(att) {
    if (!att) return;
    J.setText($("#present-count"), J.plural(att.present || 0, "person", "people") + " here");
  }

  function render() {
    var stage = $("#stage");
    var a = focus && acts[focus];
    var r = (focus && rows[focus]) || {};
    if (shown.key !== focus) {
      J.clear(stage);
      shown = { key: focus, chart: null, count: null, body: null, hasChart: false };
      if (!a) {
        stage.append(el("h2", { id: "stage-title", class: "welcome-title", text: title || "Welcome" }),
          el("p", { class: "waiting", text: "Join now: questions and results appear here as the session goes on." }));
        return;
      }
      shown.count = el("p", { class: "count" });
      shown.body = el("div", { class: "stage-body" });
      stage.append(el("p", { class: "eyebrow", text: (a.sessionTitle || "") + (a.room ? " · " + a.room : "") }),
        el("h2", { id: "stage-title", text: a.prompt }), shown.count, shown.body);
    }
    if (!a) return;
    var total = r.total || 0;
    var closed = r.state === "closed";
    J.clear(shown.count);
    shown.count.append(el("strong", { text: String(total) }), " " + (a.kind === "pledge" ? (total === 1 ? "signature" : "signatures") : (total === 1 ? "response" : "responses")) +
      (r.state === "open" ? " so far" : closed ? " · closed" : " · not open yet"));
    var revealed = r.revealed && r.tally;
    if (revealed) {
      if (!shown.hasChart) {
        J.clear(shown.body);
        shown.chart = J.chart(a);
        shown.body.append(shown.chart.node);
        shown.hasChart = true;
      }
      shown.chart.update(r.tally);
    } else if (shown.hasChart || !shown.body.firstChild) {
      J.clear(shown.body);
      shown.hasChart = false;
      shown.body.append(el("p", { class: "waiting", text: r.state === "open" ? "Answer on your phone. Results appear here when the host reveals them." : "Results appear here when the host reveals them." }));
    }
  }

  function renderQuestions() {
    var list = J.clear($("#pq-list"));
    var open = questions.filter(function (q) { return !q.answered; });
    $("#pq").hidden = !open.length;
    open.slice(0, 4).forEach(function (q) {
      list.appendChild(el("li", {}, el("span", { class: "votes", text: J.plural(q.votes, "vote") }), el("span", { text: q.text })));
    });
  }
})();
