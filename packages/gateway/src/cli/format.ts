/**
 * How `tail` prints an event: one human-readable line, or one JSON line with
 * `--json` (with the event's position, where known).
 */
import { type Event, encodeEvent } from "@eventbus/core";

/** `<timestamp>  <type>  <actor>  <payload JSON>`, columns aligned for the usual widths. */
export function formatLine(event: Event): string {
  const actor =
    event.actor_id === null ? event.actor_type : `${event.actor_type}:${event.actor_id}`;
  return `${event.timestamp.toISOString()}  ${event.type.padEnd(22)} ${actor.padEnd(43)} ${JSON.stringify(event.payload)}`;
}

/**
 * The event in the wire format, on one line, with its position (the string
 * to resume from) as a last `"position"` member when it is known: readers of
 * the wire format ignore the extra member.
 */
export function formatJson(event: Event, position?: string): string {
  const json = encodeEvent(event);
  return position === undefined
    ? json
    : `${json.slice(0, -1)},"position":${JSON.stringify(position)}}`;
}
