/**
 * Faults of the Redis history store on real redis-server processes, each
 * asserting what a reader of the history sees: real ttls running out, a
 * restart that lost everything, a publish retried after its connection died,
 * and concurrent publishers. (Trimming beyond `maxEntries` runs on Redis in
 * the conformance suite, `history-redis.test.ts`.)
 */
import { once } from "node:events";
import { createConnection } from "node:net";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";
import { tryDecodePositionedEvent } from "../src/codec.js";
import { HISTORY_SCRIPTS, historyKeys, RedisHistoryStore } from "../src/history/redis-store.js";
import { HISTORY_DEFAULTS, type Position } from "../src/index.js";
import { waitFor, within } from "./helpers.js";
import { appendable, newHistoryChannel, useHistoryStores } from "./history-helpers.js";
import { connectHistoryClient, useRedisServer } from "./redis-helpers.js";

/** A command in the protocol's own encoding, as any client writes it. */
function respCommand(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join("")}`;
}

describe("redis history faults", () => {
  const redis = useRedisServer();
  const stores = useHistoryStores(redis);

  it("history faults - the events' ttl ran out while the meta survived: reads are incomplete (expired), offsets go on in the same epoch", async () => {
    const store = stores.newStore({ ttlMs: 300, metaTtlMs: 60_000 });
    const channel = newHistoryChannel();
    const keys = historyKeys(channel);
    const first = await store.append(channel, appendable({ n: 1 }).input);
    await store.append(channel, appendable({ n: 2 }).input);
    await waitFor(async () => (await redis.raw.exists([keys.history, keys.ids])) === 0, {
      message: "the Stream and the id set to expire",
    });
    expect(await redis.raw.hGetAll(keys.meta)).toEqual({
      epoch: first.position.epoch,
      offset: "2",
    });
    const read = await store.read(channel, { since: first.position });
    expect(read).toMatchObject({ complete: false, gap: "expired", entries: [] });
    expect(read.current).toEqual({ epoch: first.position.epoch, offset: 2 });
    const next = await store.append(channel, appendable({ n: 3 }).input);
    expect(next.position).toMatchObject({ epoch: first.position.epoch, offset: 3 });
  });

  it("history faults - a publish retried after its connection died is appended once", async () => {
    const store = stores.newStore();
    const channel = newHistoryChannel();
    const keys = historyKeys(channel);
    const input = appendable().input;
    await store.append(newHistoryChannel(), appendable().input); // the server knows the script: EVALSHA runs it
    // A connection hands the script to the server, then dies before the answer comes back.
    const doomed = createConnection({ host: "127.0.0.1", port: redis.server.port });
    await once(doomed, "connect");
    process.kill(redis.server.pid, "SIGSTOP");
    try {
      const { SHA1 } = HISTORY_SCRIPTS.eventbusHistoryPublish;
      const args = ["EVALSHA", SHA1, "3", keys.history, keys.meta, keys.ids, channel, input.data];
      const { maxEntries, ttlMs, metaTtlMs, idempotencyWindow } = HISTORY_DEFAULTS;
      args.push(input.eventId, ...[maxEntries, ttlMs, metaTtlMs, idempotencyWindow].map(String));
      await new Promise<void>((resolve, reject) =>
        doomed.write(respCommand(args), (error) => (error ? reject(error) : resolve())),
      );
      doomed.destroy();
    } finally {
      process.kill(redis.server.pid, "SIGCONT");
    }
    await waitFor(async () => (await redis.raw.exists(keys.history)) === 1, {
      message: "the first attempt to be carried out",
    });
    const retry = await store.append(channel, input);
    expect(retry).toMatchObject({ duplicate: true, position: { offset: 1 } });
    expect(await redis.raw.xLen(keys.history)).toBe(1);
    expect((await store.read(channel)).current.offset).toBe(1);
  });

  it("history faults - concurrent publishers on four connections get strictly contiguous offsets, published in offset order", async () => {
    const channel = newHistoryChannel();
    const clients = await Promise.all(
      Array.from({ length: 4 }, () => connectHistoryClient(redis.server.url)),
    );
    const subscriber = createClient({ url: redis.server.url });
    await subscriber.connect();
    const live: string[] = [];
    await subscriber.subscribe(channel, (message) => live.push(message));
    const perPublisher = 250;
    try {
      const results = await Promise.all(
        clients.map(async (publisher, p) => {
          const store = new RedisHistoryStore({ client: () => publisher });
          const sent = Array.from(
            { length: perPublisher },
            (_, n) => appendable({ n: p * 1_000 + n }).input,
          );
          return Promise.all(sent.map((input) => store.append(channel, input)));
        }),
      );
      const total = clients.length * perPublisher;
      for (const appended of results) {
        const own = appended.map(({ position }) => position.offset);
        expect(own).toEqual([...own].sort((a, b) => a - b));
      }
      const all = results.flat().map(({ position }) => position.offset);
      expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, n) => n + 1));
      await waitFor(() => live.length === total, { message: `${total} live messages` });
      const liveOffsets = live.map((message) => {
        const decoded = tryDecodePositionedEvent(message);
        return decoded.ok ? decoded.position?.offset : undefined;
      });
      expect(liveOffsets).toEqual(Array.from({ length: total }, (_, n) => n + 1));
      const store = stores.newStore();
      const read = await store.read(channel);
      expect(read.entries.map((entry) => entry.offset)).toEqual(
        Array.from({ length: total }, (_, n) => n + 1),
      );
    } finally {
      subscriber.destroy();
      for (const publisher of clients) publisher.destroy();
    }
  });
});

describe("redis history faults - restart", () => {
  const redis = useRedisServer();

  it("history faults - Redis restarted without persistence: a new epoch, old positions are of a foreign epoch", async () => {
    let client = await connectHistoryClient(redis.server.url);
    const store = new RedisHistoryStore({ client: () => client });
    const channel = newHistoryChannel();
    try {
      await store.append(channel, appendable({ n: 1 }).input);
      const before = (await store.append(channel, appendable({ n: 2 }).input)).position;
      await within(redis.server.restart(), 15_000, "the restart");
      client.destroy();
      client = await connectHistoryClient(redis.server.url);
      const stale = await store.read(channel, { since: before });
      expect(stale).toMatchObject({ complete: false, gap: "foreign-epoch", entries: [] });
      expect(stale.current.offset).toBe(0);
      expect(stale.current.epoch).not.toBe(before.epoch);
      const after = (await store.append(channel, appendable({ n: 3 }).input)).position;
      expect(after).toMatchObject({ epoch: stale.current.epoch, offset: 1 });
      const fromEmpty = await store.read(channel, { since: stale.current as Position });
      expect(fromEmpty.complete).toBe(true);
      expect(fromEmpty.entries.map((entry) => entry.offset)).toEqual([1]);
    } finally {
      client.destroy();
    }
  });
});
