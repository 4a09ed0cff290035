/* Joinup: live result charts. Built once per activity, then updated in place (no flicker),
   each with a data-table alternative. */
import { el, setText, own, plural } from "./common.js";

/* How many colours the presenter cycles through: an option keeps its colour, by position. */
var PALETTE = 6;
/* A word's colour, from the word itself: it stays as its rank changes. */
export function wordColour(w) {
  var h = 0;
  for (var i = 0; i < w.length; i++) h = (h * 31 + w.charCodeAt(i)) >>> 0;
  return String(h % 3);
}

export function pct(n, total) { return total ? Math.round((n * 100) / total) : 0; }

/* The charts' own words: English here; a page that speaks other languages gives its
   translator with setTranslate(t) (the attendee page's web/i18n.js), which the "chart.*" and
   "reaction.*" keys use. */
var translate = null;
export function setTranslate(t) { translate = t; }
function say(key, vars, english) {
  return translate ? translate(key, vars) : english;
}

function barList(labels) {
  var list = el("ul", { class: "bars" });
  var rows = labels.map(function (label) {
    var value = el("span", { class: "bar-value" });
    var fill = el("span", { class: "bar-fill" });
    list.appendChild(el("li", { class: "bar-row", "data-c": String(list.children.length % PALETTE) },
      el("span", { class: "bar-label", text: label }),
      value,
      el("span", { class: "bar-track", "aria-hidden": "true" }, fill)));
    return { value: value, fill: fill };
  });
  return {
    node: list,
    /* Each row's own text and width (0 to 100). */
    setEach: function (values) {
      rows.forEach(function (r, i) {
        var v = values[i] || { text: "", width: 0 };
        setText(r.value, v.text);
        r.fill.style.width = Math.max(0, Math.min(100, v.width)) + "%";
      });
    },
    set: function (counts, total) {
      rows.forEach(function (r, i) {
        var n = counts[i] || 0;
        setText(r.value, n + " · " + pct(n, total) + "%");
        r.fill.style.width = pct(n, total) + "%";
      });
    }
  };
}

function table(caption, heads) {
  var body = el("tbody");
  var node = el("table", {},
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, heads.map(function (h, i) {
      return el("th", { scope: "col", class: i ? "n" : null, text: h });
    }))),
    body);
  return {
    node: node,
    set: function (rows) {
      while (body.rows.length > rows.length) body.deleteRow(-1);
      rows.forEach(function (cells, r) {
        var tr = body.rows[r] || body.insertRow(-1);
        cells.forEach(function (c, i) {
          var cell = tr.cells[i];
          if (!cell) {
            cell = i ? tr.insertCell(-1) : tr.appendChild(el("th", { scope: "row" }));
            if (i) cell.className = "n";
          }
          setText(cell, String(c));
        });
      });
    }
  };
}

export function scaleLabels(a) {
  var labels = [];
  for (var v = a.min; v <= a.max; v++) {
    var end = v === a.min && a.labels && a.labels.min ? a.labels.min
      : v === a.max && a.labels && a.labels.max ? a.labels.max : "";
    labels.push(end ? v + " · " + end : String(v));
  }
  return labels;
}

/* A mean rank, as a mean: one decimal, "–" for none. */
export const fmtRank = fmtMean;

/* The index of the best value by `better`, nulls never best. */
export function bestIndex(values, better) {
  var b = -1;
  values.forEach(function (v, i) {
    if (v !== null && v !== undefined && (b < 0 || better(v, values[b]))) b = i;
  });
  return Math.max(b, 0);
}

export function fmtMean(m) { return m === null || m === undefined ? "–" : (Math.round(m * 10) / 10).toFixed(1); }

