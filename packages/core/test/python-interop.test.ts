/**
 * The Python original and this library on one real redis-server, both ways,
 * with a real Python process on the original pydantic model: it parses what
 * we publish, plain and with history; what it publishes with a plain PUBLISH
 * reaches our subscribers (with no position); and what it publishes through
 * the shipped history script lands in the history our store reads.
 */
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";
import { tryDecodePositionedEvent } from "../src/codec.js";
import {
  createEvent,
  createEventBus,
  decodeEvent,
  EVENT_TYPES,
  type Event,
  encodeEvent,
  type Position,
  positionOfEvent,
} from "../src/index.js";
import { take, waitFor } from "./helpers.js";
import { useHistoryStores } from "./history-helpers.js";
import { runPython } from "./python.js";
import { useRedisServer } from "./redis-helpers.js";

/** The shipped publish script, resolved through the package's own exports (the build copies it). */
const SHIPPED_SCRIPT = createRequire(import.meta.url).resolve("@eventbus/core/history-publish.lua");

/** One event of each type, with a payload that exercises JSON (unicode, nesting, null, floats). */
function eventsOfEveryType(projectId: string): Event[] {
  return EVENT_TYPES.map((type, n) =>
    createEvent({
      type,
      project_id: projectId,
      actor_type: (["agent", "user", "system"] as const)[n % 3] ?? "agent",
      actor_id: n % 2 === 0 ? randomUUID() : null,
      payload: { n, text: 'naïve \u2603 "quoted"\n', nested: { list: [1, 2.5, null, true] } },
    }),
  );
}

/** What Python printed for an event, read back by our decoder. */
function pythonEvent(line: unknown): Event {
  const { event, error } = line as { event?: unknown; error?: string };
  if (event === undefined) throw new Error(`the Python model refused a message: ${error}`);
  return decodeEvent(JSON.stringify(event));
}

describe("python interop - the original pydantic model on real Redis", () => {
  const redis = useRedisServer();
  const { newStore } = useHistoryStores(redis);

  it("python interop - a Python subscriber parses every message we publish, plain and with history", async () => {
    const projectId = randomUUID();
    const channel = `events:project:${projectId}`;
    const plain = eventsOfEveryType(projectId);
    const withHistory = eventsOfEveryType(projectId);
    const python = runPython("subscribe", [redis.server.url, channel, String(plain.length * 2)]);
    try {
      await python.waitForLines(1);
      expect(python.lines[0]).toEqual({ ready: true });
      const bus = redis.track(createEventBus(redis.server.url));
      for (const event of plain) await bus.publish(channel, event);
      const store = newStore();
      for (const event of withHistory) {
        await store.append(channel, { eventId: event.id, data: encodeEvent(event) });
      }
      const lines = await python.waitForLines(1 + plain.length * 2);
      expect(lines.slice(1).map(pythonEvent)).toEqual([...plain, ...withHistory]);
      await python.exited;
    } finally {
      python.stop();
    }
  });

  it("python interop - events Python publishes with a plain PUBLISH reach our subscribers, with no position", async () => {
    const projectId = randomUUID();
    const channel = `events:project:${projectId}`;
    const bus = redis.track(createEventBus(redis.server.url));
    const sub = bus.subscribe([channel]);
    await sub.ready;
    const raw = createClient({ url: redis.server.url });
    await raw.connect();
    const messages: string[] = [];
    await raw.subscribe(channel, (message) => messages.push(message));
    try {
      const count = EVENT_TYPES.length;
      const python = runPython("publish", [redis.server.url, channel, projectId, String(count)]);
      const published = (await python.waitForLines(count)).map(pythonEvent);
      await python.exited;
      expect(await take(sub, count)).toEqual(published);
      await waitFor(() => messages.length === count, { message: `${count} raw messages` });
      expect(messages.map(tryDecodePositionedEvent)).toEqual(
        published.map((event) => ({ ok: true, event, position: undefined })),
      );
    } finally {
      raw.destroy();
    }
  });

  it("python interop - Python publishing through the shipped script with register_script appends to the history we read", async () => {
    const projectId = randomUUID();
    const channel = `events:project:${projectId}`;
    const raw = createClient({ url: redis.server.url });
    await raw.connect();
    const live: string[] = [];
    await raw.subscribe(channel, (message) => live.push(message));
    try {
      const count = 5;
      const python = runPython("publish-history", [
        redis.server.url,
        channel,
        projectId,
        String(count),
        SHIPPED_SCRIPT,
      ]);
      const lines = (await python.waitForLines(count + 1)) as { reply: unknown[] }[];
      await python.exited;
      const events = lines.map(pythonEvent);
      const replies = lines.map((line) => line.reply);
      const epoch = replies[0]?.[1] as string;
      expect(epoch).toMatch(/^[0-9a-f]{12}$/);
      expect(replies).toEqual([
        [1, epoch, 0],
        [2, epoch, 0],
        [3, epoch, 0],
        [4, epoch, 0],
        [5, epoch, 0],
        [2, epoch, 1], // the retry of the second event: appended once
      ]);
      const positions = events
        .slice(0, count)
        .map((event, n) => positionOfEvent(epoch, n + 1, event.id));

      const store = newStore();
      const read = await store.read(channel);
      expect(read).toMatchObject({ complete: true, current: { epoch, offset: count } });
      expect(read.entries.map((entry) => entry.offset)).toEqual([1, 2, 3, 4, 5]);
      expect(read.entries.map((entry) => decodeEvent(entry.data))).toEqual(events.slice(0, count));
      const resumed = await store.read(channel, { since: positions[2] as Position });
      expect(resumed.complete).toBe(true);
      expect(resumed.entries.map((entry) => entry.offset)).toEqual([4, 5]);

      await waitFor(() => live.length === count, { message: `${count} live messages` });
      expect(live.map(tryDecodePositionedEvent)).toEqual(
        events.slice(0, count).map((event, n) => ({ ok: true, event, position: positions[n] })),
      );
      // Our own appends continue Python's offsets.
      const { id: _, ...likePython } = events[0] as Event;
      const ours = createEvent(likePython);
      const appended = await store.append(channel, { eventId: ours.id, data: encodeEvent(ours) });
      expect(appended.position).toMatchObject({ epoch, offset: count + 1 });
    } finally {
      raw.destroy();
    }
  });
});
