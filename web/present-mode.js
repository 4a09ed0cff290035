/* Present mode: the programme as a walk of steps, two for each activity (open it and put it
   on screen, then show its results), and the commands that take the room one step on (→ or
   space) or back (←). Pure: the host page sends what these return.

   Each screen shows one thing at a time. Opening an activity closes the open activities
   before it that share its screen: a plenary one closes everything before it, a break-out
   room's one closes what came before in that room and in plenary (break-outs run side by
   side, so Room B's activity never closes Room A's). A plenary activity goes on the main
   screen; a break-out's is followed by its room's own screen, and the main screen goes
   back to the join code and questions. */

/** The steps, in programme order: {key, action: "open" | "reveal", session, room}; none for
    the activities for after the event. */
export function steps(sessions) {
  const walk = [];
  (sessions || []).forEach((s, session) => {
    (s.activities || []).forEach((a) => {
      // An activity for after the event opens by itself when the live part ends.
      if (a.window === "after") return;
      const room = a.room !== undefined && a.room !== null ? a.room : s.room || null;
      walk.push({ key: a.key, action: "open", session, room });
      walk.push({ key: a.key, action: "reveal", session, room });
    });
  });
  return walk;
}

function row(rows, key) {
  return (rows && Object.prototype.hasOwnProperty.call(rows, key) && rows[key]) || { state: "ready", revealed: false };
}

/**
 * The last step taken, from what the server says (-1 before the first): the activity on
 * the main screen if there is one, else the furthest activity ever opened; its reveal step
 * once its results show.
 */
export function position(walk, rows, focus) {
  const openStep = (key) => walk.findIndex((st) => st.key === key && st.action === "open");
  const at = (key) => openStep(key) + (row(rows, key).revealed ? 1 : 0);
  if (focus && openStep(focus) >= 0) return at(focus);
  let pos = -1;
  walk.forEach((st) => {
    if (st.action === "open" && row(rows, st.key).state !== "ready") pos = Math.max(pos, at(st.key));
  });
  return pos;
}

/** Whether opening `b` takes `a` off its screen (see the header). */
function sharesScreen(a, b) {
  return a.room === null || b.room === null || a.room === b.room;
}

/** The commands that take step `pos + 1`; [] at the end of the programme. */
export function forward(walk, pos, rows, focus) {
  const step = walk[pos + 1];
  if (!step) return [];
  const commands = [];
  if (step.action === "open") {
    walk.slice(0, pos + 1).forEach((st) => {
      if (st.action === "open" && st.key !== step.key && row(rows, st.key).state === "open" && sharesScreen(st, step)) {
        commands.push({ type: "close", activity: st.key });
      }
    });
    if (row(rows, step.key).state !== "open") commands.push({ type: "open", activity: step.key });
    const screen = step.room === null ? step.key : null;
    if (focus !== screen) commands.push({ type: "focus", activity: screen });
  } else {
    if (step.room === null && focus !== step.key) commands.push({ type: "focus", activity: step.key });
    if (!row(rows, step.key).revealed) commands.push({ type: "reveal", activity: step.key, show: true });
  }
  return commands;
}

/** The commands that undo step `pos`; [] before the first. */
export function back(walk, pos, rows, focus) {
  const step = walk[pos];
  if (!step) return [];
  if (step.action === "reveal") {
    return row(rows, step.key).revealed ? [{ type: "reveal", activity: step.key, show: false }] : [];
  }
  const commands = [];
  if (row(rows, step.key).state === "open") commands.push({ type: "close", activity: step.key });
  // The screen goes back to the previous activity that was on it.
  let screen = null;
  for (let i = pos - 1; i >= 0; i--) {
    if (walk[i].action === "open" && walk[i].room === null) { screen = walk[i].key; break; }
  }
  if (step.room !== null) screen = focus;
  if (focus !== screen) commands.push({ type: "focus", activity: screen });
  return commands;
}

/** Where the room is once a step is taken, in words (the Present mode bar's "Now"). */
export function describeDone(step, prompt) {
  if (!step) return "Nothing yet";
  const what = "“" + prompt + "”";
  const where = step.room ? " in " + step.room : "";
  return step.action === "open" ? what + " is open" + (step.room ? where : " and on screen") : "Results of " + what + " showing" + where;
}

/** What a step does, in words, for the Present mode bar and the screen reader. */
export function describe(step, prompt) {
  if (!step) return "End of the programme";
  const what = "“" + prompt + "”";
  const where = step.room ? " in " + step.room : "";
  return step.action === "open" ? "Open " + what + where + " and show it" : "Show the results of " + what + where;
}
