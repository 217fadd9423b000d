/**
 * The timestamp formatter and parser must agree with the reference
 * implementations (`toISOString`; `new Date` on the text with its fraction cut
 * to milliseconds, the truncation the wire format promises) and with the
 * schema that checks wire timestamps.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatTimestamp,
  isWireTime,
  parseTimestamp,
  TIMESTAMP_PATTERN,
  WireTimestampSchema,
} from "../src/timestamp.js";

const EARLIEST = new Date("0001-01-01T00:00:00.000Z").getTime();
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Every instant the wire carries, its ends and the years below 100 weighted up. */
const wireTimes = fc.oneof(
  fc.integer({ min: EARLIEST, max: LATEST }),
  fc.constantFrom(EARLIEST, LATEST, 0, -1),
  fc.integer({
    min: EARLIEST,
    max: new Date("0100-12-31T23:59:59.999Z").getTime(),
  }),
);

/**
 * What `text` names by the reference reader: `new Date` on it with the
 * fraction cut to three digits. (Not on `text` itself: V8 misreads fractions
 * of more than nine digits that start with zeros, `.0004000000` as 4 ms.)
 */
function reference(text: string): number {
  return new Date(text.replace(/^(.{19}\.\d{1,3})\d*/, "$1")).getTime();
}

/** Strings near a wire timestamp: ones the pattern matches, and mangled ones. */
const nearTimestamps = fc.oneof(
  fc.stringMatching(TIMESTAMP_PATTERN),
  fc
    .tuple(fc.stringMatching(TIMESTAMP_PATTERN), fc.nat(40), fc.string({ maxLength: 2 }), fc.nat(2))
    .map(([text, at, insert, cut]) => text.slice(0, at) + insert + text.slice(at + cut)),
  wireTimes.map((time) => new Date(time).toISOString()),
  fc.string(),
);

describe("timestamp - format and parse", () => {
  it("timestamp - formatTimestamp writes what toISOString writes, for every wire instant", () => {
    fc.assert(
      fc.property(wireTimes, (time) => {
        const date = new Date(time);
        expect(formatTimestamp(date)).toBe(date.toISOString());
        expect(parseTimestamp(formatTimestamp(date))?.getTime()).toBe(time);
      }),
      { numRuns: 1_000 },
    );
  });

  it("timestamp - parseTimestamp accepts exactly what the schema accepts, truncating to milliseconds", () => {
    fc.assert(
      fc.property(nearTimestamps, (text) => {
        const parsed = parseTimestamp(text);
        expect(parsed !== undefined, text).toBe(WireTimestampSchema.safeParse(text).success);
        if (parsed !== undefined) expect(parsed.getTime(), text).toBe(reference(text));
      }),
      { numRuns: 1_000 },
    );
  });

  it.each([
    "2025-12-29T23:48:23.123456+05:30",
    "2025-12-29T23:48:23Z",
    "0050-06-01T12:00:00-01:00",
    "9999-12-31T23:59:59.999+00:00",
    "2025-12-29T23:48:23.0004000000Z",
    "0050-06-01T12:00:00.00001234567891+01:00",
    "0004-02-29T00:00:00.9999Z",
  ])("timestamp - reads %s, truncated to milliseconds", (text) => {
    expect(parseTimestamp(text)?.getTime()).toBe(reference(text));
  });

  it.each([
    "0000-12-31T23:59:59.999Z",
    "0001-01-01T00:00:00+00:01",
    "9999-12-31T23:59:59.999-00:01",
    "2025-12-29T23:48:23",
    "2025-02-29T00:00:00Z",
    2025,
    null,
  ])("timestamp - refuses %j, as the schema does", (value) => {
    expect(parseTimestamp(value)).toBeUndefined();
    expect(WireTimestampSchema.safeParse(value).success).toBe(false);
  });

  it("timestamp - isWireTime holds for years 0001 to 9999 only", () => {
    expect(isWireTime(EARLIEST)).toBe(true);
    expect(isWireTime(LATEST)).toBe(true);
    expect(isWireTime(EARLIEST - 1)).toBe(false);
    expect(isWireTime(LATEST + 1)).toBe(false);
    expect(isWireTime(Number.NaN)).toBe(false);
  });
});
