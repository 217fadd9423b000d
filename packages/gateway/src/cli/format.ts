/** How `tail` prints an event: one human-readable line, or one JSON line with `--json`. */
import { type Event, encodeEvent } from "@eventbus/core";

/** `<timestamp>  <type>  <actor>  <payload JSON>`, columns aligned for the usual widths. */
export function formatLine(event: Event): string {
  const actor =
    event.actor_id === null ? event.actor_type : `${event.actor_type}:${event.actor_id}`;
  return `${event.timestamp.toISOString()}  ${event.type.padEnd(22)} ${actor.padEnd(43)} ${JSON.stringify(event.payload)}`;
}

/** The event in the wire format, on one line. */
export function formatJson(event: Event): string {
  return encodeEvent(event);
}
