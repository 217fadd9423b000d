/**
 * Positions' string form (what consumers store and hand back, e.g. as an SSE
 * `Last-Event-ID`): a round trip for every position, a typed error and
 * nothing else for every other string, and fingerprints pinned.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type EventBusError,
  encodePosition,
  fingerprintOf,
  InvalidPositionError,
  MAX_POSITION_LENGTH,
  type Position,
  parsePosition,
  positionOfEvent,
} from "../src/index.js";

const epochArbitrary = fc.stringMatching(/^[0-9A-Za-z_-]{1,32}$/);
const positionArbitrary: fc.Arbitrary<Position> = fc.oneof(
  fc.record({ epoch: epochArbitrary, offset: fc.maxSafeNat() }),
  fc.record({
    epoch: epochArbitrary,
    offset: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    fingerprint: fc.stringMatching(/^[0-9a-f]{8}$/),
  }),
);

function parseError(text: string): InvalidPositionError {
  try {
    parsePosition(text);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPositionError);
    return error as InvalidPositionError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe("positions - string form", () => {
  it("reads back every position it writes, as a URL-safe string an SSE id: line takes", () => {
    fc.assert(
      fc.property(positionArbitrary, (position) => {
        const text = encodePosition(position);
        expect(parsePosition(text)).toEqual(position);
        expect(text.length).toBeLessThanOrEqual(MAX_POSITION_LENGTH);
        expect(encodeURIComponent(text)).toBe(text);
        expect(text).not.toMatch(/[\r\n\0 ]/);
      }),
    );
  });

  it("never crashes on any string: a position or an InvalidPositionError, nothing else", () => {
    const anyText = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: "binary", maxLength: 80 }),
      fc.string({ unit: fc.constantFrom(..."0123456789abcdef.-_Zz"), maxLength: 70 }),
      positionArbitrary.map((position) => `${encodePosition(position)}x`),
    );
    fc.assert(
      fc.property(anyText, (text) => {
        try {
          const position = parsePosition(text);
          expect(encodePosition(position)).toBe(text);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidPositionError);
          expect((error as EventBusError).code).toBe("EVENTBUS_INVALID_POSITION");
        }
      }),
    );
  });

  it.each([
    ["empty", ""],
    ["no offset", "3fa9c2d10b7e"],
    ["a bare number (another server's event id)", "42"],
    ["a UUID", "8c9d7f10-2b3a-4c5d-8e9f-0a1b2c3d4e5f"],
    ["a leading zero", "3fa9c2d10b7e.017"],
    ["a negative offset", "3fa9c2d10b7e.-1"],
    ["an offset beyond 2^53 - 1", "3fa9c2d10b7e.9007199254740992"],
    ["a fingerprint at offset 0", "3fa9c2d10b7e.0.9c1f02ab"],
    ["an uppercase fingerprint", "3fa9c2d10b7e.17.9C1F02AB"],
    ["a short fingerprint", "3fa9c2d10b7e.17.9c1f"],
    ["an epoch with a dot", "3fa.9c2.17"],
    ["an epoch of 33 characters", `${"a".repeat(33)}.1`],
    ["a line break", "3fa9c2d10b7e.17\n"],
    ["spaces", " 3fa9c2d10b7e.17"],
    ["a very long string", "a".repeat(10_000)],
  ])("refuses %s with InvalidPositionError", (_label, text) => {
    const error = parseError(text);
    expect(error.position.length).toBeLessThanOrEqual(101);
    expect(error.message).toContain("invalid history position");
  });

  it("accepts the largest safe offset", () => {
    expect(parsePosition("e.9007199254740991")).toEqual({
      epoch: "e",
      offset: Number.MAX_SAFE_INTEGER,
    });
  });

  it("refuses to write what it would not read", () => {
    for (const position of [
      { epoch: "", offset: 1 },
      { epoch: "a.b", offset: 1 },
      { epoch: "e", offset: -1 },
      { epoch: "e", offset: 1.5 },
      { epoch: "e", offset: Number.MAX_SAFE_INTEGER + 1 },
      { epoch: "e", offset: 0, fingerprint: "9c1f02ab" },
      { epoch: "e", offset: 3, fingerprint: "xyz" },
    ]) {
      expect(() => encodePosition(position), JSON.stringify(position)).toThrow(
        InvalidPositionError,
      );
    }
  });
});

describe("positions - fingerprints", () => {
  it("fingerprints the event id: the same id gives the same, another id (almost surely) another", () => {
    const id = "8c9d7f10-2b3a-4c5d-8e9f-0a1b2c3d4e5f";
    expect(fingerprintOf(id)).toMatch(/^[0-9a-f]{8}$/);
    expect(positionOfEvent("e", 3, id)).toEqual({
      epoch: "e",
      offset: 3,
      fingerprint: fingerprintOf(id),
    });
    // FNV-1a 32 of "a" is 0xe40c292c: pins the function, so stored positions stay valid across versions.
    expect(fingerprintOf("a")).toBe("e40c292c");
    expect(fingerprintOf("")).toBe("811c9dc5");
    const ids = Array.from({ length: 10_000 }, (_, n) => `event-${n}`);
    expect(new Set(ids.map(fingerprintOf)).size).toBe(ids.length);
  });

  it("refuses an event position at offset 0", () => {
    expect(() => positionOfEvent("e", 0, "id")).toThrow(InvalidPositionError);
  });
});
