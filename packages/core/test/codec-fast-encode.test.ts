import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Event, EventType, encodeEvent } from "../src/index.js";
import { random } from "./helpers.js";

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

const MIN_TIME = new Date("0000-01-01T00:00:00.000Z").getTime();
const MAX_TIME = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

const times = [
  0,
  -1,
  1,
  Date.UTC(2000, 1, 29, 23, 59, 59, 999),
  Date.UTC(1900, 1, 28),
  Date.UTC(2100, 2, 1),
  new Date("0000-01-01T00:00:00.000Z").getTime(),
  new Date("0000-12-31T23:59:59.999Z").getTime(),
  new Date("0099-12-31T23:59:59.999Z").getTime(),
  MAX_TIME,
  MAX_TIME + 1,
  new Date("-000001-12-31T23:59:59.999Z").getTime(),
  8.64e15,
  -8.64e15,
];

const ids = ["evt-1", 'quote " and \\ backslash', "tab\tand \u2028 and é and 😀", "x".repeat(200)];

describe("codec - hand-written encoding", () => {
  it("writes exactly what JSON.stringify writes, for edge timestamps and ids", () => {
    const projectId = randomUUID().toUpperCase();
    for (const time of times) {
      for (const id of ids) {
        const event: Event = {
          id,
          type: EventType.ISSUE_CREATED,
          timestamp: new Date(time),
          project_id: projectId,
          actor_id: null,
          actor_type: "system",
          payload: { nested: { list: [1, "two", null, true, { x: -0.5 }] }, s: '"\n' },
        };
        expect(encodeEvent(event), `${time} ${id}`).toBe(reference(event));
      }
    }
  });

  it("writes exactly what JSON.stringify writes, for random times across years 0-9999", () => {
    const next = random(3);
    for (let i = 0; i < 20_000; i++) {
      const event: Event = {
        id: `e${i}`,
        type: EventType.AGENT_MESSAGE,
        timestamp: new Date(Math.floor(MIN_TIME + next() * (MAX_TIME - MIN_TIME))),
        project_id: randomUUID(),
        actor_id: randomUUID(),
        actor_type: "agent",
        payload: { i },
      };
      expect(encodeEvent(event)).toBe(reference(event));
    }
  });
});
