/**
 * The hot paths' UUID check (`canonicalUuid`, a loop) must accept exactly what
 * the schemas' pattern accepts, and give what `UuidSchema` gives.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalUuid, UUID_PATTERN, UuidSchema } from "../src/uuid.js";

const UUID = "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b";

/** Strings near a UUID: valid ones in any case, and ones with one character changed, cut or added. */
const nearUuids = fc.oneof(
  fc.stringMatching(UUID_PATTERN),
  fc
    .tuple(fc.stringMatching(UUID_PATTERN), fc.nat(36), fc.string({ maxLength: 2 }), fc.nat(2))
    .map(([uuid, at, insert, cut]) => uuid.slice(0, at) + insert + uuid.slice(at + cut)),
  fc.string({ minLength: 36, maxLength: 36 }),
  fc.string(),
);

/** What the schema path gives: `UuidSchema`'s output, or undefined when it refuses. */
function viaSchema(value: unknown): string | undefined {
  const result = UuidSchema.safeParse(value);
  return result.success ? result.data : undefined;
}

describe("uuid - one check", () => {
  it("uuid - canonicalUuid agrees with the schema on every string near a UUID", () => {
    fc.assert(
      fc.property(nearUuids, (text) => {
        expect(canonicalUuid(text) !== undefined, text).toBe(UUID_PATTERN.test(text));
        expect(canonicalUuid(text), text).toBe(viaSchema(text));
      }),
      { numRuns: 1_000 },
    );
  });

  it("uuid - lowercases a UUID in capitals and returns a lowercase one as given", () => {
    expect(canonicalUuid(UUID.toUpperCase())).toBe(UUID);
    expect(canonicalUuid("AbCdEf01-2345-6789-ABCD-ef0123456789")).toBe(
      "abcdef01-2345-6789-abcd-ef0123456789",
    );
    expect(canonicalUuid(UUID)).toBe(UUID);
  });

  it.each([
    null,
    undefined,
    36,
    `{${UUID}}`,
    UUID.replaceAll("-", ""),
    `${UUID.slice(0, 35)}g`,
    `${UUID.slice(0, 8)}_${UUID.slice(9)}`,
    `${UUID}\n`,
  ])("uuid - refuses %j, as the schema does", (value) => {
    expect(canonicalUuid(value)).toBeUndefined();
    expect(viaSchema(value)).toBeUndefined();
  });
});
