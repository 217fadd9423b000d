/**
 * The wire's UUIDs in one place: the pattern the schemas check, the zod
 * schema built on it, and the hot paths' check, which also lowercases.
 * Python's `uuid.UUID` accepts every version, so any 8-4-4-4-12 hex UUID is
 * one, in either case; its canonical form (in channel names, in decoded
 * events) is lowercase.
 */
import { z } from "zod";

/**
 * Any 8-4-4-4-12 hex UUID, either case: zod's public `guid` pattern, which
 * {@link UuidSchema} checks (and JSON Schema shows) by construction.
 */
export const UUID_PATTERN: RegExp = z.regexes.guid;

/**
 * A UUID in either case, normalised to lowercase. `overwrite`, not
 * `transform`: the type stays a UUID string, so JSON Schema (and the
 * gateway's OpenAPI description) can show it as input and as output.
 */
export const UuidSchema = z
  .stringFormat("guid", UUID_PATTERN, { error: "must be a UUID" })
  .overwrite((uuid) => uuid.toLowerCase());

/**
 * `value` lowercased if {@link UUID_PATTERN} matches it, else `undefined`.
 * A loop over the characters rather than the pattern: it also learns whether
 * lowercasing is needed, and runs on every UUID of every event
 * (test/uuid.test.ts holds it to the pattern).
 */
export function canonicalUuid(value: unknown): string | undefined {
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
