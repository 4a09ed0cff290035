/* The event's support card, shown at once to an attendee whose question, text or card may
   disclose a risk (the server's `support` frame): who to turn to now, in a dialog that
   takes focus and closes with its button or Escape. Self-contained: the attendee page only
   calls showSupport(card). */

const PHONE = /^[0-9+][0-9 ()-]{2,}$/;

function node(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => {
    if (k === "text") n.textContent = v;
    else n.setAttribute(k, v);
  });
  kids.forEach((k) => { if (k) n.append(k); });
  return n;
}

/** A contact as a tap-to-call link when it is a phone number, else as text. */
function contact(text) {
  return PHONE.test(text.trim())
    ? node("a", { href: "tel:" + text.replace(/[^0-9+]/g, ""), text })
    : node("span", { text });
}

/** Shows `card` ({title, text, lines: [{name, contact, note?}]}); a second call replaces it. */
export function showSupport(card) {
  if (!card || !Array.isArray(card.lines)) return;
  let dialog = document.getElementById("support-dialog");
  if (!dialog) {
    dialog = node("dialog", { id: "support-dialog", class: "support", "aria-labelledby": "support-title", "aria-describedby": "support-text" });
    document.body.append(dialog);
  }
  dialog.replaceChildren(
    node("h2", { id: "support-title", text: card.title }),
    node("p", { id: "support-text", text: card.text }),
    node("ul", { class: "support-lines" }, ...card.lines.map((l) =>
      node("li", {}, node("strong", { text: l.name }), " ", contact(l.contact), l.note ? node("span", { class: "muted", text: " · " + l.note }) : null))),
    node("form", { method: "dialog" }, node("button", { class: "btn block", type: "submit", text: "Close" })));
  if (!dialog.open) {
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
  }
  dialog.querySelector("button").focus();
}
