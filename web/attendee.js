/* Joinup attendee page: join, answer, ask, share a card, see results. Its parts so far:
   attendee-session.js (the state they share, the session with the server),
   attendee-cards.js (activities, results; their controls are kinds.js's), attendee-qa.js
   (phase, Q&A); here the rest: the profile, "You" and the directory, views, tabs,
   language and the offline shell.
   Every answer ends, visibly, as saved (acknowledged) or not saved with the reason, on its
   card while the activity is open and under "You" always, across reloads. */
import { pageState, attendeeSession, moderated, mark } from "./attendee-session.js";
import { activityCards, resultsView, kept } from "./attendee-cards.js";
import { qaView } from "./attendee-qa.js";
import { t, use, initial, remember, translatePage, LANGUAGES, language } from "./i18n.js";
import * as J from "./common.js";
import { setTranslate } from "./charts.js";
import { describe } from "./kinds.js";

// The page's own words, in the person's language, before anything is shown.
await use(initial(navigator, safeStorage()));
translatePage(document);
setTranslate(t);  // the result charts (charts.js) speak the page's language too

/** localStorage, or null where the browser refuses it (a frame on another site may). */
function safeStorage() {
  try { const s = window.localStorage; s.getItem("joinup.lang"); return s; } catch (e) { return null; }
}

/** The event code of /e/CODE, however it was typed: lower case, with spaces or hyphens
 * ("/e/abc 234" is ABC234); the address then shows it as the server spells it. */
function codeFromAddress() {
  const m = /^\/e\/([^/]{1,40})\/?$/.exec(location.pathname);
  if (!m) return "";
  let raw;
  try { raw = decodeURIComponent(m[1]); } catch (e) { return ""; }
  const c = raw.replace(/[\s-]+/g, "").toUpperCase();
  if (!/^[A-Z0-9]{1,12}$/.test(c)) return "";
  if (m[1] !== c) history.replaceState(null, "", "/e/" + c + location.search + location.hash);
  return c;
}

const el = J.el, $ = J.$;
/** Text as the organisation search compares it. */
function norm(s) { return s.toLowerCase().replace(/[^a-z0-9 ]+/g, " ").replace(/\s+/g, " ").trim(); }

/** Organisations alphabetically, whatever the spec's order, so a name is where one looks. */
function sortOrganisations(orgs) {
  return (orgs || []).slice().sort((x, y) => { return x.name.localeCompare(y.name, undefined, { sensitivity: "base" }); });
}

/** The profile's rows, [key, value or null]; the room only if the event has rooms. */
function profileRows(p, hasRooms) {
  const rows = [["you.organisation", p.organisation || null], ["you.sector", p.sector || null]];
  if (hasRooms) rows.push(["you.room", p.room || null]);
  return rows;
}

/** "Your answers" in programme order (`order`), and what the Answer tab's notice counts:
 * those not pending/saved whose card (`isOpen`) is gone. */
function answerLines(log, answers, order, pending, isOpen) {
  const keys = [];
  log.records().forEach((r) => { keys.push(r.activity); });
  answers.forEach((v, k) => { if (!log.get(k)) keys.push(k); });
  keys.sort((x, y) => order.indexOf(x) - order.indexOf(y));
  let waiting = 0, notSaved = 0;
  const lines = keys.map((k) => {
    const rec = log.get(k), p = pending(k);
    const state = p ? "pending" : rec ? rec.state : "saved";
    if (!isOpen(k)) { if (state === "pending") waiting++; else if (state === "refused") notSaved++; }
    return { key: k, state: state, record: rec, pending: p, given: p ? p.value : rec ? rec.given : answers.get(k) };
  });
  return { lines: lines, waiting: waiting, notSaved: notSaved };
}

