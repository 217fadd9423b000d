import {
  ACTOR_TYPES,
  EVENT_TYPES,
  type Event,
  isWireTime,
  MAX_EVENT_ID_LENGTH,
  WireEventSchema,
} from "./events.js";
import {
  isJsonObject,
  isPlainObject,
  type JsonObject,
  jsonProblem,
  type MAX_PAYLOAD_DEPTH,
} from "./json.js";

/*
 * Hand-written checks for the hot paths (publish and receive), run before the
 * zod schemas, which stay the source of truth. Each check either vouches for a
 * value, returning exactly what the zod path returns, or declines
 * (`undefined`), and the caller runs zod, which accepts or explains what is
 * wrong. A check may decline a value zod accepts (it then costs only zod's
 * time), never the reverse; test/fast-validators.test.ts holds them to that.
 *
 * Why: zod builds a new object per level and runs its checks through generic
 * machinery; on a 300-byte event that was most of the receive path's time.
 */

const TYPES: ReadonlySet<unknown> = new Set(EVENT_TYPES);
const ACTORS: ReadonlySet<unknown> = new Set(ACTOR_TYPES);
/** The schema's own pattern, so this fast check cannot drift from it. */
const TIMESTAMP = WireEventSchema.shape.timestamp._zod.pattern;

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
  const projectId = lowerUuid(project_id);
  const actorId = actor_id === null || actor_id === undefined ? null : lowerUuid(actor_id);
  if (projectId === undefined || actorId === undefined) return undefined;
  if (typeof timestamp !== "string" || !TIMESTAMP.test(timestamp)) return undefined;
  const date = dateOf(timestamp);
  if (!isWireTime(date.getTime()) || !isParsedJsonObject(payload)) return undefined;
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

/**
 * `new Date(text)` for a string that matched the wire's ISO 8601 pattern,
 * read field by field (V8's general date parser cost as much as the rest of
 * the check): milliseconds from the first three fraction digits, the rest
 * truncated, as V8 does. Years below 100, which `Date.UTC` would read as
 * 19xx, go to `new Date`.
 */
function dateOf(text: string): Date {
  const year = digits(text, 0, 4);
  if (year < 100) return new Date(text);
  let at = 19;
  let ms = 0;
  if (text.charCodeAt(at) === 0x2e /* . */) {
    at++;
    for (let scale = 100; isDigit(text.charCodeAt(at)); at++, scale /= 10) {
      if (scale >= 1) ms += (text.charCodeAt(at) - 0x30) * scale;
    }
  }
  let offsetMinutes = 0;
  const zone = text.charCodeAt(at);
  if (zone !== 0x5a /* Z */) {
    const minutes = digits(text, at + 1, 2) * 60 + digits(text, at + 4, 2);
    offsetMinutes = zone === 0x2d /* - */ ? -minutes : minutes;
  }
  const utc = Date.UTC(
    year,
    digits(text, 5, 2) - 1,
    digits(text, 8, 2),
    digits(text, 11, 2),
    digits(text, 14, 2),
    digits(text, 17, 2),
    ms,
  );
  return new Date(utc - offsetMinutes * 60_000);
}

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) value = value * 10 + text.charCodeAt(i) - 0x30;
  return value;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * `value` lowercased if it is an 8-4-4-4-12 hex UUID (zod's `z.guid()`), else
 * `undefined`. A loop over the characters rather than the pattern: it also
 * learns whether lowercasing is needed, and runs on every UUID of every event.
 */
function lowerUuid(value: unknown): string | undefined {
  if (typeof value !== "string" || value.length !== 36) return undefined;
  let upper = false;
  for (let i = 0; i < 36; i++) {
    const code = value.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (code !== 0x2d) return undefined; // -
    } else if (code >= 0x61 /* a */) {
      if (code > 0x66 /* f */) return undefined;
    } else if (code >= 0x41 /* A */) {
      if (code > 0x46 /* F */) return undefined;
      upper = true;
    } else if (code < 0x30 /* 0 */ || code > 0x39 /* 9 */) {
      return undefined;
    }
  }
  return upper ? value.toLowerCase() : value;
}

function isParsedJsonObject(value: unknown): value is JsonObject {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    jsonProblem(value) === undefined
  );
}
