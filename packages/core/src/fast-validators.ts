import { ACTOR_TYPES, EVENT_TYPES, type Event, MAX_EVENT_ID_LENGTH, parseEvent } from "./events.js";
import {
  isJsonObject,
  isPlainObject,
  type JsonObject,
  jsonProblem,
  type MAX_PAYLOAD_DEPTH,
} from "./json.js";
import { isWireTime, parseTimestamp } from "./timestamp.js";
import { canonicalUuid } from "./uuid.js";

/*
 * Hand-written checks for the hot paths (publish and receive), run before the
 * zod schemas of events.ts, which stay the source of truth: the UUID and
 * timestamp checks here are the ones beside the patterns those schemas use
 * (uuid.ts, timestamp.ts). Each check either vouches for a value, returning
 * exactly what the zod path returns, or declines (`undefined`), and the
 * caller runs zod, which accepts or explains what is wrong. A check may
 * decline a value zod accepts (it then costs only zod's time), never the
 * reverse; test/fast-validators.test.ts holds them to that.
 *
 * Why: zod builds a new object per level and runs its checks through generic
 * machinery; on a 300-byte event that was most of the receive path's time.
 */

const TYPES: ReadonlySet<unknown> = new Set(EVENT_TYPES);
const ACTORS: ReadonlySet<unknown> = new Set(ACTOR_TYPES);

declare const VALIDATED: unique symbol;

/**
 * An {@link Event} that {@link validateEvent} vouched for: its UUIDs are
 * lowercase, its type and actor type are enum values, its timestamp is an
 * instant the wire carries and its payload is JSON. What the encoder relies
 * on, so it takes only this type.
 */
export type ValidEvent = Event & { readonly [VALIDATED]: true };

/**
 * The event `parseEvent(value)` returns, marked as validated: the fast check
 * when it vouches, zod otherwise.
 *
 * @throws {ValidationError} listing every field that is wrong.
 */
export function validateEvent(value: unknown): ValidEvent {
  return (checkEvent(value) ?? parseEvent(value)) as ValidEvent;
}

/**
 * The event `parseEvent(value)` would return (same fields, UUIDs lowercased,
 * same `timestamp` and `payload` objects), or `undefined` to let zod decide.
 */
export function checkEvent(value: unknown): Event | undefined {
  if (!isPlainObject(value)) return undefined;
  const { id, type, project_id, actor_id, actor_type, timestamp, payload } = value;
  if (!isEventId(id) || !TYPES.has(type) || !ACTORS.has(actor_type)) return undefined;
  const projectId = canonicalUuid(project_id);
  const actorId = actor_id === null ? null : canonicalUuid(actor_id);
  if (projectId === undefined || actorId === undefined) return undefined;
  if (!(timestamp instanceof Date) || !isWireTime(timestamp.getTime())) return undefined;
  if (!isJsonObject(payload)) return undefined;
  return {
    id,
    type: type as Event["type"],
    project_id: projectId,
    actor_id: actorId,
    actor_type: actor_type as Event["actor_type"],
    timestamp,
    payload,
  };
}

/**
 * The event decoding `json` (a value `JSON.parse` produced) with
 * `WireEventSchema` would give, or `undefined` to let zod decide. The payload
 * is `JSON.parse`'s object itself, not a copy (as on the zod path); payloads
 * zod refuses (a number beyond double range, parsed as `Infinity`, or nesting
 * deeper than {@link MAX_PAYLOAD_DEPTH}) are left to zod, which says why.
 */
export function checkParsedWireEvent(json: unknown): Event | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const { id, type, timestamp, project_id, actor_id, actor_type, payload } = json as Record<
    string,
    unknown
  >;
  if (!isEventId(id) || !TYPES.has(type) || !ACTORS.has(actor_type)) return undefined;
  const projectId = canonicalUuid(project_id);
  const actorId = actor_id === null || actor_id === undefined ? null : canonicalUuid(actor_id);
  if (projectId === undefined || actorId === undefined) return undefined;
  const date = parseTimestamp(timestamp);
  if (date === undefined || !isParsedJsonObject(payload)) return undefined;
  return {
    id,
    type: type as Event["type"],
    timestamp: date,
    project_id: projectId,
    actor_id: actorId,
    actor_type: actor_type as Event["actor_type"],
    payload,
  };
}

/** The id schema (1-200 characters, no CR, LF or NUL) as a loop: its regex cost more than the rest of the check. */
function isEventId(value: unknown): value is string {
  if (typeof value !== "string" || value.length < 1 || value.length > MAX_EVENT_ID_LENGTH) {
    return false;
  }
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x0a || code === 0x0d || code === 0) return false;
  }
  return true;
}

function isParsedJsonObject(value: unknown): value is JsonObject {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    jsonProblem(value) === undefined
  );
}