/** The profile form and "You". */
function youView(s, ui) {
  let built = false, wired = false, stale = false;

  function buildProfileForm() {
    if (built || !s.facts) return;
    built = true;
    const list = $("#org-list");
    sortOrganisations(s.facts.organisations).forEach((o, i) => {
      list.appendChild(el("label", { class: "option", "data-search": norm(o.name + " " + (o.sector || "")) },
        el("input", { type: "radio", name: "org", value: o.name, id: "org-" + i }),
        el("span", {}, o.name, o.sector ? el("small", { text: o.sector }) : null)));
    });
    if (s.facts.allow_other_organisation !== false) {
      list.appendChild(el("label", { class: "option", "data-always": "1" },
        el("input", { type: "radio", name: "org", value: "", id: "org-other-choice" }),
        el("span", { "data-i18n": "profile.org_other_choice", text: t("profile.org_other_choice") })));
    }
    const sector = $("#sector");
    sector.appendChild(el("option", { value: "", "data-i18n": "profile.sector_choose", text: t("profile.sector_choose") }));
    (s.facts.sectors || []).forEach((x) => { sector.appendChild(el("option", { value: x, text: x })); });
    const rooms = s.facts.rooms || [];
    if (rooms.length) {
      $("#room-fieldset").hidden = false;
      const rl = $("#room-list");
      rooms.forEach((r, i) => {
        rl.appendChild(el("label", { class: "option" }, el("input", { type: "radio", name: "room", value: r, id: "room-" + i }), el("span", { text: r })));
      });
      rl.appendChild(el("label", { class: "option" }, el("input", { type: "radio", name: "room", value: "", id: "room-none" }), el("span", { "data-i18n": "profile.room_none", text: t("profile.room_none") })));
    }
    if (!wired) wire();
    filterOrgs();
    fillProfileForm();
  }

  /** An edit changed the lists: built again, or at its next opening if it is open now. */
  function rebuildProfileForm() {
    if (s.editing) { stale = true; return; }
    stale = false;
    [$("#org-list"), $("#sector"), $("#room-list")].forEach((n) => { J.clear(n); });
    built = false;
    buildProfileForm();
  }

  /** The form's listeners, once: building it again keeps them. */
  function wire() {
    wired = true;
    const list = $("#org-list"), sector = $("#sector");
    list.addEventListener("change", (e) => {
      const input = e.target;
      if (input.name !== "org") return;
      const isOther = input.id === "org-other-choice";
      $("#org-other-field").hidden = !isOther;
      const match = (s.facts.organisations || []).filter((o) => o.name === input.value)[0];
      if (match && match.sector) sector.value = match.sector;
      if (isOther) {
        // What was typed in the search is, most likely, the name: keep it.
        const typed = $("#org-search").value.trim();
        if (typed && !$("#org-other").value.trim()) $("#org-other").value = typed;
        $("#org-other").focus();
      }
      fieldError(null);
    });
    $("#org-other").addEventListener("input", () => { fieldError(null); });
    $("#org-search").addEventListener("input", filterOrgs);
  }

  /** The error of the "not listed" name, shown under that field (null clears it). */
  function fieldError(text) {
    const node = $("#org-other-error"), input = $("#org-other");
    node.hidden = !text;
    J.setText(node, text || "");
    if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }

  function filterOrgs() {
    const q = norm($("#org-search").value);
    let shown = 0;
    Array.prototype.forEach.call($("#org-list").children, (label) => {
      if (label.getAttribute("data-always")) return;
      const hit = !q || label.getAttribute("data-search").indexOf(q) >= 0;
      label.hidden = !hit;
      if (hit) shown++;
    });
    const total = (s.facts.organisations || []).length;
    J.setText($("#org-count"), q ? t("profile.org_match", { n: shown }) : t("profile.org_total", { n: total }));
  }

  function fillProfileForm() {
    const p = s.profile || {};
    let known = false;
    Array.prototype.forEach.call(document.querySelectorAll("#org-list input"), (r) => {
      r.checked = !!p.organisation && r.value === p.organisation;
      if (r.checked) known = true;
    });
    const other = $("#org-other-choice");
    if (p.organisation && !known && other) {
      other.checked = true;
      $("#org-other").value = p.organisation;
    }
    $("#org-other-field").hidden = !(other && other.checked);
    $("#sector").value = p.sector || "";
    Array.prototype.forEach.call(document.querySelectorAll("#room-list input"), (r) => {
      r.checked = r.value === (p.room || "") && (!!p.room || s.welcomed);
    });
  }

  function readProfileForm() {
    const chosen = document.querySelector("#org-list input:checked");
    const org = chosen ? (chosen.id === "org-other-choice" ? $("#org-other").value.trim() : chosen.value) : "";
    const room = document.querySelector("#room-list input:checked");
    return { organisation: org, sector: $("#sector").value, room: room ? room.value : "" };
  }

  $("#profile-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const p = readProfileForm();
    const other = $("#org-other-choice");
    if (other && other.checked && !p.organisation) {
      fieldError(t("profile.org_other_missing"));
      $("#org-other").focus();
      return;
    }
    if (!s.welcomed && !s.token) {
      s.profile = { organisation: p.organisation || null, sector: p.sector || null, room: p.room || null };
      J.store.set(s.key.profile, s.profile);
      mark($("#profile-state"), "pending", t("profile.joining"));
      s.link.start();
      return;
    }
    const ready = s.link.ready;
    mark($("#profile-state"), ready ? "pending" : "waiting", t(ready ? "profile.saving" : "profile.save_later"));
    ui.session.send({ type: "profile", id: J.uuid(), organisation: p.organisation, sector: p.sector, room: p.room });
  });

  $("#profile-cancel").addEventListener("click", () => {
    s.editing = false;
    ui.page.show("app");
    ui.page.selectTab("you");
    $("#edit-profile").focus();
  });

  $("#edit-profile").addEventListener("click", () => {
    if (stale) rebuildProfileForm();
    s.editing = true;
    fillProfileForm();
    $("#profile-title").setAttribute("data-i18n", "profile.edit_title");
    J.setText($("#profile-title"), t("profile.edit_title"));
    $("#profile-submit").setAttribute("data-i18n", "profile.save");
    J.setText($("#profile-submit"), t("profile.save"));
    $("#profile-cancel").hidden = false;
    mark($("#profile-state"), "", "");
    ui.page.show("profile");
    $("#profile-title").setAttribute("tabindex", "-1");
    $("#profile-title").focus();
  });

  function renderProfile() {
    const p = s.profile || {};
    const dl = J.clear($("#you-summary"));
    profileRows(p, !!(s.facts && s.facts.rooms && s.facts.rooms.length)).forEach((row) => {
      dl.appendChild(el("dt", { text: t(row[0]) }));
      dl.appendChild(el("dd", { text: row[1] || t(row[0] === "you.room" ? "profile.room_none" : "you.not_given") }));
    });
    const org = $("#c-organisation");
    if (!org.value && p.organisation) org.value = p.organisation;
    ui.cards.refreshAll();
  }

  /** Every answer the person gave, with how it ended: under "You", and a notice on the
   * Answer tab for those whose card is gone and that did not end saved. */
  function renderLog() {
    const got = answerLines(s.log, s.answers, Object.keys(s.acts), (k) => s.outbox.answerFor(k), ui.cards.isOpen);
    const list = J.clear($("#you-answers"));
    got.lines.forEach((line) => {
      const k = line.key, a = J.own(s.acts, k), rec = line.record, st = line.state;
      const given = line.pending ? describe(a, line.pending.value) : rec ? rec.text || describe(a, rec.given) : describe(a, s.answers.get(k));
      let text;
      if (st === "pending") text = s.link.ready && ui.session.stalled() ? t("card.offline") : s.link.ready ? t("card.sending") : t("you.not_sent");
      else if (st === "refused") text = t("you.not_saved", { reason: rec.reason });
      else text = t("card.saved");
      list.appendChild(el("li", { "data-activity": k, "data-state": st, "data-given": JSON.stringify(line.given),
        "data-kept": s.answers.has(k) ? JSON.stringify(s.answers.get(k)) : null },
        el("p", { class: "prompt", text: (rec && rec.prompt) || (a && a.prompt) || k }),
        el("p", {}, el("span", { class: "muted", text: t("you.you_gave") }), given),
        el("p", { class: "save-state", "data-state": st === "refused" ? "error" : st === "pending" ? "waiting" : "saved", text: text }),
        st === "refused" ? el("p", { class: "hint", text: a ? kept(a, s.answers) : t(s.answers.has(k) ? "card.kept_earlier_short" : "card.kept_nothing") }) : null));
    });
    $("#no-answers").hidden = got.lines.length > 0;
    const notice = $("#answer-notice");
    const parts = [];
    if (got.notSaved) parts.push(t("answer.not_saved_closed", { n: got.notSaved }));
    if (got.waiting) parts.push(t("answer.waiting_here", { n: got.waiting }));
    notice.hidden = !parts.length;
    notice.setAttribute("data-state", got.notSaved ? "error" : "waiting");
    J.setText($("#answer-notice-text"), parts.join(" "));
  }
  $("#answer-notice-go").addEventListener("click", () => {
    ui.page.selectTab("you");
    $("#you-answers-title").setAttribute("tabindex", "-1");
    $("#you-answers-title").focus();
  });

  /** A new language: the organisations' count and the join form's title. */
  function reword() {
    if (built) filterOrgs();
    if (!s.welcomed && !s.editing && s.facts.title && $("#view-profile").hidden === false) {
      J.setText($("#profile-title"), t("profile.join_title", { title: s.facts.title }));
    }
  }

  return { buildProfileForm, rebuildProfileForm, renderProfile, renderLog, reword };
}

