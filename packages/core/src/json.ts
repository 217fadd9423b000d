/** A value JSON can carry unchanged: what an event's payload may hold. Read-only. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonObject;

/** A JSON object: the shape of an event's `payload`. Read-only, at every depth. */
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/**
 * How deep a payload may nest objects and arrays: 64 levels, the payload
 * object itself being the first (`{"a":{"b":[1]}}` nests 3). One bound on
 * every path: `createEvent`, `publish` and `encodeEvent` refuse a deeper
 * payload with a `ValidationError`, the decoder skips a deeper message as
 * malformed, and the gateway answers 400. 64 because it is what encoding
 * always allowed (so no event that could be published before is refused now),
 * it is below the limits of the JSON parsers our peers use (so whatever we
 * publish, they read), and real payloads nest a handful of levels; it also
 * keeps every walk over a payload, ours, zod's and `JSON.stringify`'s, a few
 * hundred stack frames deep at most.
 */
export const MAX_PAYLOAD_DEPTH = 64;

/** The issue message for a payload nested deeper than {@link MAX_PAYLOAD_DEPTH}. */
export const TOO_DEEP_MESSAGE = `must not nest objects and arrays more than ${MAX_PAYLOAD_DEPTH} levels deep`;

/** The issue message for a payload holding a number beyond double range (`JSON.parse` reads `1e400` as `Infinity`). */
export const NOT_FINITE_MESSAGE = "must hold only finite numbers, within double range";

/** True for a non-null, non-array object (what `JSON.parse` gives for `{...}`). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * What keeps a value `JSON.parse` produced from being a payload's content:
 * objects or arrays nested deeper than {@link MAX_PAYLOAD_DEPTH} (`value`
 * itself, if it is one, being the first level), or a number that is not
 * finite; `undefined` when there is neither. A loop over an explicit stack,
 * not recursion: it guards the recursive walks (zod's, `JSON.stringify`'s)
 * against input a million levels deep, so must not overflow on it itself; it
 * stops at the first level past the bound. On other values it checks the same
 * two things (a cycle counts as too deep).
 */
export function jsonProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return scalarProblem(value);
  // Only objects and arrays go on the stack; other values are checked where they are met.
  const containers: object[] = [value];
  const levels: number[] = [1];
  for (let container = containers.pop(); container !== undefined; container = containers.pop()) {
    const level = levels.pop() as number;
    if (level > MAX_PAYLOAD_DEPTH) return TOO_DEEP_MESSAGE;
    const children: readonly unknown[] = Array.isArray(container)
      ? container
      : Object.values(container);
    for (let i = 0; i < children.length; i++) {
      const child = children[i];
      if (typeof child === "object" && child !== null) {
        containers.push(child);
        levels.push(level + 1);
      } else if (scalarProblem(child) !== undefined) {
        return NOT_FINITE_MESSAGE;
      }
    }
  }
  return undefined;
}

/** The problem of a value that is not an object or array: only a number that is not finite has one. */
function scalarProblem(value: unknown): string | undefined {
  return typeof value === "number" && !Number.isFinite(value) ? NOT_FINITE_MESSAGE : undefined;
}

/**
 * True for what a payload may be: a plain object that survives
 * `JSON.stringify` then `JSON.parse` unchanged (strings, finite numbers,
 * booleans, null, arrays and plain objects of those) and nests at most
 * {@link MAX_PAYLOAD_DEPTH} levels. A `Date`, `undefined`, a `Map`, `NaN`, a
 * hole in an array (written as `null`) or a cycle would be silently altered
 * or throw on the wire, so they are refused before publishing. The recursion
 * stops at the bound, so no value overflows the stack.
 */
export function isJsonObject(value: unknown): value is JsonObject {
  return isPlainObject(value) && membersAreJson(value, 1);
}

/** True when every member of `object`, which sits at `level`, is JSON within the bound. */
function membersAreJson(object: Record<string, unknown>, level: number): boolean {
  for (const key in object) {
    if (!isJsonValue(object[key], level + 1)) return false;
  }
  return true;
}

/** True when `array`, which sits at `level`, has no holes and only JSON items within the bound. */
function itemsAreJson(array: readonly unknown[], level: number): boolean {
  let items = 0;
  // `every` skips holes, so counting its calls finds them without a second pass.
  const json = array.every((item) => {
    items++;
    return isJsonValue(item, level + 1);
  });
  return json && items === array.length;
}

/** True when `value`, at `level` if it is an object or array, is JSON within the bound. */
function isJsonValue(value: unknown, level: number): value is JsonValue {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object":
      if (value === null) return true;
      if (level > MAX_PAYLOAD_DEPTH) return false;
      if (Array.isArray(value)) return itemsAreJson(value, level);
      return isPlainObject(value) && membersAreJson(value, level);
    default:
      return false;
  }
}
