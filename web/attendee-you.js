/* Joinup attendee page: the person. The profile form (to join, and from "You"), "You"
   (the profile, every answer given and how it ended) and the directory (their service
   card, and others'). Nothing runs on import (tests/browser/attendee-logic.test.mjs). */
import { mark, moderated } from "./attendee-session.js";
import { describe } from "./kinds.js";
import { kept } from "./attendee-cards.js";
import { t } from "./i18n.js";
import * as J from "./common.js";

const el = J.el, $ = J.$;

/** Text as the organisation search compares it. */
export function norm(s) { return s.toLowerCase().replace(/[^a-z0-9 ]+/g, " ").replace(/\s+/g, " ").trim(); }

/** Organisations alphabetically, whatever the spec's order, so a name is where one looks. */
export function sortOrganisations(orgs) {
  return (orgs || []).slice().sort((x, y) => { return x.name.localeCompare(y.name, undefined, { sensitivity: "base" }); });
}

/** The profile's rows, [key, value or null]; the room only if the event has rooms. */
export function profileRows(p, hasRooms) {
  const rows = [["you.organisation", p.organisation || null], ["you.sector", p.sector || null]];
  if (hasRooms) rows.push(["you.room", p.room || null]);
  return rows;
}

/** "Your answers" in programme order (`order`), and the Answer tab notice's counts: those
 * waiting or refused whose card is gone (not `isOpen`). */
export function answerLines(log, answers, order, pending, isOpen) {
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
export function youView(s, ui) {
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
export const CARD_FIELDS = ["organisation", "service", "offer", "referral", "contact", "name", "role"];
const REQUIRED = CARD_FIELDS.slice(0, 5);

/** The card to send: fields trimmed, empty ones left out. */
export function cardFrom(read) {
  const card = {};
  CARD_FIELDS.forEach((f) => {
    const v = read(f).trim();
    if (v) card[f] = v;
  });
  return card;
}

/** Whether a card has every required field. */
export function cardComplete(card) { return REQUIRED.every((f) => !!J.own(card, f)); }

/** A shared card's rows, [key, text], empty ones left out. */
export function cardRows(c) {
  return [["dir.row_offer", c.offer], ["dir.row_referral", c.referral], ["dir.row_contact", c.contact],
    ["dir.row_person", [c.name, c.role].filter(Boolean).join(", ")]].filter((row) => row[1]);
}

/** The directory: the share form, and the cards shared. */
export function directoryView(s, ui) {
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