/** A card's fields (#c-FIELD); the first five are required. */
const CARD_FIELDS = ["organisation", "service", "offer", "referral", "contact", "name", "role"];
const REQUIRED = CARD_FIELDS.slice(0, 5);

/** The card to send: fields trimmed, empty ones left out. */
function cardFrom(read) {
  const card = {};
  CARD_FIELDS.forEach((f) => {
    const v = read(f).trim();
    if (v) card[f] = v;
  });
  return card;
}

/** Whether a card has every required field. */
function cardComplete(card) { return REQUIRED.every((f) => !!J.own(card, f)); }

/** A shared card's rows, [key, text], empty ones left out. */
function cardRows(c) {
  return [["dir.row_offer", c.offer], ["dir.row_referral", c.referral], ["dir.row_contact", c.contact],
    ["dir.row_person", [c.name, c.role].filter(Boolean).join(", ")]].filter((row) => row[1]);
}

/** The directory: the share form, and the cards shared. */
function directoryView(s, ui) {
  function read(f) { return $("#c-" + f).value; }
  function input() { $("#card-submit").disabled = !(cardComplete(cardFrom(read)) && $("#c-consent").checked); }
  const form = $("#card-form");
  form.addEventListener("input", input);
  form.addEventListener("change", input);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!$("#c-consent").checked) return;
    ui.session.send({ type: "card", id: J.uuid(), card: cardFrom(read) });
    mark($("#card-state"), s.link.ready ? "pending" : "waiting", t(s.link.ready ? "dir.sharing" : "dir.share_later"));
  });

  function render() {
    const list = J.clear($("#cards"));
    $("#no-cards").hidden = s.directory.length > 0;
    s.directory.forEach((c) => {
      const dl = el("dl");
      cardRows(c).forEach((row) => { dl.append(el("dt", { text: t(row[0]) }), el("dd", { text: row[1] })); });
      list.appendChild(el("li", { class: "card svc" },
        el("h4", { class: "prompt", text: c.service }), el("p", { class: "eyebrow", text: c.organisation }), dl));
    });
  }

  /** The person's card is saved: say so, and offer to update it. */
  function shared() {
    mark($("#card-state"), "saved", t(moderated(s.facts) ? "dir.shared_moderated" : "dir.shared"));
    $("#card-summary").setAttribute("data-i18n", "dir.update");
    J.setText($("#card-summary"), t("dir.update"));
  }

  return { render, shared };
}

