import type { z } from "zod";
import { ValidationError } from "./errors.js";
import { type Event, parseEvent, toIssues, WireEventSchema } from "./events.js";
import { checkEvent, checkParsedWireEvent } from "./fast-check.js";

/**
 * Encodes an event as the wire's JSON, after validating it: the fields in the
 * original's order, `timestamp` in UTC with `Z` and millisecond precision.
 *
 * @throws {ValidationError} if the event is not valid; nothing is encoded.
 */
export function encodeEvent(event: Event): string {
  const valid = checkEvent(event) ?? parseEvent(event);
  return JSON.stringify({
    id: valid.id,
    type: valid.type,
    timestamp: valid.timestamp.toISOString(),
    project_id: valid.project_id,
    actor_id: valid.actor_id,
    actor_type: valid.actor_type,
    payload: valid.payload,
  });
}

/** What {@link tryDecodeEvent} found: an event, or why the data is not one. */
export type DecodeResult =
  | { readonly ok: true; readonly event: Event }
  | { readonly ok: false; readonly reason: "json" | "schema"; readonly error: ValidationError };

/**
 * Decodes wire JSON without throwing: the receive path uses it to skip and
 * report a malformed message rather than end a subscription.
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
  return { ok: true, event: fromWire(result.data) };
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
  const result = WireEventSchema.safeParse(json);
  if (!result.success) throw new ValidationError(toIssues(result.error));
  return fromWire(result.data);
}

function fromWire(wire: z.output<typeof WireEventSchema>): Event {
  return {
    id: wire.id,
    type: wire.type,
    timestamp: new Date(wire.timestamp),
    project_id: wire.project_id,
    actor_id: wire.actor_id,
    actor_type: wire.actor_type,
    payload: wire.payload,
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
