/**
 * A real SSE stream of a gateway on a real redis-server, while generated
 * messages are published raw on its channel (as another publisher, or an
 * attacker with access to Redis, would): each one either reaches the browser
 * as the event it decodes to or is counted malformed, the valid event
 * published after it always arrives, and the stream never ends. One stream
 * serves every run, so a message that ended it would fail all that follow.
 */

import * as core from "@eventbus/core";
import { createEvent, decodeEvent, EventType, encodeEvent } from "@eventbus/core";
import { sameJsonNumber, throughUtf8, wireMessages } from "@eventbus/test-fuzz";
import { type RedisServer, startRedisServer } from "@eventbus/test-redis";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Follower, rawRedis, startGateway, uuid, waitFor } from "./support.js";

expect.addEqualityTesters([sameJsonNumber]);

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

describe("stream fuzz - raw messages on Redis", () => {
  it("stream fuzz - each message reaches the stream or is counted malformed, the next valid event always arrives, the stream never ends", async () => {
    const { gateway, url } = await startGateway({ url: redis.url });
    const project = uuid();
    const channel = gateway.bus.getProjectChannel(project);
    const follower = new Follower(`${url}/v1/projects/${project}/events`);
    await follower.opened();
    const raw = await rawRedis(redis.url);
    const messages = wireMessages(core, [project]);

    let arrived = 0;
    let malformed = 0;
    await fc.assert(
      fc.asyncProperty(messages, async (text) => {
        const seen = follower.events.length;
        const counted = gateway.bus.stats().malformed;
        const next = createEvent({
          type: EventType.ISSUE_UPDATED,
          project_id: project,
          actor_type: "system",
        });
        // One connection publishes both, so Redis delivers them in this order.
        await raw.publish(channel, text);
        await raw.publish(channel, encodeEvent(next));
        const events = await waitFor(
          "the next valid event",
          () =>
            follower.events.some((event) => event.id === next.id) && follower.events.slice(seen),
        );
        expect(events.at(-1)?.id).toBe(next.id);
        const before = events.slice(0, -1);
        const skipped = gateway.bus.stats().malformed - counted;
        expect(before.length + skipped, "arrived or counted, exactly once").toBe(1);
        if (before.length === 1) expect(before[0]).toEqual(decodeEvent(throughUtf8(text)));
        expect(follower.endReasons).toEqual([]);
        arrived += before.length;
        malformed += skipped;
      }),
      { numRuns: 100 },
    );
    // Neither all delivered nor all skipped: the generated messages reach both outcomes.
    expect(arrived).toBeGreaterThan(10);
    expect(malformed).toBeGreaterThan(10);
  });
});
