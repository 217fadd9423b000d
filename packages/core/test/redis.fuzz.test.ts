/**
 * A live subscription on a real redis-server, fed generated messages raw (as
 * another publisher, or an attacker with access to Redis, would): each one
 * either arrives as the event it decodes to or is counted and reported as
 * malformed, and the valid event published after it always arrives. One
 * subscription serves every run, so a message that ended it would fail all
 * that follow.
 */
import { randomUUID } from "node:crypto";
import { throughUtf8, wireMessages } from "@eventbus/test-fuzz";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as core from "../src/index.js";
import {
  createEventBus,
  decodeEvent,
  type Event,
  EventBusError,
  encodeEvent,
  type MalformedMessageError,
} from "../src/index.js";
import { sampleEvent, within } from "./helpers.js";
import { FAST_REDIS, useRedisServer } from "./redis-helpers.js";

describe("redis fuzz - raw messages on a live subscription", () => {
  const redis = useRedisServer();

  it("redis fuzz - each message arrives or is counted malformed, and the next valid event always arrives", async () => {
    const bus = redis.track(createEventBus(redis.server.url, { redis: FAST_REDIS }));
    const projectId = randomUUID();
    const channel = bus.getProjectChannel(projectId);
    const reports: MalformedMessageError[] = [];
    bus.on("malformed", (report) => reports.push(report));
    const sub = bus.subscribe([channel]);
    await sub.ready;
    const messages = wireMessages(core, [projectId]);

    /** The events that arrive up to and including `last`. */
    const readUntil = async (last: Event): Promise<Event[]> => {
      const events: Event[] = [];
      for (;;) {
        const result = await within(sub.next(), 5_000, `the event after ${events.length}`);
        expect(result.done, "the subscription ended").toBe(false);
        events.push(result.value as Event);
        if ((result.value as Event).id === last.id) return events;
      }
    };

    let arrivedCount = 0;
    await fc.assert(
      fc.asyncProperty(messages, async (text) => {
        const reported = reports.length;
        const next = sampleEvent(projectId);
        // One connection publishes both, so Redis delivers them in this order.
        await redis.raw.publish(channel, text);
        await redis.raw.publish(channel, encodeEvent(next));
        const arrived = await readUntil(next);
        expect(arrived.at(-1)).toEqual(next);
        const before = arrived.slice(0, -1);
        const malformed = reports.slice(reported);
        expect(before.length + malformed.length, "arrived or counted, exactly once").toBe(1);
        if (before.length === 1) {
          arrivedCount++;
          expect(before[0]).toEqual(decodeEvent(throughUtf8(text)));
        } else {
          expect(malformed[0]?.channel).toBe(channel);
          expect(malformed[0]?.cause).toBeInstanceOf(EventBusError);
        }
      }),
      { numRuns: 200 },
    );
    expect(bus.stats().malformed).toBe(reports.length);
    // Neither all delivered nor all skipped: the generated messages reach both outcomes.
    expect(arrivedCount).toBeGreaterThan(20);
    expect(reports.length).toBeGreaterThan(20);
  });
});
