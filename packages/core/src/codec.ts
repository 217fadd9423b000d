import type { z } from "zod";
import { ValidationError } from "./errors.js";
import { type Event, toIssues, WireEventSchema } from "./events.js";
import { checkParsedWireEvent, type ValidEvent, validateEvent } from "./fast-validators.js";
import { fingerprintOf, type Position } from "./history/position.js";
import { readWirePosition, WIRE_POSITION_FIELD } from "./history/wire.js";
import type { JsonObject, MAX_PAYLOAD_DEPTH } from "./json.js";
import { formatTimestamp, timestampDate } from "./timestamp.js";

/**
 * Encodes an event as the wire's JSON, after validating it: the fields in the
 * original's order, `timestamp` in UTC with `Z` and millisecond precision.
 *
 * @throws {ValidationError} if the event is not valid (a payload nesting deeper
 * than {@link MAX_PAYLOAD_DEPTH} levels included); nothing is encoded.
 */
export function encodeEvent(event: Event): string {
  return writeEvent(validateEvent(event));
}

/**
 * The same text JSON.stringify gives for the object of these fields in this
 * order, at half the cost. It takes a {@link ValidEvent} because it relies on
 * what validation vouches for: the UUIDs, the enum values and the timestamp
 * (four-digit year, see {@link formatTimestamp}) hold no character JSON
 * escapes, so only the id and the payload go through JSON.stringify.
 */
function writeEvent(event: ValidEvent): string {
  const actorId = event.actor_id === null ? "null" : `"${event.actor_id}"`;
  return `{"id":${JSON.stringify(event.id)},"type":"${event.type}","timestamp":"${formatTimestamp(event.timestamp)}","project_id":"${event.project_id}","actor_id":${actorId},"actor_type":"${event.actor_type}","payload":${JSON.stringify(event.payload)}}`;
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
  // The wire check has validated the epoch and offset: only the fingerprint is added here.
  return {
    ok: true,
    event,
    position: at === undefined ? undefined : { ...at, fingerprint: fingerprintOf(event.id) },
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
    timestamp: timestampDate(wire.timestamp),
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