/* Joinup.chart(activity) -> {node, update(tally)} */
export function chart(a) {
  var node = el("div", { class: "chart chart-" + a.kind });
  var totalLine = el("p", { class: "total" });
  var details = el("details", { class: "table-alt" }, el("summary", { text: say("chart.show_table", null, "Show as a table") }));
  var sectorTable = null;
  var update;
  /* The host's breakdown by sector (closed activities only), one row per group. */
  function sectors(tally, heads, row) {
    var bySector = tally.by_sector || {};
    var names = Object.keys(bySector);
    if (!names.length) return;
    if (!sectorTable) {
      sectorTable = table("By sector", heads);
      details.append(sectorTable.node);
    }
    sectorTable.set(names.map(function (s) {
      return [s].concat(row(own(bySector, s) || { total: 0 }));
    }));
  }

  if (a.kind === "choice" || a.kind === "scale") {
    var labels = a.kind === "choice" ? a.options : scaleLabels(a);
    var bars = barList(labels);
    var mean = a.kind === "scale" ? el("p", { class: "mean" }) : null;
    var t = table(say("chart.responses", null, "Responses"),
      [say("chart.answer", null, "Answer"), say("chart.count", null, "Count"), say("chart.percent", null, "Percent")]);
    node.append(totalLine, bars.node);
    if (mean) node.append(mean);
    details.append(t.node);
    update = function (tally) {
      var counts = tally.counts || [];
      bars.set(counts, tally.total);
      if (mean) {
        var range = a.labels && a.labels.min && a.labels.max
          ? " (" + a.min + " = " + a.labels.min + ", " + a.max + " = " + a.labels.max + ")" : "";
        setText(mean, say("chart.average", { mean: fmtMean(tally.mean), max: a.max },
          "Average " + fmtMean(tally.mean) + " out of " + a.max) + range);
      }
      t.set(labels.map(function (l, i) {
        var n = counts[i] || 0;
        return [l, n, pct(n, tally.total) + "%"];
      }));
      var bySector = tally.by_sector || {};
      var sectors = Object.keys(bySector);
      if (sectors.length) {
        if (!sectorTable) {
          sectorTable = table(say("chart.by_sector", null, "By sector"), [say("chart.sector", null, "Sector"),
            say("chart.answers", null, "Answers"),
            a.kind === "scale" ? say("chart.average_head", null, "Average") : say("chart.most_chosen", null, "Most chosen")]);
          details.append(sectorTable.node);
        }
        sectorTable.set(sectors.map(function (s) {
          var g = own(bySector, s) || { total: 0, counts: [] };
          if (a.kind === "scale") return [s, g.total, fmtMean(g.mean)];
          var best = 0;
          (g.counts || []).forEach(function (n, i) { if (n > g.counts[best]) best = i; });
          return [s, g.total, g.total ? a.options[best] : "–"];
        }));
      }
    };
  } else if (a.kind === "ranking") {
    var rbars = barList(a.options);
    var rt = table("Ranking", ["Option", "Mean rank", "Ranked first"]);
    node.append(totalLine, el("p", { class: "hint", text: "Longest bar: ranked highest on average (rank 1 is the most important)." }), rbars.node);
    details.append(rt.node);
    update = function (tally) {
      var ranks = tally.mean_rank || [], first = tally.first || [], n = a.options.length;
      rbars.setEach(a.options.map(function (o, i) {
        var m = ranks[i];
        return {
          text: (m === null || m === undefined ? "–" : "rank " + fmtRank(m)) + " · " + (first[i] || 0) + " first",
          width: m === null || m === undefined ? 0 : Math.round(((n + 1 - m) * 100) / n)
        };
      }));
      rt.set(a.options.map(function (o, i) { return [o, fmtRank(ranks[i]), first[i] || 0]; }));
      sectors(tally, ["Sector", "Answers", "Top priority"], function (g) {
        return [g.total, g.total ? a.options[bestIndex(g.mean_rank || [], function (x, y) { return x < y; })] : "–"];
      });
    };
  } else if (a.kind === "points") {
    var pbars = barList(a.options);
    var ptab = table("Points", ["Option", "Points", "Share"]);
    node.append(totalLine, pbars.node);
    details.append(ptab.node);
    update = function (tally) {
      var points = tally.points || [], shares = tally.shares || [];
      pbars.setEach(a.options.map(function (o, i) {
        var share = shares[i] === null || shares[i] === undefined ? 0 : Math.round(shares[i] * 100);
        return { text: (points[i] || 0) + " pts · " + share + "%", width: share };
      }));
      ptab.set(a.options.map(function (o, i) {
        return [o, points[i] || 0, Math.round((shares[i] || 0) * 100) + "%"];
      }));
      sectors(tally, ["Sector", "Answers", "Most points"], function (g) {
        return [g.total, g.total ? a.options[bestIndex(g.points || [], function (x, y) { return x > y; })] : "–"];
      });
    };
  } else if (a.kind === "words") {
    var cloud = el("ul", { class: "cloud" });
    var items = new Map();
    var wt = table(say("chart.words", null, "Words"), [say("chart.word", null, "Word"), say("chart.count", null, "Count")]);
    var noWords = el("p", { class: "muted", text: say("chart.no_words", null, "No words yet.") });
    node.append(totalLine, noWords, cloud);
    details.append(wt.node);
    update = function (tally) {
      var top = tally.top || [];
      var max = top.length ? top[0][1] : 1;
      noWords.hidden = top.length > 0;
      var seen = new Set();
      top.forEach(function (pair) {
        var w = pair[0], n = pair[1];
        seen.add(w);
        var li = items.get(w);
        if (!li) {
          li = el("li", { "data-c": wordColour(w) }, el("span", { text: w }), el("span", { class: "sr-only" }));
          items.set(w, li);
        }
        setText(li.lastChild, ", " + n);
        // Each page's CSS turns this weight (0 to 1) into a size range of its own.
        li.style.setProperty("--w", Math.sqrt(n / max).toFixed(3));
        cloud.appendChild(li);
      });
      Array.from(items.keys()).forEach(function (w) {
        if (!seen.has(w)) { items.get(w).remove(); items.delete(w); }
      });
      wt.set(top.map(function (p) { return [p[0], p[1]]; }));
    };
  } else if (a.kind === "pledge") {
    var big = el("p", { class: "bignum" });
    var orgList = el("ul", { class: "bars" });
    var rowsByOrg = new Map();
    var pt = table(say("chart.signatures_by_org", null, "Signatures by organisation"),
      [say("chart.organisation", null, "Organisation"), say("chart.signatures", null, "Signatures")]);
    node.append(big, totalLine, orgList);
    details.append(pt.node);
    update = function (tally) {
      setText(big, String(tally.total || 0));
      var signed = tally.signatures || {};
      var orgs = (tally.organisations || []).slice();
      Object.keys(signed).forEach(function (o) { if (orgs.indexOf(o) < 0) orgs.push(o); });
      var sig = function (o) { return own(signed, o) || 0; };
      orgs.sort(function (x, y) { return sig(y) - sig(x) || x.localeCompare(y); });
      var max = 1;
      orgs.forEach(function (o) { max = Math.max(max, sig(o) || 1); });
      orgs.forEach(function (o) {
        var r = rowsByOrg.get(o);
        if (!r) {
          r = { value: el("span", { class: "bar-value" }), fill: el("span", { class: "bar-fill" }) };
          rowsByOrg.set(o, r);
          r.li = el("li", { class: "bar-row" }, el("span", { class: "bar-label", text: o }), r.value,
            el("span", { class: "bar-track", "aria-hidden": "true" }, r.fill));
        }
        var n = sig(o) || 1;
        setText(r.value, String(n));
        r.fill.style.width = Math.round((n * 100) / max) + "%";
        orgList.appendChild(r.li);
      });
      pt.set(orgs.map(function (o) { return [o, sig(o) || 1]; }));
    };
  } else {
    var count = el("p", { class: "bignum" });
    var tt = table(say("chart.responses", null, "Responses"), [say("chart.measure", null, "Measure"), say("chart.value", null, "Value")]);
    node.append(count, totalLine);
    details.append(tt.node);
    update = function (tally) {
      setText(count, String(tally.total || 0));
      tt.set([[say("chart.answers", null, "Answers"), tally.total || 0]]);
    };
  }
  node.append(details);

  return {
    node: node,
    update: function (tally) {
      tally = tally || { total: 0 };
      var n = tally.total || 0;
      var orgs = (tally.organisations || []).length;
      var what = a.kind === "pledge"
        ? say("chart.signed_from", { signatures: say("chart.n_signatures", { n: n }, ""), organisations: say("chart.n_organisations", { n: orgs }, "") },
          plural(n, "signature") + " from " + plural(orgs, "organisation"))
        : say("chart.n_responses", { n: n }, plural(n, "response"));
      setText(totalLine, what);
      update(tally);
    }
  };
}

