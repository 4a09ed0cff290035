// The organiser's "People and links" for one event: issue a revocable link for a host, a
// moderator or a presenter (of the main screen or a break-out room's), each with a label;
// copy it (shown this once: the server keeps only its hash); list the links; revoke one
// after a confirmation, which disconnects whoever holds it at once.

const $ = (sel, root = document) => root.querySelector(sel);

const ROLE_NAMES = { host: "Host", moderator: "Moderator", presenter: "Presenter" };

/**
 * Sets up the part. `api(method, path, body)` answers `{status, body}`; `el(tag, attrs,
 * ...children)` builds an element; `say(text)` announces; `leave()` goes back to the list.
 */
export function people({ api, el, say, leave, signedOut }) {
  const state = { code: null, title: "", rooms: [], revoking: null };

  function fieldError(name, message) {
    const input = $(`#link-${name}`);
    const node = $(`#link-${name}-error`);
    node.textContent = message || "";
    node.hidden = !message;
    if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }

  function clearErrors() { for (const f of ["role", "label", "room"]) fieldError(f, ""); }

  function roomChoice() {
    const presenter = $("#link-role").value === "presenter";
    $("#link-room-field").hidden = !presenter;
    const select = $("#link-room");
    select.replaceChildren(el("option", { value: "", text: "Main screen" }),
      ...state.rooms.map((r) => el("option", { value: r, text: `${r} screen` })));
  }

  $("#link-role").addEventListener("change", roomChoice);

  async function open(event) {
    state.code = event.code;
    state.title = event.title;
    $("#people-event").textContent = `${event.title} (code ${event.code})`;
    $("#issued").hidden = true;
    $("#link-label").value = "";
    clearErrors();
    const facts = await api("GET", `/api/events/${event.code}`);
    state.rooms = facts.status === 200 && Array.isArray(facts.body.rooms) ? facts.body.rooms : [];
    roomChoice();
    await load();
    $("#people-title").focus();
  }

  async function load() {
    const r = await api("GET", `/api/events/${state.code}/links`);
    const list = $("#link-list");
    if (r.status === 401) return signedOut();
    if (r.status !== 200) {
      list.replaceChildren(el("p", { class: "notice error", text: "The links could not be loaded. Try again in a moment." }));
      return;
    }
    const links = r.body.links || [];
    if (!links.length) {
      list.replaceChildren(el("p", { class: "empty muted", text: "No links issued yet." }));
      return;
    }
    // Active links first, each group newest first.
    const ordered = [...links].reverse().sort((a, b) => (a.revoked_at ? 1 : 0) - (b.revoked_at ? 1 : 0));
    list.replaceChildren(el("ul", { class: "link-list", "aria-labelledby": "links-title" }, ordered.map(linkItem)));
  }

  function when(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function linkItem(link) {
    const role = ROLE_NAMES[link.role] || link.role;
    const what = link.role === "presenter" ? `${role}, ${link.room ? `${link.room} screen` : "main screen"}` : role;
    return el("li", { class: "card link-item", "data-link-id": link.id, "data-state": link.revoked_at ? "revoked" : "active" },
      el("div", { class: "row spread" },
        el("h4", { text: link.label }),
        link.revoked_at
          ? el("span", { class: "badge", text: "Revoked" })
          : el("span", { class: "badge ok", text: "Active" })),
      el("p", { class: "muted small" },
        `${what} · issued ${when(link.created_at)}`,
        link.revoked_at ? ` · revoked ${when(link.revoked_at)}` : ""),
      link.revoked_at ? null
        : el("button", { type: "button", class: "btn small danger-outline", "aria-label": `Revoke: ${link.label}`, onclick: () => askRevoke(link) }, "Revoke"));
  }

  $("#link-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    const label = $("#link-label").value.trim();
    if (!label) { fieldError("label", "Say whose link this is, such as \"Room B moderator\"."); $("#link-label").focus(); return; }
    const body = { role: $("#link-role").value, label };
    if (body.role === "presenter" && $("#link-room").value) body.room = $("#link-room").value;
    const r = await api("POST", `/api/events/${state.code}/links`, body);
    if (r.status === 401) return signedOut();
    if (r.status !== 201) {
      const path = r.body && r.body.path;
      const message = (r.body && r.body.message) || "The link was not issued; try again.";
      if (["role", "label", "room"].includes(path)) {
        fieldError(path, message.replace(new RegExp(`^${path}: `), ""));
        $(`#link-${path}`).focus();
      } else say(message);
      return;
    }
    $("#link-label").value = "";
    showIssued(r.body);
    await load();
  });

  function showIssued(link) {
    const box = $("#issued");
    const input = el("input", { type: "text", id: "issued-url", readonly: true, "aria-describedby": "issued-note", value: link.url });
    const state = el("span", { class: "muted small", role: "status", "aria-live": "polite" });
    box.replaceChildren(
      el("h3", { text: `${ROLE_NAMES[link.role] || link.role} link for "${link.label}"` }),
      el("p", { id: "issued-note", text: "Copy it now and send it to them: for security it is shown only this once. Anyone with it can do what the role allows, until you revoke it." }),
      el("div", { class: "field" }, el("label", { for: "issued-url", text: "The link" }), input),
      el("div", { class: "row" },
        el("button", { type: "button", class: "btn small", onclick: () => copy(input, state) }, "Copy link"),
        el("button", { type: "button", class: "btn small quiet", onclick: () => { box.hidden = true; $("#link-label").focus(); } }, "Done"),
        state));
    box.hidden = false;
    box.focus();
  }

  async function copy(input, status) {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = "Copied.";
    } catch {
      status.textContent = "Selected: press Ctrl+C (or ⌘C) to copy.";
    }
  }

  function askRevoke(link) {
    state.revoking = link;
    $("#revoke-text").textContent = `"${link.label}" (${ROLE_NAMES[link.role] || link.role}) is disconnected at once and the link stops working. This cannot be undone; you can issue a new link.`;
    $("#revoke-dialog").showModal();
  }

  $("#revoke-dialog").addEventListener("close", async () => {
    const link = state.revoking;
    state.revoking = null;
    if ($("#revoke-dialog").returnValue !== "revoke" || !link) return;
    const r = await api("DELETE", `/api/events/${state.code}/links/${encodeURIComponent(link.id)}`);
    if (r.status === 401) return signedOut();
    if (r.status === 200) say(`Revoked "${link.label}": disconnected, and the link no longer works.`);
    else say((r.body && r.body.message) || "The link was not revoked; try again.");
    await load();
    $("#links-title").setAttribute("tabindex", "-1");
    $("#links-title").focus();
  });

  $("#people-back").addEventListener("click", leave);

  return { open };
}
