import {
  ACTOR_TYPES,
  EVENT_ID_PATTERN,
  EVENT_TYPES,
  type Event,
  MAX_EVENT_ID_LENGTH,
  WireEventSchema,
} from "./events.js";
import { isJsonObject, isPlainObject, type JsonObject } from "./json.js";

/*
 * Hand-written checks for the hot paths (publish and receive), run before the
 * zod schemas, which stay the source of truth. Each check either vouches for a
 * value, returning exactly what the zod path returns, or declines
 * (`undefined`), and the caller runs zod, which accepts or explains what is
 * wrong. A check may decline a value zod accepts (it then costs only zod's
 * time), never the reverse; test/fast-check.test.ts holds them to that.
 *
 * Why: zod builds a new object per level and runs its checks through generic
 * machinery; on a 300-byte event that was most of the receive path's time.
 */

const TYPES: ReadonlySet<unknown> = new Set(EVENT_TYPES);
const ACTORS: ReadonlySet<unknown> = new Set(ACTOR_TYPES);
/** The schemas' own patterns, so the fast checks cannot drift from them. */
const UUID = WireEventSchema.shape.project_id.in._zod.pattern;
const TIMESTAMP = WireEventSchema.shape.timestamp._zod.pattern;
/** Deeper payloads are left to zod. */
const MAX_DEPTH = 64;

/**
 * The event `parseEvent(value)` would return (same fields, UUIDs lowercased,
 * same `timestamp` and `payload` objects), or `undefined` to let zod decide.
 */
export function checkEvent(value: unknown): Event | undefined {
  if (!isPlainObject(value)) return undefined;
  const { id, type, project_id, actor_id, actor_type, timestamp, payload } = value;
  if (!isEventId(id) || !TYPES.has(type) || !ACTORS.has(actor_type)) return undefined;
  const projectId = lowerUuid(project_id);
  const actorId = actor_id === null ? null : lowerUuid(actor_id);
  if (projectId === undefined || actorId === undefined) return undefined;
  if (!(timestamp instanceof Date) || Number.isNaN(timestamp.getTime())) return undefined;
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
 * is `JSON.parse`'s object itself, not a copy; payloads zod would alter (a
 * `__proto__` key, which it drops) or refuse (a number beyond double range,
 * parsed as `Infinity`) are left to zod.
 */
export function checkParsedWireEvent(json: unknown): Event | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const { id, type, timestamp, project_id, actor_id, actor_type, payload } = json as Record<
    string,
    unknown
  >;
  if (!isEventId(id) || !TYPES.has(type) || !ACTORS.has(actor_type)) return undefined;
  const projectId = lowerUuid(project_id);
  const actorId = actor_id === null || actor_id === undefined ? null : lowerUuid(actor_id);
  if (projectId === undefined || actorId === undefined) return undefined;
  if (typeof timestamp !== "string" || !TIMESTAMP.test(timestamp)) return undefined;
  if (!isParsedJsonObject(payload)) return undefined;
  return {
    id,
    type: type as Event["type"],
    timestamp: new Date(timestamp),
    project_id: projectId,
    actor_id: actorId,
    actor_type: actor_type as Event["actor_type"],
    payload,
  };
}

function isEventId(value: unknown): value is string {
  return (
    typeof value === "string" &&
    value.length >= 1 &&
    value.length <= MAX_EVENT_ID_LENGTH &&
    EVENT_ID_PATTERN.test(value)
  );
}

function lowerUuid(value: unknown): string | undefined {
  return typeof value === "string" && UUID.test(value) ? value.toLowerCase() : undefined;
}

function isParsedJsonObject(value: unknown): value is JsonObject {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && isCleanJson(value, 0)
  );
}

/** For `JSON.parse` output: no `Infinity` and no `__proto__` key at any depth. */
function isCleanJson(value: unknown, depth: number): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value !== "object" || value === null) return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!isCleanJson(item, depth + 1)) return false;
    return true;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) {
    if (key === "__proto__" || !isCleanJson(object[key], depth + 1)) return false;
  }
  return true;
}
