import type { z } from "zod";
import { ValidationError } from "./errors.js";
import { type Event, parseEvent, toIssues, WireEventSchema } from "./events.js";
import { checkEvent, checkParsedWireEvent } from "./fast-check.js";
import { type Position, positionOfEvent } from "./history/position.js";
import { readWirePosition, WIRE_POSITION_FIELD } from "./history/wire.js";
import type { JsonObject, MAX_PAYLOAD_DEPTH } from "./json.js";

/**
 * Encodes an event as the wire's JSON, after validating it: the fields in the
 * original's order, `timestamp` in UTC with `Z` and millisecond precision.
 *
 * @throws {ValidationError} if the event is not valid (a payload nesting deeper
 * than {@link MAX_PAYLOAD_DEPTH} levels included); nothing is encoded.
 */
export function encodeEvent(event: Event): string {
  const valid = checkEvent(event) ?? parseEvent(event);
  // The same text JSON.stringify gives for the object of these fields in this
  // order, at half the cost: once validated, the UUIDs, the enum values and the
  // ISO timestamp hold no character JSON escapes, so only the id and the
  // payload go through JSON.stringify.
  const actorId = valid.actor_id === null ? "null" : `"${valid.actor_id}"`;
  return `{"id":${JSON.stringify(valid.id)},"type":"${valid.type}","timestamp":"${isoString(valid.timestamp)}","project_id":"${valid.project_id}","actor_id":${actorId},"actor_type":"${valid.actor_type}","payload":${JSON.stringify(valid.payload)}}`;
}

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0"));

/**
 * `date.toISOString()`, computed from the time value (`toISOString` cost
 * ~400 ns per call, more than the rest of encoding), for a validated event's
 * timestamp: its year has four digits (0001-9999), as the wire requires.
 */
function isoString(date: Date): string {
  const time = date.getTime();
  const days = Math.floor(time / DAY_MS);
  const ms = time - days * DAY_MS;
  // Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1_460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const seconds = Math.floor(ms / 1_000);
  const hh = TWO_DIGITS[Math.floor(seconds / 3_600)];
  const mm = TWO_DIGITS[Math.floor(seconds / 60) % 60];
  const ss = TWO_DIGITS[seconds % 60];
  const fraction = String(ms % 1_000).padStart(3, "0");
  return `${String(year).padStart(4, "0")}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${hh}:${mm}:${ss}.${fraction}Z`;
}

/** What {@link tryDecodeEvent} found: an event, or why the data is not one. */
export type DecodeResult =
  | { readonly ok: true; readonly event: Event }
  | { readonly ok: false; readonly reason: "json" | "schema"; readonly error: ValidationError };

/**
 * Decodes wire JSON without throwing: the receive path uses it to skip and
 * report a malformed message rather than end a subscription. `JSON.parse`
 * does not recurse (any depth parses), and nothing after it walks deeper
 * than {@link MAX_PAYLOAD_DEPTH} levels, so no message overflows the stack.
 */
export function tryDecodeEvent(data: string): DecodeResult {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (cause) {
    const message = `not JSON: ${cause instanceof Error ? cause.message : String(cause)}`;
    return {
      ok: false,
      reason: "json",
      error: new ValidationError([{ path: [], message }], { cause }),
    };
  }
  const event = checkParsedWireEvent(json);
  if (event !== undefined) return { ok: true, event };
  const result = WireEventSchema.safeParse(json);
  if (!result.success) {
    return { ok: false, reason: "schema", error: new ValidationError(toIssues(result.error)) };
  }
  return { ok: true, event: fromWire(result.data, json) };
}

/** What {@link tryDecodePositionedEvent} found: {@link DecodeResult}, with the event's position when it had one. */
export type PositionedDecodeResult =
  | {
      readonly ok: true;
      readonly event: Event;
      /** Where the event sits in its channel's history; `undefined` when published without history. */
      readonly position: Position | undefined;
    }
  | Extract<DecodeResult, { ok: false }>;

/**
 * {@link tryDecodeEvent} for a channel with history: also reads the position
 * the history publish script adds to each message (a `_position` field, see
 * `docs/history.md`). A message without one (a plain `PUBLISH`, such as the
 * Python original's) decodes with `position: undefined`; one whose
 * `_position` is not a position fails with reason `"schema"`.
 */
export function tryDecodePositionedEvent(data: string): PositionedDecodeResult {
  const decoded = tryDecodeEvent(data);
  if (!decoded.ok) return decoded;
  const wire = readWirePosition(data);
  if (!wire.ok) {
    const issue = { path: [WIRE_POSITION_FIELD], message: wire.message };
    return { ok: false, reason: "schema", error: new ValidationError([issue]) };
  }
  const { event } = decoded;
  const at = wire.position;
  return {
    ok: true,
    event,
    position: at === undefined ? undefined : positionOfEvent(at.epoch, at.offset, event.id),
  };
}

/**
 * Checks that an already parsed JSON value is a valid event in the wire format
 * and returns it as an {@link Event}: what {@link decodeEvent} does after
 * `JSON.parse`, for callers that hold parsed JSON, such as an HTTP server
 * reading a request body.
 *
 * @throws {ValidationError} listing every field that is wrong.
 */
export function parseWireEvent(json: unknown): Event {
  const event = checkParsedWireEvent(json);
  if (event !== undefined) return event;
  const result = WireEventSchema.safeParse(json);
  if (!result.success) throw new ValidationError(toIssues(result.error));
  return fromWire(result.data, json);
}

/**
 * The event of a message zod validated. The payload is the message's own,
 * not zod's copy: the copy drops `__proto__` keys, which JSON carries as
 * data like any other key (zod, and `jsonProblem` before it for what zod
 * skips, validated the original, and change nothing else in it).
 */
function fromWire(wire: z.output<typeof WireEventSchema>, json: unknown): Event {
  return {
    id: wire.id,
    type: wire.type,
    timestamp: new Date(wire.timestamp),
    project_id: wire.project_id,
    actor_id: wire.actor_id,
    actor_type: wire.actor_type,
    payload: (json as { readonly payload: JsonObject }).payload,
  };
}

/**
 * Decodes the wire's JSON into an event. Accepts what the original Python
 * service writes: ISO 8601 timestamps with `Z` or an offset, with or without
 * fractional seconds (microseconds are truncated to milliseconds, a `Date`'s
 * precision), and `actor_id` null or absent. Unknown fields are ignored.
 *
 * @throws {ValidationError} if `data` is not JSON or not a valid event.
 */
export function decodeEvent(data: string): Event {
  const result = tryDecodeEvent(data);
  if (!result.ok) throw result.error;
  return result.event;
}
