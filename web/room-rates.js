/* Response rates and presence by room. A break-out activity's rate counts against the
   people in its room, not the whole event. Pure. */

/** People connected now in `room` (null: the whole event). */
export function presentIn(attendance, room) {
  if (!attendance) return 0;
  if (!room) return attendance.present || 0;
  const rooms = attendance.rooms || {};
  return Object.prototype.hasOwnProperty.call(rooms, room) ? rooms[room] : 0;
}

/** {share (0-100), label}: the responses against the people there now. */
export function rate(total, attendance, room) {
  const base = presentIn(attendance, room);
  const where = room ? "in " + room + " now" : "here now";
  if (!base) return { share: 0, label: room ? "nobody in " + room + " right now" : "nobody connected right now" };
  const share = Math.min(100, Math.round((total * 100) / base));
  return { share, label: share + "% of " + base + " " + where };
}

/** Each of the event's rooms with the people in it now, in programme order. */
export function roomsNow(rooms, attendance) {
  return (rooms || []).map((room) => ({ room, present: presentIn(attendance, room) }));
}