/* The reactions every page may name, by key (the spec picks which an event offers). */
export const REACTIONS = {
  agree: { label: "Agree" },
  not_sure: { label: "Not sure" },
  slow_down: { label: "Slow down" },
  need_a_break: { label: "Need a break" },
  cant_hear: { label: "Can't hear" },
  thanks: { label: "Thanks" }
};
/* A reaction's name: on the attendee page in its language ("reaction.KEY"), elsewhere the
   English label; a key no page knows, as it is. */
export function reactionName(key) {
  var known = own(REACTIONS, key);
  return known ? say("reaction." + key, null, known.label) : key;
}

/* Joinup.reactionsView(keys, title) -> {node, update(frame)}: the reactions of the last
   minute as counters, for the host and the presenter. */
export function reactionsView(keys, title) {
  var counters = {};
  var list = el("ul", { class: "reaction-counts" });
  keys.forEach(function (k) {
    var n = el("span", { class: "reaction-n", text: "0" });
    counters[k] = n;
    list.appendChild(el("li", { "data-key": k }, el("span", { class: "reaction-label", text: reactionName(k) }), n));
  });
  var node = el("section", { class: "reactions-view", "aria-label": title || "Reactions in the last minute" },
    el("h2", { class: "reactions-title", text: title || "Reactions in the last minute" }), list);
  return {
    node: node,
    update: function (m) {
      var counts = (m && m.counts) || {};
      keys.forEach(function (k) {
        var v = own(counts, k) || 0;
        setText(counters[k], String(v));
        counters[k].parentNode.setAttribute("data-active", v > 0 ? "true" : "false");
      });
    }
  };
}

