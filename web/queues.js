/* Moderation queues: questions, text answers and cards apart, and the safeguarding
   concerns apart from all three (a concern is never batch-approved with the rest). Pure. */

const STATE_ORDER = { pending: 0, approved: 1, answered: 2, hidden: 3 };

/**
 * items: [{kind: "question" | "text" | "card", data, seq}] (seq: arrival order).
 * Returns {question, text, card, concern}: each a sorted list, and `waiting`, the pending
 * count of each. Questions: waiting first, then shown, answered, hidden; by votes within
 * each, the earlier first on a tie. Texts and cards: waiting first, the newest first.
 * Concerns: waiting first, the newest first.
 */
export function queues(items) {
  const out = { question: [], text: [], card: [], concern: [] };
  (items || []).forEach((i) => { (i.data.concern ? out.concern : out[i.kind]).push(i); });
  const state = (i) => STATE_ORDER[i.data.state] === undefined ? 4 : STATE_ORDER[i.data.state];
  out.question.sort((x, y) => state(x) - state(y) || (y.data.votes || 0) - (x.data.votes || 0) || x.seq - y.seq);
  const newest = (x, y) => state(x) - state(y) || y.seq - x.seq;
  out.text.sort(newest);
  out.card.sort(newest);
  out.concern.sort((x, y) => (x.data.state === "pending" ? 0 : 1) - (y.data.state === "pending" ? 0 : 1) || y.seq - x.seq);
  out.waiting = {};
  Object.keys(out).forEach((k) => {
    if (k !== "waiting") out.waiting[k] = out[k].filter((i) => i.data.state === "pending").length;
  });
  return out;
}

/** The ids a batch may act on: the selected items of one queue that the action changes. */
export function batchTargets(list, selected, action) {
  const changes = { approve: (s) => s !== "approved" && s !== "answered", hide: (s) => s !== "hidden", answered: (s) => s !== "answered" };
  return list.filter((i) => selected.has(i.data.id) && changes[action](i.data.state)).map((i) => i.data.id);
}

const CONCERN_TEXT = { self_harm: "self-harm", suicide: "suicide", abuse: "abuse", danger: "someone in danger" };

/** A concern's category in words. */
export function concernName(concern) {
  return CONCERN_TEXT[concern] || concern;
}
