import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Event, EventType, encodeEvent, ValidationError } from "../src/index.js";

/*
 * encodeEvent writes the wire JSON by hand for speed; it must give exactly
 * the text JSON.stringify gives for the same fields in the same order.
 */

function reference(event: Event): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    timestamp: event.timestamp.toISOString(),
    project_id: event.project_id.toLowerCase(),
    actor_id: event.actor_id?.toLowerCase() ?? null,
    actor_type: event.actor_type,
    payload: event.payload,
  });
}

/** The first and last instants the wire carries: four-digit years, 0001 to 9999, in UTC. */
const MIN_TIME = new Date("0001-01-01T00:00:00.000Z").getTime();
const MAX_TIME = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

const times = [
  0,
  -1,
  1,
  Date.UTC(2000, 1, 29, 23, 59, 59, 999),
  Date.UTC(1900, 1, 28),
  Date.UTC(2100, 2, 1),
  MIN_TIME,
  new Date("0001-12-31T23:59:59.999Z").getTime(),
  new Date("0099-12-31T23:59:59.999Z").getTime(),
  MAX_TIME,
];

/** Instants the wire cannot carry: year 0 (Python's `datetime` has none) and years of more than four digits. */
const timesOutOfRange = [
  MIN_TIME - 1,
  new Date("0000-01-01T00:00:00.000Z").getTime(),
  MAX_TIME + 1,
  new Date("-000001-12-31T23:59:59.999Z").getTime(),
  8.64e15,
  -8.64e15,
];

const ids = ["evt-1", 'quote " and \\ backslash', "tab\tand \u2028 and é and 😀", "x".repeat(200)];

function eventAt(time: number, id: string): Event {
  return {
    id,
    type: EventType.ISSUE_CREATED,
    timestamp: new Date(time),
    project_id: randomUUID().toUpperCase(),
    actor_id: null,
    actor_type: "system",
    payload: { nested: { list: [1, "two", null, true, { x: -0.5 }] }, s: '"\n' },
  };
}

describe("codec - hand-written encoding", () => {
  it("writes exactly what JSON.stringify writes, for edge timestamps and ids", () => {
    for (const time of times) {
      for (const id of ids) {
        const event = eventAt(time, id);
        expect(encodeEvent(event), `${time} ${id}`).toBe(reference(event));
      }
    }
  });

  it("refuses a timestamp outside years 0001-9999, which the wire cannot carry", () => {
    for (const time of timesOutOfRange) {
      expect(() => encodeEvent(eventAt(time, "evt-1")), String(time)).toThrow(ValidationError);
      expect(() => encodeEvent(eventAt(time, "evt-1")), String(time)).toThrow(
        /timestamp: must be between/,
      );
    }
  });

  it("writes exactly what JSON.stringify writes, for any time of years 0001-9999 and any id", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_TIME, max: MAX_TIME }),
        fc
          .string({ unit: "binary", minLength: 1, maxLength: 20 })
          .filter((id) => !/[\r\n\0]/.test(id)),
        (time, id) => {
          const event = eventAt(time, id);
          expect(encodeEvent(event)).toBe(reference(event));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