/* The keys of a `reactions` frame, in the catalogue's order. */
export function reactionKeys(m) {
  var counts = (m && m.counts) || {};
  return Object.keys(REACTIONS).filter(function (k) { return own(counts, k) !== undefined; })
    .concat(Object.keys(counts).filter(function (k) { return !own(REACTIONS, k); }));
}

/* The host's reactions card: the last minute's counts and a switch for the presenter.
   `show(on, button)` sends the host's `show_reactions` command. */
var hostView = null;
export function hostReactions(m, show) {
  var keys = reactionKeys(m);
  if (!hostView || hostView.keys !== keys.join()) {
    if (hostView) hostView.card.remove();
    var view = reactionsView(keys, "Reactions in the last minute");
    var toggle = el("button", { type: "button", class: "btn secondary small", id: "reactions-toggle", "aria-pressed": "false", text: "Show on the presenter's screen" });
    toggle.addEventListener("click", function () { show(toggle.getAttribute("aria-pressed") !== "true", toggle); });
    var card = el("section", { class: "card host-reactions", id: "host-reactions" }, view.node,
      el("p", { class: "hint", text: keys.length ? "Counts from every attendee together; nobody's reactions are kept." : "Reactions are turned off for this event." }), toggle);
    var attendance = document.querySelector("section[aria-labelledby='att-title']");
    if (attendance && attendance.parentNode) attendance.parentNode.insertBefore(card, attendance);
    else document.querySelector("main").appendChild(card);
    hostView = { keys: keys.join(), card: card, view: view, toggle: toggle };
  }
  hostView.view.update(m);
  hostView.toggle.setAttribute("aria-pressed", m.shown ? "true" : "false");
}

/* The presenter's reactions strip: shown while the host shows it. */
var presentView = null;
export function presentReactions(m) {
  if (presentView) presentView.node.hidden = !m.shown;
  if (!m.shown) return;
  var keys = reactionKeys(m);
  if (!presentView || presentView.keys !== keys.join()) {
    if (presentView) presentView.node.remove();
    var view = reactionsView(keys, "Reactions");
    view.node.classList.add("present-reactions");
    var conn = document.getElementById("conn");
    if (conn && conn.parentNode) conn.parentNode.insertBefore(view.node, conn);
    else document.body.appendChild(view.node);
    presentView = { keys: keys.join(), node: view.node, view: view };
  }
  presentView.view.update(m);
}

/* One sentence for a screen reader about a tally. */
export function describeTally(a, tally) {
  if (!tally) return "";
  var n = tally.total || 0;
  var s = say("chart.said", { prompt: a.prompt, responses: say("chart.n_responses", { n: n }, "") }, a.prompt + ": " + plural(n, "response") + ".");
  if ((a.kind === "choice") && n) {
    var best = 0;
    tally.counts.forEach(function (c, i) { if (c > tally.counts[best]) best = i; });
    s += say("chart.said_most", { option: a.options[best], n: tally.counts[best] }, " Most chosen: " + a.options[best] + ", " + tally.counts[best] + ".");
  } else if (a.kind === "scale" && tally.mean !== null && tally.mean !== undefined) {
    s += say("chart.said_average", { mean: fmtMean(tally.mean), max: a.max }, " Average " + fmtMean(tally.mean) + " out of " + a.max + ".");
  } else if (a.kind === "ranking" && n && tally.mean_rank) {
    var ranked = a.options[bestIndex(tally.mean_rank, function (x, y) { return x < y; })];
    s += say("chart.said_ranked", { option: ranked }, " Ranked highest: " + ranked + ".");
  } else if (a.kind === "points" && n && tally.points) {
    var most = a.options[bestIndex(tally.points, function (x, y) { return x > y; })];
    s += say("chart.said_points", { option: most }, " Most points: " + most + ".");
  } else if (a.kind === "words" && tally.top && tally.top.length) {
    var top = tally.top.slice(0, 3).map(function (p) { return p[0]; }).join(", ");
    s += say("chart.said_words", { words: top }, " Top words: " + top + ".");
  }
  return s;
}
