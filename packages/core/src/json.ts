/** A value JSON can carry unchanged: what an event's payload may hold. Read-only. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonObject;

/** A JSON object: the shape of an event's `payload`. Read-only, at every depth. */
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/** True for a non-null, non-array object (what `JSON.parse` gives for `{...}`). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * True when `value` survives `JSON.stringify` then `JSON.parse` unchanged:
 * strings, finite numbers, booleans, null, arrays and plain objects of those.
 * A `Date`, `undefined`, a `Map`, `NaN` or a cycle would be silently altered or
 * throw on the wire, so they are refused before publishing.
 */
export function isJsonValue(value: unknown, depth = 0): value is JsonValue {
  if (depth > 64) return false;
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object":
      if (value === null) return true;
      if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
      return isJsonObject(value, depth);
    default:
      return false;
  }
}

/** True for a plain object all of whose values are {@link isJsonValue}. */
export function isJsonObject(value: unknown, depth = 0): value is JsonObject {
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    if (!isJsonValue(value[key], depth + 1)) return false;
  }
  return true;
}