const s = pageState(codeFromAddress(), J.store);

const VIEWS = ["loading", "error", "ended", "profile", "app"];
/** The views and tabs. */
const page = {
  show: (name) => {
    VIEWS.forEach((v) => { $("#view-" + v).hidden = v !== name; });
  },
  showError: (text) => {
    J.setText($("#error-text"), text);
    page.show("error");
  },
  selectTab: (name) => {
    Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), (b) => {
      const on = b.getAttribute("data-tab") === name;
      if (on) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
      $("#panel-" + b.getAttribute("data-tab")).hidden = !on;
    });
  }
};
$(".tabs").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-tab]");
  if (b) page.selectTab(b.getAttribute("data-tab"));
});

// Each part gets the state and this table of the others, full before anything is drawn.
const ui = { page: page };
ui.session = attendeeSession(s, ui);
ui.cards = activityCards(s, ui);
ui.results = resultsView(s);
ui.you = youView(s, ui);
ui.directory = directoryView(s, ui);
ui.qa = qaView({
  facts: () => s.facts,
  profile: () => s.profile,
  questions: () => s.questions,
  voted: s.voted,
  pendingVote: (id) => {
    let pending = false;
    s.outbox.forEach((m) => { if (m.type === "upvote" && m.question === id) pending = true; });
    return pending;
  },
  send: ui.session.send,
  ready: () => s.link.ready,
  chooseRoom: (room) => {
    const p = s.profile || {};
    ui.session.send({ type: "profile", id: J.uuid(), organisation: p.organisation || null, sector: p.sector || null, room: room });
  }
});

