/* Joinup: the WebSocket close codes every page acts on, by name (docs/protocol.md "Close
   codes"). The attendee's event stream sends the same codes in its `close` event. */

/** Not a code the server sends: the browser's own for a connection lost without a close. */
export const ABNORMAL = 1006;
/** The server is restarting (graceful shutdown): reconnect with jitter. */
export const RESTARTING = 1012;
/** The event has ended: stop. */
export const EVENT_ENDED = 4000;
/** Not authorised (a token refused): stop. */
export const UNAUTHORIZED = 4001;
/** Too slow to keep up, idle, or not joined in time: reconnect and take a fresh snapshot. */
export const TOO_SLOW = 4008;
/** A message too large: stop sending that. */
export const TOO_LARGE = 4009;
/** Too many messages: back off, reconnect. */
export const FLOODING = 4029;

/** The same codes as one frozen table (`CLOSE.EVENT_ENDED`). */
export const CLOSE = Object.freeze({ ABNORMAL, RESTARTING, EVENT_ENDED, UNAUTHORIZED, TOO_SLOW, TOO_LARGE, FLOODING });

/** What a staff page (host, presenter) does on a close: "stop" for good with a reason, or
 * "retry" (a restart, a slow client, flooding, a lost network). */
export function staffCloseAction(code) {
  if (code === UNAUTHORIZED) return "unauthorized";
  if (code === EVENT_ENDED) return "ended";
  return "retry";
}

/** A code the server chose (4000-4999): the close says why, so it is not a network failure. */
export function isApplicationCode(code) { return code >= 4000 && code <= 4999; }