// The switch under "You": every language offered, by its own name. A change re-words the
// page in place (typed text stays); the choice is kept on this device.
function buildLanguageSwitch() {
  const select = $("#lang");
  LANGUAGES.forEach((l) => {
    select.appendChild(J.el("option", { value: l.code, lang: l.code, dir: l.dir, text: l.name, selected: l.code === language() }));
  });
  select.value = language();
  select.addEventListener("change", () => {
    use(select.value).then((lang) => {
      remember(lang, safeStorage());
      rewordPage();
    });
  });
}

function rewordPage() {
  translatePage(document);
  ui.qa.render();
  ui.cards.reword();
  if (s.facts) {
    J.setText($("#ask-hint"), t(moderated(s.facts) ? "qa.moderated" : "qa.unmoderated"));
    ui.you.reword();
  }
  if (s.ended) J.setText($("#ended-text"), t("ended.text"));
  ui.qa.askInput();
  ui.session.setConn();
  ui.you.renderProfile();
  ui.qa.renderQuestions();
  ui.directory.render();
  ui.you.renderLog();
  ui.cards.updateCount();
  ui.results.markAll();
}

// A service worker keeps this page and its scripts, so a reload without a network shows
// the page, its outbox and what was saved (from this phone's storage), not an error page.
function keepOffline() {
  const sw = navigator.serviceWorker;
  if (!sw || !window.isSecureContext) return;
  sw.register("/sw.js", { scope: "/e/" }).then(() => sw.ready).then((reg) => {
    const urls = [location.pathname];
    performance.getEntriesByType("resource").forEach((e) => {
      const u = new URL(e.name);
      if (u.origin === location.origin && u.pathname.indexOf("/assets/") === 0) urls.push(u.pathname + u.search);
    });
    if (reg.active) reg.active.postMessage({ type: "keep", urls: urls });
  }).catch(() => { /* no offline shell: the page works as before */ });
}

// A frame on another site may be refused this phone's storage: the page then keeps the
// token in memory only, and says what that means.
const storageRefused = safeStorage() === null;
$("#memory-only").hidden = !storageRefused;
$("#memory-only-join").hidden = !storageRefused;

// Outbox items of a previous visit keep the status line honest from the start.
buildLanguageSwitch();
ui.qa.askInput();
ui.session.setConn();
ui.you.renderLog();
ui.session.start();
keepOffline();
